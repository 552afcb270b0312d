"""The same recovery phrase on a second computer shows the history of the first.

One app home (the "first computer") creates a wallet on the module's own devnet, with its
key in the real OS keyring, and trades through the app: a forward buy and a sell settled
at strikes, a G100 transfer to a friend, G100 received from the seed depositor and an exit
in kind. A second, empty app home then imports the same phrase. Its journal knows nothing,
so everything it shows comes from the pinned vault's events: the position (shares, cost
basis, realised and unrealised P&L, fees, shares without a known cost), the trade list,
the Transactions rows and the tax history must match the first home's to the cent, and
its My Indices screen must list the trades.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from eth_account import Account  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from web3 import Web3  # noqa: E402

from ui.app import create_app  # noqa: E402
from ui.controller import Controller  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from wallet_app.config import Settings, save_settings  # noqa: E402
from wallet_app.devnet import artifacts  # noqa: E402
from wallet_app.facade import WalletService  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring]

PASSWORD = "copper harbour violet meadow 57"
WAIT = 60_000


def _home(root: Path, devnet_paths: AppPaths) -> AppPaths:
    """An empty app home that sees the module's devnet (its pinned deployment and node),
    as a second computer pointed at the same chain would."""
    paths = AppPaths(root / "data", root / "config", root / "logs").ensure()
    paths.devnet_dir.mkdir(parents=True, exist_ok=True)
    for name in ("deployment.json", "market.json", "node.json"):
        if (devnet_paths.devnet_dir / name).is_file():
            shutil.copy(devnet_paths.devnet_dir / name, paths.devnet_dir / name)
    shutil.copytree(devnet_paths.data_dir / "deployments", paths.data_dir / "deployments",
                    dirs_exist_ok=True)
    save_settings(Settings(network="devnet", lock_timeout_minutes=30), paths)
    return paths


def _view(svc: WalletService) -> dict[str, Any]:
    """Everything a person compares between two computers, in comparable form."""
    pos = svc.position()
    assert pos is not None
    trades = [(t.kind, t.tx_hash, t.usdc, t.shares, t.fee_usdc, t.nav_per_share,
               t.verified) for t in svc.my_trades()]
    txs = {r.tx_hash: r.kind for r in svc.transactions()}
    ledger = svc.reports.ledger()
    tax = sorted((r.trade.kind, r.trade.request_tx, r.trade.settlement_tx, r.trade.shares,
                  r.trade.usdc, r.trade.nav_usd, r.trade.gas_eth) for r in ledger.rows)
    return {"position": pos, "trades": trades, "txs": txs, "tax": tax}


@pytest.fixture(scope="module")
def homes(devnet: tuple[AppPaths, Any], tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, Any]]:
    """The first computer's history, then the same phrase imported on a second one."""
    paths, dev = devnet
    mp = pytest.MonkeyPatch()
    mp.setenv("G100_TEST_SCRYPT_N", "1024")  # the KDF's cost is not under test
    first = WalletService(_home(tmp_path_factory.mktemp("first"), paths))
    second: WalletService | None = None
    name1, name2 = f"first-{secrets.token_hex(3)}", f"second-{secrets.token_hex(3)}"
    try:
        _, phrase = first.create_wallet(name1, PASSWORD, words=12)
        words = phrase.phrase
        phrase.wipe()
        first.connect()
        first.faucet(eth=Decimal(3), usdc=Decimal(3_000))
        first.unlock(PASSWORD)
        holder = first.active_address()
        assert holder
        assert first.buy(first.quote_buy(Decimal("900"))).state == "settled"
        assert first.sell(first.quote_sell(Decimal("120"))).state == "settled"
        friend = Account.create().address
        assert first.send_transfer(first.quote_transfer("g100", friend, "30")).verified
        w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
        vault = w3.eth.contract(address=dev.deployment.vault,
                                abi=artifacts.load("IndexVault").abi)
        got = w3.eth.send_transaction({
            "from": dev.deployment.roles["deployer"], "to": dev.deployment.vault,
            "data": vault.encode_abi("transfer", [holder, 3 * 10**18]), "gas": 120_000})
        assert w3.eth.wait_for_transaction_receipt(got)["status"] == 1
        assert first.exit_in_kind(first.quote_exit_in_kind(Decimal("60"))).verified
        first.session.forget_snapshot()
        before = _view(first)

        second = WalletService(_home(tmp_path_factory.mktemp("second"), paths))
        second.import_mnemonic(name2, words, PASSWORD)
        second.select_wallet(name2)
        second.connect()
        assert second.active_address() == holder
        assert second.session.journal.trades(holder) == []  # an empty journal
        after = _view(second)
        yield {"first": first, "second": second, "before": before, "after": after,
               "holder": holder, "friend": friend, "received": "0x" + bytes(got).hex(),
               "name2": name2}
    finally:
        for svc, name in ((first, name1), (second, name2)):
            if svc is not None:
                svc.keys.delete(name, name)
                svc.close()
        mp.undo()


def test_second_computer_shows_the_first_ones_position_and_trades(
        homes: dict[str, Any]) -> None:
    before, after = homes["before"], homes["after"]
    p1, p2 = before["position"], after["position"]
    # The first computer's own numbers: bought, sold, sent and exited; the 3 received
    # shares have no known cost.
    assert p1.cost_basis_usdc > 0 and p1.realized_pnl_usdc != 0 and p1.fees_paid_usdc > 0
    assert p1.shares_without_basis == Decimal(3)
    for field in ("shares", "value_usdc", "cost_basis_usdc", "realized_pnl_usdc",
                  "unrealized_pnl_usdc", "fees_paid_usdc", "shares_without_basis"):
        assert getattr(p2, field) == getattr(p1, field), field
    # The same trades, the same hashes (a forward trade named by its request), newest
    # first: buy, sell, the transfer out and in, the exit in kind.
    assert after["trades"] == before["trades"]
    kinds = [t[0] for t in before["trades"]]
    assert sorted(kinds) == sorted(["buy", "sell", "transfer_out", "transfer_in",
                                    "redeem_in_kind"])
    assert homes["received"] in {t[1] for t in after["trades"]}
    # Every transaction the first computer signed is a row on the second, same kind.
    for tx, kind in before["txs"].items():
        assert after["txs"].get(tx) == kind, (tx, kind)
    assert after["txs"][homes["received"]] == "transfer"
    # The tax history lists the same trades with the same values (gas included).
    assert after["tax"] == before["tax"]
    assert {t[0] for t in after["tax"]} >= {"buy", "sell", "in_kind_exit", "transfer_out",
                                           "transfer_in"}


def test_cli_holdings_on_the_second_computer(homes: dict[str, Any]) -> None:
    """`index-wallet holdings` and `log` in the second home say what the first home's app
    says (the same facade merge)."""
    second, p1 = homes["second"], homes["before"]["position"]
    env = {**os.environ, "G100_HOME": str(second.session.paths.data_dir.parent)}

    def cli(*args: str) -> Any:
        out = subprocess.run([sys.executable, "-m", "wallet_app", *args, "--wallet",
                              homes["name2"], "--json"], capture_output=True, text=True,
                             timeout=120, env=env)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    h = cli("holdings")
    for field in ("shares", "cost_basis_usdc", "realized_pnl_usdc", "fees_paid_usdc",
                  "shares_without_basis"):
        assert Decimal(h[field]) == getattr(p1, field), field
    logged = {t["tx_hash"] for t in cli("log")["transactions"]}
    assert set(homes["before"]["txs"]) <= logged and homes["received"] in logged


def test_trade_list_and_tax_history_agree(homes: dict[str, Any]) -> None:
    """Every buy, sell and exit of My Indices is a line of the tax history (same tx)."""
    second = homes["second"]
    trades = {(t.kind, t.tx_hash) for t in second.my_trades()
              if t.kind in ("buy", "sell", "redeem_in_kind")}
    tax = {({"in_kind_exit": "redeem_in_kind"}.get(r.trade.kind, r.trade.kind),
            r.trade.request_tx) for r in second.reports.ledger().rows
           if r.trade.kind in ("buy", "sell", "in_kind_exit")}
    assert trades == tax and len(trades) == 3


def test_refresh_after_the_first_scan_reads_no_events(homes: dict[str, Any]) -> None:
    """The second computer's event scan is incremental and kept in its journal: an idle
    refresh asks nothing more of the node, and a new process starts from the cursor."""
    second = homes["second"]
    client = second.session.client
    assert client is not None
    second.index_state()
    second.position()
    with client.provider.measure() as m:
        second.index_state()
        second.position()
        second.my_trades()
    assert m.requests <= 1  # the lens read; no eth_getLogs
    holder = homes["holder"]
    assert second.session.journal.last_scanned_block(
        client.chain_id, "owner:" + holder.lower()) is not None


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def test_my_indices_on_the_second_computer_lists_the_trades(
        qtbot: Any, homes: dict[str, Any]) -> None:
    second = homes["second"]
    win = MainWindow()
    qtbot.addWidget(win)
    ctl = Controller(second, win, auto_onboard=False, status_interval_ms=1_000)
    win.resize(1280, 800)
    win.show()
    ctl.start()
    qtbot.waitUntil(lambda: ctl.status is not None and ctl.status.connected, timeout=WAIT)
    win.navigate("my")
    want = {t[1] for t in homes["before"]["trades"]}
    qtbot.waitUntil(lambda: {t.tx_hash for t in win.my_page.trades} == want, timeout=WAIT)
    page = win.my_page
    assert page.table.rowCount() == len(want)
    p1 = homes["before"]["position"]
    qtbot.waitUntil(lambda: ctl.position is not None
                    and ctl.position.cost_basis_usdc == p1.cost_basis_usdc, timeout=WAIT)
    assert "3.0000 more shares have no known cost" in page.cost.note.text()
    # Transactions: the first computer's rows, said to come from the chain's events.
    win.navigate("transactions")
    tp = win.tx_page
    want_txs = set(homes["before"]["txs"]) | {homes["received"]}
    qtbot.waitUntil(lambda: {r.tx_hash for r in tp.records} >= want_txs, timeout=WAIT)
    assert "read from the chain's events (not signed here)" in tp.mine_caption.text()
    ctl.shutdown()
