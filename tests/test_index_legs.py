"""Legs of the index's log entries, pure: oracle values with the vault's own integer
formula, slippage against the oracle, gas shared by the legs of a transaction, strike
settlements at the strike's NAV, and which rebalance transactions belong to a switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from wallet_app.index.legs import (
    BookEntry,
    TxCost,
    operator_run,
    strike_legs,
    swap_legs,
)

USDC = "0x00000000000000000000000000000000000000aa"
BTC = "0x00000000000000000000000000000000000000b1"
DOGE = "0x00000000000000000000000000000000000000d0"
BOOK = {BTC: BookEntry(BTC, "BTC", 8, 60_000 * 10**18),
        DOGE: BookEntry(DOGE, "DOGE", 18, 25 * 10**16)}  # 0.25 USD
COST = TxCost("0xt", 300_000, 300_000 * 2 * 10**9)  # 0.0006 ETH


def test_buy_and_sell_legs_by_hand() -> None:
    swaps = [
        # buy: 6,000 USDC in, 0.0995 BTC out (oracle value 5,970 USDC): 50 bp slippage
        {"tokenIn": USDC, "tokenOut": BTC, "amountIn": 6_000 * 10**6,
         "amountOut": 9_950_000, "minAmountOut": 9_900_000},
        # sell: 10,000 DOGE (oracle 2,500 USDC) for 2,487.5 USDC: 50 bp
        {"tokenIn": DOGE, "tokenOut": USDC, "amountIn": 10_000 * 10**18,
         "amountOut": 2_487_500_000, "minAmountOut": 2_475_000_000},
    ]
    legs, v_in, v_out = swap_legs(swaps, BOOK, USDC.upper(), COST)
    buy, sell = legs
    assert (buy.asset, buy.side, buy.amount_in, buy.asset_in, buy.amount_out,
            buy.asset_out) == ("BTC", "buy", D(6000), "USDC", D("0.0995"), "BTC")
    assert buy.oracle_price_usd == D(60000) and buy.min_out == D("0.099")
    assert (buy.oracle_value_in_usd, buy.oracle_value_out_usd) == (D(6000), D(5970))
    assert buy.slippage_bps == D("50.00")
    assert (sell.asset, sell.side, sell.amount_in, sell.amount_out) == (
        "DOGE", "sell", D(10000), D("2487.5"))
    assert (sell.oracle_value_in_usd, sell.oracle_value_out_usd) == (D(2500), D("2487.5"))
    assert sell.slippage_bps == D("50.00") and sell.min_out == D(2475)
    # The sums the vault's Rebalanced event must carry, in USDC base units.
    assert (v_in, v_out) == (8_500 * 10**6, 8_457_500_000)
    # One transaction, two legs: each carries half its fee.
    assert buy.gas_eth == sell.gas_eth == D("0.0003") and COST.fee_eth == D("0.0006")


def test_oracle_values_are_floored_like_the_vault() -> None:
    # 1 wei of DOGE-like dust at 0.25 USD: the vault's mulDiv floors to 0 USDC units.
    swaps = [{"tokenIn": DOGE, "tokenOut": USDC, "amountIn": 3 * 10**12 + 1,
              "amountOut": 0, "minAmountOut": 0}]
    legs, v_in, _ = swap_legs(swaps, BOOK, USDC, COST)
    assert v_in == 0 and legs[0].slippage_bps is None  # nothing to compare against


def test_unknown_token_keeps_the_amounts() -> None:
    other = "0x00000000000000000000000000000000000000ee"
    legs, v_in, v_out = swap_legs([{"tokenIn": other, "tokenOut": USDC, "amountIn": 5,
                                    "amountOut": 7, "minAmountOut": 1}], BOOK, USDC, COST)
    assert legs[0].asset == "?" and legs[0].oracle_price_usd is None
    assert (legs[0].amount_in, legs[0].amount_out) == (D(5), D(7)) and (v_in, v_out) == (0, 0)


def test_strike_legs_at_the_strike_nav() -> None:
    events = [
        ("BuySettled", {"id": 2, "assets": 1_000 * 10**6, "fee": 2_500_000,
                        "shares": 997_500 * 10**13}),  # 9.975 shares at NAV 100
        ("SellSettled", {"id": 3, "shares": 2 * 10**18, "fee": 500_000,
                         "usdcOut": 199_500_000}),
        ("RequestRefunded", {"id": 5, "amount": 10**18, "reason": 0}),
        ("Struck", {"totalAssets": 1_000_000 * 10**6, "totalSupply": 10_000 * 10**18}),
    ]
    buy, sell, refund = strike_legs(events, COST)
    assert buy.oracle_price_usd == D(100) and buy.fee_usdc == D("2.5")
    assert (buy.amount_in, buy.amount_out) == (D(1000), D("9.975"))
    assert (buy.oracle_value_in_usd, buy.oracle_value_out_usd) == (D("997.5"), D("997.5"))
    assert buy.slippage_bps == D("0.00")
    assert (sell.asset_in, sell.amount_in, sell.asset_out, sell.amount_out) == (
        "G100", D(2), "USDC", D("199.5"))
    assert sell.oracle_value_in_usd == D("199.5") and sell.slippage_bps == D("0.00")
    assert (refund.side, refund.asset_in, refund.amount_in) == ("refund", "G100", D(1))
    assert buy.gas_eth == COST.fee_eth / 3


@dataclass
class Row:
    block_number: int
    log_index: int
    kind: str
    tx_hash: str
    timestamp: datetime | None


T0 = datetime(2026, 3, 2, tzinfo=UTC)


def _at(s: int) -> datetime:
    return T0 + timedelta(seconds=s)


def test_operator_run_after_a_switch() -> None:
    rows = [Row(10, 0, "regime", "0xswitch", _at(0)),
            Row(11, 3, "rebalance", "0xa", _at(2)),
            Row(11, 9, "rebalance", "0xa", _at(2)),  # same transaction twice: once
            Row(13, 1, "rebalance", "0xb", _at(5)),
            Row(90, 1, "rebalance", "0xweekly", _at(5 + 121)),  # a pause: the run ended
            Row(95, 0, "rebalance", "0xc", _at(5 + 122))]
    assert operator_run(rows, (10, 0), _at(0)) == ["0xa", "0xb"]
    # A boundary ends it too (a target change, the next switch).
    rows2 = [rows[1], Row(12, 0, "weights", "0xw", _at(3)), rows[3]]
    assert operator_run(rows2, (10, 0), _at(0)) == ["0xa"]
    # Before a removal: the run that preceded it, oldest first (rows scanned newest first).
    before = [Row(20, 0, "rebalance", "0xy", _at(50)), Row(19, 0, "rebalance", "0xx", _at(40)),
              Row(5, 0, "rebalance", "0xold", _at(-500))]
    assert operator_run(before, (21, 0), _at(60), after=False) == ["0xx", "0xy"]
    assert operator_run([], (21, 0), _at(60)) == []
