"""Writing self-contained plotly pages safely."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["write_plotly_html"]


def write_plotly_html(fig: Any, path: Path) -> Path:
    """Write ``fig`` with plotly.js embedded (works offline) via a temporary file, so a
    failure never leaves a half-written page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.write_html(tmp, include_plotlyjs=True, full_html=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
