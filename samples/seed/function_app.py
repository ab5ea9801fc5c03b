"""The seed app on Azure Functions: the Python worker indexes the FunctionApp ``app``.
Deploy it with the folder ``polyfn deploy-config azure`` writes (deploy/azure/)."""

from polyfn.adapters.azure import function_app

app = function_app("samples.seed.app:app")
