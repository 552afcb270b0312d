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
    """The table joins the NAV chart's own backtest to the vault's NAV by chain day; the
    figures that reach into the backtest say so, the ones after the vault's first day
    come from the vault alone."""
    from wallet_app.index.performance import daily_closes

    report = svc.performance()
    assert report is not None
    live = daily_closes(svc.nav_history())
    assert live, "the devnet's vault publishes NavUpdated events"
    assert report.live_start == live[0][0] and report.as_of == live[-1][0]
    names = [r.name for r in report.rows]
    assert names == ["TM Global 100", "BTC", "Top 100, always invested"]
    backtest = svc.index.nav_backtest()
    assert backtest is not None and report.source == backtest.label
    assert report.backtest_start is not None and report.backtest_start < report.live_start
    inc = report.index.period("Since inception")
    if len(live) > 1:
        assert inc.start == report.live_start and not inc.includes_backtest
        assert inc.value == live[-1][1] / live[0][1] - 1
    else:  # a vault younger than a day: no since-inception figure yet
        assert inc.value is None
    # The real data ends in Oct 2025; the chain runs on today's date: the gap is stated.
    assert report.backtest_end is not None and report.backtest_end < report.live_start
    # Benchmarks stop where the market data stops: no stale figure for periods after it.
    if (report.as_of - report.backtest_end).days > 40:
        assert report.rows[1].period("1M").value is None
    for r in report.index.returns:
        if r.value is not None:
            assert r.includes_backtest is (r.start is not None and r.start < report.live_start)
    assert report.index.stats_include_backtest
    strategy = svc.strategy()
    assert strategy.performance == report and strategy.regime is not None
    assert strategy.unavailable == ""
