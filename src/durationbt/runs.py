"""Results folders: every file of a result is written through here (``publish`` says what
goes in), and a run folder is read back here. A result is written into a hidden temporary
folder and renamed into place when complete, so a failed run leaves nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import DataError
from .manifest import Manifest, RunManifest, RunMetrics

__all__ = ["run_id", "staging_folder", "temp_name", "draft_file", "clean_stale",
           "files_together", "folders_made", "refuse_unfinished", "write_json", "write_frame",
           "write_manifest", "git_revision", "package_versions", "provenance", "TMP_PREFIX", "RunFolder",
           "read_run_folder"]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def run_id(created: pd.Timestamp, strategy: str, identity: dict[str, Any]) -> str:
    """``<UTC timestamp>-<strategy>-<8 hex of the inputs' hash>``."""
    digest = hashlib.sha256(_canonical(identity).encode()).hexdigest()[:8]
    return f"{created.strftime('%Y%m%d-%H%M%S')}-{strategy}-{digest}"


TMP_PREFIX = ".tmp-"


def temp_name(name: str) -> str:
    """A temporary name for ``name`` that ``clean_stale`` recognises: the prefix, this
    process's id (a dead process's leftovers are removed) and a random part."""
    return f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{name}"


@contextlib.contextmanager
def folders_made(folder: Path) -> Iterator[Path]:
    """``folder`` and any missing parents, created on entry; if the block fails, the ones
    created here are removed again (when still empty), so a refused command leaves no
    empty ``--out`` folder behind."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    except BaseException:
        for made in missing:    # deepest first
            with contextlib.suppress(OSError):
                made.rmdir()
        raise


@contextlib.contextmanager
def draft_file(folder: Path, name: str) -> Iterator[Path]:
    """A temporary file path in ``folder`` for a page drafted before its run folder exists
    (removed by ``clean_stale`` if the process is killed), deleted on the way out if still
    there."""
    with folders_made(folder):
        path = folder / temp_name(name)
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's live process
        return True
    return True


def clean_stale(results_dir: Path) -> list[Path]:
    """Remove temporary folders left by runs whose process is gone (killed, crashed), and
    the empty final folder each had reserved. Folders of live runs are left alone."""
    removed: list[Path] = []
    if not results_dir.is_dir():
        return removed
    for tmp in results_dir.glob(f"{TMP_PREFIX}*"):
        pid, _, reserved = tmp.name[len(TMP_PREFIX):].partition("-")
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)     # a page drafted beside the run
        removed.append(tmp)
        final = results_dir / reserved.partition("-")[2]
        with contextlib.suppress(OSError):
            final.rmdir()     # only if still empty: the run never completed
    return removed


def _reserve(results_dir: Path, name: str) -> Path:
    """Create ``results_dir/name`` (``-2``, ``-3``... if taken) as an empty folder: mkdir is
    atomic, so two runs started in the same second never get the same name."""
    suffix = 1
    while True:
        target = results_dir / (name if suffix == 1 else f"{name}-{suffix}")
        try:
            target.mkdir()
            return target
        except FileExistsError:
            suffix += 1


@contextlib.contextmanager
def staging_folder(results_dir: Path, name: str) -> Iterator[tuple[Path, list[Path]]]:
    """Yield a temporary folder inside ``results_dir`` and a one-item list holding the
    final path, reserved up front (``name``, else ``name-2``...) so the run id written
    inside equals the folder's name. On success the temporary folder replaces the empty
    reserved one (one rename: readers never see half a run); on any error both are
    removed, and a killed run's leftovers are removed by the next run."""
    with folders_made(results_dir):
        clean_stale(results_dir)
        final = _reserve(results_dir, name)
        tmp = results_dir / temp_name(final.name)
        try:
            tmp.mkdir()
            yield tmp, [final]
            os.rename(tmp, final)        # replaces the empty reserved folder atomically
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            with contextlib.suppress(OSError):
                final.rmdir()
            raise


@contextlib.contextmanager
def files_together(targets: list[Path]) -> Iterator[list[Path]]:
    """Write several files all or none: yield a temporary sibling path for each target;
    when the block succeeds each replaces its target (same folder, one rename each), on any
    error every temporary file is removed and no target is touched."""
    for target in targets:
        if target.is_dir():
            raise DataError(f"{target} is a folder; give a file name, e.g. {target / 'out.csv'}.")
        if target.exists() and not target.is_file():
            # a rename would replace the device itself (as root, /dev/null becomes a file)
            raise DataError(f"{target} is not a regular file (a device, pipe or socket): "
                            "durationbt writes a file whole and renames it into place, so give "
                            "the name of a file to create or replace.")
    temps = [target.parent / temp_name(target.name) for target in targets]
    with contextlib.ExitStack() as made:
        for folder in dict.fromkeys(target.parent for target in targets):
            made.enter_context(folders_made(folder))
        try:
            yield temps
            for temp, target in zip(temps, targets, strict=True):
                os.replace(temp, target)
        finally:
            for temp in temps:
                with contextlib.suppress(OSError):
                    temp.unlink()


def refuse_unfinished(path: Path) -> None:
    """A DataError for a run's temporary folder, which a reader must never take for a run."""
    if Path(path).name.startswith(TMP_PREFIX):
        raise DataError(f"{path}: the temporary folder of a run that has not finished (still "
                        "running, or killed; the next run removes it). It is not a run folder.")


def write_json(path: Path, obj: Any) -> None:
    """Sorted keys, two-space indent, trailing newline: stable bytes for stable inputs."""
    path.write_text(json.dumps(obj, sort_keys=True, indent=2, default=str) + "\n",
                    encoding="utf-8")


def write_frame(path: Path, frame: pd.DataFrame | pd.Series, parsed: bool = False):
    """CSV with ISO dates and 10 significant digits: readable, diffable, stable (the bytes
    of pandas' ``to_csv``, written by ``csvwrite`` at a fraction of its cost). ``parsed``:
    return the file's cells as ``read_run_folder`` parses them (a ``readback.Table``, or
    None: read the file)."""
    from .csvwrite import write_csv

    return write_csv(path, frame, parsed=parsed)


def write_manifest(path: Path, manifest: Manifest) -> None:
    """A typed manifest (``manifest``) as ``write_json`` writes any JSON."""
    write_json(path, manifest.to_json())


def package_versions() -> dict[str, str]:
    """Python's and the libraries' versions behind a result."""
    out = {"python": platform.python_version()}
    for name in ("durationbt", "vectorbt", "quantstats", "pandas", "numpy", "numba", "yfinance"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(market: Any = None) -> dict[str, Any]:
    """What every results folder's manifest records about how it was made: package
    versions, the git revision of this checkout, and the data's source and fingerprint
    when data were loaded (``market``: a MarketData)."""
    out: dict[str, Any] = {"packages": package_versions(),
                           "git": git_revision(Path(__file__).resolve().parent)}
    if market is not None:
        out["data_provenance"] = {"source": market.source, "fingerprint": market.fingerprint()}
    return out


def git_revision(where: Path) -> dict[str, Any] | None:
    """The commit and dirtiness of the checkout holding ``where``, or None outside git."""
    try:
        rev = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"revision": rev, "dirty": bool(dirty)}


_REQUIRED = ("manifest.json", "metrics.json", "equity.csv", "weights.csv")


@dataclass(frozen=True)
class RunFolder:
    """What a run folder holds, parsed; ``manifest`` is the validated ``RunManifest`` as
    a plain dict (what the pages read)."""

    path: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    equity: pd.DataFrame
    weights: pd.DataFrame
    signal: pd.DataFrame | None
    duration: pd.DataFrame | None
    regimes: dict[str, pd.DataFrame] | None
    orders: pd.DataFrame | None = None
    timing: pd.DataFrame | None = None   # timing.csv: run, static mix, placebo band
    exposures: pd.DataFrame | None = None    # long, short, gross, net (book.exposures)

    @property
    def buckets(self) -> list[dict[str, Any]]:
        """Buckets in duration order, short to long."""
        return sorted(self.manifest["universe"]["definition"]["buckets"],
                      key=lambda b: b["rank"])


def read_run_folder(path: Path, tables: dict[str, Any] | None = None) -> RunFolder:
    """Parse a run folder, every file checked as it is read (``readback``): a DataError
    naming the folder or file (and the manifest's field, the CSV's column and date) if it
    is not a run folder or a file is damaged. ``tables``: CSV files' cells as ``write_frame``
    returned them for a folder just written, checked the same way without reading the
    files again."""
    from pydantic import ValidationError

    from .readback import LAYOUTS, check_regime_tables, read_frame, read_json
    from .regimes import tables_from_json

    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: not a folder. Pass a run folder such as "
                        "results/20260101-120000-buy_and_hold-1a2b3c4d.")
    missing = [name for name in _REQUIRED if not (path / name).is_file()]
    if missing:
        raise DataError(f"{path}: not a durationbt run folder (missing {', '.join(missing)}).")
    documents = {}
    for name, model in (("manifest.json", RunManifest), ("metrics.json", RunMetrics)):
        documents[name] = read_json(path / name)
        try:
            typed = model.model_validate(documents[name])
        except ValidationError as exc:
            where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                              for e in exc.errors()[:3])
            what = "the manifest" if name == "manifest.json" else "the metrics"
            raise DataError(f"{path / name}: not {what} of a run ({where}).") from exc
        if name == "manifest.json":
            documents[name] = typed.to_json()   # older field names brought up to date
    manifest, metrics = documents["manifest.json"], documents["metrics.json"]
    span = (manifest["settings"]["start"], manifest["settings"]["end"])
    tables = tables or {}
    frames = {"equity.csv": read_frame(path / "equity.csv", LAYOUTS["equity.csv"], span,
                                       table=tables.get("equity.csv"))}
    days = frames["equity.csv"].index
    for name, layout in LAYOUTS.items():
        if name not in frames:
            frames[name] = read_frame(path / name, layout, span, days, tables.get(name)) \
                if (path / name).is_file() else None
    regimes = None
    if (path / "regimes.json").is_file():
        data = read_json(path / "regimes.json")
        check_regime_tables(path / "regimes.json", data)
        regimes = tables_from_json(data)
    return RunFolder(path=path, manifest=manifest, metrics=metrics, equity=frames["equity.csv"],
                     weights=frames["weights.csv"], signal=frames["signal.csv"],
                     duration=frames["duration.csv"], regimes=regimes,
                     orders=frames["orders.csv"], timing=frames["timing.csv"],
                     exposures=frames["exposures.csv"])
