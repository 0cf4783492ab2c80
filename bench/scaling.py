"""How `durationbt run` grows with the universe: synthetic random-walk universes of N assets
over Y years, each run end to end (`durationbt run equal_weight`, defaults: costs, tearsheet,
lookahead replay, run folder) in a fresh process, timed with its peak memory.

    .venv/bin/python bench/scaling.py [--assets 10,100,500,2000] [--years 10,30]

The market: the snapshot's rate, FRED and benchmark series (linked, never copied) beside N
seeded random walks written as Yahoo-shaped CSVs into a temporary folder, in five buckets
of rising duration rank with the snapshot's BIL as the cash asset. Each case runs cold
once and warm ``REPEATS`` times (the fastest kept: load from other work only ever slows a
run down). The growth exponent of assets (years) is the slope of log work beyond the
smallest case's, over log assets (years), between the two largest sizes; work is the CPU
seconds of the run's whole process tree (user + system, the plugin's child included),
which other work on the machine barely moves, where wall time beyond a few seconds of
floor swings with it (exponents from -0.9 to 3.7 between two loaded runs of wall times).
An exponent is only read where the work beyond the floor is well above the spread of a
case's repeated runs (``MEASURABLE`` times it): below that it is noise over noise (0.2 s
beyond a 9 s floor gave 5.4)."""

from __future__ import annotations

import argparse
import json
import math
import os
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


REPEATS = 3      # warm runs of each case
MEASURABLE = 3   # work beyond the floor, in spreads of repeated runs, for an exponent
MIN_SPREAD = 0.3  # CPU seconds: the least spread assumed (three runs can agree by chance)


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB of one command (CPU
    summed, peak the largest process of its tree: ``wait4`` reports the child's usage
    with its own waited-for children's)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=REPO, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            err.seek(0)
            raise SystemExit(f"{' '.join(command[3:6])} failed:\n{err.read().decode()[-3000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def run_once(assets: int, years: int, strategy: str = "equal_weight",
             repeats: int = REPEATS) -> dict:
    """End-to-end runs on a fresh market with a private cache: the first reads and
    validates every CSV (cold), the next ``repeats`` find them in the cache (warm: a user's
    next run with other parameters); the fastest warm wall and CPU times, the largest
    warm peak."""
    with tempfile.TemporaryDirectory(prefix="durationbt-scale-") as tmp:
        universe = write_market(Path(tmp) / "data", assets, years)
        command = [sys.executable, "-m", "durationbt", "run", strategy, "--universe",
                   str(universe), "--data", str(Path(tmp) / "data"), "--out",
                   str(Path(tmp) / "out")]
        env = {**os.environ, "PYTHONPATH": str(REPO / "src"),
               "DURATIONBT_CACHE": str(Path(tmp) / "cache")}
        cold, cold_cpu, cold_mb = _timed(command, env)
        warm = [_timed(command, env) for _ in range(repeats)]
    cpu = [w[1] for w in warm]
    return {"assets": assets, "years": years, "seconds": min(w[0] for w in warm),
            "cpu_seconds": min(cpu), "cpu_spread": max(cpu) - min(cpu),
            "peak_mb": max(w[2] for w in warm),
            "cold_seconds": cold, "cold_cpu_seconds": cold_cpu, "cold_peak_mb": cold_mb}


def exponent(small: dict, large: dict, key: str, floor: float,
             measure: str = "cpu_seconds") -> float:
    """Slope of log(measure - floor) against log(size) between two cases."""
    return (math.log(max(large[measure] - floor, 1e-3) / max(small[measure] - floor, 1e-3))
            / math.log(large[key] / small[key]))


def measurable(small: dict, large: dict, floor: dict) -> bool:
    """Whether the smaller case's work beyond the floor stands above the noise: ``MEASURABLE``
    times the largest spread of the three cases' repeated runs (at least ``MIN_SPREAD``)."""
    spread = max(MIN_SPREAD, *(c.get("cpu_spread", 0.0) for c in (small, large, floor)))
    return small["cpu_seconds"] - floor["cpu_seconds"] >= MEASURABLE * spread


def table(assets: list[int], years: list[int]) -> list[dict]:
    """Every (assets, years) case, each in a fresh process of this script."""
    rows = []
    for y in years:
        for a in assets:
            done = subprocess.run([sys.executable, __file__, "--one", f"{a},{y}"],
                                  capture_output=True, text=True, cwd=REPO)
            if done.returncode:
                raise SystemExit(done.stderr)
            rows.append(json.loads(done.stdout))
    return rows


def report(rows: list[dict], assets: list[int], years: list[int], *,
           goal_seconds: float = 20.0, goal_mb: float = 1536.0, goal_exponent: float = 1.1) -> None:
    """The table, the growth exponents and the verdict on the largest case."""
    by = {(r["assets"], r["years"]): r for r in rows}
    floor = by[(assets[0], years[0])]["cpu_seconds"]
    header = f"{'assets':>8}" + "".join(
        f"{f'{y} y warm s':>13}{'CPU s':>7}{'MB':>7}{'cold s':>9}{'MB':>7}" for y in years)
    print(header)
    print("-" * len(header))
    for a in assets:
        print(f"{a:>8,}" + "".join(
            f"{by[(a, y)]['seconds']:>13.1f}{by[(a, y)]['cpu_seconds']:>7.1f}"
            f"{by[(a, y)]['peak_mb']:>7,.0f}"
            f"{by[(a, y)]['cold_seconds']:>9.1f}{by[(a, y)]['cold_peak_mb']:>7,.0f}" for y in years))
    exponents = []
    smallest = by[(assets[0], years[0])]

    def growth(small: dict, large: dict, key: str, what: str) -> float | None:
        if not measurable(small, large, smallest):
            print(f"{what}: not measurable (the smaller case's work beyond the floor, "
                  f"{small['cpu_seconds'] - floor:.1f} s, is within the noise of repeated runs)")
            return None
        e = exponent(small, large, key, floor)
        exponents.append(e)
        print(f"{what}: exponent {e:.2f}")
        return e

    # the verdict needs the growth where the work is largest: in assets over the longest
    # span, in years at the most assets
    headline = []
    if len(assets) > 1:
        for y in years:
            headline.append(growth(by[(assets[-2], y)], by[(assets[-1], y)], "assets",
                                   f"growth in assets, {assets[-2]:,} -> {assets[-1]:,} over "
                                   f"{y} years"))
        headline = headline[-1:]
    if len(years) > 1:
        a = assets[-1]
        headline.append(growth(by[(a, years[-2])], by[(a, years[-1])], "years",
                               f"growth in years, {years[-2]} -> {years[-1]} at {a:,} assets"))
    print(f"(warm: the market data in the cache, as a second run finds them, fastest of "
          f"{REPEATS}; exponents of the warm CPU seconds of the run's processes beyond the "
          f"smallest case's {floor:.1f} s, the fixed cost of a command)")
    big = by[(assets[-1], years[-1])]
    meets = (big["seconds"] <= goal_seconds and big["peak_mb"] <= goal_mb
             and None not in headline and all(e <= goal_exponent for e in exponents))
    print(f"goal: {assets[-1]:,} assets x {years[-1]} years <= {goal_seconds:.0f} s and "
          f"<= {goal_mb:,.0f} MB, exponents <= {goal_exponent}: {'meets' if meets else 'MISSES'} "
          f"({big['seconds']:.1f} s, {big['peak_mb']:,.0f} MB; cold {big['cold_seconds']:.1f} s, "
          f"{big['cold_peak_mb']:,.0f} MB)")


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
