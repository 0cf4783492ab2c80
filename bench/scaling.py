"""How `durationbt run` grows with the universe: synthetic random-walk universes of N assets
over Y years, each run end to end (`durationbt run equal_weight`, defaults: costs, tearsheet,
lookahead replay, run folder) in a fresh process, timed with its peak memory.

    .venv/bin/python bench/scaling.py [--assets 10,100,500,2000] [--years 10,30]

The market: the snapshot's rate, FRED and benchmark series (linked, never copied) beside N
seeded random walks written as Yahoo-shaped CSVs into a temporary folder, in five buckets
of rising duration rank with the snapshot's BIL as the cash asset. The growth exponent of
assets (years) is the slope of log time beyond the smallest case's, over log assets
(years), between the two largest sizes."""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(os.environ.get("DURATIONBT_DATA", REPO.parent / "shared" / "market-data"))
END = "2026-07-31"
LINKED = ("SPY", "BIL", "^IRX", "^TNX", "^FVX", "^VIX", "DX-Y.NYB", "UUP", "HYG", "LQD", "TIP",
          "SHY", "IEF", "TLT")


def write_market(folder: Path, assets: int, years: int, seed: int = 0) -> Path:
    """A data folder and universe file for ``assets`` random walks over ``years`` years to
    END; returns the universe file."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    for name in (*LINKED, "fred"):
        source = SNAPSHOT / (name if name == "fred" else f"{name}.csv")
        if source.exists():
            (folder / source.name).symlink_to(source.resolve())
    rng = np.random.default_rng(seed)
    # the benchmark's own trading days (a business-day range has days the exchange was
    # closed, e.g. 2001-09-11..14, that the benchmark cannot price)
    days = pd.read_csv(SNAPSHOT / "SPY.csv", usecols=["Date"])["Date"]
    index = pd.DatetimeIndex(days[days <= END], name="Date")[-(252 * years + 300):]
    dates = index.strftime("%Y-%m-%d").to_numpy()
    tickers = [f"S{i:04d}" for i in range(assets)]
    vols = rng.uniform(0.008, 0.03, assets)
    paths = 50 * np.exp(np.cumsum(rng.normal(2e-4, 1.0, (len(index), assets)) * vols, axis=0))
    for k, ticker in enumerate(tickers):
        column = np.char.mod("%.6f", paths[:, k])
        lines = np.char.add(np.char.add(dates, ",,,,"), column)
        lines = np.char.add(np.char.add(np.char.add(lines, ","), column), ",")
        (folder / f"{ticker}.csv").write_text(
            "Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(lines) + "\n")
    buckets = np.array_split(np.array(tickers), 4)
    start = index[300].date()
    text = [f'description = "synthetic: {assets} random walks over {years} years"',
            'benchmark = "SPY"', 'cash = "BIL"', f"start = {start}", "",
            "[buckets.bills]", "rank = 0", 'description = "cash"', 'tickers = ["BIL"]', ""]
    for rank, members in enumerate(buckets, start=1):
        text += [f"[buckets.rank{rank}]", f"rank = {rank}",
                 f'description = "random walks of duration rank {rank}"',
                 "tickers = [" + ", ".join(f'"{t}"' for t in members) + "]", ""]
    universe = folder / "scale.toml"
    universe.write_text("\n".join(text))
    return universe


def run_once(assets: int, years: int, strategy: str = "equal_weight") -> dict:
    """One end-to-end run in a child process: wall seconds and its peak RSS (the largest of
    its process tree; call it in a fresh process, as ``table`` does, so the figure is its own)."""
    with tempfile.TemporaryDirectory(prefix="durationbt-scale-") as tmp:
        universe = write_market(Path(tmp) / "data", assets, years)
        command = [sys.executable, "-m", "durationbt", "run", strategy, "--universe",
                   str(universe), "--data", str(Path(tmp) / "data"), "--out",
                   str(Path(tmp) / "out")]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO / "src")})
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode:
            raise SystemExit(f"{assets} assets x {years} years failed:\n{done.stderr[-3000:]}")
    return {"assets": assets, "years": years, "seconds": seconds, "peak_mb": peak / 1024.0}


def exponent(small: dict, large: dict, key: str, floor: float) -> float:
    """Slope of log(time - floor) against log(size) between two cases."""
    return (math.log(max(large["seconds"] - floor, 1e-3) / max(small["seconds"] - floor, 1e-3))
            / math.log(large[key] / small[key]))


def table(assets: list[int], years: list[int]) -> list[dict]:
    rows = []
    for y in years:
        for a in assets:
            done = subprocess.run([sys.executable, __file__, "--one", f"{a},{y}"],
                                  capture_output=True, text=True, cwd=REPO)
            if done.returncode:
                raise SystemExit(done.stderr)
            rows.append(json.loads(done.stdout))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def report(rows: list[dict], assets: list[int], years: list[int]) -> None:
    by = {(r["assets"], r["years"]): r for r in rows}
    floor = by[(assets[0], years[0])]["seconds"]
    print(f"{'assets':>8}" + "".join(f"{f'{y} years s':>14}{'peak MB':>9}" for y in years))
    for a in assets:
        print(f"{a:>8,}" + "".join(f"{by[(a, y)]['seconds']:>14.1f}{by[(a, y)]['peak_mb']:>9,.0f}"
                                   for y in years))
    if len(assets) > 1:
        for y in years:
            e = exponent(by[(assets[-2], y)], by[(assets[-1], y)], "assets", floor)
            print(f"growth in assets ({assets[-2]:,} -> {assets[-1]:,}, {y} years): exponent {e:.2f}")
    if len(years) > 1:
        for a in assets[-1:]:
            e = exponent(by[(a, years[-2])], by[(a, years[-1])], "years", floor)
            print(f"growth in years ({years[-2]} -> {years[-1]}, {a:,} assets): exponent {e:.2f}")
    print(f"(exponents of the time beyond the smallest case's {floor:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", default="10,100,500,2000")
    parser.add_argument("--years", default="10,30")
    parser.add_argument("--one", help="ASSETS,YEARS: one case in this process (json)")
    args = parser.parse_args()
    if args.one:
        a, y = (int(x) for x in args.one.split(","))
        print(json.dumps(run_once(a, y)))
        return
    assets = [int(x) for x in args.assets.split(",")]
    years = [int(x) for x in args.years.split(",")]
    report(table(assets, years), assets, years)


if __name__ == "__main__":
    main()
