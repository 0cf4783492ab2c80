"""One registry shape for every kind of plugin (strategies, signal components): objects keyed
by their declared name, each with the source it came from; entry points found by group;
a plugin that fails to load is recorded with its source while the others still load; two
plugins declaring one name are a clash, refused only when that name is used."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Generic, TypeVar

__all__ = ["Registry", "LoadError", "NAME"]

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

T = TypeVar("T")


@dataclass(frozen=True)
class LoadError:
    """A plugin source that could not be loaded, with where and why."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass
class Registry(Generic[T]):
    """Plugins of one kind keyed by their declared name, each with its source. Subclasses
    say what a plugin is (``kind``, ``name_of``, ``accept``)."""

    kind = "plugin"
    expected = "a durationbt plugin"   # what an entry point must name
    _items: dict[str, T] = field(default_factory=dict)
    _sources: dict[str, str] = field(default_factory=dict)
    errors: list[LoadError] = field(default_factory=list)
    clashes: dict[str, list[str]] = field(default_factory=dict)   # name -> every source
    skip: set[str] = field(default_factory=set)   # sources not to load (they failed before)

    def name_of(self, item: T) -> object:
        return getattr(item, "name", "")

    def describe(self, item: T) -> str:
        """How a bad name's message calls the item (e.g. "strategy class Foo")."""
        return self.kind

    def accept(self, obj: object) -> T | None:
        """``obj`` (an entry point's target) as a plugin of this kind, or None."""
        return None

    def register(self, item: T, source: str) -> None:
        """Add ``item`` under its name. A bad name is recorded as a load error; a name two
        plugins share is recorded as a clash, refused only when that name is used."""
        name = self.name_of(item)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            self.errors.append(LoadError(source, f"{self.describe(item)} has name {name!r}; a "
                                         "name is a letter followed by letters, digits, '_' "
                                         "or '-' (it becomes part of folder names)"))
            return
        if name in self.clashes:
            self.clashes[name].append(source)
            return
        if name in self._items:
            self.clashes[name] = [self._sources.pop(name), source]
            del self._items[name]
            return
        self._items[name] = item
        self._sources[name] = source

    def guard(self, source: str) -> contextlib.AbstractContextManager:
        """Around the import of one plugin source (a kind may time it or report it)."""
        return contextlib.nullcontext()

    def load_entry_points(self, group: str) -> None:
        """Register every plugin installed packages declare under ``group``; a package that
        fails to import, or names something of the wrong kind, is a load error."""
        for ep in entry_points(group=group):
            dist = getattr(ep, "dist", None)
            source = f"entry point {ep.name} ({ep.value}" + (
                f", {dist.name} {dist.version})" if dist is not None else ")")
            if source in self.skip:
                continue
            try:
                with self.guard(source):
                    obj = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:   # a broken package must not hide the others
                self.errors.append(LoadError(source, f"{type(exc).__name__}: {exc}"))
                continue
            item = self.accept(obj)
            if item is None:
                self.errors.append(LoadError(source, f"is not {self.expected}"))
                continue
            self.register(item, source)

    def names(self) -> list[str]:
        return sorted(self._items)

    def source(self, name: str) -> str:
        return self._sources[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        """Names in registration order."""
        return iter(self._items)

    def lookup(self, name: str, error: Callable[[str], Exception]) -> T:
        """The plugin called ``name``; ``error(message)`` raised for a clash or an unknown
        name (the message names both sources of a clash, or suggests a near name)."""
        from .errors import did_you_mean

        if name in self._items:
            return self._items[name]
        if name in self.clashes:
            raise error(f'Two {self.kind}s are named "{name}": '
                        + " and ".join(self.clashes[name]) + ". Rename one of them.")
        raise error(f'Unknown {self.kind} "{name}".' + did_you_mean(name, self._items))
