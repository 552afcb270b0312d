"""The wallet off the devnet: the regime gauge from the opt-in market feed, end to end.

A real Anvil with the index deployed (the module's devnet), whose chain id is then changed
to 424242, a chain the registry does not know: the wallet connects to it as a custom
network with an imported deployment record (as a user of a real chain does), so nothing of
the devnet's market replay is in reach. Market data comes from the local CoinGecko-format
server (``market_server.py``), which counts every request.

Checked: off by default, the wallet asks the API nothing (the server saw no request) and
says how to turn the feed on; on, the index screen's refresh starts the feed on its own
thread and returns at once, and then the gauge, the regime history and the benchmarks are
the engine's (``compute_regime``) on the very caps the server served; in the real window,
the gauge shows that score.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui.app import create_app  # noqa: E402
from ui.controller import Controller  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from wallet_app.config import Settings, save_settings  # noqa: E402
from wallet_app.devnet import process  # noqa: E402
from wallet_app.facade import WalletService  # noqa: E402
from wallet_app.market.feed import OFF_NOTE  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402

from .market_server import CoinGeckoServer  # noqa: E402
from .test_market_feed import expected, market_caps, snapshot  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring]

CHAIN_ID = 424242  # not in the chain registry: a plain custom network, not the devnet
PASSWORD = "orbit lantern velvet tundra 42"
WAIT = 60_000


def _rpc(url: str, method: str, *params: Any) -> Any:
    body = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                 "params": list(params)}, timeout=30).json()
    assert "error" not in body, body
    return body["result"]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(RPC URL, deployment record file) of the index on a chain with id 424242."""
    from wallet_app.devnet.embedded import ensure_devnet

    home = tmp_path_factory.mktemp("feed-chain")
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    dev = ensure_devnet(paths, port=process.free_port())
    try:
        _rpc(dev.node.rpc_url, "anvil_setChainId", CHAIN_ID)
        rec = json.loads((paths.data_dir / "deployments" / "31337.json").read_text())
        rec["chain_id"] = CHAIN_ID  # the same contracts (code hashes) on the other chain
        record = home / "record-424242.json"
        record.write_text(json.dumps(rec))
        yield dev.node.rpc_url, record
    finally:
        process.down(paths)


@pytest.fixture
def server() -> Iterator[CoinGeckoServer]:
    """Daily caps up to yesterday's close (the wall clock's: the feed's calendar)."""
    srv = CoinGeckoServer()
    caps = market_caps(datetime.now(UTC).date() - timedelta(days=1))
    srv.set_assets(snapshot(caps))
    srv.set_charts(caps)
    srv.caps = caps  # type: ignore[attr-defined]
    yield srv
    srv.server.shutdown()


def wallet(tmp_path: Path, chain: tuple[str, Path], server: CoinGeckoServer, *,
           on: bool | None) -> WalletService:
    """A fresh home on the custom chain, the record imported, the feed on, off, or (None)
    left at its default (the settings file says nothing about it)."""
    paths = AppPaths(tmp_path / "data", tmp_path / "config", tmp_path / "logs").ensure()
    settings = Settings(network="custom", rpc_url=chain[0], chain_id=CHAIN_ID,
                        coingecko_base_url=server.url, lock_timeout_minutes=30)
    if on is not None:
        settings.market_history = on
    save_settings(settings, paths)
    if on is None:  # the key absent from the file: the default applies
        text = paths.settings_file.read_text()
        paths.settings_file.write_text("\n".join(
            line for line in text.splitlines() if not line.startswith("market_history")))
    svc = WalletService(paths)
    svc.import_deployment(chain[1])
    svc.connect()
    assert not svc.is_devnet and svc.network_status().chain_id == CHAIN_ID
    return svc


@pytest.fixture
def svc_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    made: list[WalletService] = []

    def make(*a: Any, **kw: Any) -> WalletService:
        s = wallet(tmp_path / f"h{len(made)}", *a, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        for w in s.wallets():
            s.keys.delete(w.name, w.name)
        s.close()


def test_off_by_default_the_wallet_asks_the_api_nothing(
        chain: tuple[str, Path], server: CoinGeckoServer, svc_factory: Any) -> None:
    svc = svc_factory(chain, server, on=None)
    assert svc.session.settings.market_history is False
    state = svc.index_state()
    assert state.gauge is None and state.gauge_note == OFF_NOTE
    info = svc.strategy()
    assert info.regime is None and OFF_NOTE in info.unavailable
    assert info.market_note == OFF_NOTE
    assert svc.regime_history() is None
    assert svc.refresh_market_data().enabled is False
    time.sleep(0.5)  # a background refresh, had one started, would have asked by now
    assert server.hits == 0 and server.chart_hits == []


def test_on_the_gauge_history_and_benchmarks_are_the_engines(
        chain: tuple[str, Path], server: CoinGeckoServer, svc_factory: Any) -> None:
    svc = svc_factory(chain, server, on=True)
    today = datetime.now(UTC).date()
    want = expected(server.caps, today)  # type: ignore[attr-defined]
    assert want.latest is not None

    # The first index refresh starts the feed on its own thread and does not wait for it.
    t0 = time.monotonic()
    state = svc.index_state()
    feed = svc.index.feed()
    assert feed is not None and feed.refreshing or feed.status().last_close is not None
    assert state.gauge is None or state.gauge == want.latest.gauge
    feed.wait(120)
    assert time.monotonic() - t0 < 120
    status = svc.market_feed_status()
    assert status.error == "" and status.last_close == today - timedelta(days=1)

    state = svc.index_state()
    assert state.gauge == want.latest.gauge and state.gauge_note is None
    hist = svc.regime_history()
    assert hist is not None
    assert hist.days == tuple(p.day for p in want.points)
    assert hist.scores == tuple(p.score for p in want.points)
    assert hist.flips == want.flips and server.url in hist.source

    # The benchmarks come from the feed's closes (they reach the live days; the research
    # data beside the checkout ends in 2025).
    report = svc.performance()
    assert report is not None
    rows = {r.name: r for r in report.rows}
    assert {"BTC", "Top 100, always invested"} <= set(rows)
    m1 = rows["BTC"].period("1M")
    btc = dict(server.caps["bitcoin"])  # type: ignore[attr-defined]
    assert m1.start is not None and m1.value is not None
    last = max(d for d in btc if d <= report.as_of)
    assert m1.value == btc[last] / btc[m1.start] - 1

    # Later refreshes the same day ask nothing more.
    hits = server.hits
    svc.index_state()
    svc.strategy()
    assert server.hits == hits


@pytest.fixture
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def open_app(qtbot: Any, svc: WalletService) -> tuple[MainWindow, Controller]:
    svc.create_wallet(f"Feed-{secrets.token_hex(4)}", PASSWORD, words=12)[1].wipe()
    win = MainWindow()
    qtbot.addWidget(win)
    ctl = Controller(svc, win, auto_onboard=False, status_interval_ms=1_000)
    win.resize(1280, 800)
    win.show()
    ctl.start()
    qtbot.waitUntil(lambda: ctl.status is not None and ctl.status.connected, timeout=WAIT)
    return win, ctl


def test_gui_the_gauge_shows_on_a_custom_chain_when_enabled(
        qtbot: Any, _app: None, chain: tuple[str, Path], server: CoinGeckoServer,
        svc_factory: Any) -> None:
    svc = svc_factory(chain, server, on=True)
    want = expected(server.caps, datetime.now(UTC).date())  # type: ignore[attr-defined]
    assert want.latest is not None
    win, ctl = open_app(qtbot, svc)
    page = win.index_page
    # The window's own refreshes start the feed and, once it has read, show the needle.
    qtbot.waitUntil(lambda: page.gauge.score() is not None, timeout=WAIT)
    assert page.gauge.score() == want.latest.gauge.score
    assert page.gauge.band_text() == want.latest.gauge.band
    assert page.gauge_note.isHidden()
    # The Strategy dialog's regime history: the same engine's flips on the same data.
    from ui.dialogs.strategy_dialog import StrategyDialog

    page.strategy_button.click()
    qtbot.waitUntil(lambda: isinstance(ctl.dialog, StrategyDialog), timeout=WAIT)
    dlg = ctl.dialog
    assert [d for d, _t in dlg.regime_chart.flip_markers()] == [f.day for f in want.flips]
    assert want.flips and "market data is off" not in dlg.regime_note.text().lower()
    dlg.accept()


def test_gui_off_the_gauge_says_how_to_turn_it_on(
        qtbot: Any, _app: None, chain: tuple[str, Path], server: CoinGeckoServer,
        svc_factory: Any) -> None:
    svc = svc_factory(chain, server, on=False)
    win, ctl = open_app(qtbot, svc)
    page = win.index_page
    qtbot.waitUntil(lambda: ctl.state is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: page.gauge_note.isVisible(), timeout=WAIT)
    assert page.gauge.score() is None
    assert "Settings" in page.gauge_note.text() and "off" in page.gauge_note.text()
    # The Strategy dialog's regime tab says the same, and how to turn it on.
    from ui.dialogs.strategy_dialog import StrategyDialog

    page.strategy_button.click()
    qtbot.waitUntil(lambda: isinstance(ctl.dialog, StrategyDialog), timeout=WAIT)
    dlg = ctl.dialog
    assert OFF_NOTE in dlg.regime_note.text()
    dlg.accept()
    assert server.hits == 0


def test_gui_settings_page_turns_the_feed_on_and_keeps_the_url(qtbot: Any, _app: None) -> None:
    from ui.pages.settings_page import SettingsPage

    page = SettingsPage()
    qtbot.addWidget(page)
    page.show_settings(Settings())
    # Off by default, and the API fields are greyed out while nothing would use them.
    assert not page.history_check.isChecked() and not page.base_edit.isEnabled()
    assert page.edited_settings().market_history is False
    page.history_check.setChecked(True)
    assert page.base_edit.isEnabled() and page.key_edit.isEnabled()
    page.base_edit.setText(" http://127.0.0.1:9/api ")
    s = page.edited_settings()
    assert s.market_history is True and s.coingecko_base_url == "http://127.0.0.1:9/api"
    page.show_settings(s)
    assert page.history_check.isChecked() and page.base_edit.text() == s.coingecko_base_url
