"""Section 6 rebalance trade list: floors, Bear switch, funding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallet_app.index import IndexDataError, plan_rebalance
from wallet_app.index.rebalance import SKIP_DRIFT, SKIP_MIN_LEG, SKIP_UNFUNDED
from wallet_app.models import Regime

D = Decimal


def test_initial_buy_from_cash() -> None:
    plan = plan_rebalance({}, D(10_000), {"btc": 6_000, "eth": 4_000})
    assert [(leg.asset_id, leg.side, leg.usdc) for leg in plan.legs] == [
        ("btc", "buy", D(6_000)), ("eth", "buy", D(4_000))]
    assert plan.cash_after == 0


def test_drift_floor_and_leg_floor() -> None:
    # 1,000,000 portfolio: a 5 bp drift (500 USDC) is left alone; 15 bp traded.
    values = {"a": D(500_500), "b": D(249_750), "c": D(249_750)}
    plan = plan_rebalance(values, D(0), {"a": 5_000, "b": 2_500, "c": 2_500})
    assert plan.legs == ()
    assert {s.asset_id for s in plan.skipped} == {"a", "b", "c"}
    assert all(s.reason == SKIP_DRIFT for s in plan.skipped)
    values = {"a": D(501_500), "b": D(248_500), "c": D(250_000)}
    plan = plan_rebalance(values, D(0), {"a": 5_000, "b": 2_500, "c": 2_500})
    assert [(leg.asset_id, leg.side, leg.usdc) for leg in plan.legs] == [
        ("a", "sell", D(1_500)), ("b", "buy", D(1_500))]
    # A small portfolio: 20 bp of 3,000 USDC is 6 USDC, under the 10 USDC leg floor.
    plan = plan_rebalance({"a": D(1_506), "b": D(1_494)}, D(0), {"a": 5_000, "b": 5_000})
    assert plan.legs == ()
    assert [s.reason for s in plan.skipped] == [SKIP_MIN_LEG, SKIP_MIN_LEG]


def test_bear_sells_everything_even_small_weights() -> None:
    values = {"btc": D(50_000), "tiny": D(40), "dust": D(5)}
    plan = plan_rebalance(values, D(1_000), {"btc": 9_990, "tiny": 10}, Regime.BEAR)
    sells = {leg.asset_id: leg for leg in plan.sells}
    assert set(sells) == {"btc", "tiny"}  # tiny is < 10 bp of NAV but still sold
    assert all(leg.full_exit for leg in sells.values())
    assert sells["btc"].usdc == D(50_000) and sells["tiny"].usdc == D(40)
    assert [(s.asset_id, s.reason) for s in plan.skipped] == [("dust", SKIP_MIN_LEG)]
    assert plan.buys == ()


def test_bull_buys_back_small_weights() -> None:
    plan = plan_rebalance({}, D(100_000), {"btc": 9_995, "small": 5})
    assert {leg.asset_id: leg.usdc for leg in plan.buys} == {"btc": D(99_950), "small": D(50)}


def test_buys_scaled_down_when_a_sell_is_skipped() -> None:
    # 1,000,000 USDC: x is 9 bp over (its 900 USDC sell is under the drift floor), y is 14 bp
    # under (1,400 USDC to buy) and only 500 USDC of cash exists: the buy is scaled to 500.
    values = {"x": D(500_900), "y": D(498_600)}
    plan = plan_rebalance(values, D(500), {"x": 5_000, "y": 5_000})
    assert [(leg.asset_id, leg.side, leg.usdc) for leg in plan.legs] == [("y", "buy", D(500))]
    assert abs(plan.buy_scale - D(5) / D(14)) < D("1e-20")
    assert [(s.asset_id, s.reason) for s in plan.skipped] == [("x", SKIP_DRIFT)]
    assert plan.cash_after == 0
    # With almost no cash the scaled buy falls under 10 USDC and is dropped.
    values = {"x": D(500_995), "y": D(498_999)}  # x 9.95 bp over, y 10.01 bp under
    plan = plan_rebalance(values, D(6), {"x": 5_000, "y": 5_000})
    assert plan.legs == ()
    assert {s.reason for s in plan.skipped} == {SKIP_DRIFT, SKIP_UNFUNDED}


def test_amounts_with_prices_and_rounding_down() -> None:
    plan = plan_rebalance({}, D("1000.0000009"), {"a": 3_333, "b": 6_667},
                          prices={"a": D(3), "b": D(7)})
    assert all(leg.usdc == leg.usdc.quantize(D("0.000001")) for leg in plan.legs)
    assert plan.cash_after >= 0
    a = next(leg for leg in plan.legs if leg.asset_id == "a")
    assert a.amount == a.usdc / 3


def test_invalid_inputs() -> None:
    with pytest.raises(IndexDataError):
        plan_rebalance({"a": D(-1)}, D(0), {})
    with pytest.raises(IndexDataError):
        plan_rebalance({}, D(10), {"a": 6_000, "b": 5_000})


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 10**7), max_size=8),
       st.integers(0, 10**6), st.lists(st.integers(0, 100), min_size=8, max_size=8),
       st.booleans())
def test_plan_never_overspends(values: dict[str, int], cash: int, raw: list[int],
                               bear: bool) -> None:
    total = sum(raw) or 1
    targets = {k: r * 10_000 // total for k, r in zip("abcdefgh", raw, strict=True)}
    plan = plan_rebalance({k: D(v) for k, v in values.items()}, D(cash), targets,
                          Regime.BEAR if bear else Regime.BULL)
    assert plan.cash_after >= 0
    assert all(leg.usdc >= 10 for leg in plan.legs)
    for leg in plan.sells:
        assert leg.usdc <= values[leg.asset_id]
    if bear:
        assert plan.buys == ()
        assert {leg.asset_id for leg in plan.sells} == {k for k, v in values.items() if v >= 10}
