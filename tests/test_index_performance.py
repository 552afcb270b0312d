"""Performance table (wallet_app.index.performance): periods, splice, labels, statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from wallet_app.index import BacktestConfig, read_asset_table, read_price_table, run_backtest
from wallet_app.index.performance import (
    daily_closes,
    max_drawdown,
    months_back,
    performance_report,
    splice,
)


def series(start: date, values: list[str | int]) -> list[tuple[date, Decimal]]:
    return [(start + timedelta(days=i), Decimal(v)) for i, v in enumerate(values)]


def test_months_back_clamps_to_month_end() -> None:
    assert months_back(date(2025, 3, 31), 1) == date(2025, 2, 28)
    assert months_back(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_back(date(2025, 1, 15), 3) == date(2024, 10, 15)
    assert months_back(date(2025, 5, 10), 12) == date(2024, 5, 10)


def test_daily_closes_keep_the_last_point_of_a_day() -> None:
    t = datetime(2025, 1, 1, 9, tzinfo=UTC)
    pts = [(t + timedelta(hours=5), Decimal(2)), (t, Decimal(1)),
           (t + timedelta(days=1), Decimal(3))]
    assert daily_closes(pts) == [(date(2025, 1, 1), Decimal(2)), (date(2025, 1, 2), Decimal(3))]


def test_periods_exact_and_trailing() -> None:
    # 400 days from 2024-01-01, value = 100 + day number: every start value is known.
    s = series(date(2024, 1, 1), [100 + i for i in range(400)])
    rep = performance_report(s, live_start=date(2024, 1, 1))
    assert rep is not None and rep.as_of == date(2025, 2, 3)
    idx = rep.index
    end = Decimal(499)
    # 1M back from 2025-02-03 is 2025-01-03 = day 368.
    assert idx.period("1M").start == date(2025, 1, 3)
    assert idx.period("1M").value == end / Decimal(468) - 1
    assert idx.period("YTD").start == date(2024, 12, 31)
    assert idx.period("YTD").value == end / Decimal(100 + 365) - 1
    assert idx.period("1Y").value == end / Decimal(100 + 399 - 366) - 1  # 2024 is a leap year
    inc = idx.period("Since inception")
    assert inc.value == end / 100 - 1 and inc.annualised is not None
    assert inc.annualised == pytest.approx(float(end / 100) ** (365 / 399) - 1)
    assert not any(r.includes_backtest for r in idx.returns)
    assert idx.max_drawdown == 0
    # A period longer than the history gives no figure, never a shorter window's.
    short = performance_report(series(date(2025, 1, 1), [1, 2, 3]))
    assert short is not None and short.index.period("1Y").value is None
    assert performance_report(series(date(2025, 1, 1), [1])) is None


def test_splice_rescales_the_backtest_and_labels_it() -> None:
    backtest = series(date(2025, 1, 1), [10, 20, 40, 30, 60])  # 2025-01-01 .. 05
    live = series(date(2025, 1, 4), ["1.5", "2.0", "2.5"])  # vault from 2025-01-04
    joined, live_start = splice(backtest, live)
    assert live_start == date(2025, 1, 4)
    # The backtest is scaled so that its 2025-01-04 value (30) meets the live 1.5.
    assert joined[:3] == series(date(2025, 1, 1), ["0.5", "1.0", "2.0"])
    assert joined[3:] == live
    rep = performance_report(joined, live_start=live_start)
    assert rep is not None and rep.backtest_start == date(2025, 1, 1)
    assert rep.inception == date(2025, 1, 4)
    inc = rep.index.period("Since inception")
    assert inc.value == Decimal("2.5") / Decimal("1.5") - 1 and not inc.includes_backtest
    # Drawdown over the whole history shown (2.0 -> 1.5 in the backtest part): labelled.
    assert rep.index.max_drawdown == Decimal("0.25") and rep.index.stats_include_backtest
    assert splice(backtest, []) == (backtest, None)


def test_no_live_history_is_all_backtest() -> None:
    rep = performance_report(series(date(2024, 1, 1), [100 + i for i in range(120)]),
                             benchmarks={"BTC": series(date(2024, 1, 1), [1] * 120)})
    assert rep is not None and rep.live_start is None
    assert all(r.includes_backtest for row in rep.rows for r in row.returns if r.value is not None)
    btc = rep.rows[1]
    assert btc.name == "BTC" and btc.period("1M").value == 0 and btc.volatility == 0.0


def test_max_drawdown() -> None:
    assert max_drawdown([Decimal(v) for v in (1, 2, 1, 3, "1.5", 4)]) == Decimal("0.5")
    assert max_drawdown([]) is None


def test_real_backtest_figures_match_the_engine(shared_market: Path) -> None:
    """On the real 2020-2025 data: the table's drawdown and volatility equal the backtest
    engine's own, and the benchmarks are computed over the same dates."""
    caps = read_asset_table(shared_market / "daily_market_caps_2020-2025.csv")
    prices = read_price_table(shared_market / "daily_ohlcv_2020-2025.csv")
    bt = run_backtest(caps, prices)
    flat = run_backtest(caps, prices, BacktestConfig(use_regime=False))
    btc = [(p.day, p.close) for p in prices if p.symbol == "BTC"]
    rep = performance_report([(p.day, p.nav) for p in bt.points], benchmarks={
        "BTC": btc, "Top 100, always invested": [(p.day, p.nav) for p in flat.points]})
    assert rep is not None
    tiny = Decimal("1e-24")  # the table works at 28 digits, the backtest at 40
    assert abs(rep.index.max_drawdown - bt.max_drawdown) < tiny
    assert rep.index.volatility == pytest.approx(bt.volatility, rel=1e-12)
    assert abs(rep.rows[2].max_drawdown - flat.max_drawdown) < tiny
    assert rep.rows[2].volatility == pytest.approx(flat.volatility, rel=1e-12)
    # The regime switch cut the drawdown (the point of the index).
    assert rep.index.max_drawdown < rep.rows[2].max_drawdown
    inc = rep.index.period("Since inception")
    assert inc.start == bt.start
    assert abs(inc.value - (bt.final_nav / bt.points[0].nav - 1)) < tiny
    # BTC over the same window: from the backtest's first day to its last.
    close = dict(btc)
    assert rep.rows[1].period("Since inception").value == \
        close[bt.end] / close[bt.start] - 1


def test_a_gap_or_a_finished_benchmark_gives_no_stale_figure() -> None:
    backtest = series(date(2024, 1, 1), [100 + i for i in range(300)])  # to 2024-10-26
    live = series(date(2025, 1, 1), ["1.0", "1.1", "1.2"] + ["1.3"] * 60)  # to 2025-03-04
    joined, live_start = splice(backtest, live)
    assert live_start == date(2025, 1, 1)
    rep = performance_report(joined, live_start=live_start,
                             benchmarks={"BTC": series(date(2024, 1, 1), [1] * 300)})
    assert rep is not None and rep.backtest_end == date(2024, 10, 26)
    assert rep.gap_days == 66
    idx = rep.index
    assert idx.period("1M").value == 0 and not idx.period("1M").includes_backtest
    assert idx.period("3M").value is None  # 2024-12-04 falls in the gap
    assert idx.period("YTD").value is None  # 2024-12-31: in the gap too
    assert idx.period("Since inception").value == Decimal("0.3")
    btc = rep.rows[1]
    assert all(r.value is None for r in btc.returns)  # its data ended in October
