"""Receive, contacts, accounts and watch-only wallets, by clicks, end to end.

The real WalletService on the module's devnet (``devnet`` in conftest), the real OS
keyring, the real window. The receive dialog's QR code is read back from the pixels on
screen with a QR reader (zxing-cpp); the second account's address is cross-checked with
eth-account's own HD derivation; the watched address is the devnet's seed depositor, whose
shares and cost come from the pinned vault's events.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import secrets  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import zxingcpp  # noqa: E402
from eth_utils import to_checksum_address  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.gui_support import WAIT, click, home_for, open_app  # noqa: E402
from ui.app import create_app  # noqa: E402
from wallet_app.book.errors import WatchOnlyCannotSign  # noqa: E402
from wallet_app.facade import WalletService  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring]

PASSWORD = "orbit lantern velvet tundra 42"


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


@pytest.fixture
def svc(tmp_path: Path, devnet: tuple[AppPaths, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The facade on a fresh home; the wallets it made leave the OS keyring afterwards."""
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")  # the KDF's cost is not under test
    service = WalletService(home_for(tmp_path, devnet[0]))
    yield service
    for w in service.wallets():
        service.keys.delete(w.name, w.name)
    service.close()


@pytest.fixture
def name() -> str:
    return f"Main-{secrets.token_hex(4)}"


def decode_qr(widget: Any) -> str:
    """Read the QR code off the widget's pixels as drawn on screen."""
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    pixels = np.ascontiguousarray(buf.reshape(h, stride)[:, :w])
    found = zxingcpp.read_barcodes(pixels)
    assert found, "no QR code found in the widget's pixels"
    return found[0].text


def test_receive_qr_decodes_to_the_address_and_the_usdc_link(qtbot: Any, svc: Any,
                                                             name: str) -> None:
    info, phrase = svc.create_wallet(name, PASSWORD, words=12)
    phrase.wipe()
    addr = info.accounts[0].address
    win, ctl = open_app(qtbot, svc)
    assert win.account_header.title.text() == f"{name} \u00b7 Account 1"
    assert win.account_header.address.toolTip() == addr

    click(qtbot, win.account_header.receive)
    dlg = ctl.book.dialog
    qtbot.waitUntil(lambda: dlg.panel.info is not None, timeout=WAIT)
    assert dlg.panel.address.text() == addr
    assert decode_qr(dlg.panel.qr) == addr

    record = svc.deployment()
    link = f"ethereum:{record.usdc}@{record.chain_id}/transfer?address={addr}"
    assert dlg.panel.link.toPlainText() == link
    click(qtbot, dlg.panel.show_link)
    assert decode_qr(dlg.panel.qr) == link

    # An amount goes into the link in base units (12.5 USDC = 12500000), never a float.
    qtbot.keyClicks(dlg.panel.amount, "12.5")
    dlg.panel.amount.editingFinished.emit()
    qtbot.waitUntil(lambda: dlg.panel.link.toPlainText().endswith("&uint256=12500000"),
                    timeout=WAIT)
    assert decode_qr(dlg.panel.qr) == link + "&uint256=12500000"
    dlg.panel.amount.setText("1.0000001")
    dlg.panel.amount.editingFinished.emit()
    assert dlg.panel.amount_error.isVisible()
    assert "6 decimal places" in dlg.panel.amount_error.text()

    click(qtbot, dlg.panel.copy_address)
    assert QGuiApplication.clipboard().text() == addr
    dlg.accept()

    # My Indices has Receive too.
    win.navigate("my")
    click(qtbot, win.my_page.receive_button)
    qtbot.waitUntil(lambda: ctl.book.dialog is not dlg and ctl.book.dialog.panel.info
                    is not None, timeout=WAIT)
    assert decode_qr(ctl.book.dialog.panel.qr) == addr
    ctl.book.dialog.accept()

    # The onboarding's "wallet ready" page carries the same QR code.
    from ui.dialogs.onboarding import OnboardingDialog

    ob = OnboardingDialog(svc, win, first_run=False)
    qtbot.addWidget(ob)
    ob.show()
    ob._finish(svc.active_wallet(), "The wallet was created.")
    qtbot.waitUntil(ob.receive_panel.isVisible, timeout=WAIT)
    assert decode_qr(ob.receive_panel.qr) == addr
    ob.reject()
    ctl.shutdown()


def test_contacts_csv_round_trip_and_bad_rows(qtbot: Any, svc: Any, name: str,
                                              tmp_path: Path) -> None:
    svc.create_wallet(name, PASSWORD, words=12)[1].wipe()
    win, ctl = open_app(qtbot, svc)
    click(qtbot, win.account_header.contacts)
    dlg = ctl.book.dialog
    alice = "0x" + "ab" * 20  # all lowercase: accepted, stored checksummed
    bob = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
    for name, address, note in (("Alice", alice, "rent"), ("Bob", bob, "=1+1")):
        qtbot.keyClicks(dlg.name_edit, name)
        qtbot.keyClicks(dlg.address_edit, address)
        qtbot.keyClicks(dlg.note_edit, note)
        click(qtbot, dlg.add_button)
        qtbot.waitUntil(lambda n=name: any(c.label == n for c in dlg.contacts), timeout=WAIT)
    assert [c.label for c in dlg.contacts] == ["Alice", "Bob"]

    # A mistyped checksum is refused, saying so; the same address twice too.
    qtbot.keyClicks(dlg.name_edit, "Mallory")
    qtbot.keyClicks(dlg.address_edit, bob.replace("aA", "Aa", 1))
    click(qtbot, dlg.add_button)
    qtbot.waitUntil(lambda: "checksum" in dlg.banner.message.text(), timeout=WAIT)
    dlg.address_edit.setText(bob.lower())
    click(qtbot, dlg.add_button)
    qtbot.waitUntil(lambda: "already in your contacts" in dlg.banner.message.text(),
                    timeout=WAIT)

    out = tmp_path / "contacts.csv"
    dlg.export_file(out)
    qtbot.waitUntil(out.is_file, timeout=WAIT)
    text = out.read_text()
    assert text.splitlines()[0] == "label,address,note"
    assert "'=1+1" in text  # no formula reaches a spreadsheet

    # Remove both by clicks, import the export back: the same contacts, note intact.
    for _ in range(2):
        dlg.table.selectRow(0)
        click(qtbot, dlg.remove_button)
        n = len(dlg.contacts)
        qtbot.waitUntil(lambda n=n: len(dlg.contacts) == n - 1, timeout=WAIT)
    dlg.import_file(out)
    qtbot.waitUntil(lambda: len(dlg.contacts) == 2, timeout=WAIT)
    assert {(c.label, c.address, c.note) for c in svc.contacts()} == {
        ("Alice", to_checksum_address(alice), "rent"), ("Bob", bob, "=1+1")}

    # Bad rows: each named by its line, nothing imported, nothing lost.
    bad = tmp_path / "bad.csv"
    bad.write_text("label,address,note\n"
                   f"Carol,0x{'cd' * 20},ok\n"
                   f"Dave,{bob.replace('aA', 'Aa', 1)},bad checksum\n"
                   "Erin,not-an-address,\n"
                   f"Carol,0x{'ef' * 20},same label\n")
    dlg.import_file(bad)
    qtbot.waitUntil(lambda: "nothing was imported" in dlg.banner.message.text(), timeout=WAIT)
    msg = dlg.banner.message.text()
    assert "line 3" in msg and "checksum" in msg
    assert "line 4" in msg and "not-an-address" in msg
    assert "line 5" in msg and "line 2" in msg
    assert "line 2:" not in msg  # the good row is not blamed
    assert len(svc.contacts()) == 2
    dlg.accept()

    # The label is shown where the address is: the transactions log names known addresses.
    ctl.book.refresh_labels()
    qtbot.waitUntil(lambda: bob.lower() in win.tx_page.labels, timeout=WAIT)
    from ui.labels import label_text
    assert label_text(f"Send 1 USDC to {bob}", win.tx_page.labels) == \
        "Send 1 USDC to Bob (0x5aAe\u2026eAed)"
    ctl.shutdown()


def test_second_account_from_the_same_phrase(qtbot: Any, svc: Any, name: str) -> None:
    from eth_account import Account

    info, phrase = svc.create_wallet(name, PASSWORD, words=12)
    words = " ".join(phrase.words)
    phrase.wipe()
    Account.enable_unaudited_hdwallet_features()
    expected = Account.from_mnemonic(words, account_path="m/44'/60'/0'/0/1").address
    assert Account.from_mnemonic(words, account_path="m/44'/60'/0'/0/0").address == \
        info.accounts[0].address

    win, ctl = open_app(qtbot, svc)
    click(qtbot, win.account_header.accounts)
    dlg = ctl.book.dialog
    qtbot.waitUntil(lambda: len(dlg.accounts) == 1, timeout=WAIT)
    qtbot.keyClicks(dlg.new_label, "Savings")
    qtbot.keyClicks(dlg.password, "wrong password 123")
    click(qtbot, dlg.add_button)
    qtbot.waitUntil(lambda: dlg.banner.isVisible() and dlg.banner.kind() == "error",
                    timeout=WAIT)
    assert len(svc.list_accounts()) == 1
    qtbot.keyClicks(dlg.password, PASSWORD)
    click(qtbot, dlg.add_button)
    qtbot.waitUntil(lambda: len(dlg.accounts) == 2, timeout=WAIT)
    second = dlg.accounts[1]
    assert (second.index, second.label, second.path) == (1, "Savings", "m/44'/60'/0'/0/1")
    assert second.address == expected

    dlg.account_table.selectRow(1)
    click(qtbot, dlg.switch_button)
    qtbot.waitUntil(lambda: ctl.address == expected, timeout=WAIT)
    assert win.account_header.title.text() == f"{name} \u00b7 Savings"
    assert win.account_header.address.toolTip() == expected
    assert svc.active_address() == expected
    dlg.account_table.selectRow(1)
    dlg.rename_selected("Travel")
    qtbot.waitUntil(lambda: win.account_header.title.text() == f"{name} \u00b7 Travel",
                    timeout=WAIT)
    dlg.accept()

    # The active account signs: a USDC approval (not sent) recovers to account 2.
    client, _, _ = svc.session.need()
    record = svc.deployment()
    data = svc.session.vault.approve_data(record.usdc, 1)
    tx = {"type": 2, "chainId": client.chain_id, "nonce": 0, "to": record.usdc,
          "value": 0, "data": data, "gas": 100_000, "maxFeePerGas": 10**9,
          "maxPriorityFeePerGas": 1, "from": expected}
    with svc.session.trading():
        raw = svc.session.sign_fn(client.chain_id)(tx)
    assert Account.recover_transaction(raw) == expected
    ctl.shutdown()


def test_watch_only_wallet_shows_holdings_and_cannot_sign(qtbot: Any, svc: Any, name: str,
                                                           devnet: tuple[AppPaths, Any]
                                                           ) -> None:
    from wallet_app.devnet.embedded import SEED_USDC

    svc.create_wallet(name, PASSWORD, words=12)[1].wipe()
    seed = devnet[1].roles["deployer"] if hasattr(devnet[1], "roles") else None
    if seed is None:
        from wallet_app.devnet.deploy import Deployment
        from wallet_app.devnet.embedded import deployment_path

        seed = Deployment.load(deployment_path(devnet[0])).roles["deployer"]
    win, ctl = open_app(qtbot, svc)
    click(qtbot, win.account_header.accounts)
    dlg = ctl.book.dialog
    qtbot.keyClicks(dlg.watch_name, "Seed fund")
    qtbot.keyClicks(dlg.watch_address, seed.lower())
    click(qtbot, dlg.watch_add)
    qtbot.waitUntil(lambda: len(dlg.watched) == 1, timeout=WAIT)
    dlg.watch_table.selectRow(0)
    click(qtbot, dlg.watch_switch)
    qtbot.waitUntil(lambda: ctl.address == seed, timeout=WAIT)
    dlg.accept()

    assert win.account_header.title.text() == "Seed fund (watch-only)"
    assert win.account_header.badge.isVisible()
    win.navigate("my")
    qtbot.waitUntil(lambda: win.my_page.position is not None
                    and win.my_page.position.address == seed, timeout=WAIT)
    pos = win.my_page.position
    _, vault, _ = svc.session.need()
    shares = vault.erc20_balance(svc.deployment().vault, seed)
    assert pos.shares == Decimal(shares).scaleb(-18) and pos.shares > 0
    assert pos.cost_basis_usdc == SEED_USDC  # the seed's Deposit, from the vault's events
    qtbot.waitUntil(lambda: len(win.my_page.trades) >= 1, timeout=WAIT)
    assert win.my_page.trades[-1].kind == "buy"
    assert win.my_page.trades[-1].usdc == SEED_USDC
    fee = win.my_page.trades[-1].fee_usdc  # the instant deposit's FeeCharged, same tx
    assert fee == SEED_USDC * svc.index_state().buy_fee_bps / 10_000 and fee > 0
    assert pos.fees_paid_usdc == fee

    # Every button that would sign is off and says why.
    why = "Watch-only wallet"
    for b in (win.my_page.buy_button, win.my_page.sell_button, win.index_page.buy_button,
              win.my_page.exit_button,
              win.tx_page.speed_button, win.tx_page.cancel_button, win.tx_page.send_button,
              win.my_page.cancel_request_button):
        assert not b.isEnabled(), b.objectName()
        assert why in b.toolTip(), b.objectName()
    assert "Watch-only" in win.wallet_state.text()
    assert not win.lock_button.isVisible()
    with pytest.raises(WatchOnlyCannotSign):
        svc.session.sign_fn(31337)
    with pytest.raises(WatchOnlyCannotSign):
        svc.cancel_request(0)
    assert ctl.depositor.open_exit() is None  # the governance notice's Exit in kind too
    assert "in-kind exit needs a key" in win.notice.title.text()

    # Back to the own account: signing buttons come back.
    click(qtbot, win.account_header.accounts)
    dlg = ctl.book.dialog
    qtbot.waitUntil(lambda: len(dlg.accounts) == 1, timeout=WAIT)
    dlg.account_table.selectRow(0)
    click(qtbot, dlg.switch_button)
    qtbot.waitUntil(lambda: ctl.address == svc.list_accounts()[0].address, timeout=WAIT)
    qtbot.waitUntil(win.my_page.buy_button.isEnabled, timeout=WAIT)
    dlg.accept()
    ctl.shutdown()
