"""Strategy discovery into one registry object (no globals): ``strategies/*.py`` files and
installed packages under the entry-point group ``durationbt.strategies``. A plugin that
fails to import is recorded with its file and line while the others still load. The
registry's shape (names, sources, clashes, entry points) is ``registry.Registry``, shared
with signal components."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import itertools
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StrategyError, did_you_mean
from .paths import search_dirs
from .registry import LoadError, Registry
from .strategy import Strategy

__all__ = ["StrategyRegistry", "LoadError", "discover_strategies", "fresh_instance", "fresh_class",
           "PluginRef", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "durationbt.strategies"


@dataclass
class StrategyRegistry(Registry[type[Strategy]]):
    """Strategy classes keyed by their declared ``name``, each with its source."""

    kind = "strategy"
    expected = "a durationbt Strategy subclass"

    def describe(self, item: type[Strategy]) -> str:
        return f"strategy class {item.__name__}"

    def accept(self, obj: object) -> type[Strategy] | None:
        return obj if inspect.isclass(obj) and issubclass(obj, Strategy) else None

    def load_file(self, path: Path) -> None:
        """Import one plugin file; record (not raise) import failures with file and line."""
        path = path.resolve()
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
        module_name = f"durationbt_plugin_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            self.errors.append(LoadError(str(path), "not an importable Python file"))
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            # any error in user code, sys.exit() included, must not stop the other plugins
            sys.modules.pop(module_name, None)
            self.errors.append(LoadError(str(path), _describe_import_error(exc, path)))
            return
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Strategy) and obj is not Strategy and obj.__module__ == module_name \
                    and getattr(obj, "name", ""):
                self.register(obj, str(path))

    def load_dir(self, folder: Path, skip_names: set[str] | None = None) -> None:
        for path in sorted(folder.glob("*.py")):
            if not path.name.startswith("_") and path.name not in (skip_names or set()):
                self.load_file(path)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Strategies of installed packages (the ``durationbt.strategies`` group)."""
        super().load_entry_points(group)

    def get(self, name: str) -> type[Strategy]:
        """The strategy class called ``name``; a StrategyError with a suggestion otherwise."""
        if name in self._items:
            return self._items[name]
        if name in self.clashes:
            raise StrategyError(f'Two strategies are named "{name}": '
                                + " and ".join(self.clashes[name]) + ". Rename one of them.")
        msg = f'Unknown strategy "{name}".' + did_you_mean(name, self._items)
        msg += f" Available: {', '.join(self.names()) or 'none'} (see `durationbt strategies list`)."
        if self.errors:
            msg += " Plugins that failed to load: " + "; ".join(map(str, self.errors)) + "."
        raise StrategyError(msg)


def _describe_import_error(exc: BaseException, path: Path) -> str:
    if isinstance(exc, SystemExit):
        return f"calls sys.exit({exc.code!r}) while being imported"
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: syntax error: {exc.msg}"
    line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
                 if Path(f.filename).resolve() == path), None)
    where = f"line {line}: " if line else ""
    return f"{where}{type(exc).__name__}: {exc}"


def discover_strategies(strategies_dir: Path | None = None, *,
                        entry_points_enabled: bool = True,
                        builtins: bool = True) -> StrategyRegistry:
    """Load ``strategies_dir`` (if given), then ``./strategies`` and the built-in folder
    (unless ``builtins`` is False), then entry points: ``--strategies-dir`` adds to the
    built-in strategies, and its files shadow theirs file by file."""
    registry = StrategyRegistry()
    folders: list[Path] = []
    if strategies_dir is not None:
        if not Path(strategies_dir).is_dir():
            raise StrategyError(f"Strategies folder {strategies_dir} does not exist.")
        folders.append(Path(strategies_dir).resolve())
    if builtins or strategies_dir is None:
        folders += [d for d in search_dirs("strategies") if d not in folders]
    seen_files: set[str] = set()
    for folder in folders:
        # a file in ./strategies shadows the built-in file of the same name (a local copy
        # to edit); two different files declaring one name are still an error
        registry.load_dir(folder, skip_names=seen_files)
        seen_files |= {p.name for p in folder.glob("*.py")}
    if entry_points_enabled:
        registry.load_entry_points()
    return registry


_fresh_loads = itertools.count()


def fresh_class(cls: type[Strategy]) -> type[Strategy] | None:
    """``cls`` from a fresh import of its file: module globals, class attributes and caches
    start empty, so a replay cannot see what an earlier call stored. None when the class
    has no file to re-import (defined interactively) or the file no longer defines it; the
    caller then reuses the class."""
    try:
        path = Path(inspect.getfile(cls))
    except (TypeError, OSError):
        return None
    if path.suffix != ".py" or not path.is_file():
        return None
    module = _import_file(path, f"durationbt_replay_{path.stem}_{next(_fresh_loads)}",
                          keep=False)
    return next((obj for _, obj in inspect.getmembers(module, inspect.isclass)
                 if issubclass(obj, Strategy) and obj.__module__ == module.__name__
                 and obj.__qualname__ == cls.__qualname__), None)


def fresh_instance(strategy: Strategy) -> Strategy | None:
    """A new instance of ``strategy``'s class from a fresh import of its file (see
    ``fresh_class``), with the same parameters; None when there is no file to re-import."""
    twin = fresh_class(type(strategy))
    return None if twin is None else twin(**strategy.values())


def _import_file(path: Path, module_name: str, *, keep: bool):
    """Execute ``path`` as module ``module_name``; registered in ``sys.modules`` while it
    runs (dataclasses and pickling look it up there) and afterwards only with ``keep``."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"{path}: not an importable Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    if not keep:
        sys.modules.pop(module_name, None)
    return module


SYNTHETIC_PREFIXES = ("durationbt_plugin_", "durationbt_replay_", "durationbt_worker_")


@dataclass(frozen=True)
class PluginRef:
    """How another process finds a strategy class: by file path and class name when its
    module name is synthetic (a plugin file, whose module name exists only in the process
    that loaded it), else by module and class name (an installed package)."""

    qualname: str
    module: str
    path: str | None

    @classmethod
    def of(cls, strategy: type[Strategy]) -> PluginRef:
        synthetic = strategy.__module__.startswith(SYNTHETIC_PREFIXES) or strategy.__module__ == "__main__"
        path = None
        if synthetic:
            try:
                path = str(Path(inspect.getfile(strategy)).resolve())
            except (TypeError, OSError):
                raise StrategyError(f'Strategy "{strategy.name}" has no file that worker '
                                    "processes could import; run it with --workers 1.") from None
        return cls(strategy.__qualname__, strategy.__module__, path)

    def load(self) -> type[Strategy]:
        """The class, imported in this process (once: a worker keeps it)."""
        if self.path is None:
            obj: Any = importlib.import_module(self.module)
        else:
            digest = hashlib.sha1(self.path.encode()).hexdigest()[:10]
            obj = _import_file(Path(self.path), f"durationbt_worker_{Path(self.path).stem}_{digest}",
                               keep=True)
        for part in self.qualname.split("."):
            obj = getattr(obj, part)
        return obj
