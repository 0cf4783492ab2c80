"""`durationbt data update` extends a CSV folder from injected downloads (a yfinance-shaped
frame, recorded fredgraph responses): new final rows chained onto the file's basis, revisions
reported and never written, manifest and provenance updated, all or nothing. No network."""

import logging
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from durationbt.cli.app import app
from durationbt.data.fred import FredProvider
from durationbt.data.update import update_folder
from durationbt.errors import DataError

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = pd.Timestamp("2026-08-04")          # a Tuesday: rows up to Monday 2026-08-03 are final
HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
STORED = {"2026-07-27": 100.0, "2026-07-28": 101.0, "2026-07-29": 102.0, "2026-07-30": 103.0,
          "2026-07-31": 104.0}


def recorded_fred(url: str) -> bytes:
    return (FIXTURES / f"fredgraph_{url.rsplit('id=', 1)[1]}.csv").read_bytes()


def offline_fred(url: str) -> bytes:
    raise OSError("[Errno -3] Temporary failure in name resolution")


def yahoo_frame(ticker: str, adj: dict[str, float], close: dict[str, float]) -> pd.DataFrame:
    """A yfinance 1.x ``download(group_by="column")`` frame: (Price, Ticker) columns."""
    index = pd.DatetimeIndex(list(adj), name="Date")
    columns = pd.MultiIndex.from_product([["Adj Close", "Close", "Volume"], [ticker]],
                                         names=["Price", "Ticker"])
    values = [[adj[d], close[d], 1000.0] for d in adj]
    return pd.DataFrame(values, index=index, columns=columns)


def downloads(revise: bool = False):
    """Yahoo after a 1% dividend: every adjusted close before it is 0.99 x the stored one.
    New rows 2026-08-03 (final) and 2026-08-04 (today: intraday, must be ignored)."""
    adj = {d: v * 0.99 for d, v in STORED.items()}
    adj |= {"2026-08-03": 105.0 * 0.99, "2026-08-04": 107.0 * 0.99}
    if revise:
        adj["2026-07-29"] = 102.0 * 0.99 * 1.01        # a 1% correction of an old value
    close = {d: round(v / 0.99 + 0.5, 2) for d, v in adj.items()}
    calls = []

    def download(tickers, **kwargs):
        calls.append((tickers, kwargs))
        return yahoo_frame(tickers[0], adj, close)

    return download, calls


@pytest.fixture
def folder(tmp_path) -> Path:
    data = tmp_path / "data"
    (data / "fred").mkdir(parents=True)
    (data / "AAA.csv").write_text(HEADER + "".join(f"{d},,,,{v},{v},\n" for d, v in STORED.items()))
    dgs10 = (FIXTURES / "fredgraph_DGS10.csv").read_text().splitlines()[1:]
    kept = [line for line in dgs10 if line < "2026-07-29" and not line.endswith(",")]
    (data / "fred" / "DGS10.csv").write_text("Date,Value\n" + "\n".join(kept) + "\n")
    (data / "fred" / "WALCL.csv").write_text("Date,Value\n2026-07-15,6743028.0\n"
                                             "2026-07-22,6747378.0\n")
    (data / "manifest.csv").write_text(
        "ticker,file,first_date,last_date,rows,source\n"
        "AAA,AAA.csv,2026-07-27,2026-07-31,5,a repository snapshot\n"
        "DGS10,fred/DGS10.csv,2026-06-26,2026-07-28,22,another snapshot\n")
    (data / "PROVENANCE.md").write_text("# Provenance\n\nWhere each file came from.\n")
    return data


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_new_rows_are_chained_onto_the_files_basis(folder):
    download, calls = downloads()
    report = update_folder(folder, download=download, today=TODAY,
                           fred=FredProvider(folder / "cache", get=recorded_fred))
    assert calls[0][0] == ["AAA"] and calls[0][1]["start"] == "2026-07-01"
    assert calls[0][1]["auto_adjust"] is False
    assert report.complete
    lines = (folder / "AAA.csv").read_text().splitlines()
    assert lines[:6] == (HEADER + "".join(f"{d},,,,{v},{v},\n" for d, v in STORED.items())
                         ).splitlines()                       # old rows byte for byte
    assert len(lines) == 7                                    # 2026-08-04 is today: not final
    date, _, _, _, close, adj, volume = lines[6].split(",")
    # 104 stored / 102.96 downloaded on 07-31, times 103.95 downloaded = 105 on our basis
    assert date == "2026-08-03" and float(adj) == pytest.approx(105.0, rel=1e-12)
    assert close == "105.5" and volume == "1000"
    fred = (folder / "fred" / "DGS10.csv").read_text().splitlines()
    assert fred[-3:] == ["2026-07-29,4.57", "2026-07-30,4.55", "2026-07-31,4.52"]
    walcl = (folder / "fred" / "WALCL.csv").read_text().splitlines()
    assert walcl[-2:] == ["2026-07-22,6747378.0", "2026-07-29,6751902.0"]  # weekly, as published
    manifest = pd.read_csv(folder / "manifest.csv", dtype=str).set_index("ticker")
    assert manifest.loc["AAA", "last_date"] == "2026-08-03" and manifest.loc["AAA", "rows"] == "6"
    assert manifest.loc["DGS10", "rows"] == "25"
    assert manifest.loc["AAA", "source"] == ("a repository snapshot + yahoo rows to 2026-08-03 "
                                             "(durationbt data update 2026-08-04)")
    provenance = (folder / "PROVENANCE.md").read_text()
    assert provenance.startswith("# Provenance\n\nWhere each file came from.\n")
    assert "## durationbt data update, 2026-08-04" in provenance
    assert "- AAA.csv: +1 rows, 2026-07-31 -> 2026-08-03" in provenance
    assert not list(folder.rglob("*.update-tmp"))

    again = update_folder(folder, download=downloads()[0], today=TODAY,
                          fred=FredProvider(folder / "cache", get=recorded_fred))
    assert [f.status for f in again.files] == ["up to date"] * 3


def test_a_revised_history_is_reported_and_the_file_left_alone(folder):
    before = (folder / "AAA.csv").read_bytes()
    report = update_folder(folder, download=downloads(revise=True)[0], today=TODAY,
                           fred=FredProvider(folder / "cache", get=recorded_fred))
    aaa = next(f for f in report.files if f.file == "AAA.csv")
    assert not report.complete and aaa.added == 0
    assert [(str(r.date.date()), r.stored) for r in aaa.revisions] == [("2026-07-29", 102.0)]
    assert aaa.revisions[0].relative == pytest.approx(0.01, rel=1e-9)
    assert (folder / "AAA.csv").read_bytes() == before
    assert "- AAA.csv: left as it was: 1 value(s) revised" in (folder / "PROVENANCE.md").read_text()


def test_offline_changes_nothing_and_says_so(folder):
    before = _snapshot(folder)

    def offline_yahoo(tickers, **kwargs):
        logging.getLogger("yfinance").error("Failed to get ticker 'AAA' reason: Could not "
                                            "resolve host: query2.finance.yahoo.com")
        return pd.DataFrame()

    fred_calls = []

    def offline_fred_counted(url):
        fred_calls.append(url)
        return offline_fred(url)

    with pytest.raises(DataError, match="Could not reach Yahoo Finance or FRED") as info:
        update_folder(folder, download=offline_yahoo, today=TODAY,
                      fred=FredProvider(folder / "cache", get=offline_fred_counted,
                                        sleep=lambda s: None))
    assert "Could not resolve host" in str(info.value) and "nothing in" in str(info.value)
    assert len(fred_calls) == 3          # DGS10's three tries; WALCL not asked once offline
    assert _snapshot(folder) == before


def test_a_failed_write_leaves_the_folder_as_it_was(folder, monkeypatch):
    before = _snapshot(folder)
    real = Path.write_text

    def flaky(self, *args, **kwargs):
        if self.name == ".DGS10.csv.update-tmp":
            raise OSError("No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", flaky)
    with pytest.raises(DataError, match="No space left on device.*nothing was changed"):
        update_folder(folder, download=downloads()[0], today=TODAY,
                      fred=FredProvider(folder / "cache", get=recorded_fred))
    monkeypatch.undo()
    assert _snapshot(folder) == before


def test_cli_update_offline_is_one_short_refusal(folder):
    before = _snapshot(folder)
    result = CliRunner().invoke(app, ["data", "update", "--data", str(folder)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) <= 6 and "Traceback" not in result.output
    assert "Could not reach Yahoo Finance or FRED" in " ".join(result.output.split())
    assert _snapshot(folder) == before


def test_cli_update_reports_revisions_and_exits_1(folder, monkeypatch):
    import durationbt.data.fred as fred
    import durationbt.data.yahoo as yahoo

    monkeypatch.setattr(yahoo, "yf_download", downloads(revise=True)[0])
    monkeypatch.setattr(fred, "_urllib_get", recorded_fred)
    monkeypatch.setattr("durationbt.data.update._new_york_today", lambda: TODAY)
    monkeypatch.setenv("DURATIONBT_CACHE", str(folder.parent / "cache"))
    result = CliRunner().invoke(app, ["data", "update", "--data", str(folder)])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "revised: AAA.csv 2026-07-29: stored 102, now 103.02 (+1.00%)" in text
    assert "+3 rows" in text                                  # fred/DGS10.csv


def test_cli_update_needs_a_folder(monkeypatch):
    monkeypatch.delenv("DURATIONBT_DATA", raising=False)
    result = CliRunner().invoke(app, ["data", "update"])
    assert result.exit_code == 2 and "pass --data DIR" in result.output


@pytest.mark.integration
def test_update_a_copy_of_the_real_snapshot(snapshot, tmp_path):
    """SPY, WALCL, manifest.csv and PROVENANCE.md copied from the snapshot (never touched in
    place): Yahoo's last 30 days replayed as 0.995 x the file (a dividend since), plus
    Monday 2026-08-03; FRED's recorded WALCL adds Wednesday 2026-07-29."""
    import shutil

    folder = tmp_path / "market-data"
    (folder / "fred").mkdir(parents=True)
    for name in ("SPY.csv", "manifest.csv", "PROVENANCE.md", "fred/WALCL.csv"):
        shutil.copy(snapshot / name, folder / name)
    before = (folder / "SPY.csv").read_bytes()
    spy = pd.read_csv(folder / "SPY.csv", index_col="Date")["Adj Close"].loc["2026-07-01":]
    adj = {d: v * 0.995 for d, v in spy.items()} | {"2026-08-03": 750.0 * 0.995}
    calls = []

    def download(tickers, **kwargs):
        calls.append(kwargs["start"])
        return yahoo_frame("SPY", adj, {d: v / 0.995 for d, v in adj.items()})

    report = update_folder(folder, download=download, today=TODAY,
                           fred=FredProvider(tmp_path / "cache", get=recorded_fred))
    assert report.complete and calls == ["2026-07-01"]
    after = (folder / "SPY.csv").read_bytes()
    assert after.startswith(before)
    new = after[len(before):].decode().splitlines()
    assert len(new) == 1 and new[0].startswith("2026-08-03,,,,")
    assert float(new[0].split(",")[5]) == pytest.approx(750.0, rel=1e-12)
    assert (folder / "fred" / "WALCL.csv").read_text().endswith("2026-07-22,6747378.0\n"
                                                               "2026-07-29,6751902.0\n")
    manifest = pd.read_csv(folder / "manifest.csv", dtype=str).set_index("ticker")
    assert manifest.loc["SPY", ["last_date", "rows"]].tolist() == ["2026-08-03", "8434"]
    assert manifest.loc["WALCL", ["last_date", "rows"]].tolist() == ["2026-07-29", "1233"]
    old = (snapshot / "manifest.csv").read_text().splitlines()
    changed = [a for a, b in zip(old, (folder / "manifest.csv").read_text().splitlines(),
                                 strict=True) if a != b]
    assert [line.split(",")[0] for line in changed] == ["SPY", "WALCL"]   # the rest byte for byte
    assert (snapshot / "SPY.csv").read_bytes() == before
