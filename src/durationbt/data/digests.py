"""The SHA-256 of each data file, remembered between runs so an unchanged file is not read
again to build the market cache's key (hashing a 2,000-asset folder's 535 MB took 0.95 s of
every warm run; a look-up is one ``stat``).

A remembered digest is used only while the file's size, modification time, inode, device
and status-change time (ctime) are all what they were when it was hashed. The ctime is the
guarantee: the kernel sets it to the current time on every write, truncation, rename onto
the name or ``utime`` (an edit that restores the size and modification time still moves
it) and no unprivileged call can set it back. A file is remembered only when its ctime was
already ``SETTLED_NS`` old when its reading began, so a write later in the same tick of a
coarse clock cannot hide behind an unchanged ctime (git's "racily clean" rule). What it
cannot see: the system clock set back, a filesystem that does not keep ctime (FAT, some
network mounts) or a disk image edited offline; delete the memo file
(``$DURATIONBT_CACHE/market/file-digests``) or run with ``RunSettings(cache=False)`` to
hash (or read) everything.

The memo is a checksummed JSON file written atomically (a temporary file renamed over it):
two runs writing at once leave one whole memo or the other, never a mix; a damaged or
foreign one is ignored, every file is hashed and a good memo written."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["FileDigests", "file_digest", "digest_files", "SETTLED_NS", "MEMO_NAME"]

MEMO_NAME = "file-digests"
SETTLED_NS = 2_000_000_000      # a file changed less than 2 s before it is hashed is not kept
MAX_ENTRIES = 20_000            # files remembered at most (the most recently hashed kept)
_MAGIC = b"durationbt-file-digests 1\n"
READERS = min(4, os.cpu_count() or 1)


class FileDigests:
    """``path:sha256`` of files (as ``file_digest`` says them), from the memo at
    ``memo`` when a file is unchanged; ``save`` records what was hashed. ``problem``: why
    the memo on disk was ignored (damaged), else None."""

    def __init__(self, memo: Path, settled_ns: int | None = None) -> None:
        self.memo = Path(memo)
        self.settled_ns = SETTLED_NS if settled_ns is None else settled_ns
        self.known, self.problem = _load(self.memo)
        self._fresh: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self.hashed = 0             # files read this time (a test counts them)

    def of(self, paths: list[Path]) -> list[str]:
        """``path:<sha256 of its bytes>`` of each file (``path:absent`` when it cannot be
        read): remembered where the file is unchanged, else read by a few threads."""
        said: list[str | None] = []
        for path in paths:
            try:
                now = _signature(os.stat(path))
            except OSError:
                said.append(f"{path}:absent")
                continue
            known = self.known.get(os.path.abspath(path))
            said.append(f"{path}:{known[5]}" if known is not None and tuple(known[:5]) == now
                        else None)
        missing = [path for path, text in zip(paths, said, strict=True) if text is None]
        hashed = iter(digest_files(missing, self._hashed))
        self.hashed += len(missing)
        return [text if text is not None else next(hashed) for text in said]

    def _hashed(self, path: Path, begun: int, before: os.stat_result,
                after: os.stat_result, digest: str) -> None:
        """Remember a file's digest if nothing changed it while it was read and it had
        settled (its ctime ``settled_ns`` older than the start of the reading)."""
        if stat.S_ISREG(before.st_mode) and _signature(before) == _signature(after) \
                and before.st_ctime_ns < begun - self.settled_ns:
            with self._lock:
                self._fresh[os.path.abspath(path)] = [*_signature(before), digest]

    def save(self) -> None:
        """Add what was hashed to the memo on disk (as it is now: another run may have
        written it since), atomically; a cache folder that cannot be written is skipped."""
        if not self._fresh and self.problem is None:
            return
        with contextlib.suppress(OSError):
            merged = {name: entry for name, entry in _load(self.memo)[0].items()
                      if name not in self._fresh} | self._fresh
            entries = dict(list(merged.items())[-MAX_ENTRIES:])
            payload = json.dumps(entries, separators=(",", ":")).encode()
            self.memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.memo.parent / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{MEMO_NAME}"
            try:
                tmp.write_bytes(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
                                + payload)
                os.replace(tmp, self.memo)
            finally:
                tmp.unlink(missing_ok=True)


def file_digest(path: Path, seen: Callable[..., None] | None = None) -> str:
    """``path:sha256`` of a file's bytes, ``path:absent`` when it cannot be read;
    ``seen(path, begun, stat before, stat after, digest)`` is told of a file read."""
    begun = time.time_ns()
    try:
        with open(path, "rb") as handle:
            before = os.fstat(handle.fileno())
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
            after = os.fstat(handle.fileno())
    except OSError:
        return f"{path}:absent"
    if seen is not None:
        seen(path, begun, before, after, digest)
    return f"{path}:{digest}"


def digest_files(paths: list[Path], seen: Callable[..., None] | None = None) -> list[str]:
    """``file_digest`` of each path, a few files at a time (hashing releases the GIL)."""
    if len(paths) < 2:
        return [file_digest(path, seen) for path in paths]
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        return list(pool.map(lambda path: file_digest(path, seen), paths))


def _signature(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def _load(memo: Path) -> tuple[dict[str, list[Any]], str | None]:
    """The memo's entries and, when it is there but cannot be trusted, why (then none)."""
    try:
        blob = memo.read_bytes()
    except OSError:
        return {}, None
    head = len(_MAGIC) + 65
    if not blob.startswith(_MAGIC) or blob[head - 1:head] != b"\n":
        return {}, "no durationbt header"
    if hashlib.sha256(blob[head:]).hexdigest().encode() != blob[len(_MAGIC):head - 1]:
        return {}, "its checksum does not match its content"
    try:
        entries = json.loads(blob[head:])
    except ValueError:
        return {}, "not JSON"
    if not isinstance(entries, dict) or not all(_entry(v) for v in entries.values()):
        return {}, "not a memo of file digests"
    return entries, None


def _entry(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 6
            and all(type(v) is int for v in value[:5]) and isinstance(value[5], str)
            and len(value[5]) == 64)
