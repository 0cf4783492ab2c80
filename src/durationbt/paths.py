"""Where built-in universes and strategies live, for an editable checkout and a wheel."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["builtin_dir", "search_dirs", "slug"]

_PACKAGE = Path(__file__).resolve().parent


def builtin_dir(kind: str) -> Path | None:
    """The shipped ``universes`` or ``strategies`` folder: inside the wheel, else the repo root."""
    for candidate in (_PACKAGE / "_builtin" / kind, _PACKAGE.parents[1] / kind):
        if candidate.is_dir():
            return candidate
    return None


def search_dirs(kind: str, cwd: Path | None = None) -> list[Path]:
    """``./<kind>`` in the working directory first (the user's own), then the built-in one."""
    dirs: list[Path] = []
    local = (cwd or Path.cwd()) / kind
    if local.is_dir():
        dirs.append(local.resolve())
    shipped = builtin_dir(kind)
    if shipped is not None and shipped.resolve() not in dirs:
        dirs.append(shipped.resolve())
    return dirs


def slug(text: str, fallback: str = "unnamed", limit: int = 64) -> str:
    """``text`` as one safe part of a file name: letters, digits, ``_`` and ``-`` only,
    at most ``limit`` characters. Names read from user files (a universe's ``name``) go
    into default paths through it, so ``../x`` or a slash can never steer a path."""
    cleaned = re.sub(r"[^\w-]+", "_", text).strip("_-")[:limit]
    return cleaned or fallback
