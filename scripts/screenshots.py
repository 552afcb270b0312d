#!/usr/bin/env python
"""Render every screen and dialog of the wallet at 1280x800 to ``screenshots/*.png``.

Two sources of data:

* ``--source devnet`` (the default when ``wallet_app.facade`` and the embedded devnet are
  available): the real WalletService against a local Anvil devnet the script starts and
  deploys, with a throw-away app home and a wallet created through the onboarding dialog,
  a real buy and a real sell. What you see is what a user gets.
* ``--source sample``: ``ui.pages.samples.SampleService`` (SAMPLE DATA, no network), for
  machines without the devnet tools. The devnet run also renders this set into
  ``screenshots/sample/`` for states a live chain cannot hold still (a pending
  transaction, the offline banner, a wallet without ETH, no wallet yet).

Each dialog is shown over the main window as a user would see it: the window is grabbed,
dimmed, and the dialog painted centred on top. Run through ``scripts/screenshots.sh``
(``make screenshots``), which sets ``QT_QPA_PLATFORM=offscreen``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ui.app import apply_theme, create_app  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))  # the sibling helper module below
from screenshot_tools import SIZE, Shooter, settle, wait_for  # noqa: E402

# -- sample mode ------------------------------------------------------------------------

def run_sample(shots: Shooter) -> None:
    from ui.controller import Controller
    from ui.dialogs.strategy_dialog import StrategyDialog
    from ui.dialogs.unlock_dialog import UnlockDialog
    from ui.main_window import MainWindow
    from ui.pages import samples
    from ui.sample_data import SAMPLE_AS_OF, sample_state
    from wallet_app.models import Regime

    clock = lambda: SAMPLE_AS_OF  # noqa: E731 - a fixed clock for stable pictures

    def make(has_wallet: bool = True, theme: str = "light") -> tuple[Any, Any, Any]:
        apply_theme(theme)
        svc = samples.SampleService(has_wallet=has_wallet)
        win = MainWindow(clock=clock)
        ctl = Controller(svc, win, auto_onboard=False, clock=clock, idle_timeout_ms=10**8)
        win.resize(SIZE)
        win.show()
        ctl.start()
        settle(100)
        return svc, win, ctl

    svc, win, ctl = make()
    shots.save("01_index", win)
    win.index_page.table.set_search("bit")
    shots.save("02_index_search", win)
    win.index_page.table.set_search("")
    win.navigate("my")
    shots.save("03_my_indices", win)
    win.navigate("transactions")
    settle()
    win.tx_page.tx_table.selectRow(0)
    shots.save("04_transactions", win)
    win.navigate("settings")
    shots.save("05_settings", win)

    # Buy flow
    win.navigate("index")
    dlg = ctl.open_buy()
    assert dlg is not None
    dlg.amount_edit.setText("12,5x")
    settle(50)
    shots.save("10_buy_amount_error", win, dlg)
    dlg.amount_edit.setText("250")
    settle(500)
    shots.save("11_buy_preview", win, dlg)
    svc.fail["quote_buy"] = samples.TransactionReverted(
        "the price moved beyond your maximum slippage (minimum shares not met).",
        error_name="SlippageExceeded")
    dlg.slippage_buttons["10"].click()
    settle(500)
    shots.save("12_buy_error_slippage", win, dlg)
    svc.fail["quote_buy"] = samples.InsufficientFundsForGas()
    dlg.slippage_buttons["50"].click()
    settle(500)
    shots.save("13_buy_error_gas", win, dlg)
    dlg.slippage_buttons["100"].click()
    settle(500)
    svc.unlocked = True
    dlg.steps.advance_to("broadcast")
    dlg.pages.setCurrentWidget(dlg.progress_page)
    dlg.progress_message.setText("Broadcast, waiting for the network")
    dlg._set_hash("0x" + "b1" * 32)
    shots.save("14_buy_progress", win, dlg)
    dlg.pages.setCurrentWidget(dlg.form_page)
    dlg.confirm()
    settle(200)
    shots.save("15_buy_done", win, dlg)
    dlg.accept()
    settle()

    # Sell flow
    win.navigate("my")
    sdlg = ctl.open_sell()
    assert sdlg is not None
    sdlg.quick(50)
    settle(500)
    shots.save("20_sell_preview", win, sdlg)
    sdlg.set_mode("shares")
    sdlg.amount_edit.setText("1900")
    settle(500)
    shots.save("21_sell_liquidation", win, sdlg)
    sdlg.confirm()
    settle(200)
    shots.save("22_sell_done", win, sdlg)
    sdlg.accept()
    settle()

    # Strategy and unlock dialogs
    win.navigate("index")
    sd = StrategyDialog(svc.strategy(), win)
    sd.show()
    shots.save("30_strategy", win, sd)
    sd.tabs.setCurrentIndex(1)
    shots.save("32_strategy_regime_history", win, sd)
    sd.tabs.setCurrentIndex(2)
    shots.save("33_strategy_performance", win, sd)
    sd.close()
    svc.unlocked = False
    ud = UnlockDialog(svc, "Main", "Enter the wallet's password to sign this trade.", win)
    ud.show()
    ud.password.setText("not the password")
    ud.try_unlock()
    settle(100)
    shots.save("31_unlock_wrong_password", win, ud)
    ud.close()

    # Onboarding
    svc2, win2, ctl2 = make(has_wallet=False)
    shots.save("06_my_indices_no_wallet", win2)
    ob = ctl2.open_onboarding()
    settle()
    shots.save("40_onboarding_welcome", win2, ob)
    ob.go("create")
    ob.create_password.password.setText("hunter2")
    ob.create_password.confirm.setText("hunter2")
    shots.save("41_onboarding_weak_password", win2, ob)
    ob.create_password.password.setText(samples.SAMPLE_PASSWORD)
    ob.create_password.confirm.setText(samples.SAMPLE_PASSWORD)
    shots.save("42_onboarding_password_ok", win2, ob)
    ob.create_button.click()
    settle(100)
    shots.save("43_onboarding_phrase", win2, ob)
    ob.written_check.setChecked(True)
    ob.to_check_button.click()
    settle()
    for pos, edit in ob.check_edits.items():
        edit.setText("wrong" if pos == ob.positions[-1] else samples.SAMPLE_WORDS[pos - 1])
    ob.verify_backup()
    settle(100)
    shots.save("44_onboarding_backup_wrong", win2, ob)
    ob.check_edits[ob.positions[-1]].setText(samples.SAMPLE_WORDS[ob.positions[-1] - 1])
    ob.verify_backup()
    settle(100)
    shots.save("45_onboarding_ready", win2, ob)
    ob.accept()
    ob2 = ctl2.open_onboarding(first_run=False)
    ob2.go("import")
    ob2.phrase_edit.setPlainText(" ".join(["word"] * 12))
    ob2.import_password.password.setText(samples.SAMPLE_PASSWORD)
    ob2.import_password.confirm.setText(samples.SAMPLE_PASSWORD)
    shots.save("46_onboarding_import", win2, ob2)
    ob2.reject()

    # Offline, lock, dark and bear
    svc.fail["refresh_status"] = samples.RpcUnavailable()
    ctl.refresh_status()
    settle(100)
    win.set_data_time(SAMPLE_AS_OF - timedelta(minutes=2))
    shots.save("50_offline", win)
    ctl.refresh_status()
    settle(100)
    svc.unlocked = True
    ctl.idle.set_timeout_ms(5 * 60_000)
    ctl.on_idle()
    settle()
    shots.save("51_lock_screen", win)
    win.hide_lock()
    apply_theme("dark")
    settle(100)
    shots.save("60_index_dark", win)
    win.navigate("my")
    shots.save("61_my_indices_dark", win)
    win.navigate("index")
    dlg = ctl.open_buy()
    assert dlg is not None
    dlg.amount_edit.setText("1000")
    settle(500)
    shots.save("62_buy_preview_dark", win, dlg)
    dlg.reject()
    sd = StrategyDialog(svc.strategy(), win)
    sd.show()
    sd.tabs.setCurrentIndex(1)
    shots.save("64_strategy_regime_history_dark", win, sd)
    sd.tabs.setCurrentIndex(2)
    shots.save("65_strategy_performance_dark", win, sd)
    sd.close()
    apply_theme("light")
    win.index_page.show_state(sample_state(Regime.BEAR))
    shots.save("63_index_bear", win)


# -- devnet mode ------------------------------------------------------------------------

def facade_available() -> bool:
    return (importlib.util.find_spec("wallet_app.facade") is not None
            and importlib.util.find_spec("wallet_app.devnet.embedded") is not None)


@contextlib.contextmanager
def devnet_home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="g100-shots-") as tmp:
        os.environ["G100_HOME"] = str(Path(tmp) / "home")
        yield Path(tmp)


def run_devnet(shots: Shooter) -> None:  # pragma: no cover - exercised by make screenshots
    """The real app on a real devnet: every figure on these pictures is live chain data."""
    from decimal import Decimal

    from web3 import Web3

    from ui.controller import Controller
    from ui.dialogs.unlock_dialog import UnlockDialog
    from ui.main_window import MainWindow
    from wallet_app.devnet import process
    from wallet_app.devnet.deploy import pool_price, set_prices
    from wallet_app.devnet.embedded import ensure_devnet
    from wallet_app.facade import WalletService

    dev = ensure_devnet(port=process.free_port(), progress=print)
    svc = WalletService()
    try:
        svc.connect()
        # The devnet's seeded market is Bull at the start and flips to Bear ~23 days on;
        # 15 days give a NAV history while the index still holds its 100 assets.
        print("advancing the simulated market 15 days for a NAV history", flush=True)
        svc.advance_market(15)
        apply_theme("light")
        win = MainWindow()
        ctl = Controller(svc, win, status_interval_ms=2_000, idle_timeout_ms=10**8)
        win.resize(SIZE)
        win.show()
        ctl.start()
        wait_for(lambda: ctl.status is not None and ctl.status.connected, what="connect")
        wait_for(lambda: ctl.state is not None, what="index state")

        # Onboarding, for real: the phrase on the picture is this throw-away devnet wallet's.
        wait_for(lambda: ctl.dialog is not None and ctl.dialog.isVisible(), what="onboarding")
        ob = ctl.dialog
        shots.save("40_onboarding_welcome", win, ob)
        ob.go("create")
        ob.name_edit.setText("Main")
        ob.create_password.password.setText("hunter2")
        ob.create_password.confirm.setText("hunter2")
        shots.save("41_onboarding_weak_password", win, ob)
        password = "shots " + secrets.token_urlsafe(12)  # throw-away devnet wallet
        ob.create_password.password.setText(password)
        ob.create_password.confirm.setText(password)
        shots.save("42_onboarding_password_ok", win, ob)
        ob.create_button.click()
        wait_for(lambda: ob.current() == "phrase", what="phrase")
        shots.save("43_onboarding_phrase", win, ob)
        words = [lab.text().split(". ", 1)[1] for lab in ob.word_labels]
        ob.written_check.setChecked(True)
        ob.to_check_button.click()
        settle()
        for i, (pos, edit) in enumerate(ob.check_edits.items()):
            edit.setText("wrong" if i == 2 else words[pos - 1])
        ob.verify_backup()
        wait_for(ob.check_banner.isVisible, what="backup refused")
        shots.save("44_onboarding_backup_wrong", win, ob)
        last = ob.positions[-1]
        ob.check_edits[last].setText(words[last - 1])
        ob.verify_backup()
        wait_for(lambda: ob.current() == "done", what="backup ok")
        shots.save("45_onboarding_ready", win, ob)
        ob.accept()
        settle()
        ob2 = ctl.open_onboarding(first_run=False)
        ob2.go("import")
        ob2.phrase_edit.setPlainText("12 words of an existing wallet would be typed here ...")
        ob2.import_password.password.setText(password)
        ob2.import_password.confirm.setText(password)
        shots.save("46_onboarding_import", win, ob2)
        ob2.reject()

        # Test funds, then the Index screen with a wallet.
        win.navigate("my")
        wait_for(win.my_page.faucet_button.isVisible, what="faucet button")
        win.my_page.faucet_button.click()
        wait_for(lambda: ctl.position is not None and ctl.position.usdc_balance > 0,
                 what="funds")
        win.navigate("index")
        win.dismiss_notice()
        settle(300)
        shots.save("01_index", win)
        win.index_page.table.set_search("bit")
        shots.save("02_index_search", win)
        win.index_page.table.set_search("")

        # Receive, contacts, accounts, watch-only, light and dark (scripts/screenshots_book.py),
        # before the trades so that a failure there cannot cost these pictures.
        from screenshots_book import prepare, shoot_book

        prepare(svc, password, dev.deployment.roles["deployer"])
        with tempfile.TemporaryDirectory(prefix="g100-book-") as book_tmp:
            for theme in ("light", "dark"):
                apply_theme(theme)
                shoot_book(shots, win, ctl, svc, theme, wait_for, settle, Path(book_tmp))
        apply_theme("light")
        win.navigate("index")

        # Buy: bad amount, preview, a real slippage revert, progress, done.
        dlg = ctl.open_buy()
        wait_for(dlg.max_button.isEnabled, what="balance")
        dlg.amount_edit.setText("12,5x")
        settle(60)
        shots.save("10_buy_amount_error", win, dlg)
        dlg.amount_edit.setText("2500")
        wait_for(lambda: dlg.quote is not None, what="quote")
        shots.save("11_buy_preview", win, dlg)
        dlg.slippage_buttons["10"].click()
        wait_for(lambda: dlg.quote is not None and dlg.quote.slippage_bps == 10, what="quote")
        w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
        top = sorted(ctl.state.holdings, key=lambda h: -h.weight_bps)[:3]
        set_prices(w3, dev.deployment, {h.symbol: pool_price(w3, dev.deployment, h.symbol)
                                        * Decimal("1.2") for h in top if h.token},
                   refresh_nav=True)
        dlg.confirm()
        # v2: the request is made, then refunded at the strike below its minimum (the
        # strike prices it after the jump), or refused before signing when the preview
        # already sees the move.
        wait_for(lambda: dlg.banner.isVisible() or dlg.pages.currentWidget() is dlg.done_page,
                 what="refund below the minimum")
        if dlg.pages.currentWidget() is dlg.done_page:
            shots.save("12_buy_refunded_below_minimum", win, dlg)
            dlg.accept()
            settle(100)
            dlg = ctl.open_buy()
            wait_for(dlg.max_button.isEnabled, what="balance")
            dlg.amount_edit.setText("2500")
        else:
            shots.save("12_buy_error_slippage", win, dlg)
        dlg.slippage_buttons["50"].click()
        wait_for(lambda: dlg.quote is not None and dlg.quote.slippage_bps == 50, what="quote")
        original = dlg.on_progress
        taken: list[bool] = []

        def progress_and_shoot(message: str) -> None:
            original(message)
            if message.startswith("Sent") and not taken:
                taken.append(True)
                shots.save("14_buy_progress", win, dlg, wait=False)

        dlg.on_progress = progress_and_shoot  # type: ignore[method-assign]
        dlg.confirm()
        wait_for(lambda: dlg.pages.currentWidget() is dlg.done_page, what="buy done")
        wait_for(lambda: dlg.position_grid.text("shares") != "\u2014", what="position")
        shots.save("15_buy_done", win, dlg)
        dlg._view_position()
        print("advancing the market 3 days so the position moves", flush=True)
        svc.advance_market(3)
        ctl.refresh_all()
        settle(300)
        wait_for(lambda: win.my_page.table.rowCount() >= 1, what="trades")
        shots.save("03_my_indices", win)

        # Sell.
        sdlg = ctl.open_sell()
        sdlg.quick(50)
        wait_for(lambda: sdlg.quote is not None, what="sell quote")
        shots.save("20_sell_preview", win, sdlg)
        sdlg.confirm()
        wait_for(lambda: sdlg.pages.currentWidget() is sdlg.done_page, what="sell done")
        shots.save("22_sell_done", win, sdlg)
        sdlg.accept()
        ctl.refresh_all()
        settle(300)
        win.navigate("transactions")
        wait_for(lambda: len(win.tx_page.records) >= 2, what="journal")
        win.tx_page.tx_table.selectRow(0)
        shots.save("04_transactions", win)
        win.navigate("settings")
        shots.save("05_settings", win)

        # A request left waiting (the keeper holds off): "requested", then the pending cards.
        svc.trading.auto_strike = False
        win.navigate("index")
        rdlg = ctl.open_buy()
        wait_for(rdlg.max_button.isEnabled, what="balance")
        rdlg.amount_edit.setText("300")
        wait_for(lambda: rdlg.quote is not None, what="quote")
        rdlg.confirm()
        wait_for(lambda: rdlg.pages.currentWidget() is rdlg.done_page, what="requested")
        shots.save("16_buy_requested", win, rdlg)
        rdlg.accept()
        ctl.refresh_all()
        win.navigate("my")
        wait_for(lambda: win.my_page.requests_table.rowCount() == 1, what="pending card")
        win.my_page.select_request(win.my_page.requests[0].request_id)
        shots.save("06_my_indices_pending", win)
        win.navigate("transactions")
        wait_for(lambda: win.tx_page.requests_card.table.rowCount() == 1, what="tx pending")
        shots.save("07_transactions_pending", win)
        apply_theme("dark")
        settle(200)
        shots.save("64_transactions_pending_dark", win)
        win.navigate("my")
        shots.save("63_my_indices_pending_dark", win)
        apply_theme("light")
        settle(100)
        # Past its 5 s devnet cut-off by now: the keeper settles it at its next strike.
        svc.trading.auto_strike = True
        ctl.refresh_all()
        settle(300)

        # Strategy, unlock, lock screen.
        win.navigate("index")
        ctl.open_strategy()
        wait_for(lambda: ctl.dialog is not None and ctl.dialog.isVisible()
                 and type(ctl.dialog).__name__ == "StrategyDialog", what="strategy")
        shots.save("30_strategy", win, ctl.dialog)
        ctl.dialog.tabs.setCurrentIndex(1)
        shots.save("32_strategy_regime_history", win, ctl.dialog)
        ctl.dialog.tabs.setCurrentIndex(2)
        shots.save("33_strategy_performance", win, ctl.dialog)
        ctl.dialog.accept()
        svc.lock()
        ud = UnlockDialog(svc, "Main", "Enter the wallet's password to sign this trade.", win)
        ud.show()
        ud.password.setText("not the password")
        ud.try_unlock()
        wait_for(ud.error_label.isVisible, what="wrong password")
        shots.save("31_unlock_wrong_password", win, ud)
        ud.close()
        ctl.idle.set_timeout_ms(5 * 60_000)
        ctl.on_idle()
        shots.save("51_lock_screen", win)
        win.lock_overlay.password.setText(password)
        win.lock_overlay._submit()
        wait_for(lambda: not win.is_locked_screen(), what="unlock")

        # Dark theme.
        apply_theme("dark")
        settle(200)
        shots.save("60_index_dark", win)
        win.navigate("my")
        shots.save("61_my_indices_dark", win)
        win.navigate("index")
        dlg = ctl.open_buy()
        wait_for(dlg.max_button.isEnabled, what="balance")
        dlg.amount_edit.setText("1000")
        wait_for(lambda: dlg.quote is not None, what="quote")
        shots.save("62_buy_preview_dark", win, dlg)
        dlg.reject()
        sdlg = ctl.open_sell()
        sdlg.quick(50)
        wait_for(lambda: sdlg.quote is not None, what="sell quote")
        shots.save("65_sell_preview_dark", win, sdlg)
        sdlg.reject()
        apply_theme("light")
        ctl.shutdown()
    finally:
        svc.close()
        process.down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--source", choices=("auto", "devnet", "sample", "book"),
                        default="auto")
    args = parser.parse_args()
    create_app(sys.argv[:1])
    shots = Shooter(args.out)
    source = args.source
    if source == "auto":
        source = "devnet" if facade_available() else "sample"
    print(f"rendering with {source} data", flush=True)
    if source == "book":  # only receive, contacts, accounts, watch-only (quick look)
        from screenshots_book import run_book

        with devnet_home():
            run_book(shots, wait_for, settle)
    elif source == "devnet":
        with devnet_home():
            run_devnet(shots)
        # States a live chain cannot hold still for a picture (a pending transaction, the
        # offline banner, a wallet without ETH, no wallet at all): the stand-in service.
        extra = Shooter(args.out / "sample")
        run_sample(extra)
        shots.written += extra.written
    else:
        run_sample(shots)
    print(f"{len(shots.written)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
