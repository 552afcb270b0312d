"""A watch-only wallet shows from chain events what a keyed wallet shows, by clicks.

The watched address is a real wallet of another app home on the module's own devnet (its
key in the real keyring there): it buys and sells through the vault's forward pricing,
sends G100 to a friend, receives G100 from the seed depositor and exits in kind, all
through that app; then the index switches to Bear (all cash) and the same key, used
elsewhere, buys and sells on the vault's instant ERC-4626 paths. A second app watches the
address: its Transactions table must list every transaction the keyed app lists (same
hash, kind and nonce) plus the received transfer and both instant trades; My Indices must
count the instant sell and the in-kind exit among the trades.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv  # noqa: E402
import secrets  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from eth_account import Account  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from web3 import Web3  # noqa: E402

from tests.test_gui_book import WAIT, click, home_for, open_app  # noqa: E402
from ui.app import create_app  # noqa: E402
from wallet_app.devnet import artifacts  # noqa: E402
from wallet_app.devnet.deploy import fund  # noqa: E402
from wallet_app.facade import WalletService  # noqa: E402
from wallet_app.models import Regime  # noqa: E402
from wallet_app.operator import Operator  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402
from wallet_app.services.reports import TaxHistoryError  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring]

PASSWORD = "orbit lantern velvet tundra 42"


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def _send(w3: Web3, key: str, to: str, data: str, gas: int = 300_000) -> str:
    acct = Account.from_key(key)
    tx = {"to": to, "data": data, "gas": gas, "chainId": w3.eth.chain_id,
          "nonce": w3.eth.get_transaction_count(acct.address),
          "maxFeePerGas": 3 * w3.eth.gas_price, "maxPriorityFeePerGas": 1}
    h = w3.eth.send_raw_transaction(Account.sign_transaction(tx, key).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(h)["status"] == 1
    return "0x" + bytes(h).hex()


@pytest.fixture(scope="module")
def history(devnet: tuple[AppPaths, Any], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[dict[str, Any]]:
    """The watched address's history, made by a keyed app and by the key used elsewhere."""
    paths, dev = devnet
    mp = pytest.MonkeyPatch()
    mp.setenv("G100_TEST_SCRYPT_N", "1024")
    keyed = WalletService(home_for(tmp_path_factory.mktemp("keyed"), paths))
    key = "0x" + secrets.token_hex(32)
    name = f"elsewhere-{secrets.token_hex(3)}"
    keyed.import_private_key(name, key, PASSWORD)
    keyed.select_wallet(name)
    holder = keyed.active_address()
    assert holder
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    fund(w3, dev.deployment, holder, Decimal(3), Decimal(2_000))
    keyed.connect()
    keyed.unlock(PASSWORD)
    vault = w3.eth.contract(address=dev.deployment.vault,
                            abi=artifacts.load("IndexVault").abi)
    usdc = w3.eth.contract(address=dev.deployment.usdc, abi=artifacts.load("DevUSDC").abi)
    try:
        assert keyed.buy(keyed.quote_buy(Decimal("800"))).state == "settled"
        assert keyed.sell(keyed.quote_sell(Decimal("100"))).state == "settled"
        friend = Account.create().address
        assert keyed.send_transfer(keyed.quote_transfer("g100", friend, "25")).verified
        seed = dev.deployment.roles["deployer"]
        got = w3.eth.send_transaction({"from": seed, "to": dev.deployment.vault,
                                       "data": vault.encode_abi("transfer",
                                                                [holder, 2 * 10**18]),
                                       "gas": 120_000})
        received = "0x" + bytes(got).hex()
        assert w3.eth.wait_for_transaction_receipt(got)["status"] == 1
        assert keyed.exit_in_kind(keyed.quote_exit_in_kind(Decimal("50"))).verified
        keyed_rows = keyed.transactions()
        # Bear: the index holds only cash, the instant ERC-4626 paths open.
        assert keyed.session.vault is not None
        Operator(w3, dev.deployment, keyed.session.vault).switch_regime(Regime.BEAR)
        keyed.session.forget_snapshot()
        assert keyed.session.snapshot(holder).instant_open
        instant_buy = [
            _send(w3, key, dev.deployment.usdc,
                  usdc.encode_abi("approve", [dev.deployment.vault, 100 * 10**6])),
            _send(w3, key, dev.deployment.vault,
                  vault.encode_abi("deposit", [100 * 10**6, holder]))][1]
        shares = vault.functions.balanceOf(holder).call()
        instant_sell = _send(w3, key, dev.deployment.vault,
                             vault.encode_abi("redeem", [shares // 2, holder, holder]))
        yield {"holder": holder, "keyed_rows": keyed_rows, "received": received,
               "instant_buy": instant_buy, "instant_sell": instant_sell, "seed": seed,
               "friend": friend, "sold_shares": Decimal(shares // 2).scaleb(-18)}
    finally:
        keyed.keys.delete(name, name)
        keyed.close()
        mp.undo()


@pytest.fixture
def svc(tmp_path: Path, devnet: tuple[AppPaths, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    service = WalletService(home_for(tmp_path, devnet[0]))
    yield service
    for w in service.wallets():
        service.keys.delete(w.name, w.name)
    service.close()


def test_watch_only_transactions_and_trades_match_a_keyed_wallet(
        qtbot: Any, svc: Any, history: dict[str, Any], tmp_path: Path) -> None:
    holder = history["holder"]
    svc.create_wallet(f"Main-{secrets.token_hex(3)}", PASSWORD, words=12)[1].wipe()
    win, ctl = open_app(qtbot, svc)
    click(qtbot, win.account_header.accounts)
    dlg = ctl.book.dialog
    qtbot.keyClicks(dlg.watch_name, "Cold storage")
    qtbot.keyClicks(dlg.watch_address, holder.lower())
    click(qtbot, dlg.watch_add)
    qtbot.waitUntil(lambda: len(dlg.watched) == 1, timeout=WAIT)
    dlg.watch_table.selectRow(0)
    click(qtbot, dlg.watch_switch)
    qtbot.waitUntil(lambda: ctl.address == holder, timeout=WAIT)
    dlg.accept()

    click(qtbot, win.nav_buttons["transactions"])
    tp = win.tx_page
    keyed = history["keyed_rows"]
    # The keyed app lists the received transfer too (read from the chain's events: it did
    # not sign it); the watch adds the instant buy and sell made after that listing.
    assert history["received"] in {k.tx_hash for k in keyed}
    want = len(keyed) + 2
    qtbot.waitUntil(lambda: tp.tx_table.rowCount() == want and len(tp.records) == want,
                    timeout=WAIT)
    shown = {tp.tx_table.item(i, 6).toolTip(): i for i in range(tp.tx_table.rowCount())}
    rows = {r.tx_hash: r for r in tp.records}
    assert set(shown) == set(rows)  # the table shows exactly the records
    # Every transaction the keyed app lists, with the same kind and nonce.
    assert {r.kind for r in keyed} >= {"buy", "sell", "transfer", "redeem_in_kind"}
    for k in keyed:
        w = rows[k.tx_hash]
        assert (w.kind, w.nonce, w.block_number) == (k.kind, k.nonce, k.block_number), k
        i = shown[k.tx_hash]
        assert tp.tx_table.item(i, 1).text() == k.kind.replace("_", " ").capitalize()
        assert tp.tx_table.item(i, 4).text() == (str(k.nonce) if k.nonce >= 0 else "\u2014")
    # The instant trades (the sell's owner is the Withdraw's third topic) and the receipt.
    sell = rows[history["instant_sell"]]
    assert sell.kind == "sell" and sell.summary.startswith("Instant sell:")
    assert rows[history["instant_buy"]].summary.startswith("Instant buy: 100.00 USDC")
    got = rows[history["received"]]
    assert got.kind == "transfer" and got.summary == \
        f"Received 2.0000 G100 from {history['seed']}" and got.nonce == -1
    assert tp.tx_table.item(shown[history["received"]], 4).text() == "\u2014"
    assert any(r.summary.startswith("Sent 25.0000 G100 to") for r in rows.values())
    assert not tp.speed_button.isEnabled() and not tp.cancel_button.isEnabled()
    assert "watch-only" in tp.mine_caption.text() and "speed up" not in tp.mine_caption.text()
    # The export writes the same rows (no journal: the chain's events); taxes say why not.
    assert svc.export_csv(tmp_path / "watch.csv") == want
    lines = list(csv.DictReader((tmp_path / "watch.csv").open()))
    assert {ln["tx_hash"] for ln in lines} == set(rows)
    activity = list(csv.DictReader((tmp_path / "watch-activity.csv").open()))
    assert history["instant_sell"] in {ln["tx_hash"] for ln in activity}
    assert not tp.tax_button.isEnabled() and "Watch-only" in tp.tax_button.toolTip()
    with pytest.raises(TaxHistoryError, match="watch-only"):
        svc.export_tax_csv(tmp_path / "tax.csv")

    # My Indices: the instant sell and the in-kind exit are trades of the position.
    win.navigate("my")
    qtbot.waitUntil(lambda: any(t.tx_hash == history["instant_sell"]
                                for t in win.my_page.trades), timeout=WAIT)
    kinds = [t.kind for t in win.my_page.trades]
    assert kinds.count("sell") == 2 and kinds.count("buy") == 2
    assert kinds.count("redeem_in_kind") == 1
    (isell,) = [t for t in win.my_page.trades if t.tx_hash == history["instant_sell"]]
    assert isell.shares == history["sold_shares"] and isell.fee_usdc > 0
    ctl.shutdown()
