import json
import math

import numpy as np
import pandas as pd
import pytest

from durationbt.metrics import turnover
from durationbt.scoring import METRIC_KEYS, performance_metrics, score_run


@pytest.fixture
def equity():
    rng = np.random.default_rng(42)
    index = pd.bdate_range("2020-01-01", periods=505)
    returns = rng.normal(4e-4, 0.01, len(index))
    returns[0] = 0.0
    return pd.Series(1_000_000 * np.cumprod(1 + returns), index=index)


def test_metrics_identities(equity):
    traded = pd.Series(0.0, index=equity.index)
    m = performance_metrics(equity, traded)
    r = equity.pct_change().iloc[1:]
    assert tuple(m) == METRIC_KEYS
    assert m["total_return"] == pytest.approx(equity.iloc[-1] / equity.iloc[0] - 1, rel=1e-10)
    assert m["sharpe"] == pytest.approx(r.mean() / r.std() * math.sqrt(252), rel=1e-9)
    assert m["volatility"] == pytest.approx(r.std() * math.sqrt(252), rel=1e-9)
    assert m["cagr"] == pytest.approx((1 + m["total_return"]) ** (252 / len(r)) - 1, rel=1e-9)
    drawdown = (equity / equity.cummax() - 1).min()
    assert m["max_drawdown"] == pytest.approx(drawdown, rel=1e-9)
    assert m["calmar"] == pytest.approx(m["cagr"] / abs(m["max_drawdown"]), rel=1e-9)
    assert m["days"] == 504 and m["start"] == "2020-01-01"


def test_turnover_hand_computed():
    index = pd.bdate_range("2020-01-01", periods=253)       # exactly one year of returns
    equity = pd.Series(100.0, index=index)
    traded = pd.Series(0.0, index=index)
    traded.iloc[1] = 100.0        # initial purchase
    traded.iloc[100] = 60.0       # sell 30, buy 30
    assert turnover(traded.sum(), equity.mean(), len(equity) - 1) == pytest.approx((160 / 2) / 100)


def test_metrics_json_is_stable_and_json_safe(equity):
    traded = pd.Series(0.0, index=equity.index)
    flat = pd.Series(1_000_000.0, index=equity.index)
    a = score_run(equity, traded, flat, traded)
    b = score_run(equity.copy(), traded.copy(), flat.copy(), traded.copy())
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a["schema"] == 1 and set(a) == {"schema", "conventions", "strategy", "benchmark"}
    assert a["benchmark"]["sharpe"] is None          # zero volatility: undefined, not NaN
    json.dumps(a, allow_nan=False)
