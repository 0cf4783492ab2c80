"""Where a plugin's class comes from in a process: imported afresh from its file for a
lookahead replay (module globals, class attributes and caches start empty), or by
reference (file path and class name, or module and class name) in a worker process."""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

from .errors import StrategyError
from .strategy import Strategy

__all__ = ["PluginRef", "fresh_class", "fresh_instance", "import_file", "plugin_file",
           "SYNTHETIC_PREFIXES"]


def plugin_file(strategy: Strategy | type[Strategy]) -> str:
    """The file a strategy's class was read from ('' when it has none): what a refusal
    names beside the plugin."""
    cls = strategy if isinstance(strategy, type) else type(strategy)
    try:
        return str(getattr(cls, "source_file", None) or inspect.getfile(cls))
    except (TypeError, OSError):
        return ""

_fresh_loads = itertools.count()


def fresh_class(cls: type[Strategy]) -> type[Strategy] | None:
    """``cls`` from a fresh import of its file: module globals, class attributes and caches
    start empty, so a replay cannot see what an earlier call stored. None when the class
    has no file to re-import (defined interactively) or the file no longer defines it; the
    caller then reuses the class."""
    try:
        path = Path(getattr(cls, "source_file", None) or inspect.getfile(cls))
    except (TypeError, OSError):
        return None
    if path.suffix != ".py" or not path.is_file():
        return None
    module = import_file(path, f"durationbt_replay_{path.stem}_{next(_fresh_loads)}",
                          keep=False)
    return next((obj for _, obj in inspect.getmembers(module, inspect.isclass)
                 if issubclass(obj, Strategy) and obj.__module__ == module.__name__
                 and obj.__qualname__ == cls.__qualname__), None)


def fresh_instance(strategy: Strategy) -> Strategy | None:
    """A new instance of ``strategy``'s class from a fresh import of its file (see
    ``fresh_class``), with the same parameters; None when there is no file to re-import."""
    twin = fresh_class(type(strategy))
    return None if twin is None else twin(**strategy.values())


def import_file(path: Path, module_name: str, *, keep: bool):
    """Execute ``path`` as module ``module_name``; registered in ``sys.modules`` while it
    runs (dataclasses and pickling look it up there) and afterwards only with ``keep``."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"{path}: not an importable Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        exec(_compiled(path), module.__dict__)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    if not keep:
        sys.modules.pop(module_name, None)
    return module


_CODE: dict[tuple[str, int, int], CodeType] = {}


def _compiled(path: Path) -> CodeType:
    """``path``'s code, compiled once per version of the file (path, modification time,
    size): a lookahead replay imports the plugin afresh for every cut, and a fresh module
    needs a fresh run of its code, not a fresh compile (code objects are immutable)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    code = _CODE.get(key)
    if code is None:
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        if len(_CODE) >= 64:
            _CODE.clear()
        _CODE[key] = code
    return code


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
        declared = strategy.__dict__.get("plugin")
        if isinstance(declared, PluginRef):      # a registry's proxy: where its class lives
            return declared
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
            obj = import_file(Path(self.path), f"durationbt_worker_{Path(self.path).stem}_{digest}",
                               keep=True)
        for part in self.qualname.split("."):
            obj = getattr(obj, part)
        return obj
