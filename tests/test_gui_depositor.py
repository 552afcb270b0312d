"""A depositor's checks by clicks: the real facade, a real Anvil devnet, the real keyring.

The owner schedules a new BTC price feed through the pinned timelock with a 31 h delay
(a real pending operation; the devnet's minimum delay is 0, ``schedule`` takes any delay
above it). The Index page then shows it with its time, the buy preview warns about it,
the Strategy dialog's Rule check tab says the vault matches the rules after a weekly
rebalance, and the in-kind exit is done by clicks: the tokens arrive and the shares are
burned, checked against the vault's RedeemedInKind event. Screenshots of the notice in
light and dark go to ``$G100_SCREENSHOT_DIR`` (default: the test's temp dir).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.logs import DISCARD  # noqa: E402

from tests.gui_support import click, open_app  # noqa: E402
from tests.test_depositor_checks import schedule_feed_change  # noqa: E402
from tests.wallet_support import forget_wallet, new_funded_wallet  # noqa: E402
from ui import worker  # noqa: E402
from ui.app import apply_theme, create_app  # noqa: E402
from ui.dialogs.buy_dialog import BuyDialog  # noqa: E402
from ui.dialogs.inkind_dialog import InKindDialog  # noqa: E402
from ui.dialogs.strategy_dialog import StrategyDialog  # noqa: E402
from wallet_app.config import Settings  # noqa: E402
from wallet_app.devnet import artifacts  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

WAIT = 90_000


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def shot(widget, name: str, tmp_path: Path) -> Path:  # noqa: ANN001
    folder = Path(os.environ.get("G100_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    assert widget.grab().save(str(path))
    return path


def test_pending_change_buy_warning_rule_check_and_exit_in_kind(
        qtbot, devnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    paths, dev = devnet
    svc, name = new_funded_wallet(monkeypatch, paths, "gui-depositor",
                                  Settings(network="devnet", lock_timeout_minutes=30))
    svc.buy(svc.quote_buy(Decimal("2000")))
    for _ in range(8):  # to the market calendar's Monday: a rebalance with its snapshot
        if svc.advance_market(1)[-1].rebalanced is not None:
            break
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    op = schedule_feed_change(w3, dev)

    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        # The Index page shows the pending change with its time of effect.
        banner = win.index_page.governance_banner
        qtbot.waitUntil(banner.isVisible, timeout=WAIT)
        assert banner.title.text() == "BTC's price feed changes in 31 h " + \
            f"({ctl.depositor.changes[0].ready_at:%d %b %H:%M} UTC)"
        assert "in-kind exit" in banner.message.text()
        assert banner.kind() == "warning" and banner.primary.text() == "Exit in kind"
        assert ctl.depositor.changes[0].op_id == "0x" + op.hex()
        qtbot.waitUntil(lambda: win.index_page.state is not None, timeout=WAIT)
        shot(win, "governance-notice-light.png", tmp_path)
        apply_theme("dark")
        shot(win, "governance-notice-dark.png", tmp_path)
        apply_theme("light")

        # The buy preview warns: what changes, when, and that the in-kind exit stays.
        click(qtbot, win.index_page.buy_button)
        qtbot.waitUntil(lambda: isinstance(ctl.dialog, BuyDialog), timeout=WAIT)
        buy: BuyDialog = ctl.dialog  # type: ignore[assignment]
        qtbot.keyClicks(buy.amount_edit, "100")
        qtbot.waitUntil(lambda: buy.quote is not None and buy.confirm_button.isEnabled(),
                        timeout=WAIT)
        warn = buy.governance_banner
        qtbot.waitUntil(warn.isVisible, timeout=WAIT)
        assert warn.isVisibleTo(buy.preview_card)
        assert "BTC's price feed changes in 31 h" in warn.title.text()
        assert "applies to the shares you buy now" in warn.message.text()
        assert "in-kind exit" in warn.message.text()
        shot(buy, "governance-buy-preview-light.png", tmp_path)
        buy.reject()
        qtbot.waitUntil(lambda: ctl.dialog is None, timeout=WAIT)

        # The Strategy dialog's Rule check: the weekly rebalance matches the rules.
        click(qtbot, win.index_page.strategy_button)
        qtbot.waitUntil(lambda: isinstance(ctl.dialog, StrategyDialog), timeout=WAIT)
        strategy: StrategyDialog = ctl.dialog  # type: ignore[assignment]
        strategy.tabs.setCurrentWidget(strategy.rule_check)
        qtbot.waitUntil(lambda: strategy.rule_check.report is not None, timeout=WAIT)
        assert strategy.rule_check.verdict.text() == "\u2713 Matches the rules"
        assert not strategy.rule_check.table.isVisible()
        shot(strategy, "rule-check-light.png", tmp_path)
        strategy.accept()

        # The in-kind exit by clicks, from My Indices.
        win.navigate("my")
        my = win.my_page
        qtbot.waitUntil(lambda: my.exit_button.isVisible() and my.exit_button.isEnabled(),
                        timeout=WAIT)
        vault = w3.eth.contract(address=dev.deployment.vault,
                                abi=artifacts.load("IndexVault").abi)
        addr = svc.active_address()
        shares = vault.functions.balanceOf(addr).call()
        assert shares > 0
        click(qtbot, my.exit_button)
        qtbot.waitUntil(lambda: isinstance(ctl.dialog, InKindDialog), timeout=WAIT)
        dlg: InKindDialog = ctl.dialog  # type: ignore[assignment]
        qtbot.waitUntil(lambda: dlg.quote is not None, timeout=WAIT)
        assert dlg.table.rowCount() == len(dlg.quote.lines) >= 90
        assert dlg.table.item(0, 0).text() in ("BTC", "ETH")  # the largest (capped) first
        shot(dlg, "exit-in-kind-light.png", tmp_path)
        btc = dev.deployment.token("BTC").address
        erc = w3.eth.contract(address=btc, abi=artifacts.load("DevToken").abi)
        btc0 = erc.functions.balanceOf(addr).call()
        click(qtbot, dlg.confirm_button)
        qtbot.waitUntil(lambda: dlg.result is not None or dlg.banner.kind() == "error",
                        timeout=WAIT)
        assert dlg.result is not None, dlg.banner.message.text()
        assert dlg.banner.title.text() == "Redeemed in kind"
        assert vault.functions.balanceOf(addr).call() == 0
        receipt = w3.eth.get_transaction_receipt(dlg.result.tx_hash)
        ev = vault.events.RedeemedInKind().process_receipt(receipt, errors=DISCARD)
        assert len(ev) == 1 and ev[0]["args"]["shares"] == shares
        paid = dict(zip(ev[0]["args"]["tokens"], ev[0]["args"]["amounts"], strict=True))
        assert erc.functions.balanceOf(addr).call() - btc0 == paid[btc] > 0
        click(qtbot, dlg.cancel_button)  # now "Close"
        qtbot.waitUntil(lambda: not my.exit_button.isEnabled(), timeout=WAIT)
    finally:
        ctl.shutdown()
        assert worker.wait_idle(WAIT)
        forget_wallet(svc, name)
