"""The memo of data files' digests (``data.digests``): an unchanged file is not read again,
any change of its bytes is seen (a same-size edit with its modification time put back
moves the ctime), a damaged memo is ignored and rewritten, and runs writing it at once
never leave a damaged one."""

import hashlib
import os
import shutil
import subprocess
import sys
import time

import pytest

from durationbt.api import RunSettings, load_data
from durationbt.data import digests as memo_module
from durationbt.data.cache import MarketCache
from durationbt.data.csv import CsvProvider
from durationbt.data.digests import MEMO_NAME, FileDigests, _load, digest_files
from durationbt.universe import load_universe

SETTLED = 50_000_000        # 50 ms: files written by a test count as settled after a pause


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    paths = []
    for i in range(5):
        path = folder / f"F{i}.csv"
        path.write_bytes(f"Date,Close\n2024-01-0{i + 1},{i + 1}.5\n".encode())
        paths.append(path)
    time.sleep(0.1)         # older than SETTLED
    return paths


@pytest.fixture
def counted(monkeypatch):
    """How many files were read to be hashed."""
    reads = []
    real = hashlib.file_digest
    monkeypatch.setattr(memo_module.hashlib, "file_digest",
                        lambda handle, name: reads.append(handle.name) or real(handle, name))
    return reads


def test_an_unchanged_file_is_not_read_again(files, tmp_path, counted):
    memo = tmp_path / "cache" / MEMO_NAME
    first = FileDigests(memo, SETTLED)
    said = first.of(files)
    assert said == [f"{p}:{sha(p.read_bytes())}" for p in files] == digest_files(files)
    assert len(counted) == 5 + 5 and first.hashed == 5      # the memo's and digest_files'
    first.save()
    counted.clear()
    again = FileDigests(memo, SETTLED)
    assert again.of(files) == said
    assert counted == [] and again.hashed == 0


def test_a_same_size_edit_with_its_time_restored_is_hashed_again(files, tmp_path, counted):
    memo = tmp_path / MEMO_NAME
    first = FileDigests(memo, SETTLED)
    before = first.of(files)
    first.save()
    path, old = files[2], files[2].stat()
    body = path.read_bytes().replace(b"3.5", b"3.6")
    path.write_bytes(body)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    new = path.stat()
    assert (new.st_size, new.st_mtime_ns, new.st_ino) == (old.st_size, old.st_mtime_ns,
                                                           old.st_ino)
    assert new.st_ctime_ns != old.st_ctime_ns
    counted.clear()
    again = FileDigests(memo, SETTLED)
    after = again.of(files)
    assert counted == [str(path)] and again.hashed == 1
    assert after[2] == f"{path}:{sha(body)}" != before[2]
    assert after[:2] + after[3:] == before[:2] + before[3:]


def test_a_file_replaced_by_another_is_hashed_again(files, tmp_path):
    memo = tmp_path / MEMO_NAME
    first = FileDigests(memo, SETTLED)
    first.of(files)
    first.save()
    other = files[0].with_name("other")
    other.write_bytes(files[0].read_bytes().replace(b"1.5", b"1.7"))
    os.replace(other, files[0])
    again = FileDigests(memo, SETTLED)
    assert again.of(files[:1]) == [f"{files[0]}:{sha(files[0].read_bytes())}"]
    assert again.hashed == 1


def test_a_file_changed_just_before_it_was_hashed_is_not_remembered(tmp_path):
    path = tmp_path / "fresh.csv"
    path.write_bytes(b"Date,Close\n2024-01-02,1\n")
    memo = tmp_path / MEMO_NAME
    hour = 3600 * 10**9                    # (2 s by default) so no pause of a loaded machine
    first = FileDigests(memo, hour)        # makes the file look settled
    first.of([path])
    first.save()
    assert not memo.exists()               # nothing to remember
    again = FileDigests(memo, hour)
    again.of([path])
    assert again.hashed == 1


def test_a_missing_file_is_absent_and_not_remembered(tmp_path):
    memo = tmp_path / MEMO_NAME
    gone = tmp_path / "gone.csv"
    first = FileDigests(memo, SETTLED)
    assert first.of([gone, tmp_path]) == [f"{gone}:absent", f"{tmp_path}:absent"]
    first.save()
    assert not memo.exists()


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty", "other json",
                                    "bad entry"])
def test_a_damaged_memo_is_ignored_and_rewritten(files, tmp_path, damage, counted):
    memo = tmp_path / MEMO_NAME
    first = FileDigests(memo, SETTLED)
    truth = first.of(files)
    first.save()
    blob = memo.read_bytes()
    if damage == "flip":        # a digest's digit changed: the checksum no longer holds
        at = blob.index(truth[1].rpartition(":")[2].encode()) + 3
        blob = blob[:at] + (b"0" if blob[at:at + 1] != b"0" else b"1") + blob[at + 1:]
    elif damage == "truncate":
        blob = blob[:len(blob) // 2]
    elif damage == "garbage":
        blob = os.urandom(300)
    elif damage == "empty":
        blob = b""
    else:                       # checksummed, but not a memo of digests
        payload = b"[1, 2]" if damage == "other json" else \
            b'{"%s": [1, 2, 3, 4, 5, "abc"]}' % str(files[0]).encode()
        blob = b"durationbt-file-digests 1\n" + sha(payload).encode() + b"\n" + payload
    memo.write_bytes(blob)
    counted.clear()
    again = FileDigests(memo, SETTLED)
    assert again.problem is not None and again.known == {}
    assert again.of(files) == truth and len(counted) == 5
    again.save()
    entries, problem = _load(memo)
    assert problem is None and len(entries) == 5
    counted.clear()
    assert FileDigests(memo, SETTLED).of(files) == truth and counted == []


WRITER = """
import sys
from pathlib import Path
from durationbt.data import digests
memo, name, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(rounds):
    d = digests.FileDigests(memo)
    d._fresh = {f"/{name}/{i}/{k}": [k, i, 3, 4, 5, "a" * 64] for k in range(20)}
    d.save()
"""


def test_runs_writing_the_memo_at_once_never_leave_a_damaged_one(tmp_path):
    memo = tmp_path / MEMO_NAME
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(memo), name, "60"], env=env)
               for name in ("a", "b")]
    looks = 0
    while any(w.poll() is None for w in writers):
        if memo.exists():
            assert _load(memo)[1] is None       # whole, checksum holding, at every moment
            looks += 1
        time.sleep(0.002)
    assert [w.wait() for w in writers] == [0, 0]
    entries, problem = _load(memo)
    assert problem is None and looks > 0
    assert len(entries) <= memo_module.MAX_ENTRIES
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_the_market_cache_key_sees_an_edit_behind_the_memo(synth_data, synth_universe,
                                                          tmp_path, monkeypatch, counted):
    """Through ``MarketCache.key`` and ``load_data``: a warm key reads no file, a same-size
    edit with its time restored makes a new key and a load equal to a fresh one."""
    monkeypatch.setattr(memo_module, "SETTLED_NS", SETTLED)
    data = tmp_path / "data"
    shutil.copytree(synth_data, data)
    time.sleep(0.1)
    universe = load_universe(synth_universe)
    settings = RunSettings(data=data, cache_dir=tmp_path / "cache")
    first = load_data(universe, settings)
    cache = MarketCache(tmp_path / "cache" / "market")
    request = {"start": None, "end": None, "strict": False}
    counted.clear()
    key = cache.key(CsvProvider(data), universe, request)
    assert counted == []
    path = data / "CHIPA.csv"
    old, body = path.stat(), path.read_bytes()
    digit = body.rindex(b"1")
    path.write_bytes(body[:digit] + b"2" + body[digit + 1:])
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert cache.key(CsvProvider(data), universe, request) != key
    assert counted == [str(path)]
    edited = load_data(universe, settings)
    assert edited.fingerprint() != first.fingerprint()
    assert edited.fingerprint() == load_data(universe, RunSettings(data=data, cache=False)
                                             ).fingerprint()
