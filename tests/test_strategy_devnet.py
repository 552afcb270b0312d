"""The Strategy dialog's data on the devnet: regime history from the gauge's own source,
performance from the vault's NavUpdated events with the backtest before its first day."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wallet_app.config import Settings
from wallet_app.devnet import process
from wallet_app.devnet.embedded import clock_path, ensure_devnet
from wallet_app.devnet.market_clock import MarketClock
from wallet_app.facade import WalletService
from wallet_app.paths import AppPaths

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletService]:
    home = tmp_path_factory.mktemp("strategy-devnet")
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    ensure_devnet(paths, port=process.free_port())
    s = WalletService(paths, Settings())
    try:
        s.connect()
        yield s
    finally:
        s.close()
        process.down(paths)


def test_regime_history_is_the_gauges(svc: WalletService) -> None:
    state = svc.index_state()
    history = svc.regime_history()
    assert history is not None and state.gauge is not None
    clock = MarketClock.load(clock_path(svc.session.paths))
    assert clock is not None
    engine = clock.regime()
    # Same engine, same data: the chart's last score is the gauge's, its flips the engine's.
    assert history.days[-1] == clock.today
    assert history.scores[-1] == state.gauge.score
    assert history.states[-1] is state.gauge.state
    assert history.flips == engine.flips
    assert [b[2] for b in history.bands] == ["Strong bear", "Bear", "Neutral", "Bull",
                                             "Strong bull"]


def test_performance_from_the_vault_and_the_backtest(svc: WalletService) -> None:
    svc.advance_market(3)
    svc.index_state()  # a fresh block timestamp for the chain-day mapping
    report = svc.performance()
    assert report is not None
    clock = MarketClock.load(clock_path(svc.session.paths))
    assert clock is not None and report.as_of == clock.today
    names = [r.name for r in report.rows]
    assert names == ["TM Global 100", "BTC", "Top 100, always invested"]
    nav = svc.nav_history()
    assert nav, "the devnet's vault publishes NavUpdated events"
    # The vault's history starts at its first NAV event; everything before is backtest.
    assert report.live_start is not None and report.live_start <= report.as_of
    assert report.backtest_start is not None and report.backtest_start < report.live_start
    inc = report.index.period("Since inception")
    assert inc.start is not None and inc.start >= report.live_start
    assert not inc.includes_backtest
    # The backtest covers ~7 months before the vault (the 200-day signal needs a run-up):
    # 3M reaches into it, 1Y is longer than the history and has no figure.
    assert report.index.period("3M").includes_backtest
    assert report.index.period("1Y").value is None
    strategy = svc.strategy()
    assert strategy.performance == report and strategy.regime is not None
    assert strategy.unavailable == ""
