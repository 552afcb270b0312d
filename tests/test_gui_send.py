"""Send and Approvals by clicks: the real facade, a real Anvil devnet, the real keyring,
the real window.

Send: a mixed-case address with a bad checksum refused as typed; the USDC contract and the
vault refused; a contract recipient blocked until its box is ticked; the first transfer to
an address warned about, sent and verified; a look-alike of that address (same first and
last four hex characters) shown side by side and blocked until confirmed; ETH Max leaves
exactly the network fee; a pending transfer (automine off) sped up, another cancelled,
from the Transactions screen. Approvals: an unlimited allowance to an unknown spender
listed with its warning and revoked by click, verified from the Approval event.

With ``G100_SHOTS_DIR`` set, every new screen and dialog state is saved there as PNG
(``G100_SHOTS_THEME`` = light or dark).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import secrets  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from eth_account import Account  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402
from web3 import Web3  # noqa: E402

from tests.gui_support import click, close_app, home_for, open_app, type_into  # noqa: E402
from ui.app import create_app  # noqa: E402
from ui.dialogs.send_dialog import SendDialog  # noqa: E402
from wallet_app.devnet.deploy import fund  # noqa: E402
from wallet_app.facade import WalletService  # noqa: E402
from wallet_app.models import TxStatus  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "orbit lantern velvet tundra 42"
WAIT = 60_000
SHOTS = os.environ.get("G100_SHOTS_DIR", "")
THEME = os.environ.get("G100_SHOTS_THEME", "light")


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme=THEME)


def shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        for _ in range(3):  # let pending layout passes finish (a scroll bar appearing)
            QApplication.processEvents()
        widget.grab().save(str(Path(SHOTS) / f"{name}-{THEME}.png"))


def _erc20(w3: Web3, address: str) -> Any:
    from wallet_app.devnet import artifacts

    return w3.eth.contract(address=address, abi=artifacts.load("DevUSDC").abi)


def _wallet(tmp_path: Path, devnet: Any, monkeypatch: pytest.MonkeyPatch
            ) -> tuple[WalletService, str, str, Web3]:
    """A service on a fresh home with an imported key (the test acts with the same key
    elsewhere too), funded and unlocked (set-up, not UI)."""
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    devnet_paths, dev = devnet
    svc = WalletService(paths=home_for(tmp_path, devnet_paths))
    key = "0x" + secrets.token_hex(32)
    svc.import_private_key(f"s{secrets.token_hex(3)}", key, PASSWORD)
    addr = svc.active_address()
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    fund(w3, dev.deployment, addr, Decimal(2), Decimal(1_000))
    svc.unlock(PASSWORD)
    return svc, addr, key, w3


def open_send(qtbot, win, ctl) -> SendDialog:  # noqa: ANN001
    click(qtbot, win.nav_buttons["my"])
    qtbot.waitUntil(lambda: ctl.position is not None and ctl.position.usdc_balance > 0,
                    timeout=WAIT)
    click(qtbot, win.my_page.send_button)
    dlg = ctl.dialog
    assert isinstance(dlg, SendDialog)
    return dlg


def wait_preview(qtbot, dlg: SendDialog) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: dlg.quote is not None or dlg.banner.isVisible(), timeout=WAIT)
    assert not dlg.banner.isVisible(), dlg.banner.message.text()


def wait_banner(qtbot, dlg: SendDialog) -> str:  # noqa: ANN001
    qtbot.waitUntil(dlg.banner.isVisible, timeout=WAIT)
    return dlg.banner.title.text() + ": " + dlg.banner.message.text()


def tick(qtbot, box) -> None:  # noqa: ANN001
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def sent(qtbot, dlg: SendDialog) -> Any:  # noqa: ANN001
    qtbot.waitUntil(lambda: dlg.pages.currentWidget() is dlg.done_page
                    or dlg.progress_banner.isVisible()
                    or (dlg.pages.currentWidget() is dlg.form_page and dlg.banner.isVisible()),
                    timeout=WAIT)
    assert dlg.pages.currentWidget() is dlg.done_page, (
        dlg.banner.message.text() or dlg.progress_banner.message.text())
    return dlg.result


def lookalike_of(address: str) -> str:
    while True:
        cand = "0x" + address[2:6].lower() + secrets.token_hex(16) + address[-4:].lower()
        if cand.lower() != address.lower():
            return Web3.to_checksum_address(cand)


def test_send_checks_and_warnings_by_clicks(qtbot, devnet, tmp_path: Path,  # noqa: ANN001
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    svc, addr, _, w3 = _wallet(tmp_path, devnet, monkeypatch)
    rec = svc.deployment()
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        dlg = open_send(qtbot, win, ctl)
        shot(dlg, "send-empty")
        # 1. A mixed-case address whose checksum is wrong: refused as typed.
        friend = Account.create().address
        body = friend[2:]
        i = next(k for k, ch in enumerate(body) if ch.isalpha())
        bad = "0x" + body[:i] + body[i].swapcase() + body[i + 1:]
        type_into(qtbot, dlg.recipient_edit, bad)
        qtbot.keyClicks(dlg.amount_edit, "5")
        qtbot.waitUntil(dlg.recipient_error.isVisible, timeout=WAIT)
        assert "checksum" in dlg.recipient_error.text()
        assert not dlg.confirm_button.isEnabled()
        shot(dlg, "send-bad-checksum")
        # 2. The USDC contract itself and the vault are refused, saying why.
        type_into(qtbot, dlg.recipient_edit, rec.usdc)
        assert "USDC token contract" in wait_banner(qtbot, dlg)
        shot(dlg, "send-token-contract-refused")
        type_into(qtbot, dlg.recipient_edit, rec.vault)
        text = wait_banner(qtbot, dlg)
        assert "vault" in text and "Sell" in text
        assert not dlg.confirm_button.isEnabled()
        shot(dlg, "send-vault-refused")
        # 3. A contract (a constituent token, not pinned) needs the box ticked.
        token = svc.session.snapshot(addr).constituents[0].token
        type_into(qtbot, dlg.recipient_edit, token)
        type_into(qtbot, dlg.amount_edit, "1")
        wait_preview(qtbot, dlg)
        assert dlg.warning_banners["contract"].isVisible()
        assert "contract" in dlg.warning_banners["contract"].message.text()
        assert not dlg.confirm_button.isEnabled()
        tick(qtbot, dlg.confirm_checks["contract"])
        qtbot.waitUntil(dlg.confirm_button.isEnabled, timeout=WAIT)
        shot(dlg, "send-contract-confirm")
        # 4. First transfer to a fresh address: a warning, not a block; sent, verified.
        type_into(qtbot, dlg.recipient_edit, friend)
        type_into(qtbot, dlg.amount_edit, "25")
        wait_preview(qtbot, dlg)
        assert dlg.warning_banners["first_transfer"].isVisible()
        assert not dlg.confirm_checks and dlg.confirm_button.isEnabled()
        assert dlg.preview.text("amount").startswith("25")
        shot(dlg, "send-first-transfer-preview")
        click(qtbot, dlg.confirm_button)
        res = sent(qtbot, dlg)
        assert res.verified and res.recipient == friend
        assert _erc20(w3, rec.usdc).functions.balanceOf(friend).call() == 25_000_000
        shot(dlg, "send-done")
        click(qtbot, dlg.done_button)
        # 5. A forged look-alike of that address: side by side, blocked until confirmed.
        forged = lookalike_of(friend)
        dlg = open_send(qtbot, win, ctl)
        type_into(qtbot, dlg.recipient_edit, forged)
        qtbot.keyClicks(dlg.amount_edit, "3")
        wait_preview(qtbot, dlg)
        assert dlg.warning_banners["lookalike"].isVisible()
        assert dlg.lookalike_frame is not None and dlg.lookalike_frame.isVisible()
        known = dlg.lookalike_frame.findChild(QWidget, "lookalikeKnown1")
        assert friend[6:38].lower() in known.text().lower().replace("<b>", "").replace(
            "</b>", "").replace("<span style='color:#d9480f'>", "").replace("</span>", "")
        assert not dlg.confirm_button.isEnabled()
        qtbot.mouseClick(dlg.confirm_button, Qt.MouseButton.LeftButton)  # blocked
        assert dlg.pages.currentWidget() is dlg.form_page and not dlg.sending
        shot(dlg, "send-lookalike-blocked")
        tick(qtbot, dlg.confirm_checks["lookalike"])
        qtbot.waitUntil(dlg.confirm_button.isEnabled, timeout=WAIT)
        click(qtbot, dlg.confirm_button)
        res = sent(qtbot, dlg)
        assert res.verified and res.recipient == forged
        click(qtbot, dlg.done_button)
        shot(win, "my-indices-send-button")
    finally:
        close_app(ctl, svc)


def test_eth_max_leaves_exactly_the_fee_by_clicks(qtbot, devnet, tmp_path: Path,  # noqa: ANN001
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    svc, addr, _, w3 = _wallet(tmp_path, devnet, monkeypatch)
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        dlg = open_send(qtbot, win, ctl)
        click(qtbot, dlg.asset_buttons["eth"])
        friend = Account.create().address
        qtbot.keyClicks(dlg.recipient_edit, friend)
        click(qtbot, dlg.max_button)
        wait_preview(qtbot, dlg)
        q = dlg.quote
        before = w3.eth.get_balance(addr)
        reserve = q.gas.gas_limit * q.gas.max_fee_per_gas_wei
        assert q.is_max and q.amount_base == before - reserve
        assert "(max)" in dlg.preview.text("amount")
        shot(dlg, "send-eth-max-preview")
        click(qtbot, dlg.confirm_button)
        res = sent(qtbot, dlg)
        assert res.verified, res.note
        receipt = w3.eth.get_transaction_receipt(res.tx_hash)
        paid = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert w3.eth.get_balance(addr) == reserve - paid  # exactly the fee's reserve left
        assert w3.eth.get_balance(friend) == q.amount_base
    finally:
        close_app(ctl, svc)


def test_pending_transfer_sped_up_and_another_cancelled(qtbot, devnet,  # noqa: ANN001
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    svc, addr, _, w3 = _wallet(tmp_path, devnet, monkeypatch)
    rec = svc.deployment()
    usdc = _erc20(w3, rec.usdc)
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    page = win.tx_page
    friend = Account.create().address

    def pending_transfer(amount: str) -> str:
        dlg = open_send(qtbot, win, ctl)
        dlg.BACKGROUND_AFTER_MS = 300
        qtbot.keyClicks(dlg.recipient_edit, friend)
        qtbot.keyClicks(dlg.amount_edit, amount)
        wait_preview(qtbot, dlg)
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        click(qtbot, dlg.confirm_button)
        qtbot.waitUntil(dlg.background_button.isVisible, timeout=WAIT)
        tx = dlg.tx_hash
        assert tx
        click(qtbot, dlg.background_button)
        click(qtbot, win.nav_buttons["transactions"])
        qtbot.waitUntil(lambda: any(r.tx_hash == tx and r.status is TxStatus.PENDING
                                    for r in page.records), timeout=WAIT)
        assert page.select_hash(tx)
        return tx

    try:
        original = pending_transfer("10")
        shot(win, "transactions-pending-transfer")
        click(qtbot, page.speed_button)
        qtbot.waitUntil(page.banner.isVisible, timeout=WAIT)
        assert page.banner.title.text() == "Transaction sped up", page.banner.message.text()
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        ctl.refresh_journal()
        qtbot.waitUntil(lambda: any(r.tx_hash == original and r.status is TxStatus.REPLACED
                                    for r in page.records), timeout=WAIT)
        (faster,) = [r for r in page.records if r.kind == "transfer"
                     and r.status is TxStatus.CONFIRMED]
        assert faster.tx_hash != original
        assert usdc.functions.balanceOf(friend).call() == 10_000_000
        qtbot.waitUntil(lambda: svc.journal.entry(faster.tx_hash).meta.get("outcome")
                        == "verified", timeout=WAIT)

        second = pending_transfer("4")
        click(qtbot, page.cancel_button)
        qtbot.waitUntil(lambda: page.banner.title.text() == "Transaction cancelled",
                        timeout=WAIT)
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        ctl.refresh_journal()
        qtbot.waitUntil(lambda: any(r.tx_hash == second and r.status is TxStatus.REPLACED
                                    for r in page.records), timeout=WAIT)
        assert usdc.functions.balanceOf(friend).call() == 10_000_000  # the 4 never moved
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        close_app(ctl, svc)


def test_unlimited_approval_listed_and_revoked_by_click(qtbot, devnet,  # noqa: ANN001
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    svc, addr, key, w3 = _wallet(tmp_path, devnet, monkeypatch)
    rec = svc.deployment()
    usdc = _erc20(w3, rec.usdc)
    spender = Account.create().address
    # The same key, used in another app, granted an unlimited allowance.
    tx = usdc.functions.approve(spender, 2 ** 256 - 1).build_transaction(
        {"from": addr, "nonce": w3.eth.get_transaction_count(addr), "gas": 80_000,
         "chainId": w3.eth.chain_id})
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(
        Account.sign_transaction(tx, key).raw_transaction))
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        click(qtbot, win.nav_buttons["approvals"])
        page = win.approvals_page
        qtbot.waitUntil(lambda: any(a.spender == spender for a in page.approvals),
                        timeout=WAIT)
        assert page.unlimited_banner.isVisible()
        assert "unlimited" in page.unlimited_banner.title.text()
        assert page.table.item(0, 3).text().startswith("Unlimited")
        assert page.table.item(0, 2).text() == "unknown address"
        shot(win, "approvals-unlimited")
        assert page.select_spender(spender)
        click(qtbot, page.revoke_button)
        qtbot.waitUntil(lambda: page.banner.title.text() == "Allowance revoked",
                        timeout=WAIT)
        assert usdc.functions.allowance(addr, spender).call() == 0
        qtbot.waitUntil(lambda: not page.approvals, timeout=WAIT)
        assert not page.unlimited_banner.isVisible()
        (row,) = [r for r in svc.transactions() if r.kind == "revoke"]
        assert svc.journal.entry(row.tx_hash).meta["outcome"] == "verified"
        shot(win, "approvals-revoked")
    finally:
        close_app(ctl, svc)


def test_transfer_killed_after_its_journal_write_is_sent_from_the_recovery_list(
        qtbot, devnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """SIGKILL right after the signed transfer is journaled (never broadcast): the next
    start lists it and sends nothing; Send now on the Transactions screen sends the same
    bytes once, and the outcome is verified from the token's event."""
    import signal
    import subprocess
    import sys

    from tests.test_transfers import CHILD

    svc, _, _, w3 = _wallet(tmp_path, devnet, monkeypatch)
    name = svc.active_wallet().name
    rec = svc.deployment()
    svc.close()
    friend = Account.create().address
    child = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), name, PASSWORD,
                            friend], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, G100_TEST_SCRYPT_N="1024"))
    assert child.returncode == -signal.SIGKILL, child.stderr
    usdc = _erc20(w3, rec.usdc)
    assert usdc.functions.balanceOf(friend).call() == 0
    svc = WalletService(paths=home_for(tmp_path, devnet[0]))
    svc.select_wallet(name)
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    try:
        qtbot.waitUntil(lambda: win.notice.isVisible()
                        and "unresolved transaction" in win.notice.title.text(), timeout=WAIT)
        assert "Send 7 USDC" in win.notice.message.text()
        shot(win, "recovery-unsent-transfer")
        qtbot.wait(1000)  # the person reads; nothing is sent meanwhile
        assert usdc.functions.balanceOf(friend).call() == 0
        click(qtbot, win.nav_buttons["transactions"])
        page = win.tx_page
        (tx,) = [i.tx_hash for i in ctl.pending_items]
        qtbot.waitUntil(lambda: page.select_hash(tx), timeout=WAIT)
        click(qtbot, page.send_button)
        qtbot.waitUntil(lambda: page.banner.title.text() == "Sent again", timeout=WAIT)
        assert usdc.functions.balanceOf(friend).call() == 7_000_000  # once
        assert svc.journal.entry(tx).meta.get("outcome") == "verified"
    finally:
        close_app(ctl, svc)
