"""Strategy discovery into one registry object (no globals): ``strategies/*.py`` files and
installed packages under the entry-point group ``durationbt.strategies``. A plugin that
fails to import is recorded with its file and line while the others still load. The
registry's shape (names, sources, clashes, entry points) is ``registry.Registry``, shared
with signal components.

Plugin files are imported in a child process (``sandbox``), never in the command's: what
comes back is each class's declaration (name, parameters, settings, docstring, where it
lives), and the registry holds a ``PluginProxy`` per strategy, a class with that
declaration whose code is imported only where it runs (the child that calls it, or, when a
notebook calls its methods directly, the notebook's process). An import that hangs or ends
its process is a load error naming the file; the others still load."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .errors import StrategyError, did_you_mean
from .loading import PluginRef, fresh_class, fresh_instance
from .paths import search_dirs
from .registry import LoadError, Registry
from .sandbox import Child, Ended, PluginTimeout, Stopped, plugin_call
from .strategy import Param, Strategy

__all__ = ["StrategyRegistry", "LoadError", "discover_strategies", "fresh_instance", "fresh_class",
           "PluginRef", "PluginProxy", "real_class", "ENTRY_POINT_GROUP", "IMPORT_TIMEOUT"]

ENTRY_POINT_GROUP = "durationbt.strategies"
IMPORT_TIMEOUT = 20.0   # seconds a plugin file may take to import (less if --timeout is less)


class ImportTimeout(Exception):
    """A plugin source did not finish importing within its time limit."""


@dataclass
class StrategyRegistry(Registry[type[Strategy]]):
    """Strategy classes keyed by their declared ``name``, each with its source."""

    kind = "strategy"
    expected = "a durationbt Strategy subclass"
    import_limit: float = IMPORT_TIMEOUT

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
            with self.guard(str(path)):
                spec.loader.exec_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
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
            if not path.name.startswith("_") and path.name not in (skip_names or set()) \
                    and str(path.resolve()) not in self.skip:
                self.load_file(path)

    @contextlib.contextmanager
    def guard(self, source: str) -> Iterator[None]:
        """An import announced to the parent (in a child) and limited to ``import_limit``
        seconds: one that runs past it is a load error, the others still load."""
        try:
            with plugin_call(f"importing {source}", self.import_limit, tag=source):
                yield
        except PluginTimeout:
            raise ImportTimeout(f"did not finish importing within {self.import_limit:g} s and "
                                "was stopped; a plugin file must not block when imported") from None

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
    if isinstance(exc, ImportTimeout):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"calls sys.exit({exc.code!r}) while being imported"
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: syntax error: {exc.msg}"
    line = next((f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__))
                 if Path(f.filename).resolve() == path), None)
    where = f"line {line}: " if line else ""
    return f"{where}{type(exc).__name__}: {exc}"


def discover_strategies(strategies_dir: Path | None = None, *,
                        entry_points_enabled: bool = True, builtins: bool = True,
                        timeout: float = IMPORT_TIMEOUT) -> StrategyRegistry:
    """Load ``strategies_dir`` (if given), then ``./strategies`` and the built-in folder
    (unless ``builtins`` is False), then entry points: ``--strategies-dir`` adds to the
    built-in strategies, and its files shadow theirs file by file. The files are imported
    in a child process, each within ``timeout`` seconds (at most IMPORT_TIMEOUT); one that
    hangs or ends that process is a load error naming it, and the others load again in a
    new child without it. The registry holds a ``PluginProxy`` per strategy."""
    folders: list[Path] = []
    if strategies_dir is not None:
        if not Path(strategies_dir).is_dir():
            raise StrategyError(f"Strategies folder {strategies_dir} does not exist.")
        folders.append(Path(strategies_dir).resolve())
    if builtins or strategies_dir is None:
        folders += [d for d in search_dirs("strategies") if d not in folders]
    limit = min(timeout, IMPORT_TIMEOUT)
    failed: list[LoadError] = []
    while True:
        with Child("Loading strategy plugins", limit) as child:
            try:
                found = child.call(_discover, folders, entry_points_enabled,
                                   {e.source for e in failed}, limit)
                break
            except (Stopped, Ended) as exc:
                if not child.tag:                   # not while importing a plugin source
                    raise
                failed.append(LoadError(child.tag, _left_out(exc, limit)))
    registry = StrategyRegistry()
    for spec in found.specs:
        registry._items[spec.name] = _proxy(spec)
        registry._sources[spec.name] = spec.source
    registry.errors = [*found.errors, *failed]
    registry.clashes = dict(found.clashes)
    return registry


def _left_out(exc: StrategyError, limit: float) -> str:
    if isinstance(exc, Stopped):
        return (f"did not finish importing within {limit:g} s and was stopped; a plugin file "
                "must not block when imported")
    return (f"ended the process importing it ({exc.how}); a plugin file must not call "
            "os._exit() or crash when imported")


@dataclass(frozen=True)
class StrategySpec:
    """What a strategy class declares, read where it was imported: all the command's
    process knows of it."""

    name: str
    source: str
    class_name: str
    doc: str
    weights_by: str
    within_bucket: str
    holds: bool
    allow_short: bool
    params: tuple[tuple[str, Param], ...]
    point_in_time: bool
    has_grid: bool
    ref: PluginRef
    file: str | None


@dataclass(frozen=True)
class Discovered:
    """A discovery's outcome, sent back from the child."""

    specs: tuple[StrategySpec, ...]
    errors: tuple[LoadError, ...]
    clashes: dict[str, list[str]]


def _discover(holder: Any, folders: list[Path], entry_points_enabled: bool, skip: set[str],
              limit: float) -> Discovered:
    """In the child: import the plugin sources (not those in ``skip``) and describe them."""
    registry = StrategyRegistry(skip=set(skip))
    registry.import_limit = limit
    seen_files: set[str] = set()
    for folder in folders:
        # a file in ./strategies shadows the built-in file of the same name (a local copy
        # to edit); two different files declaring one name are still an error
        registry.load_dir(folder, skip_names=seen_files)
        seen_files |= {p.name for p in folder.glob("*.py")}
    if entry_points_enabled:
        registry.load_entry_points()
    specs = []
    for name in registry:
        try:
            specs.append(_spec(registry.get(name), registry.source(name)))
        except (StrategyError, TypeError, ValueError) as exc:
            registry.errors.append(LoadError(registry.source(name), str(exc)))
    return Discovered(tuple(specs), tuple(registry.errors), dict(registry.clashes))


PLAIN = (bool, int, float, str)


def _plain(value: Any, what: str) -> Any:
    """``value`` as a plain bool, int, float or str (numpy scalars converted)."""
    for kind in PLAIN:
        if isinstance(value, kind):
            return kind(value)
    raise StrategyError(f"{what} is a {type(value).__name__}; use a bool, int, float or str")


def _spec(cls: type[Strategy], source: str) -> StrategySpec:
    """``cls``'s declaration as plain data (Strategy's own methods read it, not overrides)."""
    params = []
    for key, p in Strategy.params.__func__(cls).items():   # type: ignore[attr-defined]
        what = f"parameter {key} of {cls.__name__}"
        bound = [None if b is None else _plain(b, what + " bound") for b in (p.low, p.high)]
        params.append((key, Param(_plain(p.default, what), str(p.help), *bound,
                                  tuple(_plain(v, what + " grid value") for v in p.grid))))
    try:
        file = inspect.getfile(cls)
    except (TypeError, OSError):
        file = None
    return StrategySpec(
        name=str(cls.name), source=source, class_name=str(cls.__name__),
        doc=inspect.getdoc(cls) or "", weights_by=str(cls.weights_by),
        within_bucket=str(cls.within_bucket), holds=bool(cls.holds),
        allow_short=bool(cls.allow_short), params=tuple(params),
        point_in_time=bool(Strategy.point_in_time.__func__(cls)),   # type: ignore[attr-defined]
        has_grid=bool(Strategy.has_grid.__func__(cls)),             # type: ignore[attr-defined]
        ref=PluginRef.of(cls), file=file)


class PluginProxy(Strategy):
    """A registered strategy as a command's process knows it: the declaration its file made
    (name, parameters, settings, docstring), read in a child process. Its code runs where
    it is called: in the command's child (``real_class``), or, when a notebook calls
    ``target_weights`` on it directly, from its file imported into the notebook's process."""

    plugin: ClassVar[PluginRef]
    source_file: ClassVar[str | None] = None
    _point_in_time: ClassVar[bool] = False
    _has_grid: ClassVar[bool] = False

    @classmethod
    def point_in_time(cls) -> bool:
        return cls._point_in_time

    @classmethod
    def has_grid(cls) -> bool:
        return cls._has_grid

    @classmethod
    def loaded(cls) -> type[Strategy]:
        """The plugin's own class, imported into this process (once)."""
        real = cls.__dict__.get("_loaded")
        if real is None:
            real = cls.plugin.load()
            cls._loaded = real
        return real

    def plugin_instance(self) -> Strategy:
        """The plugin's own object with these parameters, made here (once) from its class:
        what direct calls in this process use."""
        made = self.__dict__.get("_instance")
        if made is None:
            made = self.__dict__["_instance"] = self.loaded()(**self.values())
        return made

    def __getattr__(self, name: str) -> Any:
        """The plugin's own helpers (anything its class defines beyond the contract)."""
        if name.startswith("__") or name == "_instance":
            raise AttributeError(name)
        return getattr(self.plugin_instance(), name)

    def target_weights(self, ctx):
        return self.plugin_instance().target_weights(ctx)

    def weights_on(self, ctx):
        return self.plugin_instance().weights_on(ctx)

    @classmethod
    def target_weights_grid(cls, ctx, combos):
        return cls.loaded().target_weights_grid(ctx, combos)


def _proxy(spec: StrategySpec) -> type[Strategy]:
    namespace: dict[str, Any] = {
        "__doc__": spec.doc, "__module__": __name__, "__qualname__": spec.ref.qualname,
        "name": spec.name, "weights_by": spec.weights_by, "within_bucket": spec.within_bucket,
        "holds": spec.holds, "allow_short": spec.allow_short, "plugin": spec.ref,
        "source_file": spec.file,
        "_point_in_time": spec.point_in_time, "_has_grid": spec.has_grid, **dict(spec.params)}
    return type(spec.class_name, (PluginProxy,), namespace)


def real_class(cls: type[Strategy]) -> type[Strategy]:
    """The class whose code runs: a proxy's plugin class imported here, any other as is."""
    return cls.loaded() if issubclass(cls, PluginProxy) else cls
