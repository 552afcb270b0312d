"""End to end: the real WalletService, a real Anvil devnet, the real OS keyring, the GUI.

Everything a user does is done by clicks and typing on the real widgets: onboarding
(create a wallet, read the phrase off the screen, pass the backup check), test funds,
buy, My Indices, sell, lock and unlock. The failure states are produced for real, not
mocked: a price move between the quote and the confirmation (slippage revert), an
address without ETH (insufficient funds for gas) and more USDC than held, the RPC going
away (a TCP relay in front of Anvil that the test switches off), and a node of another
chain behind the same URL (wrong network).

Needs Anvil (the npm package), compiled contracts and a Secret Service keyring; run as
the README says (dbus-run-session + gnome-keyring-daemon). Skips when the devnet cannot
start here.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import contextlib
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.gui_support import (  # noqa: E402
    LEFT,
    WAIT,
    click,
    close_app,
    home_for,
    open_app,
    type_into,
    wait_done,
    wait_quote,
)
from ui.app import create_app  # noqa: E402
from ui.controller import Controller  # noqa: E402
from ui.dialogs.buy_dialog import BuyDialog  # noqa: E402
from ui.dialogs.onboarding import OnboardingDialog  # noqa: E402
from ui.dialogs.sell_dialog import SellDialog  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from wallet_app.errors import WalletError  # noqa: E402
from wallet_app.models import TxStatus  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "orbit lantern velvet tundra 42"


# -- a switchable TCP relay: "the RPC went away" for real ----------------------------------

class Relay:
    """Forwards a local port to a target port; :meth:`down` closes it like a dead RPC."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(16)
        self._server = srv
        threading.Thread(target=self._accept, args=(srv,), daemon=True).start()

    def down(self) -> None:
        srv, self._server = self._server, None
        if srv is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not,
            # and the kernel would keep accepting on the old socket.
            with contextlib.suppress(OSError):
                srv.shutdown(socket.SHUT_RDWR)
            srv.close()
        self._drop_connections()

    def retarget(self, port: int) -> None:
        self.target_port = port
        self._drop_connections()

    def _drop_connections(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, set()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                client, _ = srv.accept()
            except OSError:
                return
            if self._server is not srv:
                client.close()
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), 5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()


# -- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppPaths, object]]:
    """One embedded devnet (100 constituents, seeded) for the module, on a free port."""
    try:
        from wallet_app.devnet import process
        from wallet_app.devnet.embedded import ensure_devnet
    except ImportError as exc:  # pragma: no cover - the lead's module is missing
        pytest.skip(f"embedded devnet unavailable: {exc}")
    home = tmp_path_factory.mktemp("e2e-devnet")
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    try:
        dev = ensure_devnet(paths, port=process.free_port())
    except WalletError as exc:
        pytest.skip(f"devnet cannot start here: {exc}")
    try:
        yield paths, dev
    finally:
        process.down(paths)


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


# -- the journey ----------------------------------------------------------------------------

def test_onboarding_buy_my_indices_sell_by_clicks(qtbot, devnet, tmp_path: Path) -> None:
    from wallet_app.facade import WalletService

    devnet_paths, _ = devnet
    svc = WalletService(paths=home_for(tmp_path, devnet_paths))
    win, ctl = open_app(qtbot, svc)

    # Onboarding opens by itself on a machine without wallets.
    qtbot.waitUntil(lambda: isinstance(ctl.dialog, OnboardingDialog), timeout=WAIT)
    ob: OnboardingDialog = ctl.dialog  # type: ignore[assignment]
    click(qtbot, ob.findChild(type(ob.create_button), "createChoice"))
    name = f"Alice{secrets.token_hex(3)}"
    type_into(qtbot, ob.name_edit, name)
    qtbot.keyClicks(ob.create_password.password, "password1")
    assert ob.create_password.strength_label.text().startswith("Refused")
    assert not ob.create_button.isEnabled()
    type_into(qtbot, ob.create_password.password, PASSWORD)
    qtbot.keyClicks(ob.create_password.confirm, PASSWORD)
    click(qtbot, ob.create_button)
    qtbot.waitUntil(lambda: ob.current() == "phrase", timeout=WAIT)
    words = [lab.text().split(". ", 1)[1] for lab in ob.word_labels]
    assert len(words) == 24
    qtbot.mouseClick(ob.written_check, LEFT, pos=QPoint(8, ob.written_check.height() // 2))
    assert ob.written_check.isChecked()
    click(qtbot, ob.to_check_button)
    assert ob.current() == "check" and len(ob.positions) == 3
    wrong = ob.positions[0]
    for pos in ob.positions:
        qtbot.keyClicks(ob.check_edits[pos], words[pos - 1] if pos != wrong else "zzzz")
    click(qtbot, ob.verify_button)
    qtbot.waitUntil(ob.check_banner.isVisible, timeout=WAIT)
    assert ob.check_banner.title.text() == f"Word #{wrong} does not match your recovery phrase"
    type_into(qtbot, ob.check_edits[wrong], words[wrong - 1])
    click(qtbot, ob.verify_button)
    qtbot.waitUntil(lambda: ob.current() == "done", timeout=WAIT)
    address = ob.done_address.text()
    assert address.startswith("0x") and address == svc.active_address()
    click(qtbot, ob.finish_button)

    # Test funds from the devnet faucet, from My Indices.
    click(qtbot, win.nav_buttons["my"])
    qtbot.waitUntil(win.my_page.faucet_button.isVisible, timeout=WAIT)
    click(qtbot, win.my_page.faucet_button)
    qtbot.waitUntil(lambda: ctl.position is not None and ctl.position.usdc_balance > 0,
                    timeout=WAIT)
    usdc_before = ctl.position.usdc_balance

    # Buy 250 USDC of the index from the Index screen.
    click(qtbot, win.nav_buttons["index"])
    qtbot.waitUntil(lambda: ctl.state is not None, timeout=WAIT)
    assert len(ctl.state.holdings) >= 100 or ctl.state.regime.value == "bear"
    click(qtbot, win.index_page.buy_button)
    dlg = ctl.dialog
    assert isinstance(dlg, BuyDialog)
    qtbot.keyClicks(dlg.amount_edit, "250")
    wait_quote(qtbot, dlg)
    q = dlg.quote
    assert q.usdc_in == Decimal("250") and q.min_shares_out <= q.expected_shares
    assert dlg.preview.text("pay") == "250.00 USDC"
    assert dlg.preview.text("min_shares").endswith("G100")
    assert "ETH" in dlg.preview.text("gas_expected") and "$" in dlg.preview.text("gas_max")
    assert "cancellable for 5 s" in dlg.preview.text("strike")
    assert dlg.confirm_button.text().startswith("Request buy")
    click(qtbot, dlg.confirm_button)
    wait_done(qtbot, dlg)
    result = dlg.result
    # One transaction (the request), settled at the devnet keeper's strike.
    assert result.status is TxStatus.CONFIRMED and result.shares >= q.min_shares_out
    assert result.state == "settled" and result.request_id is not None
    assert dlg.done_title.text().startswith("\u2713 Settled: ")
    assert dlg.done_grid.text("state") == f"#{result.request_id} settled"
    assert dlg.tx_hash == result.tx_hash
    qtbot.waitUntil(lambda: dlg.position_grid.text("shares") != "\u2014", timeout=WAIT)
    click(qtbot, dlg.view_button)  # "View My Indices"

    # My Indices shows the position, the cost basis and the trade.
    qtbot.waitUntil(lambda: win.current_page() == "my", timeout=WAIT)
    qtbot.waitUntil(lambda: ctl.position is not None and ctl.position.shares == result.shares
                    and win.my_page.table.rowCount() == 1, timeout=WAIT)
    pos = ctl.position
    assert pos.usdc_balance == usdc_before - Decimal(250)
    assert pos.cost_basis_usdc > 0 and pos.fees_paid_usdc > 0
    assert win.my_page.table.item(0, 1).text() == "Buy"
    assert win.my_page.sell_button.isEnabled()

    # Lock from the sidebar, unlock on the lock screen.
    click(qtbot, win.lock_button)
    assert win.is_locked_screen() and not svc.is_unlocked()
    qtbot.keyClicks(win.lock_overlay.password, PASSWORD)
    click(qtbot, win.lock_overlay.unlock_button)
    qtbot.waitUntil(lambda: not win.is_locked_screen(), timeout=WAIT)
    assert svc.is_unlocked()

    # Sell half by percentage.
    click(qtbot, win.my_page.sell_button)
    sdlg = ctl.dialog
    assert isinstance(sdlg, SellDialog)
    click(qtbot, sdlg.quick_buttons[50])
    wait_quote(qtbot, sdlg)
    sq = sdlg.quote
    assert sq.shares_in <= pos.shares / 2 and sq.min_usdc_out > 0
    assert sdlg.preview.text("path")
    click(qtbot, sdlg.confirm_button)
    wait_done(qtbot, sdlg)
    sold = sdlg.result
    assert sold.status is TxStatus.CONFIRMED and sold.usdc >= sq.min_usdc_out
    assert sold.state == "settled" and sold.request_id % 2 == 1
    assert sdlg.done_title.text().startswith("\u2713 Settled: ")
    click(qtbot, sdlg.done_button)
    qtbot.waitUntil(lambda: ctl.position is not None
                    and ctl.position.shares == pos.shares - sq.shares_in
                    and win.my_page.table.rowCount() == 2, timeout=WAIT)

    # The transactions log lists both, confirmed, and the index's own events.
    click(qtbot, win.nav_buttons["transactions"])
    qtbot.waitUntil(lambda: {r.tx_hash for r in win.tx_page.records}
                    >= {result.tx_hash, sold.tx_hash}, timeout=WAIT)
    by_hash = {r.tx_hash: r for r in win.tx_page.records}
    assert by_hash[result.tx_hash].status is TxStatus.CONFIRMED
    assert by_hash[sold.tx_hash].status is TxStatus.CONFIRMED
    qtbot.waitUntil(lambda: {"buy", "sell"} <= {e.kind for e in win.tx_page.events},
                    timeout=WAIT)
    assert win.tx_page.event_table.model().rowCount() == len(win.tx_page.events)
    out = tmp_path / "tx.csv"
    win.tx_page.exportRequested.emit(out)
    qtbot.waitUntil(lambda: out.is_file(), timeout=WAIT)
    assert result.tx_hash in out.read_text()
    close_app(ctl, svc)


# -- failure states -------------------------------------------------------------------------

def funded_service(tmp_path: Path, devnet, rpc_url: str, eth: Decimal, usdc: Decimal):  # noqa: ANN001, ANN201
    """A service on a fresh home with an imported key funded as asked (set-up, not UI)."""
    from web3 import Web3

    from wallet_app.devnet.deploy import fund
    from wallet_app.facade import WalletService

    devnet_paths, dev = devnet
    svc = WalletService(paths=home_for(tmp_path, devnet_paths, rpc_url))
    name = f"t{secrets.token_hex(4)}"
    svc.import_private_key(name, "0x" + secrets.token_hex(32), PASSWORD)
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    fund(w3, dev.deployment, svc.active_address(), eth, usdc)
    return svc


def open_buy(qtbot, win: MainWindow, ctl: Controller, amount: str) -> BuyDialog:  # noqa: ANN001
    qtbot.waitUntil(lambda: ctl.position is not None and win.index_page.buy_button.isEnabled(),
                    timeout=WAIT)
    click(qtbot, win.index_page.buy_button)
    dlg = ctl.dialog
    assert isinstance(dlg, BuyDialog)
    qtbot.waitUntil(dlg.max_button.isEnabled, timeout=WAIT)
    qtbot.keyClicks(dlg.amount_edit, amount)
    return dlg


def test_request_below_minimum_is_refunded_then_a_fresh_one_settles(qtbot, devnet,
                                                                     tmp_path: Path) -> None:
    """The market jumps between the preview and the strike: the request is refunded at the
    strike (below the minimum), the dialog says so, the USDC is back and nothing counts;
    a fresh request at the new NAV settles."""
    from web3 import Web3

    from wallet_app.devnet.deploy import pool_price, set_prices

    _, dev = devnet
    svc = funded_service(tmp_path, devnet, "", Decimal(1), Decimal(1000))
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    dlg = open_buy(qtbot, win, ctl, "400")
    click(qtbot, dlg.slippage_buttons["10"])  # 0.1%
    wait_quote(qtbot, dlg)
    # The biggest holdings jump 20% before the strike: the quoted minimum is not met.
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    top = sorted(ctl.state.holdings, key=lambda h: -h.weight_bps)[:3]
    moved = {h.symbol: pool_price(w3, dev.deployment, h.symbol) * Decimal("1.2")
             for h in top if h.token}
    set_prices(w3, dev.deployment, moved, refresh_nav=True)
    try:
        click(qtbot, dlg.confirm_button)
        wait_done(qtbot, dlg)
        res = dlg.result
        assert res.state == "refunded" and res.shares == 0
        assert dlg.done_title.text() == "Refunded: below your minimum"
        assert "your USDC came back" in dlg.done_note.text()
        click(qtbot, dlg.done_button)
        qtbot.waitUntil(lambda: ctl.position is not None
                        and ctl.position.usdc_balance == Decimal(1000), timeout=WAIT)
        assert ctl.position.shares == 0 and ctl.position.cost_basis_usdc == 0
        assert svc.my_trades() == []
        dlg = open_buy(qtbot, win, ctl, "400")  # a fresh request at the new NAV
        wait_quote(qtbot, dlg)
        click(qtbot, dlg.confirm_button)
        wait_done(qtbot, dlg)
        assert dlg.result.state == "settled" and dlg.result.shares > 0
    finally:
        set_prices(w3, dev.deployment, {s: p / Decimal("1.2") for s, p in moved.items()},
                   refresh_nav=True)
        close_app(ctl, svc)


def test_insufficient_funds_usdc_and_gas(qtbot, devnet, tmp_path: Path) -> None:
    svc = funded_service(tmp_path, devnet, "", Decimal(0), Decimal(300))
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    dlg = open_buy(qtbot, win, ctl, "301")
    qtbot.waitUntil(dlg.amount_error.isVisible, timeout=WAIT)
    assert "more than your USDC balance" in dlg.amount_error.text()
    assert not dlg.confirm_button.isEnabled()
    type_into(qtbot, dlg.amount_edit, "300")
    qtbot.waitUntil(dlg.banner.isVisible, timeout=WAIT)
    assert dlg.last_error is not None and dlg.last_error.kind == "gas", \
        dlg.banner.message.text()
    assert "Add ETH" in dlg.banner.message.text()
    assert not dlg.confirm_button.isEnabled()
    close_app(ctl, svc)


def test_rpc_down_keeps_data_offline_and_buy_retries(qtbot, devnet, tmp_path: Path) -> None:
    _, dev = devnet
    relay = Relay(dev.node.port)
    svc = funded_service(tmp_path, devnet, relay.url, Decimal(1), Decimal(1000))
    try:
        win, ctl = open_app(qtbot, svc, auto_onboard=False)
        dlg = open_buy(qtbot, win, ctl, "100")
        wait_quote(qtbot, dlg)
        nav_text = win.index_page.price_tile.nav_label.text()
        relay.down()
        click(qtbot, dlg.confirm_button)
        qtbot.waitUntil(lambda: dlg.banner.isVisible() or dlg.progress_banner.isVisible(),
                        timeout=WAIT)
        assert dlg.pages.currentWidget() is dlg.form_page
        assert dlg.last_error is not None and dlg.last_error.kind == "offline", \
            dlg.banner.message.text()
        assert "Cannot reach the network" in dlg.banner.title.text()
        # The window goes offline but keeps the figures, with their age.
        qtbot.waitUntil(lambda: win.offline, timeout=WAIT)
        assert win.index_page.price_tile.nav_label.text() == nav_text
        assert "figures shown are from" in win.notice.message.text()
        relay.up()
        click(qtbot, dlg.banner.primary)  # "Try again"
        wait_quote(qtbot, dlg)
        click(qtbot, dlg.confirm_button)
        wait_done(qtbot, dlg)
        qtbot.waitUntil(lambda: not win.offline, timeout=WAIT)
        close_app(ctl, svc)
    finally:
        relay.down()


@pytest.fixture
def other_chain() -> Iterator[int]:
    """A second Anvil that says it is chain 1 (what a misconfigured RPC URL looks like)."""
    from wallet_app.devnet import process
    from wallet_app.toolchain import find_tool

    port = process.free_port()
    proc = subprocess.Popen([str(find_tool("anvil")), "--host", "127.0.0.1", "--port",
                             str(port), "--chain-id", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a loaded machine starts Anvil slowly
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_wrong_network_is_refused_in_settings(qtbot, devnet, other_chain,
                                              tmp_path: Path) -> None:
    svc = funded_service(tmp_path, devnet, "", Decimal(1), Decimal(10))
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    click(qtbot, win.nav_buttons["settings"])
    sp = win.settings_page
    sp.network_combo.setCurrentIndex(sp.network_combo.findData("custom"))
    type_into(qtbot, sp.rpc_edit, f"http://127.0.0.1:{other_chain}")
    type_into(qtbot, sp.chain_edit, "8453")
    click(qtbot, sp.save_button)
    qtbot.waitUntil(lambda: sp.banner.isVisible(), timeout=WAIT)
    assert sp.banner.title.text() == "Wrong network", sp.banner.message.text()
    assert "chain 1" in sp.banner.message.text()
    assert svc.settings.network == "devnet"  # nothing was stored
    assert sp.save_button.isEnabled()  # the form can be corrected and saved again
    close_app(ctl, svc)


def test_wrong_network_between_preview_and_signature(qtbot, devnet, other_chain,
                                                     tmp_path: Path) -> None:
    _, dev = devnet
    relay = Relay(dev.node.port)
    svc = funded_service(tmp_path, devnet, relay.url, Decimal(1), Decimal(1000))
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        dlg = open_buy(qtbot, win, ctl, "100")
        wait_quote(qtbot, dlg)
        relay.retarget(other_chain)  # the same URL now reaches a chain-1 node
        click(qtbot, dlg.confirm_button)
        qtbot.waitUntil(lambda: dlg.banner.isVisible() or dlg.progress_banner.isVisible(),
                        timeout=WAIT)
        assert dlg.pages.currentWidget() is dlg.form_page  # nothing was sent
        assert svc.transactions() == []
        assert dlg.last_error is not None and dlg.last_error.kind == "network", (
            dlg.banner.title.text(), dlg.banner.message.text())
        assert dlg.banner.primary.text() == "Open Settings"
        with qtbot.waitSignal(dlg.settingsRequested, timeout=WAIT):
            click(qtbot, dlg.banner.primary)
        qtbot.waitUntil(lambda: win.current_page() == "settings", timeout=WAIT)
    finally:
        relay.retarget(dev.node.port)
        close_app(ctl, svc)
        relay.down()


def test_pending_buy_goes_to_background_and_is_sped_up(qtbot, devnet, tmp_path: Path) -> None:
    """Blocks stop (automine off): the buy waits, the window is closed to wait in the
    background, the Transactions screen speeds the pending transaction up, a block is
    mined, and the replacement confirms the buy."""
    from web3 import Web3

    _, dev = devnet
    svc = funded_service(tmp_path, devnet, "", Decimal(1), Decimal(1000))
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    dlg = open_buy(qtbot, win, ctl, "50")
    dlg.BACKGROUND_AFTER_MS = 300
    wait_quote(qtbot, dlg)
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        click(qtbot, dlg.confirm_button)
        # The offer comes once the transaction is out, however slow the signature was;
        # "Sent; waiting for a block" (the confirm step) may follow the journal a bit later.
        qtbot.waitUntil(lambda: dlg.background_button.isVisible() and bool(dlg.tx_hash)
                        and dlg.steps.state("confirm") == "active", timeout=WAIT)
        original = dlg.tx_hash
        click(qtbot, dlg.background_button)
        assert not dlg.isVisible() and ctl.dialog is None
        click(qtbot, win.nav_buttons["transactions"])
        page = win.tx_page
        qtbot.waitUntil(lambda: any(r.tx_hash == original and r.status is TxStatus.PENDING
                                    for r in page.records), timeout=WAIT)
        assert page.select_hash(original)
        click(qtbot, page.speed_button)
        qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=WAIT)
        assert page.banner.title.text() == "Transaction sped up", page.banner.message.text()
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: win.notice.isVisible()
                    and win.notice.title.text() == "Buy confirmed", timeout=WAIT)
    ctl.refresh_journal()
    qtbot.waitUntil(lambda: any(r.tx_hash == original and r.status is TxStatus.REPLACED
                                for r in page.records), timeout=WAIT)
    confirmed = [r for r in page.records if r.status is TxStatus.CONFIRMED and r.kind == "buy"]
    assert confirmed and confirmed[0].tx_hash != original
    qtbot.waitUntil(lambda: ctl.position is not None and ctl.position.shares > 0,
                    timeout=WAIT)
    close_app(ctl, svc)


def test_pending_request_listed_on_my_indices_and_cancelled_by_click(qtbot, devnet,
                                                                     tmp_path: Path) -> None:
    """With the keeper waiting, a buy request shows as requested; My Indices lists it with
    a Cancel button; one click cancels it before its cut-off and the USDC is back. A second
    request is cancelled the same way from the Transactions screen."""
    svc = funded_service(tmp_path, devnet, "", Decimal(1), Decimal(1000))
    svc.trading.auto_strike = False  # the devnet keeper does not strike at once here
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        dlg = open_buy(qtbot, win, ctl, "300")
        wait_quote(qtbot, dlg)
        click(qtbot, dlg.confirm_button)
        wait_done(qtbot, dlg)
        res = dlg.result
        assert res.state == "requested" and res.request_id is not None
        assert dlg.done_title.text() == "Requested: waiting for the next price strike"
        click(qtbot, dlg.done_button)
        page = win.my_page
        click(qtbot, win.nav_buttons["my"])
        qtbot.waitUntil(lambda: page.requests_table.rowCount() == 1, timeout=WAIT)
        assert page.requests_card.isVisible()
        assert page.requests_table.item(0, 0).text() == f"#{res.request_id}"
        assert page.select_request(res.request_id) and page.cancel_request_button.isEnabled()
        click(qtbot, page.cancel_request_button)
        qtbot.waitUntil(lambda: "cancel" in win.notice.title.text().lower()
                        and "\u2026" not in win.notice.title.text(), timeout=WAIT)
        assert win.notice.title.text() == f"Request #{res.request_id} cancelled", (
            win.notice.title.text(), win.notice.message.text())
        qtbot.waitUntil(lambda: page.requests_table.rowCount() == 0
                        and ctl.position is not None
                        and ctl.position.usdc_balance == Decimal(1000), timeout=WAIT)
        assert svc.requests() == [] and svc.my_trades() == []
        assert ctl.position.shares == 0 and ctl.position.cost_basis_usdc == 0

        # The Transactions screen lists a pending request too, with its own Cancel button.
        dlg = open_buy(qtbot, win, ctl, "250")
        wait_quote(qtbot, dlg)
        click(qtbot, dlg.confirm_button)
        wait_done(qtbot, dlg)
        second = dlg.result
        assert second.state == "requested" and second.request_id != res.request_id
        click(qtbot, dlg.done_button)
        tp = win.tx_page
        click(qtbot, win.nav_buttons["transactions"])
        table = tp.requests_card.table
        qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=WAIT)
        assert tp.requests_card.isVisible()
        assert table.item(0, 0).text() == f"#{second.request_id}"
        assert not tp.requests_card.cancel_button.isEnabled()  # nothing selected yet
        assert tp.requests_card.select_request(second.request_id)
        assert tp.requests_card.cancel_button.isEnabled()
        click(qtbot, tp.requests_card.cancel_button)
        qtbot.waitUntil(lambda: win.notice.title.text() == f"Request #{second.request_id} "
                        "cancelled", timeout=WAIT)
        qtbot.waitUntil(lambda: table.rowCount() == 0 and not tp.requests_card.isVisible()
                        and ctl.position is not None
                        and ctl.position.usdc_balance == Decimal(1000), timeout=WAIT)
        assert svc.requests() == [] and svc.my_trades() == []
    finally:
        svc.trading.auto_strike = True
        close_app(ctl, svc)
