"""Hot reload for ``polyfn dev``: when a ``.py`` file of the app's folder changes, import
the app afresh and hand it to :meth:`LocalRuntime.reload`; on an error, report it and keep
the previous code.

Watching: with the ``watchfiles`` package (the ``local`` extra) a thread blocks on the
operating system's file notifications (inotify, FSEvents, ...), waking every
``WATCH_TIMEOUT_MS`` only to see whether it should stop, so an idle ``polyfn dev`` costs
next to nothing. Without it, a thread compares the files' modification times and sizes once
a second (``POLL_SECONDS``): cheap for an app's handful of files, and an edit applies
within a second.

Re-importing: every module loaded from the folder (the app module, its package's
``__init__`` and its siblings) is removed from ``sys.modules`` and the app is imported
again, so the new code runs in fresh module namespaces; the old modules are left as they
were. If the import or the wiring fails (a SyntaxError, an ImportError, a DefinitionError)
the old modules go back into ``sys.modules`` and the runtime keeps serving the old app.
The broker, and so every queued message, is untouched either way.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from polyfn.app import App

log = logging.getLogger("polyfn.local.reload")

POLL_SECONDS = 1.0  # the fallback's period, when watchfiles is not installed
DEBOUNCE_MS = 300  # an editor's save (write, rename, chmod) reloads once
WATCH_TIMEOUT_MS = 2000  # how often the watcher thread looks at its stop event
_SKIP_DIRS = {"__pycache__", ".git", ".venv", "node_modules", ".polyfn"}


class Reloader:
    """Watch ``folder``'s ``.py`` files. On a change: ``load()`` (imports and returns the
    App, or raises) in fresh module namespaces, then ``apply(app)`` (``rt.reload``).
    ``on_reload(changed)`` after a success, ``on_error(exception)`` after a failure (the
    previous code keeps running; :func:`describe_error` says where it failed)."""

    def __init__(
        self,
        folder: str | os.PathLike[str],
        load: Callable[[], App],
        apply: Callable[[App], None],
        *,
        on_reload: Callable[[list[str]], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        ignore: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.folder = Path(folder).resolve()
        self.load = load
        self.apply = apply
        self.on_reload = on_reload or (lambda changed: None)
        self.on_error = on_error or (lambda e: log.error("reload failed: %s", describe_error(e)))
        self.ignore = [Path(p).resolve() for p in ignore]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()  # one reload at a time
        self.mode = "watchfiles" if _has_watchfiles() else "polling"

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Reloader:
        """Start watching; returns once the watcher is armed, so an edit made after it
        returns is seen."""
        target = self._poll
        if self.mode == "watchfiles":
            try:
                notify = _arm(self.folder)
            except Exception as e:  # another watchfiles version, a folder it cannot watch
                log.debug("watchfiles unavailable (%s): polling instead", e)
                self.mode = "polling"
            else:
                target = lambda: self._watch(notify)  # noqa: E731
        if self.mode == "polling":
            self._seen = self._snapshot()  # taken here: edits from now on are changes
        self._thread = threading.Thread(target=target, name="polyfn-reload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(WATCH_TIMEOUT_MS / 1000 + 1)

    # -- watching ---------------------------------------------------------------------------
    def _watch(self, notify: Any) -> None:
        from watchfiles import Change, PythonFilter

        accept = PythonFilter(ignore_paths=self.ignore)
        try:
            with notify:
                while not self._stop.is_set():
                    raw = notify.watch(DEBOUNCE_MS, 50, WATCH_TIMEOUT_MS, self._stop)
                    if raw in ("stop", "signal"):
                        return
                    if raw == "timeout":
                        continue
                    changed = sorted({p for c, p in raw if accept(Change(c), p)})
                    if changed:
                        self.reload(changed)
        except Exception:
            if not self._stop.is_set():
                log.exception("watching %s stopped: edits no longer reload", self.folder)

    def _poll(self) -> None:
        seen = self._seen
        while not self._stop.wait(POLL_SECONDS):
            now = self._snapshot()
            changed = sorted(p for p in seen.keys() | now.keys() if seen.get(p) != now.get(p))
            seen = now
            if changed:
                self.reload(changed)

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = [
                d
                for d in dirs
                if d not in _SKIP_DIRS and (Path(root) / d).resolve() not in self.ignore
            ]
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    try:
                        st = os.stat(path)
                    except OSError:
                        continue
                    out[path] = (st.st_mtime_ns, st.st_size)
        return out

    # -- reloading --------------------------------------------------------------------------
    def reload(self, changed: list[str]) -> bool:
        """Import the app afresh and apply it; True on success. Called by the watcher, and
        by tests."""
        with self._lock:
            for path in changed:
                _drop_bytecode(path)
            try:
                app = fresh_import(self.folder, self.load, self.apply)
            except Exception as e:
                self.on_error(e)
                return False
            self.on_reload(changed)
            log.debug("reloaded %s", app.name)
            return True


def fresh_import(folder: Path, load: Callable[[], App], apply: Callable[[App], None]) -> App:
    """Run ``load`` with the modules of ``folder`` removed from ``sys.modules``, then
    ``apply`` its App; if either raises, the old modules are put back."""
    old = _modules_in(folder)
    for name in old:
        del sys.modules[name]
    importlib.invalidate_caches()
    try:
        app = load()
        apply(app)
    except BaseException:
        for name in _modules_in(folder):
            del sys.modules[name]
        sys.modules.update(old)
        _relink(old)
        raise
    return app


def describe_error(error: BaseException) -> str:
    """Where it went wrong, file:line first."""
    if isinstance(error, SyntaxError):
        return f"{error.filename}:{error.lineno}: {error.msg}"
    tb = error.__traceback__
    where = ""
    while tb is not None:  # the deepest frame: usually the user's line
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}: "
        tb = tb.tb_next
    return f"{where}{type(error).__name__}: {error}" if where else str(error)


def _modules_in(folder: Path) -> dict[str, ModuleType]:
    out: dict[str, ModuleType] = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file is None:
            continue
        try:
            Path(file).resolve().relative_to(folder)
        except ValueError:
            continue
        out[name] = module
    return out


def _relink(modules: dict[str, ModuleType]) -> None:
    """A failed import may have bound a half-built submodule on its parent package: bind
    the old ones back."""
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules:
            setattr(sys.modules[parent], child, module)


def _drop_bytecode(path: str) -> None:
    """Python trusts a .pyc whose source has the same size and mtime (whole seconds): an
    edit within the second of the last import would be missed without this."""
    if path.endswith(".py"):
        with contextlib.suppress(OSError, ValueError, NotImplementedError):
            os.unlink(importlib.util.cache_from_source(path))


def _arm(folder: Path) -> Any:
    """A watchfiles notifier already watching ``folder``. watchfiles' public ``watch()``
    arms its watcher lazily, inside the generator, so an edit made just after start-up
    could be missed; its notifier, made here, is armed when this returns."""
    from watchfiles._rust_notify import RustNotify

    # paths, debug, force_polling, poll_delay_ms, recursive, ignore_permission_denied
    return RustNotify([str(folder)], False, False, 300, True, False)


def _has_watchfiles() -> bool:
    return importlib.util.find_spec("watchfiles") is not None
