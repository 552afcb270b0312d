"""Backtest on synthetic history (runs without ../shared)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from wallet_app.index import AssetDay, BacktestConfig, PriceDay, run_backtest
from wallet_app.index.schedule import is_rebalance_close
from wallet_app.models import Regime

START = date(2021, 1, 4)  # a Monday


def history(days: int, seed: int = 3) -> tuple[list[AssetDay], list[PriceDay]]:
    """Five assets plus USDT: a rally, a crash, a recovery."""
    rnd = random.Random(seed)
    supply = {"AAA": 1000, "BBB": 5000, "CCC": 800, "DDD": 3000, "EEE": 100, "USDT": 10**9}
    price = {"AAA": 100.0, "BBB": 10.0, "CCC": 50.0, "DDD": 20.0, "EEE": 300.0, "USDT": 1.0}
    caps, prices = [], []
    for i in range(days):
        d = START + timedelta(days=i)
        drift = 0.004 if i < 300 else (-0.006 if i < 420 else 0.005)
        for sym in supply:
            if sym != "USDT":
                price[sym] *= 1 + drift + rnd.gauss(0, 0.02)
            p = Decimal(repr(round(price[sym], 6)))
            caps.append(AssetDay(d, sym, p * supply[sym]))
            prices.append(PriceDay(d, sym, p, Decimal(10**8)))
    return caps, prices


def test_backtest_switches_and_accounts() -> None:
    caps, prices = history(600)
    res = run_backtest(caps, prices, BacktestConfig())
    assert res.start == START + timedelta(days=199)
    assert res.flips, "the crash must trigger a Bear switch"
    bear_days = [p for p in res.points if p.state is Regime.BEAR]
    assert bear_days and all(p.holdings == 0 and p.invested == 0 for p in bear_days[1:])
    navs = {p.nav for p in bear_days}
    assert len(navs) <= 2  # flat in USDC (the flip day itself may differ by its close)
    # Entry fee: 0.25% of 10,000 before the first trade; exit fee on the final NAV.
    assert res.points[0].nav == Decimal("9975.0")
    assert abs(res.final_value - res.final_nav * Decimal("0.9975")) < Decimal("1e-20")
    assert abs(res.fees_usdc - 25 - res.final_nav * Decimal("0.0025")) < Decimal("1e-20")
    assert res.rebalances >= 2 and res.turnover > 0
    assert 0 <= res.max_drawdown < 1 and res.volatility > 0


def test_backtest_weekly_rebalance_days_only() -> None:
    caps, prices = history(300)
    res = run_backtest(caps, prices, BacktestConfig(use_regime=False, trade_cost_bps=30))
    assert res.flips == () and res.use_regime is False
    # Holdings counts change only on the start day or a Sunday close.
    for a, b in zip(res.points, res.points[1:], strict=False):
        if a.holdings != b.holdings:
            assert is_rebalance_close(b.day)
    assert res.trade_costs_usdc > 0


def test_backtest_deterministic_and_order_independent() -> None:
    caps, prices = history(400)
    a = run_backtest(caps, prices)
    b = run_backtest(list(reversed(caps)), list(reversed(prices)))
    assert a.to_dict() == b.to_dict()


def test_backtest_without_prices_and_short_history() -> None:
    caps, _ = history(260)
    res = run_backtest(caps, None)
    assert res.price_source.startswith("market caps") and res.points
    short, _ = history(50)
    assert run_backtest(short, None).points == ()
    assert len(run_backtest(short, None, BacktestConfig(use_regime=False)).points) == 50
