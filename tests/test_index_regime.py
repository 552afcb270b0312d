"""Section 5 regime and gauge on synthetic series, and section 6 schedule."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from wallet_app.index import (
    AssetDay,
    IndexDataError,
    IndexRules,
    MarketPoint,
    compute_regime,
    gauge_band,
    gauge_score,
    load_market_series,
    make_gauge,
    next_rebalance,
    previous_rebalance,
    series_from_table,
    series_from_totals,
)
from wallet_app.index.schedule import close_time, is_rebalance_close, rebalance_times
from wallet_app.models import Gauge, Regime

D0 = date(2021, 1, 1)


def days(n: int) -> list[date]:
    return [D0 + timedelta(days=i) for i in range(n)]


def series(values: list[Decimal | int]) -> list[MarketPoint]:
    return [MarketPoint(d, Decimal(v)) for d, v in zip(days(len(values)), values, strict=True)]


@pytest.mark.parametrize("score,band", [
    (0, "Strong bear"), (Decimal("19.999"), "Strong bear"), (20, "Bear"), (39, "Bear"),
    (40, "Neutral"), (Decimal("59.99"), "Neutral"), (60, "Bull"), (80, "Strong bull"),
    (100, "Strong bull"),
])
def test_bands_boundary_belongs_to_higher(score: object, band: str) -> None:
    assert gauge_band(Decimal(score)) == band


def test_score_clamp_and_formula() -> None:
    assert gauge_score(Decimal(0)) == 50
    assert gauge_score(Decimal("0.04")) == 60
    assert gauge_score(Decimal("-0.12")) == 20
    assert gauge_score(Decimal("0.5")) == 100
    assert gauge_score(Decimal("-0.3")) == 0
    g = make_gauge(Decimal("0.08"), Regime.BULL)
    assert isinstance(g, Gauge) and g.score == 70 and g.band == "Bull"


def test_undefined_before_200_days() -> None:
    assert compute_regime(series([100] * 199)).points == ()
    r = compute_regime(series([100] * 200))
    assert len(r.points) == 1 and r.points[0].rho == 0 and r.points[0].state is Regime.BULL


def test_first_state_from_sign_then_hysteresis() -> None:
    rules = IndexRules(sma_days=5)
    # Flat at 100, then a drop: first defined day rho < 0 -> Bear.
    r = compute_regime(series([100, 100, 100, 100, 90]), rules)
    assert r.points[0].state is Regime.BEAR
    # Bear to Bull: two closes >= +5% are not enough (a close below breaks the run); three
    # in a row flip, on the third close. With a 5-day SMA the rhos are, close by close:
    # 90/98, 120/102, 120/106, 100/106, 130/112, 130/120, 140/124 (each minus 1).
    vals = [100, 100, 100, 100, 90, 120, 120, 100, 130, 130, 140]
    r = compute_regime(series(vals), rules)
    up = [p.rho >= Decimal("0.05") for p in r.points]
    assert up == [False, True, True, False, True, True, True]
    assert [p.state.value for p in r.points] == ["bear"] * 6 + ["bull"]
    assert [f.day for f in r.flips] == [r.points[6].day]
    assert r.flips[0].from_state is Regime.BEAR and r.flips[0].to_state is Regime.BULL
    # rho = 0 on the first defined day -> Bull (the sign rule, >= 0).
    assert compute_regime(series([100] * 5), rules).points[0].state is Regime.BULL
    # Down moves of >= 5% for 3 closes are needed to leave Bull.
    vals = [100] * 5 + [90, 90, 100, 80, 80, 80, 80]
    r = compute_regime(series(vals), rules)
    rhos = [p.rho for p in r.points]
    states = [p.state.value for p in r.points]
    first_three = next(i for i in range(2, len(rhos))
                       if all(x <= Decimal("-0.05") for x in rhos[i - 2:i + 1]))
    assert states[:first_three] == ["bull"] * first_three
    assert states[first_three] == "bear"
    assert [f.day for f in r.flips] == [r.points[first_three].day]
    assert r.flips[0].from_state is Regime.BULL and r.flips[0].to_state is Regime.BEAR


def test_exact_threshold_counts() -> None:
    # rho exactly -0.05 counts toward Bear (<=). With a 2-day SMA, M/S - 1 = 2b/(a+b) - 1.
    rules = IndexRules(sma_days=2, confirm_days=1)
    r = compute_regime(series([100, 100, 100, 105, 95]), rules)
    rhos = [p.rho for p in r.points]
    assert rhos[-1] == Decimal("-0.05")
    assert [p.state.value for p in r.points] == ["bull", "bull", "bull", "bear"]
    # ... and exactly +0.05 toward Bull (>=).
    r = compute_regime(series([100, 95, 105]), rules)
    assert r.points[0].rho < 0 and r.points[1].rho == Decimal("0.05")
    assert [p.state.value for p in r.points] == ["bear", "bull"]


def test_chain_linking_ignores_entries_and_exits() -> None:
    rows = []
    for i, d in enumerate(days(4)):
        rows.append(AssetDay(d, "AAA", Decimal(100 + i)))  # +1% per day roughly
        if i >= 2:
            rows.append(AssetDay(d, "NEW", Decimal(10_000)))  # a huge asset enters on day 2
    s = series_from_table(rows)
    # Day 2: NEW is not on day 1, so only AAA links (102/101); a plain sum would jump 100x.
    # Day 3: both are on days 2 and 3: (103 + 10000) / (102 + 10000).
    assert [p.value for p in s[:3]] == [100, 101, 102]
    assert abs(Fraction(s[3].value) - Fraction(102 * 10_103, 10_102)) < Fraction(1, 10**30)
    # Exits are just as harmless.
    rows2 = [r for r in rows if not (r.symbol == "AAA" and r.day == days(4)[3])]
    s2 = series_from_table(rows2)
    assert s2[3].value == s2[2].value  # only NEW left, flat


def test_chain_linking_drops_denied_symbols_and_is_order_independent() -> None:
    rows = [AssetDay(d, sym, Decimal(v)) for d in days(3)
            for sym, v in (("BTC", 500), ("USDT", 10**6), ("ETH", 100))]
    rows.append(AssetDay(days(3)[2], "ETH", Decimal(100)))  # duplicate ticker row: summed
    s = series_from_table(rows)
    assert s[0].value == 600
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    assert series_from_table(shuffled) == s


def test_total_series_and_table_csv(tmp_path: Path) -> None:
    total = tmp_path / "total.csv"
    total.write_text("date,market_cap\n2021-01-02,110\n2021-01-01,100\n")
    assert [p.value for p in load_market_series(total)] == [100, 110]
    table = tmp_path / "table.csv"
    table.write_text("date,base,market_cap,symbol\n2021-01-01,BTC,100,BTC\n"
                     "2021-01-01,USDT,999,USDT\n2021-01-02,BTC,,BTC\n2021-01-02,ETH,5,ETH\n"
                     "2021-01-03,BTC,120,BTC\n2021-01-03,ETH,6,ETH\n")
    pts = load_market_series(table)
    assert [p.value for p in pts] == [100, 100, Decimal(100) * 6 / 5]
    bad = tmp_path / "bad.csv"
    bad.write_text("date,market_cap\n2021-01-01,abc\n")
    with pytest.raises(IndexDataError, match="line 2"):
        load_market_series(bad)
    dup = tmp_path / "dup.csv"
    dup.write_text("date,market_cap\n2021-01-01,1\n2021-01-01,2\n")
    with pytest.raises(IndexDataError, match="twice"):
        load_market_series(dup)
    nohdr = tmp_path / "x.csv"
    nohdr.write_text("day,value\n")
    with pytest.raises(IndexDataError, match="market_cap"):
        load_market_series(nohdr)


def test_regime_deterministic_and_sorted_input() -> None:
    rnd = random.Random(7)
    vals = [Decimal(10**12)]
    for _ in range(600):
        vals.append((vals[-1] * Decimal(1 + rnd.gauss(0, 0.03))).quantize(Decimal(1)))
    pts = series(vals)
    a = compute_regime(pts)
    b = compute_regime(series_from_totals([(p.day, p.value) for p in reversed(pts)]))
    assert a.to_dict() == b.to_dict()
    # Flips alternate and each is a real change of state.
    for f1, f2 in zip(a.flips, a.flips[1:], strict=False):
        assert f1.to_state is f2.from_state and f1.to_state is not f2.to_state


# --- schedule -----------------------------------------------------------------------------

def test_next_and_previous_rebalance() -> None:
    wed = datetime(2025, 1, 15, 13, 30, tzinfo=UTC)  # a Wednesday
    assert previous_rebalance(wed) == datetime(2025, 1, 13, tzinfo=UTC)
    assert next_rebalance(wed) == datetime(2025, 1, 20, tzinfo=UTC)
    monday = datetime(2025, 1, 20, tzinfo=UTC)
    assert previous_rebalance(monday) == monday
    assert next_rebalance(monday) == datetime(2025, 1, 27, tzinfo=UTC)
    # Other time zones are converted: Sunday 20:00 in New York is Monday 01:00 UTC.
    ny = datetime(2025, 1, 19, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert previous_rebalance(ny) == monday
    with pytest.raises(ValueError, match="timezone"):
        next_rebalance(datetime(2025, 1, 1))


def test_rebalance_times_and_closes() -> None:
    ts = rebalance_times(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    assert [t.day for t in ts] == [6, 13, 20, 27]
    assert all(t.weekday() == 0 and t.hour == 0 for t in ts)
    assert close_time(date(2025, 1, 19)) == datetime(2025, 1, 20, tzinfo=UTC)
    assert is_rebalance_close(date(2025, 1, 19))  # Sunday's close
    assert not is_rebalance_close(date(2025, 1, 20))
