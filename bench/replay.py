"""The lookahead replay as `run` pays it, on synthetic universes of N random walks over Y
years (bench/scaling.py's data): `equal_weight`'s process forked before the data load, the
context sent to it (shared memory), its weights, then the replay of every monthly decision
date; seconds and the plugin process's peak memory, each case in a fresh process.

    .venv/bin/python bench/replay.py [--cases 500x10,2000x10,2000x30] [--folders DIR ...]

``--folders``: data folders already written by ``scaling.write_market`` (each with its
``scale.toml``), measured as they are; otherwise each case is written into a temporary
folder. The growth exponent of assets (years) is the slope of log replay time over log
assets (decision dates) between the cases that differ in that alone."""

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

REPO = Path(__file__).resolve().parents[1]


def measure(folder: Path) -> dict:
    """One case in this process: the context's transfer and the replay, timed."""
    from durationbt.isolation import StrategyProcess
    from durationbt.session import RunSettings, Session

    session = Session(RunSettings(universe=folder / "scale.toml", data=folder))
    strategy = session.strategy("equal_weight")
    with StrategyProcess(strategy, session.settings.timeout) as plugin:   # before the data
        ctx = session.ctx
        began = time.perf_counter()
        plugin.weights(session.shared_ctx, session.lookahead, session.book(strategy))
        sent = time.perf_counter()
        report = plugin.check()
        done = time.perf_counter()
    if not report.ok:
        raise SystemExit(report.describe())
    return {"assets": len(ctx.universe.tickers) - 1, "days": len(ctx.prices),
            "decisions": len(ctx.rebalance_dates), "replays": report.calls,
            "weights_s": round(sent - began, 3), "replay_s": round(done - sent, 3),
            "child_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}


def case(folder: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", str(folder)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout)


def exponent(small: dict, large: dict, key: str) -> float:
    return math.log(large["replay_s"] / small["replay_s"]) / math.log(large[key] / small[key])


def report(rows: list[dict]) -> None:
    print(f"{'assets':>7}{'days':>7}{'decisions':>10}{'replays':>8}{'send+call s':>12}"
          f"{'replay s':>10}{'plugin peak MB':>15}")
    for r in rows:
        print(f"{r['assets']:>7,}{r['days']:>7,}{r['decisions']:>10}{r['replays']:>8}"
              f"{r['weights_s']:>12.2f}{r['replay_s']:>10.2f}{r['child_peak_mb']:>15,}")
    for a in rows:
        for b in rows:
            if b["assets"] > a["assets"] and abs(b["decisions"] - a["decisions"]) <= 3:
                print(f"growth in assets ({a['assets']:,} -> {b['assets']:,}): exponent "
                      f"{exponent(a, b, 'assets'):.2f}")
            if b["decisions"] > a["decisions"] + 3 and b["assets"] == a["assets"]:
                print(f"growth in years ({a['decisions']} -> {b['decisions']} decision dates, "
                      f"{a['assets']:,} assets): exponent {exponent(a, b, 'decisions'):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="500x10,2000x10,2000x30")
    parser.add_argument("--folders", nargs="*", type=Path)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    if args.folders:
        rows = [case(f) for f in args.folders]
    else:
        sys.path.insert(0, str(REPO / "bench"))
        from scaling import write_market

        rows = []
        for spec in args.cases.split(","):
            assets, years = (int(x) for x in spec.split("x"))
            with tempfile.TemporaryDirectory(prefix="durationbt-replay-") as tmp:
                write_market(Path(tmp), assets, years)
                rows.append(case(Path(tmp)))
    for row in rows:
        print(json.dumps(row), file=sys.stderr, flush=True)
    report(rows)


if __name__ == "__main__":
    main()
