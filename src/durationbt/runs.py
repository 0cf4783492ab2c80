"""The run folder: the only module that writes results. A run is written into a hidden
temporary folder and renamed into place when complete, so a failed run leaves nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["run_id", "staging_folder", "write_json", "write_frame", "git_revision"]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def run_id(created: pd.Timestamp, strategy: str, identity: dict[str, Any]) -> str:
    """``<UTC timestamp>-<strategy>-<8 hex of the inputs' hash>``."""
    digest = hashlib.sha256(_canonical(identity).encode()).hexdigest()[:8]
    return f"{created.strftime('%Y%m%d-%H%M%S')}-{strategy}-{digest}"


@contextlib.contextmanager
def staging_folder(results_dir: Path, name: str) -> Iterator[tuple[Path, list[Path]]]:
    """Yield a temporary folder inside ``results_dir`` and a one-item list that receives the
    final path; on success it is renamed to ``results_dir/name`` (``-2``, ``-3``... if taken),
    on any error it is deleted."""
    results_dir.mkdir(parents=True, exist_ok=True)
    tmp = results_dir / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    final: list[Path] = []
    try:
        yield tmp, final
        target = results_dir / name
        suffix = 2
        while target.exists():
            target = results_dir / f"{name}-{suffix}"
            suffix += 1
        os.rename(tmp, target)
        final.append(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Sorted keys, two-space indent, trailing newline: stable bytes for stable inputs."""
    path.write_text(json.dumps(obj, sort_keys=True, indent=2, default=str) + "\n",
                    encoding="utf-8")


def write_frame(path: Path, frame: pd.DataFrame | pd.Series) -> None:
    """CSV with ISO dates and 10 significant digits: readable, diffable, stable."""
    frame.to_csv(path, float_format="%.10g", date_format="%Y-%m-%d", lineterminator="\n")


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
