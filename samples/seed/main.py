"""The seed app as Google Cloud functions: ``functions-framework --target NAME`` (or the
deployed function's entry point) serves one polyfn function of the app."""

from polyfn.adapters.gcp import targets
from samples.seed.app import app as _app

globals().update(targets(_app))
