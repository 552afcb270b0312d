"""View-level GUI tests: pages and dialogs driven by clicks and typing, offscreen.

The data comes from ``ui.pages.samples.SampleService``, a STAND-IN for the facade that
answers from sample data and can be told to fail. These tests check what the *views* do
with answers and failures (parsing, previews, messages, the lock screen); the end-to-end
test with the real WalletService on a real Anvil devnet and the real keyring is
tests/test_gui_e2e.py.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui import worker  # noqa: E402
from ui.app import create_app, screens_stylesheet  # noqa: E402
from ui.controller import Controller  # noqa: E402
from ui.dialogs.buy_dialog import BuyDialog  # noqa: E402
from ui.dialogs.onboarding import OnboardingDialog  # noqa: E402
from ui.dialogs.sell_dialog import SellDialog  # noqa: E402
from ui.dialogs.unlock_dialog import UnlockDialog  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.pages import samples  # noqa: E402
from ui.pages.index_page import IndexPage  # noqa: E402
from ui.sample_data import sample_nav_history, sample_state  # noqa: E402
from ui.theme import PALETTES, load_stylesheet, theme_manager  # noqa: E402
from wallet_app.models import TxStatus  # noqa: E402

pytestmark = pytest.mark.gui

LEFT = Qt.MouseButton.LeftButton
# Waits poll for the condition: generous, since the worker thread can stall for seconds on a
# loaded machine, and free when the answer comes at once.
WAIT = 30_000


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def click(qtbot, widget) -> None:  # noqa: ANN001 - pytest-qt's bot
    assert widget.isEnabled(), f"{widget.objectName() or widget.text()} is disabled"
    qtbot.mouseClick(widget, LEFT)


def type_into(qtbot, edit, text: str) -> None:  # noqa: ANN001
    edit.clear()
    qtbot.keyClicks(edit, text)


def settle(qtbot, ms: int = 50) -> None:  # noqa: ANN001
    qtbot.wait(ms)
    assert worker.wait_idle(WAIT)


def buy_dialog(qtbot, svc: samples.SampleService) -> BuyDialog:  # noqa: ANN001
    dlg = BuyDialog(svc, position=samples.sample_position(), state=sample_state(),
                    wallet_name="Main")
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def quoted(dlg) -> bool:  # noqa: ANN001
    return dlg.quote is not None and dlg.confirm_button.isEnabled()


# -- buy dialog -----------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "reason"), [
    ("12.3456789", "USDC has 6 decimals; this amount has 7"),
    ("abc", "is not a number"),
    ("1e3", "is not a number"),
    ("-5", "must be positive"),
    ("0", "more than zero"),
    ("12,5", "Use a point for decimals"),
    ("1.2.3", "is not a number"),
    ("999999", "more than your USDC balance"),
])
def test_amount_rejects_bad_input_with_a_reason_and_keeps_the_text(qtbot, typed: str,
                                                                   reason: str) -> None:
    svc = samples.SampleService()
    dlg = buy_dialog(qtbot, svc)
    qtbot.keyClicks(dlg.amount_edit, typed)
    settle(qtbot, 450)
    assert dlg.amount_error.isVisible()
    assert reason in dlg.amount_error.text()
    assert dlg.amount_edit.text() == typed  # the typed text stays for correction
    assert not dlg.confirm_button.isEnabled()
    assert "quote_buy" not in svc.calls


def test_grouped_amount_is_parsed_exactly(qtbot) -> None:
    svc = samples.SampleService()
    dlg = buy_dialog(qtbot, svc)
    qtbot.keyClicks(dlg.amount_edit, "1,234.567891")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    assert dlg.quote.usdc_in == Decimal("1234.567891")
    assert isinstance(dlg.quote.usdc_in, Decimal)


def test_preview_is_filled_from_the_buy_quote(qtbot) -> None:
    svc = samples.SampleService()
    dlg = buy_dialog(qtbot, svc)
    qtbot.keyClicks(dlg.amount_edit, "250")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    q = samples.sample_buy_quote(Decimal("250"), 50, "market")
    pv = dlg.preview
    assert pv.text("pay") == "250.00 USDC"
    assert pv.text("fee") == "0.625 USDC"
    assert pv.text("shares") == "194.297339 G100"
    assert pv.text("slippage") == "0.50%"
    assert pv.text("min_shares") == "193.325852 G100"
    assert pv.text("min_value") == f"{q.min_value_usdc:,.2f} USDC"
    assert pv.text("gas_expected") == "0.00073 ETH ($2.49)"
    assert pv.text("gas_max") == "0.00182 ETH ($6.21)"
    assert pv.text("changes") == "USDC \u2212250.00\nG100 +194.297339\nETH \u22120.00073"
    assert "permit" in pv.text("approval")
    assert "250.00 USDC" in dlg.confirm_button.text()


def test_subtitle_nav_follows_the_preview_not_the_dialogs_opening(qtbot) -> None:
    """The index state handed to the dialog is from when it opened; once a preview is
    read, the NAV in the subtitle is the quote's, the one the shares were estimated at."""
    import dataclasses

    from ui import formatting as fmt

    svc = samples.SampleService()
    stale = dataclasses.replace(sample_state(), nav_per_share=Decimal("0.5"))
    dlg = BuyDialog(svc, position=samples.sample_position(), state=stale, wallet_name="Main")
    qtbot.addWidget(dlg)
    dlg.show()
    assert f"NAV per share {fmt.format_nav(Decimal('0.5'))} " in dlg.subtitle.text()
    qtbot.keyClicks(dlg.amount_edit, "250")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    assert dlg.quote.nav_per_share != Decimal("0.5")
    assert f"NAV per share {fmt.format_nav(dlg.quote.nav_per_share)} " in dlg.subtitle.text()
    assert "next strike" in dlg.subtitle.text()


def test_slippage_and_fee_preset_reach_the_quote(qtbot) -> None:
    svc = samples.SampleService()
    dlg = buy_dialog(qtbot, svc)
    qtbot.keyClicks(dlg.amount_edit, "100")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    click(qtbot, dlg.slippage_buttons["100"])
    click(qtbot, dlg.fee_buttons["aggressive"])
    qtbot.waitUntil(lambda: quoted(dlg) and dlg.quote.slippage_bps == 100
                    and dlg.quote.gas.preset == "aggressive", timeout=WAIT)
    assert dlg.preview.text("slippage") == "1.00%"
    click(qtbot, dlg.slippage_buttons["custom"])
    type_into(qtbot, dlg.slippage_edit, "12")
    settle(qtbot, 50)
    assert dlg.slippage_error.isVisible() and "at most 10%" in dlg.slippage_error.text()
    assert not dlg.confirm_button.isEnabled()
    type_into(qtbot, dlg.slippage_edit, "2.5")
    qtbot.waitUntil(lambda: quoted(dlg) and dlg.quote.slippage_bps == 250, timeout=WAIT)


def test_max_uses_the_whole_balance(qtbot) -> None:
    dlg = buy_dialog(qtbot, samples.SampleService())
    click(qtbot, dlg.max_button)
    assert dlg.amount_edit.text() == "7690.000000"
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    assert dlg.quote.usdc_in == Decimal("7690")


def test_buy_when_locked_asks_for_the_password_then_shows_the_new_position(qtbot) -> None:
    svc = samples.SampleService(unlocked=False)
    dlg = buy_dialog(qtbot, svc)
    done: list[object] = []
    dlg.completed.connect(done.append)
    qtbot.keyClicks(dlg.amount_edit, "250")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    click(qtbot, dlg.confirm_button)
    unlock = dlg.unlock_dialog
    assert isinstance(unlock, UnlockDialog) and unlock.isVisible()
    qtbot.keyClicks(unlock.password, "wrong password")
    click(qtbot, unlock.unlock_button)
    qtbot.waitUntil(lambda: unlock.error_label.isVisible(), timeout=WAIT)
    assert "password" in unlock.error_label.text().lower()
    type_into(qtbot, unlock.password, samples.SAMPLE_PASSWORD)
    click(qtbot, unlock.unlock_button)
    qtbot.waitUntil(lambda: dlg.pages.currentWidget() is dlg.done_page, timeout=WAIT)
    settle(qtbot)
    assert done and dlg.steps.state("confirm") == "done"
    assert dlg.done_title.text() == "\u2713 Settled: 194.297339 G100"
    assert dlg.tx_hash.startswith("0x") and len(dlg.tx_hash) == 66
    assert dlg.position_grid.text("shares").endswith("G100")
    assert dlg.position_grid.text("shares") != "\u2014"


@pytest.mark.parametrize(("failure", "title", "action"), [
    (samples.TransactionReverted("minimum shares not met.", "SlippageExceeded"),
     "The price moved more than your slippage allows", "edit"),
    (samples.InsufficientFundsForGas(), "Not enough ETH for the network fee", "retry"),
    (samples.RpcUnavailable(), "Cannot reach the network", "retry"),
    (samples.WrongNetwork(), "Wrong network", "settings"),
])
def test_buy_failures_say_what_to_do_and_can_be_retried(qtbot, failure: Exception,
                                                        title: str, action: str) -> None:
    svc = samples.SampleService(unlocked=True)
    dlg = buy_dialog(qtbot, svc)
    qtbot.keyClicks(dlg.amount_edit, "250")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    svc.fail["buy"] = failure
    click(qtbot, dlg.confirm_button)
    qtbot.waitUntil(lambda: dlg.banner.isVisible(), timeout=WAIT)
    # Nothing was sent: back on the form, inputs kept, the core's message shown in full.
    assert dlg.pages.currentWidget() is dlg.form_page
    assert dlg.amount_edit.text() == "250"
    assert dlg.banner.title.text() == title
    assert dlg.banner.message.text() == str(failure)
    assert dlg.last_error is not None and dlg.last_error.action == action
    if action == "settings":
        with qtbot.waitSignal(dlg.settingsRequested, timeout=2_000):
            click(qtbot, dlg.banner.primary)
        return
    click(qtbot, dlg.banner.primary)  # "Review and retry" / "Try again": a fresh quote
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    assert not dlg.banner.isVisible()
    click(qtbot, dlg.confirm_button)
    qtbot.waitUntil(lambda: dlg.pages.currentWidget() is dlg.done_page, timeout=WAIT)


def test_quote_failure_replaces_the_preview(qtbot) -> None:
    svc = samples.SampleService()
    svc.fail["quote_buy"] = samples.InsufficientFundsForGas()
    dlg = buy_dialog(qtbot, svc)
    qtbot.keyClicks(dlg.amount_edit, "250")
    qtbot.waitUntil(lambda: dlg.banner.isVisible(), timeout=WAIT)
    assert not dlg.preview_card.isVisible()
    assert not dlg.confirm_button.isEnabled()
    qtbot.keyClicks(dlg.amount_edit, "0")  # any edit asks again
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    assert dlg.preview_card.isVisible() and dlg.quote.usdc_in == Decimal("2500")


def test_a_failure_after_broadcast_stays_on_the_progress_page_with_the_hash(qtbot) -> None:
    svc = samples.SampleService(unlocked=True)
    dlg = buy_dialog(qtbot, svc)
    qtbot.keyClicks(dlg.amount_edit, "250")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    h = "0x" + "ab" * 32
    dlg.send()
    dlg.on_progress(f"Sent; waiting for a block ({h})")
    dlg._send_failed(samples.RpcUnavailable())
    assert dlg.pages.currentWidget() is dlg.progress_page
    assert dlg.tx_hash == h and dlg.steps.state("confirm") == "failed"
    assert dlg.progress_banner.title.text() == "Cannot reach the network"
    settle(qtbot)


def test_progress_messages_of_the_sender_map_to_the_steps(qtbot) -> None:
    dlg = buy_dialog(qtbot, samples.SampleService())
    h = "0x" + "cd" * 32
    dlg.steps.advance_to("sign")
    for message, active in (
        ("Checking the network", "sign"), ("Simulating the transaction", "sign"),
        ("Waiting for the signature", "sign"), (f"Saved to the journal ({h})", "broadcast"),
        ("Sending to the network", "broadcast"), (f"Sent; waiting for a block ({h})",
                                                  "confirm"),
        ("Waiting for the transaction to be included", "confirm"), ("Confirmed", "confirm"),
    ):
        dlg.on_progress(message)
        assert dlg.steps.state(active) == "active", message
    assert dlg.tx_hash == h
    dlg.on_progress("Approving exactly this amount of USDC for the vault")
    assert dlg.steps.state("sign") == "active" and dlg.steps.state("confirm") == "pending"


# -- sell dialog ------------------------------------------------------------------------

def test_sell_by_percentage_is_exact_and_shows_the_payout(qtbot) -> None:
    svc = samples.SampleService(unlocked=True)
    pos = samples.sample_position()
    dlg = SellDialog(svc, position=pos, state=sample_state(), wallet_name="Main")
    qtbot.addWidget(dlg)
    dlg.show()
    click(qtbot, dlg.quick_buttons[50])
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    assert dlg.quote.shares_in == Decimal("973.906002255901183855")  # rounded down
    assert dlg.preview.text("path").startswith("The vault's cash, at the next price strike")
    click(qtbot, dlg.quick_buttons[100])
    qtbot.waitUntil(lambda: quoted(dlg) and dlg.quote.shares_in == pos.shares, timeout=WAIT)
    assert dlg.preview.text("path").startswith("The operator first raises cash")
    click(qtbot, dlg.mode_buttons["shares"])
    qtbot.keyClicks(dlg.amount_edit, "1.0000000000000000001")
    settle(qtbot, 50)
    assert "G100 has 18 decimals; this amount has 19" in dlg.amount_error.text()
    type_into(qtbot, dlg.amount_edit, "100")
    qtbot.waitUntil(lambda: quoted(dlg), timeout=WAIT)
    click(qtbot, dlg.confirm_button)
    qtbot.waitUntil(lambda: dlg.pages.currentWidget() is dlg.done_page, timeout=WAIT)
    assert dlg.done_title.text().startswith("\u2713 Settled: ")
    settle(qtbot)


# -- onboarding -------------------------------------------------------------------------

def onboarding(qtbot, svc: samples.SampleService) -> OnboardingDialog:  # noqa: ANN001
    dlg = OnboardingDialog(svc)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_strength_meter_refuses_a_weak_password_with_the_reason(qtbot) -> None:
    dlg = onboarding(qtbot, samples.SampleService(has_wallet=False))
    click(qtbot, dlg.findChild(type(dlg.create_button), "createChoice"))
    assert dlg.current() == "create"
    pw = dlg.create_password
    qtbot.keyClicks(pw.password, "hunter2")
    qtbot.keyClicks(pw.confirm, "hunter2")
    assert pw.strength_label.text().startswith("Refused")
    assert "use at least 12" in pw.strength_label.text()
    assert pw.meter.property("strength") in ("0", "1")
    assert not dlg.create_button.isEnabled()
    type_into(qtbot, pw.password, "main wallet password 2026")
    assert "wallet name" in pw.strength_label.text()  # the name "Main" is inside
    type_into(qtbot, pw.password, samples.SAMPLE_PASSWORD)
    assert not dlg.create_button.isEnabled()  # the confirmation differs
    assert pw.match_label.isVisible()
    type_into(qtbot, pw.confirm, samples.SAMPLE_PASSWORD)
    assert pw.strength_label.text().startswith("Strength:")
    assert dlg.create_button.isEnabled()


def test_create_shows_the_phrase_once_clears_the_clipboard_and_checks_the_backup(
        qtbot) -> None:
    svc = samples.SampleService(has_wallet=False)
    dlg = onboarding(qtbot, svc)
    dlg.CLIPBOARD_CLEAR_MS = 150
    ready: list[object] = []
    dlg.walletReady.connect(ready.append)
    click(qtbot, dlg.findChild(type(dlg.create_button), "createChoice"))
    qtbot.keyClicks(dlg.create_password.password, samples.SAMPLE_PASSWORD)
    qtbot.keyClicks(dlg.create_password.confirm, samples.SAMPLE_PASSWORD)
    click(qtbot, dlg.create_button)
    qtbot.waitUntil(lambda: dlg.current() == "phrase", timeout=WAIT)
    shown = [lab.text().split(". ", 1)[1] for lab in dlg.word_labels]
    assert shown == samples.SAMPLE_WORDS
    click(qtbot, dlg.copy_button)
    assert QGuiApplication.clipboard().text() == " ".join(samples.SAMPLE_WORDS)
    # Marked concealed: clipboard managers (Klipper and those that follow it) skip it.
    assert bytes(QGuiApplication.clipboard().mimeData().data("x-kde-passwordManagerHint")) \
        == b"secret"
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == "", timeout=WAIT)
    assert not dlg.to_check_button.isEnabled()
    dlg.written_check.setChecked(True)
    click(qtbot, dlg.to_check_button)
    assert dlg.current() == "check" and dlg.positions == [3, 11, 20]
    for pos in dlg.positions:  # one wrong word
        qtbot.keyClicks(dlg.check_edits[pos], "zebra" if pos == 11 else
                        samples.SAMPLE_WORDS[pos - 1])
    click(qtbot, dlg.verify_button)
    qtbot.waitUntil(lambda: dlg.check_banner.isVisible(), timeout=WAIT)
    assert dlg.check_banner.title.text() == "Word #11 does not match your recovery phrase"
    assert dlg.current() == "check" and not ready
    type_into(qtbot, dlg.check_edits[11], "  Harvest ")  # case and spaces forgiven
    click(qtbot, dlg.verify_button)
    qtbot.waitUntil(lambda: dlg.current() == "done", timeout=WAIT)
    assert ready and dlg.done_address.text() == samples.SAMPLE_ADDRESS
    assert dlg.word_labels == [] and dlg._phrase_text == ""  # wiped after the check


def test_import_needs_a_source_and_an_acceptable_password(qtbot, tmp_path: Path) -> None:
    svc = samples.SampleService(has_wallet=False)
    dlg = onboarding(qtbot, svc)
    click(qtbot, dlg.findChild(type(dlg.create_button), "importChoice"))
    qtbot.keyClicks(dlg.import_password.password, samples.SAMPLE_PASSWORD)
    qtbot.keyClicks(dlg.import_password.confirm, samples.SAMPLE_PASSWORD)
    assert not dlg.import_button.isEnabled()  # no phrase yet
    dlg.phrase_edit.setPlainText(" ".join(samples.SAMPLE_WORDS[:12]))
    assert dlg.import_button.isEnabled()
    dlg.tabs.setCurrentIndex(2)
    assert not dlg.import_button.isEnabled()
    assert not dlg.load_keystore_file(tmp_path / "missing.json")
    assert dlg.import_banner.isVisible()
    ks = tmp_path / "UTC--key.json"
    ks.write_text('{"version": 3}', encoding="utf-8")
    assert dlg.load_keystore_file(ks)
    qtbot.keyClicks(dlg.keystore_password, "file password")
    click(qtbot, dlg.import_button)
    qtbot.waitUntil(lambda: dlg.current() == "done", timeout=WAIT)
    assert "import_keystore" in svc.calls


# -- pages ------------------------------------------------------------------------------

def test_holdings_search_filters_the_table_by_typing(qtbot) -> None:
    page = IndexPage()
    qtbot.addWidget(page)
    page.show_state(sample_state())
    page.show_history(sample_nav_history())
    page.resize(1100, 760)
    page.show()
    assert len(page.table.visible_symbols()) == 100
    qtbot.keyClicks(page.table.search_edit, "sol")
    assert page.table.visible_symbols() == ["SOL"]
    type_into(qtbot, page.table.search_edit, "BIT")
    # Bitcoin, Bitcoin Cash, Bittensor, BitTorrent, and ArBITrum by its name.
    assert set(page.table.visible_symbols()) == {"BTC", "BCH", "TAO", "BTT", "ARB"}
    assert page.table.count_label.text() == "5 of 100"
    page.table.search_edit.clear()
    assert len(page.table.visible_symbols()) == 100


def test_index_page_shows_state_and_buttons_emit(qtbot) -> None:
    page = IndexPage()
    qtbot.addWidget(page)
    st = sample_state()
    page.show_state(st)
    assert page.price_tile.nav_label.text() == "1.2835"
    assert "100 constituents" in page.header.subtitle.text()
    assert page.facts.text("fees") == "0.25% / 0.25%"
    with qtbot.waitSignal(page.buyRequested, timeout=1_000):
        click(qtbot, page.buy_button)
    with qtbot.waitSignal(page.strategyRequested, timeout=1_000):
        click(qtbot, page.strategy_button)


def window_with(qtbot, svc: samples.SampleService, **kw) -> tuple[MainWindow, Controller]:  # noqa: ANN001, ANN003
    win = MainWindow()
    qtbot.addWidget(win)
    ctl = Controller(svc, win, auto_onboard=False, **kw)
    win.resize(1280, 800)
    win.show()
    ctl.start()
    settle(qtbot)
    return win, ctl


def test_lock_screen_appears_after_the_idle_timeout_and_unlocks(qtbot) -> None:
    svc = samples.SampleService(unlocked=True)
    # Start with a long timeout so a slow start on a loaded machine cannot lock before the
    # first look; then shorten it: the lock must follow from the timeout alone.
    win, ctl = window_with(qtbot, svc, idle_timeout_ms=600_000)
    assert not win.is_locked_screen()
    ctl.idle.set_timeout_ms(300)
    qtbot.waitUntil(win.is_locked_screen, timeout=5_000)
    assert not svc.is_unlocked()
    overlay = win.lock_overlay
    assert overlay.geometry() == win.centralWidget().rect()  # covers everything
    qtbot.keyClicks(overlay.password, "nope")
    qtbot.keyClick(overlay.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: overlay.error.isVisible(), timeout=3_000)
    type_into(qtbot, overlay.password, samples.SAMPLE_PASSWORD)
    click(qtbot, overlay.unlock_button)
    qtbot.waitUntil(lambda: not win.is_locked_screen(), timeout=3_000)
    assert svc.is_unlocked()
    ctl.shutdown()


def test_activity_postpones_the_idle_lock(qtbot) -> None:
    svc = samples.SampleService(unlocked=True)
    # A timeout far longer than any stall of a loaded machine; the test reads the watcher's
    # own clock of the last input, so it checks that input restarts the countdown without
    # racing a short timeout (at 400 ms it locked under load before the first input).
    win, ctl = window_with(qtbot, svc, idle_timeout_ms=600_000)
    # Input the way the platform delivers it: to the window, which routes it to widgets.
    handle = win.windowHandle()
    for i in range(3):
        qtbot.wait(300)
        quiet = ctl.idle.ms_since_activity()
        assert quiet >= 280
        QTest.mouseMove(handle, QPoint(300 + 10 * i, 300))
        QTest.keyClick(handle, Qt.Key.Key_Shift)
        assert ctl.idle.ms_since_activity() < quiet  # the countdown started again
    assert not win.is_locked_screen()
    ctl.shutdown()


def test_offline_keeps_the_data_and_says_how_old_it_is(qtbot) -> None:
    svc = samples.SampleService()
    win, ctl = window_with(qtbot, svc)
    nav_before = win.index_page.price_tile.nav_label.text()
    svc.fail["refresh_status"] = samples.RpcUnavailable()
    ctl.refresh_status()
    settle(qtbot)
    assert win.offline
    assert win.index_page.price_tile.nav_label.text() == nav_before
    assert win.index_page.price_tile.is_offline()
    assert "figures shown are from" in win.notice.message.text()
    assert win.age_label.text().startswith("Offline \u00b7 showing data from")
    assert not win.index_page.buy_button.isEnabled()
    ctl.refresh_status()  # back online
    settle(qtbot)
    assert not win.offline and win.index_page.buy_button.isEnabled()
    ctl.shutdown()


def test_status_bar_shows_network_block_and_connection(qtbot) -> None:
    win, ctl = window_with(qtbot, samples.SampleService())
    assert win.conn_label.text() == "\u25cf Connected"
    assert "chain 31337" in win.network_label.text()
    assert win.block_label.text() == "Block 1,204,331"
    ctl.shutdown()


def test_pending_transaction_can_be_sped_up_and_csv_exported(qtbot, tmp_path: Path) -> None:
    svc = samples.SampleService(unlocked=True)
    win, ctl = window_with(qtbot, svc)
    click(qtbot, win.nav_buttons["transactions"])
    settle(qtbot)
    page = win.tx_page
    assert page.records[0].status is TxStatus.PENDING
    page.tx_table.selectRow(1)
    assert not page.speed_button.isEnabled()  # confirmed: nothing to replace
    page.tx_table.selectRow(0)
    click(qtbot, page.speed_button)
    settle(qtbot)
    assert "speed_up" in svc.calls
    assert page.banner.title.text() == "Transaction sped up"
    page.tx_table.selectRow(0)
    click(qtbot, page.cancel_button)
    settle(qtbot)
    assert "cancel" in svc.calls
    out = tmp_path / "tx.csv"
    page.exportRequested.emit(out)
    settle(qtbot)
    assert out.read_text().startswith("tx_hash,")
    assert page.banner.title.text() == "Exported 6 transactions"
    ctl.shutdown()


def test_settings_refuse_a_custom_network_without_chain_id_and_switch_theme(qtbot) -> None:
    svc = samples.SampleService()
    win, ctl = window_with(qtbot, svc)
    click(qtbot, win.nav_buttons["settings"])
    sp = win.settings_page
    sp.network_combo.setCurrentIndex(sp.network_combo.findData("custom"))
    type_into(qtbot, sp.rpc_edit, "https://rpc.example.org")
    click(qtbot, sp.save_button)
    assert sp.banner.isVisible() and "chain id" in sp.banner.message.text()
    assert "save_settings" not in svc.calls
    qtbot.keyClicks(sp.chain_edit, "8453")
    click(qtbot, sp.save_button)
    settle(qtbot)
    assert svc.settings.network == "custom" and svc.settings.chain_id == 8453
    click(qtbot, sp.theme_buttons["dark"])
    settle(qtbot)
    assert theme_manager().palette is PALETTES["dark"]
    assert QApplication.instance().styleSheet() == load_stylesheet("dark")
    assert win.styleSheet() == screens_stylesheet(PALETTES["dark"])
    assert svc.settings.theme == "dark"
    click(qtbot, sp.theme_buttons["light"])
    settle(qtbot)
    ctl.shutdown()


def test_my_indices_shows_position_and_trades(qtbot) -> None:
    win, ctl = window_with(qtbot, samples.SampleService())
    click(qtbot, win.nav_buttons["my"])
    page = win.my_page
    assert page.value.value.text() == "$2,499.96"
    assert page.shares.value.text() == "1,947.8120"
    assert page.pnl.value.text() == "+$189.96"
    assert page.table.rowCount() == 4
    assert page.sell_button.isEnabled()
    ctl.shutdown()


def test_no_wallet_opens_onboarding_from_my_indices(qtbot) -> None:
    svc = samples.SampleService(has_wallet=False)
    win, ctl = window_with(qtbot, svc)
    click(qtbot, win.nav_buttons["my"])
    assert win.my_page.stack.currentIndex() == 1
    assert not win.index_page.buy_button.isEnabled()
    click(qtbot, win.my_page.empty_button)
    assert isinstance(ctl.dialog, OnboardingDialog) and ctl.dialog.isVisible()
    ctl.dialog.reject()
    ctl.shutdown()


# -- application entry --------------------------------------------------------------------

def test_no_display_is_said_clearly_instead_of_crashing() -> None:
    from ui.app import display_problem

    assert display_problem({}, "linux") is not None
    assert "xvfb-run" in (display_problem({}, "linux") or "")
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "ui.app"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 2
    assert "No display found" in proc.stderr and "Traceback" not in proc.stderr


def test_worker_drops_results_for_a_closed_dialog(qtbot) -> None:
    import time

    from PySide6.QtWidgets import QDialog

    got: list[object] = []
    dlg = QDialog()
    worker.submit(lambda: (time.sleep(0.2), 42)[1], on_done=got.append, context=dlg)
    dlg.deleteLater()  # closed and gone before the (slow) call returns
    qtbot.wait(50)
    assert worker.wait_idle(WAIT)
    assert got == []
    worker.submit(lambda: 7, on_done=got.append)
    assert worker.wait_idle(WAIT)
    assert got == [7]


def test_claims_card_lists_what_the_vault_keeps_and_claim_emits_kind_and_token(qtbot
                                                                              ) -> None:
    """My Indices shows the claims card only when something is claimable; Claim emits the
    selected claim's kind and token (the controller signs it through the facade)."""
    from ui.pages.my_indices_page import MyIndicesPage
    from wallet_app.services.claims import ClaimRow

    page = MyIndicesPage()
    qtbot.addWidget(page)
    page.show()
    card = page.claims_card
    page.show_claims([])
    assert card.isHidden()
    token = "0x" + "ab" * 20
    page.show_claims([ClaimRow("usdc", "0x" + "33" * 20, "USDC", Decimal("12.5"), 12_500_000),
                      ClaimRow("in_kind", token, "T0", Decimal("0.25"), 25 * 10**16)])
    assert not card.isHidden() and card.table.rowCount() == 2
    assert card.table.item(1, 2).text().startswith("T0 0xabab")
    assert not card.claim_button.isEnabled()  # two rows, none selected
    card.table.selectRow(1)
    assert card.claim_button.isEnabled()
    with qtbot.waitSignal(page.claimRequested, timeout=2000) as sig:
        QTest.mouseClick(card.claim_button, Qt.MouseButton.LeftButton)
    assert sig.args == ["in_kind", token]
    assert not card.claim_button.isEnabled()  # one click, one claim
