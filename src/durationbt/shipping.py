"""A large value sent to sandbox children once: the context (140 MB of prices at 2,000
assets over the snapshot's calendar) is pickled with its arrays out of band into one
anonymous, sealed shared-memory file (a memfd) the first time a child needs it. Every
child of the command (one per strategy: ``run``, ``compare``, ``now``) is handed that
file beside its message and maps its pages instead of receiving, unpickling and holding a
copy of its own: about 0.85 s and the copy's memory per child at that size. The pages are
mapped copy-on-write and the file is sealed against writes, so what a plugin does to its
data stays in its process. Where memfd, sealing or descriptor passing is missing (not
Linux), the value travels pickled in the message, as any argument."""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import socket
import weakref
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import recvfds, sendfds
from typing import Any

__all__ = ["Shared", "Mapped", "outgoing", "send", "incoming"]

ALIGN = 64                # each array starts on a cache line
SMALL = 1 << 20           # below a MiB of arrays a value travels in the message


@dataclass(frozen=True)
class Mapped:
    """What a child receives in place of a ``Shared``: the value's pickle without its
    arrays, and where each array lies in the file passed beside the message."""

    head: bytes
    layout: tuple[tuple[int, int], ...]     # (offset, bytes) of each out-of-band buffer
    size: int

    def load(self, fd: int) -> Any:
        """The value, its arrays on the file's pages (copy-on-write); ``fd`` is closed."""
        try:
            pages = mmap.mmap(fd, self.size, flags=mmap.MAP_PRIVATE,
                              prot=mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        view = memoryview(pages)
        return pickle.loads(self.head, buffers=[view[o:o + n] for o, n in self.layout])


class Shared:
    """``value`` to be sent to children through shared memory, packed on first use and
    released when this object is (or at ``close``)."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self._packed: tuple[Mapped, int] | None = None
        self._tried = False

    def packed(self) -> tuple[Mapped, int] | None:
        """(what the child reads, the file descriptor), or None: send the value itself."""
        if not self._tried:
            self._tried = True
            self._packed = _pack(self.value)
            if self._packed is not None:
                weakref.finalize(self, _close, self._packed[1])
        return self._packed

    def close(self) -> None:
        """Release the shared memory now (children that mapped it keep their pages)."""
        if self._packed is not None:
            _close(self._packed[1])
            self._packed = None


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _pack(value: Any) -> tuple[Mapped, int] | None:
    """The value's pickle with its contiguous arrays written into a sealed memfd."""
    if not hasattr(os, "memfd_create") or not hasattr(socket, "CMSG_LEN"):
        return None
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    if sum(r.nbytes for r in raws) < SMALL:
        return None
    layout, offset = [], 0
    for raw in raws:
        layout.append((offset, raw.nbytes))
        offset += -(-raw.nbytes // ALIGN) * ALIGN
    fd = -1
    try:
        import fcntl

        fd = os.memfd_create("durationbt-shared", os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)
        os.ftruncate(fd, max(offset, 1))
        for (start, size), raw in zip(layout, raws, strict=True):
            done = 0
            while done < size:
                done += os.pwrite(fd, raw[done:], start + done)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK
                    | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
    except (OSError, AttributeError, ImportError):
        if fd >= 0:
            _close(fd)
        return None
    return Mapped(head, tuple(layout), max(offset, 1)), fd


def outgoing(args: tuple) -> tuple[tuple, list[int]]:
    """``args`` as a message carries them: each ``Shared`` as a ``Mapped`` (its file
    descriptor in the list, in order) or, when it cannot be packed, as its value."""
    out, fds = [], []
    for arg in args:
        if isinstance(arg, Shared):
            packed = arg.packed()
            if packed is None:
                out.append(arg.value)
            else:
                out.append(packed[0])
                fds.append(packed[1])
        else:
            out.append(arg)
    return tuple(out), fds


def send(line: Connection, fds: list[int]) -> None:
    """Pass ``fds`` to the process at the other end of ``line`` (after its message)."""
    with socket.fromfd(line.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sendfds(sock, fds)


def incoming(line: Connection, args: tuple, count: int) -> tuple:
    """In the child: the ``count`` descriptors sent after the message, each ``Mapped``
    argument loaded from its own."""
    with socket.fromfd(line.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        fds = iter(recvfds(sock, count))
    return tuple(arg.load(next(fds)) if isinstance(arg, Mapped) else arg for arg in args)
