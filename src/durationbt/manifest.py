"""The typed manifests of results folders. Every command's manifest shares one header
(schema, command, creation time) and one provenance (package versions, git revision, the
data's source and fingerprint), so any folder says how it was made; ``runs`` writes and
reads them, and a hand-edited or truncated manifest is refused naming the field."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Provenance", "Manifest", "RunManifest", "RunMetrics", "SideMetrics",
           "TimingRecord", "CompareManifest", "CompareRow", "SweepSummary", "BookMetrics",
           "WalkForwardManifest", "UniverseRecord", "StrategyRecord", "RunSettingsRecord",
           "DataRecord", "SuspiciousRecord", "EngineRecord", "SignalRecord", "ThesisManifest"]


class _Record(BaseModel):
    # fields added by later versions are kept when an older folder is read and rewritten
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class GitRevision(_Record):
    revision: str
    dirty: bool


class DataProvenance(_Record):
    source: str
    fingerprint: str


class Provenance(_Record):
    """How a result was made: library versions, the checkout, the data read."""

    packages: dict[str, str] = Field(default_factory=dict)
    git: GitRevision | None = None
    data_provenance: DataProvenance | None = None


class Manifest(Provenance):
    """The header every command's manifest starts with."""

    schema_version: Literal[1] = Field(1, alias="schema")   # another: a newer durationbt's
    command: Literal["run", "compare", "sweep", "walkforward", "thesis"]
    created_utc: str

    def to_json(self) -> dict[str, Any]:
        """The manifest as written (``schema`` under its file name)."""
        return self.model_dump(by_alias=True, exclude_none=False)


class BucketRecord(_Record):
    name: str
    rank: int
    tickers: list[str]


class DefinitionRecord(_Record):
    """The universe as the run used it (what the pages draw buckets and labels from)."""

    benchmark: str
    buckets: list[BucketRecord]


class UniverseRecord(_Record):
    name: str
    path: str
    sha256: str | None = None
    definition: DefinitionRecord


class StrategyRecord(_Record):
    name: str
    source: str
    params: dict[str, Any] = Field(default_factory=dict)
    weights_by: str = "bucket"
    description: str = ""
    within_bucket: str = "equal"
    holds: bool = False


class RunSettingsRecord(_Record):
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _a_date(cls, value: str) -> str:
        dt.date.fromisoformat(value)        # kept as written; refused if not YYYY-MM-DD
        return value
    rebalance: str
    fees_bps: float
    slippage_bps: float
    init_cash: float
    risk_free: str = "0"
    cash: str = "zero"
    timing: str = "decide on close t, fill on close t+1"
    placebos: int | None = None     # re-timed schedules of the timing attribution (older: none)
    seed: int | None = None         # of its placebos and bootstrap
    fee_convention: str = "targets are fractions of pre-trade value; costs paid from cash"
    book: dict[str, Any] | None = None   # limits and carry (``durationbt.book``)


class SuspiciousRecord(_Record):
    """A suspicious move in the data a run read (``data.moves.Suspicious``): a spike from
    ``date`` to ``last``, a level shift from ``date`` on, or levels outside the series' own
    range; ``before`` is the value before ``date``, ``after`` the one on it."""

    ticker: str
    series: Literal["price", "level", "fred"]
    kind: Literal["spike", "shift", "range"]
    date: str
    last: str
    before: float | None = None
    after: float
    ratio: float | None = None
    hint: str = ""
    note: str


class DataRecord(_Record):
    source: str
    fingerprint: str | None = None
    gaps: list[str] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)
    delisted: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    suspicious: list[SuspiciousRecord] = Field(default_factory=list)


class SignalRecord(_Record):
    """The scarcity signal a run used: component weights, settings, and each component's
    last day with a value up to the run's end (null: none; absent in runs written before
    it was recorded), so a component that stopped is visible in the manifest."""

    components: dict[str, float] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    last_dates: dict[str, str | None] = Field(default_factory=dict)


class EngineRecord(_Record):
    orders: int
    decisions: int
    executed_rebalances: int
    costs_paid: float
    borrow_paid: float = 0.0
    financing_paid: float = 0.0


class RunManifest(Manifest):
    """``manifest.json`` of ``durationbt run``."""

    @model_validator(mode="before")
    @classmethod
    def _older_names(cls, data: Any) -> Any:
        """Folders written before the renames: a bucket's ``duration`` is its ``rank``, a
        strategy's ``spread`` its ``within_bucket``. Anything malformed is left for the
        validation to name."""
        if not isinstance(data, dict):
            return data
        universe, strategy = data.get("universe"), data.get("strategy")
        definition = universe.get("definition") if isinstance(universe, dict) else None
        buckets = definition.get("buckets") if isinstance(definition, dict) else None
        for bucket in buckets if isinstance(buckets, list) else []:
            if isinstance(bucket, dict) and "duration" in bucket and "rank" not in bucket:
                bucket["rank"] = bucket.pop("duration")
        if isinstance(strategy, dict) and "spread" in strategy and "within_bucket" not in strategy:
            strategy["within_bucket"] = strategy.pop("spread")
        return data

    command: Literal["run"] = "run"
    run_id: str
    universe: UniverseRecord
    strategy: StrategyRecord
    settings: RunSettingsRecord
    data: DataRecord
    signal: SignalRecord = Field(default_factory=SignalRecord)
    lookahead: dict[str, Any] = Field(default_factory=dict)
    engine: EngineRecord


class SideMetrics(_Record):
    """One side (strategy or benchmark) of ``metrics.json``; a metric that cannot be
    computed (too few days, no variance) is null."""

    start: str
    end: str
    days: int
    final_equity: float
    total_return: float
    cagr: float | None = None
    volatility: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    max_drawdown: float | None = None
    calmar: float | None = None
    turnover: float | None = None


class StaticMixRecord(_Record):
    sharpe: float | None
    cagr: float | None
    weights: dict[str, float | None]


class SharpeDifferenceRecord(_Record):
    estimate: float | None
    ci95: list[float | None] = Field(min_length=2, max_length=2)
    method: str
    p_value: float | None = None
    block_days: float | None = None


class PlaceboRecord(_Record):
    n: int
    p_value: float | None
    method: str
    block_days: float | None
    seed: int


class TimingRecord(_Record):
    """``metrics.json``'s ``timing`` (``inference.timing``): the run against its static mix
    and its re-timed placebos."""

    static_mix: StaticMixRecord
    sharpe_minus_static: SharpeDifferenceRecord
    placebo: PlaceboRecord | None
    verdict: str
    sharpe: float | None = None
    adds_value: bool = False
class BookMetrics(_Record):
    """``metrics.json``'s ``book``: limits and carry rates used, carry paid (currency),
    exposures (fractions of equity, the cash asset left out)."""

    allow_short: bool
    max_gross: float
    max_net: float
    borrow_bps: float
    financing_bps: float
    band: float = 0.0
    borrow_paid: float
    financing_paid: float
    average_long: float | None = None
    average_short: float | None = None
    average_gross: float | None = None
    average_net: float | None = None
    peak_gross: float | None = None
    peak_short: float | None = None


class RunMetrics(_Record):
    """``metrics.json`` of ``durationbt run``: what compare and the pages read back. Runs
    written before the timing attribution have neither ``timing`` nor ``timing_note``."""

    schema_version: int = Field(1, alias="schema")
    conventions: dict[str, Any] = Field(default_factory=dict)
    strategy: SideMetrics
    benchmark: SideMetrics
    portfolio_duration: dict[str, float | None] | None = None
    timing: TimingRecord | None = None
    timing_note: str | None = None     # why ``timing`` is null (buy-and-hold, constant weights)
    book: BookMetrics | None = None


class CompareUniverse(_Record):
    """A row's universe: its name and file, and a digest of what decides its assets."""

    name: str
    path: str
    sha256: str | None = None
    assets: str


class CompareRow(_Record):
    """What one leaderboard row was made on, whether compare ran it or read its folder."""

    source: str                     # the strategy's file, or the run folder read
    universe: CompareUniverse
    benchmark: str
    cash_asset: str | None
    start: str
    end: str
    rebalance: str
    fees_bps: float
    slippage_bps: float
    risk_free: str
    cash: str
    data_provenance: DataProvenance | None


class CompareManifest(Manifest):
    """``manifest.json`` of ``durationbt compare``. ``rows``: each row's own universe,
    period, benchmark, settings and data. The top-level universe, schedule, costs and
    conventions (and ``data_provenance``) are the ones every row shares; null when rows
    differ (``--allow-mixed``). ``start``/``end``: the span of all the curves."""

    command: Literal["compare"] = "compare"
    items: list[str]
    universe: str | None
    rebalance: str | None
    fees_bps: float | None
    slippage_bps: float | None
    start: str
    end: str
    risk_free: str | None
    cash: str | None
    allow_mixed: bool
    sources: dict[str, str]
    rows: dict[str, CompareRow]
    baseline: dict[str, Any] | None = None   # compare --baseline: baseline.BaselineSummary


class SweepSummary(Manifest):
    """``summary.json`` of ``durationbt sweep``: settings, best combination, statistics."""

    command: Literal["sweep"] = "sweep"
    strategy: str
    source: str
    metric: str
    grid: dict[str, list[Any]]
    n_combos: int
    n_trials: int
    best: dict[str, Any]
    best_metrics: dict[str, Any]
    stats: dict[str, Any]
    bootstrap: dict[str, list[Any]]
    timings: dict[str, Any]
    settings: dict[str, Any]


class WalkForwardManifest(Manifest):
    """``manifest.json`` of ``durationbt walkforward``."""

    command: Literal["walkforward"] = "walkforward"
    strategy: str
    grid: dict[str, list[Any]]
    train: str
    test: str
    metric: str
    universe: str
    rebalance: str
    fees_bps: float
    slippage_bps: float
    risk_free: str
    risk_free_ticker: str | None
    uninvested_weight: str
    start: str
    end: str
    data: str


class ThesisManifest(Manifest):
    """``manifest.json`` of ``durationbt thesis``: the universe (file, hash, its [thesis]
    table as scored), the data window, the split, the adjustment and the user series."""

    command: Literal["thesis"] = "thesis"
    universe: dict[str, Any]
    start: str
    end: str
    split: str | None = None
    adjustment: str
    claims: int
    fundamentals: str | None = None
    series: dict[str, str] = Field(default_factory=dict)
