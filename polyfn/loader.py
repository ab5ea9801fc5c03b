"""Finding the user's App from a ``module:attribute`` string."""

from __future__ import annotations

import importlib

from polyfn.app import App
from polyfn.errors import DefinitionError


def load_app(target: str) -> App:
    """``"pkg.module:app"``, or ``"pkg.module"`` holding exactly one App."""
    module_name, _, attr = target.partition(":")
    if not module_name:
        raise DefinitionError(f"app target {target!r}: expected 'module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise DefinitionError(f"app target {target!r}: cannot import {module_name!r}: {e}") from e
    if attr:
        app = getattr(module, attr, None)
        if not isinstance(app, App):
            raise DefinitionError(f"app target {target!r}: {attr!r} is not a polyfn App")
        return app
    apps = [v for v in vars(module).values() if isinstance(v, App)]
    if len(apps) != 1:
        raise DefinitionError(
            f"app target {target!r}: found {len(apps)} App objects; name one as module:attribute"
        )
    return apps[0]
