"""The Index screen's data object: what the table and the tile are told (no chain needed)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from wallet_app.models import Regime
from wallet_app.services.index_view import change_since
from wallet_app.vault import ConstituentRaw, VaultSnapshot, to_index_state

ZERO = "0x" + "00" * 20


def _snapshot(regime: Regime, cash: int, held: int) -> VaultSnapshot:
    """A lens snapshot with two constituents whose stored targets are 60/40."""
    values: dict[str, object] = {}
    for f in dataclasses.fields(VaultSnapshot):
        values[f.name] = {"int": 0, "bool": False, "str": ZERO}.get(str(f.type))
    cons = tuple(
        ConstituentRaw(token="0x" + f"{i:040x}", symbol=sym, name=sym, decimals=18, feed=ZERO,
                       target_bps=bps, balance=10**18, price18=10**18, price_fresh=True,
                       value=held * bps // 10_000)
        for i, (sym, bps) in enumerate((("AAA", 6_000), ("BBB", 4_000)), start=1))
    values.update(
        chain_id=31337, block_number=1, timestamp=1_700_000_000, usdc_decimals=6,
        share_symbol="G100", share_price=10**6, cash=cash, live_holdings_value=held,
        holdings_value=held, regime=regime, requests=(), constituents=cons)
    return VaultSnapshot(**values)  # type: ignore[arg-type]


def test_bull_targets_are_the_vaults_weights() -> None:
    state = to_index_state(_snapshot(Regime.BULL, cash=0, held=1_000 * 10**6))
    assert {h.symbol: h.target_bps for h in state.holdings} == {"AAA": 6_000, "BBB": 4_000}


def test_bear_targets_everything_in_usdc() -> None:
    # Found at a person's pace on the demo: in Bear the table showed XRP's stored 11.74%
    # target beside USDC's 100%, targets summing to far over 100%.
    state = to_index_state(_snapshot(Regime.BEAR, cash=1_000 * 10**6, held=0))
    targets = {h.symbol: h.target_bps for h in state.holdings}
    assert targets == {"AAA": 0, "BBB": 0, "USDC": 10_000}
    assert sum(targets.values()) == 10_000


def test_change_since_uses_the_span_given() -> None:
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    points = [(now - timedelta(seconds=40), D("1.0")), (now - timedelta(seconds=10), D("1.1"))]
    # One demo market day of 30 s: the point 40 s back is the last one a day old.
    assert change_since(points, D("1.21"), now, timedelta(seconds=30)) == D("0.21")
    # A real day: the history is too short, no figure rather than a wrong one.
    assert change_since(points, D("1.21"), now, timedelta(days=1)) is None
