"""The devnet on real time: chain time follows the wall clock while the demo market moves
(no block-time warps), a quote survives market days, every screen shows the same time for
a trade, and the NAV chart ends at the current NAV with its backtest labelled."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3

from wallet_app.devnet.driver import MarketDriver
from wallet_app.devnet.embedded import Devnet, clock_path
from wallet_app.devnet.market_clock import MarketClock
from wallet_app.paths import AppPaths

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "quartz meadow lantern 77"


@pytest.fixture
def svc(devnet: tuple[AppPaths, Devnet]) -> Iterator[object]:
    """A wallet service on the module's devnet with a funded, unlocked imported key."""
    from wallet_app.config import Settings
    from wallet_app.devnet.deploy import fund
    from wallet_app.facade import WalletService

    paths, dev = devnet
    service = WalletService(paths, Settings(network="devnet"))
    service.import_private_key(f"rt{secrets.token_hex(3)}", "0x" + secrets.token_hex(32),
                               PASSWORD)
    fund(Web3(Web3.HTTPProvider(dev.node.rpc_url)), dev.deployment,
         service.active_address(), Decimal(1), Decimal(5000))
    service.connect()
    try:
        yield service
    finally:
        service.close()


def chain_minus_wall(dev: Devnet) -> float:
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    return w3.eth.get_block("latest")["timestamp"] - time.time()


def test_no_block_time_warps_in_the_app() -> None:
    """The core never moves the chain's clock (only a test may, and none of these)."""
    warp = re.compile(r"evm_increaseTime|evm_setNextBlockTimestamp|anvil_setTime")
    hits = [str(p.relative_to(ROOT)) for p in (ROOT / "wallet_app").rglob("*.py")
            if warp.search(p.read_text())]
    assert hits == []


def test_market_days_pass_on_real_time(devnet: tuple[AppPaths, Devnet]) -> None:
    """Market days and price steps pass; the chain's clock stays on the wall clock, the
    market calendar moves and the keeper leaves a fresh NAV alone."""
    paths, dev = devnet
    driver = MarketDriver(paths, dev.node.rpc_url, dev.deployment)
    driver.set_speed(30, 3)
    before = MarketClock.load(clock_path(paths))
    assert before is not None
    reports = [driver.tick() for _ in range(3)]
    steps = [driver.step() for _ in range(2)]
    after = MarketClock.load(clock_path(paths))
    assert after is not None
    assert after.day_index == before.day_index + 3 and after.step == 2
    assert [r.day_index for r in reports] == [before.day_index + i for i in (1, 2, 3)]
    assert steps == [None, None]  # two steps into the day: no close yet
    # Three market days later the chain is still at the wall clock: never ahead of it (a
    # warp would be), behind only by the age of the last block (seconds under load).
    assert -60 < chain_minus_wall(dev) < 3
    # Mid-day prices lie between the two closes (2/3 of the way).
    live, a, b = after.live_prices(), after.prices(), after.prices(after.day_index + 1)
    assert live["BTC"] == (a["BTC"] + (b["BTC"] - a["BTC"]) * Decimal(2) / 3).normalize()
    assert driver.keep_nav_fresh() is False  # every step refreshed it: nothing to do
    # The next market-calendar Monday is stated in real time, within a market week.
    now = int(time.time())
    monday = after.next_market_monday(now)
    assert monday is not None and now < monday <= now + 7 * 30 + 5


def test_quote_survives_market_days(svc) -> None:  # noqa: ANN001
    """Quoted, then three market days pass before the confirm: the deadline (20 minutes of
    chain time) still holds, so the buy goes through (slippage wide enough for 3 days)."""
    quote = svc.quote_buy(Decimal(500), slippage_bps=1000)
    svc.advance_market(3)
    result = svc.buy(quote)
    assert result.status.value == "confirmed" and result.shares > 0


def test_trade_time_agrees_across_screens(svc) -> None:  # noqa: ANN001
    """The same trade, on My Indices (my trades) and the index's log: the same moment,
    the block's own timestamp, which is (about) now."""
    from ui import formatting as fmt

    quote = svc.quote_buy(Decimal(300))
    result = svc.buy(quote)
    assert result.state == "settled"
    # v2: the trade is the settlement at the keeper's strike (its own transaction); my
    # trades list it under the user's request transaction, the log names the request id.
    mine = {r.tx_hash: r.timestamp for r in svc.my_trades()}
    log = {e.summary.split(":")[0]: e.timestamp for e in svc.index_events()
           if e.kind == "buy"}
    key = f"Buy settled #{result.request_id}"
    assert result.tx_hash in mine and key in log
    a, b = mine[result.tx_hash], log[key]
    assert a == b
    assert fmt.format_timestamp(a) == fmt.format_timestamp(b)
    assert abs((a - datetime.now(UTC)).total_seconds()) < 60


def test_nav_history_ends_at_the_current_nav(svc, devnet) -> None:  # noqa: ANN001
    """The chart's series: NavUpdated points in chain time, then the live NAV; and the
    backtest that precedes it joins the vault's first NAV and says it is a backtest."""
    svc.advance_market(2)
    state = svc.index_state()
    history = svc.nav_history()
    assert len(history) >= 3
    assert history[-1][1] == state.nav_per_share
    assert history[-1][0] == state.as_of
    assert all(a[0] <= b[0] for a, b in zip(history, history[1:], strict=False))
    assert abs((history[-1][0] - datetime.now(UTC)).total_seconds()) < 60
    bt = svc.nav_backtest()
    assert bt is not None and bt.label.startswith("Backtest")
    assert bt.points[-1][1] == history[0][1]  # scaled to join the vault's first NAV
    assert bt.points[-1][0] < history[0][0]
    assert len(bt.points) > 300


def test_demo_speed_and_next_rebalance_in_real_time(svc, devnet) -> None:  # noqa: ANN001
    paths, dev = devnet
    driver = MarketDriver(paths, dev.node.rpc_url, dev.deployment)
    driver.set_speed(20, 4)
    try:
        state = svc.index_state()
        assert state.demo_speed == "demo speed: 1 market day every 20 s"
        assert state.next_rebalance is not None
        ahead = (state.next_rebalance - state.as_of).total_seconds()
        assert 0 < ahead <= 7 * 20 + 5
    finally:
        driver.set_speed(0)
    assert svc.index_state().demo_speed is None
