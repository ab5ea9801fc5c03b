"""TARGET: which App a command runs.

A target is ``module:attribute`` (``samples.orders.app:app``), a module holding one App
(``samples.orders.app``), a Python file (``samples/orders/app.py``, ``app.py:shop``) or a
folder holding ``app.py`` (``samples/orders``). Without one, ``$POLYFN_APP`` or the current
folder. A file inside packages (folders with ``__init__.py``) is imported under its dotted
name from the first folder above them, so its relative imports work and both spellings of
one app load the same module; any other file is imported from its own folder.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polyfn.app import App
from polyfn.cli.errors import CliError

DEFAULT_FILE = "app.py"


@dataclass(frozen=True, slots=True)
class AppRef:
    """A resolved target: import ``module`` with ``root`` on sys.path, then take
    ``attribute`` (or the module's one App). ``path`` is the file, when one was named."""

    spec: str
    module: str
    attribute: str | None
    root: Path
    path: Path | None


def resolve(target: str | None) -> AppRef:
    spec = target or os.environ.get("POLYFN_APP") or "."
    where, colon, attribute = spec.rpartition(":") if ":" in spec else (spec, "", "")
    attr = attribute or None
    path = Path(where)
    if path.is_dir():
        file = path / DEFAULT_FILE
        if not file.is_file():
            raise CliError(f"target {spec!r}: the folder {str(path)!r} holds no {DEFAULT_FILE}")
        return _from_file(spec, file, attr)
    if path.is_file():
        if path.suffix != ".py":
            raise CliError(f"target {spec!r}: {str(path)!r} is not a Python file")
        return _from_file(spec, path, attr)
    if where.endswith(".py") or "/" in where or os.sep in where:
        raise CliError(f"target {spec!r}: no such file or folder {where!r}")
    if not all(part.isidentifier() for part in where.split(".")):
        raise CliError(
            f"target {spec!r}: not a file, a folder holding {DEFAULT_FILE}, or module:attribute"
        )
    if colon and not attr:
        raise CliError(f"target {spec!r}: name the attribute after the colon")
    return AppRef(spec, where, attr, Path.cwd(), None)


def _from_file(spec: str, file: Path, attr: str | None) -> AppRef:
    file = file.resolve()
    parts = [] if file.stem == "__init__" else [file.stem]
    folder = file.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    if not parts or not all(p.isidentifier() for p in parts):
        raise CliError(f"target {spec!r}: {str(file)!r} cannot be imported as a module")
    return AppRef(spec, ".".join(parts), attr, folder, file)


def load(ref: AppRef) -> App:
    """Import the target and return its App; CliError says what went wrong and where."""
    root = str(ref.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    _check_clash(ref)
    try:
        module = importlib.import_module(ref.module)
    except ModuleNotFoundError as e:
        if e.name and (ref.module == e.name or ref.module.startswith(e.name + ".")):
            what = "no such file or folder, nor module" if ref.path is None else "no module"
            raise CliError(
                f"target {ref.spec!r}: {what} {e.name!r} (looked in {root} and sys.path)"
            ) from None
        raise CliError(_failure(ref, e)) from None
    except SyntaxError as e:
        raise CliError(
            f"target {ref.spec!r}: syntax error in {e.filename}, line {e.lineno}: {e.msg}"
        ) from None
    except Exception as e:
        raise CliError(_failure(ref, e)) from None
    return _find_app(ref, module)


def load_app(target: str | None) -> App:
    return load(resolve(target))


def _check_clash(ref: AppRef) -> None:
    """Another file already imported under the same name would be used silently."""
    loaded = sys.modules.get(ref.module)
    file = getattr(loaded, "__file__", None)
    if ref.path is not None and file is not None and Path(file).resolve() != ref.path:
        raise CliError(
            f"target {ref.spec!r}: a module named {ref.module!r} is already loaded from "
            f"{file}; rename one of them or put the app in a package"
        )


def _failure(ref: AppRef, error: BaseException) -> str:
    """The user's module raised while importing: their traceback, without ours."""
    tb = error.__traceback__
    while tb is not None and "importlib" in tb.tb_frame.f_code.co_filename:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(error), error, tb)).rstrip()
    return f"target {ref.spec!r}: importing {ref.module!r} failed:\n{text}"


def _find_app(ref: AppRef, module: Any) -> App:
    where = f"target {ref.spec!r}: module {ref.module!r}"
    if ref.attribute is not None:
        value = getattr(module, ref.attribute, None)
        if value is None:
            raise CliError(f"{where} has no attribute {ref.attribute!r}{_apps_hint(module)}")
        if not isinstance(value, App):
            raise CliError(
                f"{where}: {ref.attribute!r} is a {type(value).__name__}, not a polyfn App"
                f"{_apps_hint(module)}"
            )
        return value
    if isinstance(getattr(module, "app", None), App):
        return module.app
    apps = _apps(module)
    if len(apps) == 1:
        return next(iter(apps.values()))
    if not apps:
        raise CliError(f"{where} holds no polyfn App (declare one: app = App('name'))")
    names = ", ".join(sorted(apps))
    raise CliError(f"{where} holds several Apps ({names}): name one as {ref.spec}:NAME")


def _apps(module: Any) -> dict[str, App]:
    seen: dict[int, str] = {}
    out: dict[str, App] = {}
    for name, value in vars(module).items():
        if isinstance(value, App) and id(value) not in seen:
            seen[id(value)] = name
            out[name] = value
    return out


def _apps_hint(module: Any) -> str:
    apps = _apps(module)
    return f" (its Apps: {', '.join(sorted(apps))})" if apps else ""
