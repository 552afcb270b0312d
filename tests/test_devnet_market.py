"""The devnet market in motion: replay ticks move feeds, pools, NAV and the regime, and the
operator acts by itself (regime switch at once, rebalance on Mondays)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from web3 import Web3

from wallet_app.devnet import process
from wallet_app.devnet.deploy import pool_price
from wallet_app.devnet.driver import MarketDriver
from wallet_app.devnet.embedded import Devnet, clock_path, ensure_devnet
from wallet_app.devnet.market_clock import MarketClock
from wallet_app.devnet.replay import load_closes
from wallet_app.models import Regime
from wallet_app.paths import AppPaths

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def _home(tmp_path_factory: pytest.TempPathFactory, name: str) -> AppPaths:
    home = tmp_path_factory.mktemp(name)
    return AppPaths(home / "data", home / "config", home / "logs").ensure()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppPaths, Devnet]]:
    paths = _home(tmp_path_factory, "market-synth")
    dev = ensure_devnet(paths, port=process.free_port())
    try:
        yield paths, dev
    finally:
        process.down(paths)


def test_second_up_reuses_the_devnet(synthetic: tuple[AppPaths, Devnet]) -> None:
    paths, dev = synthetic
    again = ensure_devnet(paths)
    assert not again.started and not again.deployed
    assert again.deployment.vault == dev.deployment.vault


def test_ticks_drive_prices_regime_and_operator(synthetic: tuple[AppPaths, Devnet]) -> None:
    """The seeded market (seed 65) is Bull at the start and flips to Bear within 30 days:
    the driver switches the vault to 100% USDC by itself and rebalances on Mondays."""
    paths, dev = synthetic
    driver = MarketDriver(paths, dev.node.rpc_url, dev.deployment)
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    start = driver.vault.snapshot()
    assert start.regime is Regime.BULL and start.live_holdings_value > 0
    before = MarketClock.load(clock_path(paths))
    assert before is not None
    reports = []
    for _ in range(30):
        reports.append(driver.tick())
        if reports[-1].flipped:
            break
    # Each tick closed exactly one market day, and the saved clock says so: its day moved
    # by the number of ticks, and the reports are those days, in order.
    clock = MarketClock.load(clock_path(paths))
    assert clock is not None and clock.day_index == before.day_index + len(reports)
    assert [r.day for r in reports] == [
        clock.paths().days[before.day_index + k].isoformat() for k in range(1, len(reports) + 1)]
    # Feeds follow the replay exactly; pools were arbitraged to it, then moved by the
    # vault's own sells in the switch (within the 1% slippage budget).
    btc = dev.deployment.token("BTC")
    want = clock.prices()["BTC"]
    feed = {c.symbol: Decimal(c.price18).scaleb(-18) for c in driver.vault.snapshot().constituents}
    assert abs(feed["BTC"] / want - 1) < Decimal("1e-8")
    assert abs(pool_price(w3, dev.deployment, "BTC") / want - 1) < Decimal("0.02")
    assert btc.initial_price_usd != want
    # Mondays were rebalanced; the flip switched the vault to cash at once.
    mondays = [r for r in reports if date.fromisoformat(r.day).weekday() == 0]
    assert mondays and all(r.rebalanced is not None for r in mondays if not r.flipped)
    flip = reports[-1]
    assert flip.flipped and flip.regime is Regime.BEAR
    assert flip.rebalanced is not None and flip.rebalanced.sells > 90
    end = driver.vault.snapshot()
    assert end.regime is Regime.BEAR and end.nav_fresh
    assert end.live_holdings_value * 1000 < end.cash  # under 0.1% left in tokens (dust)


def test_history_replay_follows_real_closes(tmp_path_factory: pytest.TempPathFactory,
                                            shared_market) -> None:
    csv = shared_market / "daily_ohlcv_2020-2025.csv"
    paths = _home(tmp_path_factory, "market-hist")
    dev = ensure_devnet(paths, port=process.free_port(), history_csv=csv)
    try:
        driver = MarketDriver(paths, dev.node.rpc_url, dev.deployment)
        w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
        p0 = dev.deployment.token("BTC").initial_price_usd  # the anchor day's price
        rep = driver.tick()
        assert rep.rebalanced is None  # 2021-02-25 is a Thursday: nothing traded after
        p1 = pool_price(w3, dev.deployment, "BTC")
        closes = load_closes(csv)["BTC"]
        d1 = date.fromisoformat(rep.day)
        d0 = date.fromordinal(d1.toordinal() - 1)
        real = Decimal(repr(closes[d1] / closes[d0]))
        assert abs((p1 / p0) / real - 1) < Decimal("0.001")
    finally:
        process.down(paths)


def test_service_starts_the_embedded_devnet(tmp_path_factory: pytest.TempPathFactory) -> None:
    """What the app does on a fresh machine: nothing runs, the service starts it all."""
    from wallet_app.config import Settings
    from wallet_app.facade import WalletService

    paths = _home(tmp_path_factory, "cold-start")
    svc = WalletService(paths, Settings())
    steps: list[str] = []
    try:
        status = svc.ensure_devnet(progress=steps.append)
        assert status.connected and status.is_devnet and status.chain_id == 31337
        assert any("Deploying" in s for s in steps)
        state = svc.index_state()
        assert len([h for h in state.holdings if h.token]) == 100
        assert state.gauge is not None and state.total_value_usd > 0
        assert svc.ensure_devnet().connected  # a second call reuses everything
    finally:
        svc.close()
        process.down(paths)
