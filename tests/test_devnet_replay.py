"""Price replay: deterministic, anchored at the snapshot, regime phases present."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from wallet_app.devnet.replay import historical_paths, load_closes, synthetic_paths

START = {"BTC": Decimal("100000"), "ETH": Decimal("3500"), "DOGE": Decimal("0.18"),
         "USDC": Decimal("1")}


def test_synthetic_is_deterministic_and_anchored() -> None:
    a = synthetic_paths(START, days_before=300, days_after=100, seed=7)
    b = synthetic_paths(dict(reversed(list(START.items()))), days_before=300, days_after=100,
                        seed=7)
    assert a == b
    assert a.on(a.anchor_index) == START
    assert all(p == 1 for p in a.prices["USDC"])
    assert all(isinstance(p, Decimal) and p > 0 for s in a.prices.values() for p in s)
    c = synthetic_paths(START, days_before=300, days_after=100, seed=8)
    assert c.prices["BTC"] != a.prices["BTC"]


def test_synthetic_market_has_both_regimes() -> None:
    """Over three years the seeded market must rise and fall by >= 20% at least once each."""
    p = synthetic_paths(START, days_before=400, days_after=700, seed=100)
    m = p.market_series({"BTC": Decimal(2e12), "ETH": Decimal(4e11), "DOGE": Decimal(3e10)})
    peak, trough, max_dd, max_up = m[0], m[0], Decimal(0), Decimal(0)
    for v in m:
        peak, trough = max(peak, v), min(trough, v)
        max_dd = max(max_dd, 1 - v / peak)
        max_up = max(max_up, v / trough - 1)
    assert max_dd > Decimal("0.2") and max_up > Decimal("0.2")


def test_historical_uses_real_closes(shared_market) -> None:
    closes = load_closes(shared_market / "daily_ohlcv_2020-2025.csv")
    p = historical_paths(START | {"NOHIST": Decimal("2")}, closes, date(2022, 1, 1),
                         date(2022, 12, 31), date(2022, 6, 30))
    k = p.anchor_index
    assert p.on(k)["BTC"] == START["BTC"] and p.on(k)["NOHIST"] == Decimal("2")
    # The 2022 bear market: BTC fell by more than half from January to December.
    assert p.prices["BTC"][-1] < p.prices["BTC"][0] / 2
    # Returns follow the file: the ratio of two days equals the ratio of the closes.
    real = closes["BTC"]
    ratio = Decimal(repr(real[date(2022, 12, 31)] / real[date(2022, 6, 30)]))
    got = p.prices["BTC"][-1] / p.prices["BTC"][k]
    assert abs(got - ratio) < Decimal("1e-6")
