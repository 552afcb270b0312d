"""Recovery the user decides, by clicks: a buy whose send never reached the chain (a node
that claims to broadcast and delivers nothing) is listed when the app starts, nothing is
sent on its own, and the Transactions screen's **Send now** sends the same signed bytes
once, or **Leave** sends nothing.

Real parts: the embedded Anvil devnet, the real keyring, the real facade and window; the
only stand-in is the hostile JSON-RPC proxy in front of Anvil (``tests/hostile_rpc.py``).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import secrets  # noqa: E402
import shutil  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from web3 import Web3  # noqa: E402

from tests.gui_support import click, close_app, open_app  # noqa: E402
from tests.hostile_rpc import HostileProxy  # noqa: E402
from ui.app import create_app  # noqa: E402
from wallet_app.chain.errors import ReceiptTimeout  # noqa: E402
from wallet_app.config import Settings, save_settings  # noqa: E402
from wallet_app.devnet.deploy import fund  # noqa: E402
from wallet_app.devnet.embedded import Devnet  # noqa: E402
from wallet_app.facade import WalletService  # noqa: E402
from wallet_app.models import TxStatus  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "orbit-Lantern-93-velvet"
WAIT = 60_000
REQUEST_TOPIC = Web3.keccak(text="BuyRequested(uint256,address,uint256,uint256,uint256)")


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


def _requests(w3: Web3, vault: str, owner: str) -> int:
    """BuyRequested events of the real vault for ``owner`` (one per user transaction)."""
    logs = w3.eth.get_logs({"address": vault, "fromBlock": 0, "topics": [REQUEST_TOPIC]})
    return sum(1 for lg in logs if lg["topics"][2].hex().endswith(owner.lower()[2:]))


def _withheld_buy(devnet: tuple[AppPaths, Devnet], tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A funded wallet whose buy was signed, journaled and 'sent' to a node that dropped
    it; the process then ended. Returns what the next start needs."""
    paths, dev = devnet
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    proxy = HostileProxy(dev.node.rpc_url)
    home = AppPaths(tmp_path / "data", tmp_path / "config", tmp_path / "logs").ensure()
    shutil.copytree(paths.devnet_dir, home.devnet_dir, dirs_exist_ok=True)
    (home.devnet_dir / "node.json").unlink(missing_ok=True)
    shutil.copytree(paths.data_dir / "deployments", home.data_dir / "deployments")
    save_settings(Settings(network="devnet", rpc_url=proxy.url, lock_timeout_minutes=30), home)
    svc = WalletService(home)
    name = f"r{secrets.token_hex(3)}"
    svc.create_wallet(name, PASSWORD)
    addr = svc.active_address()
    assert addr
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    fund(w3, dev.deployment, addr, Decimal(5), Decimal(5_000))
    svc.connect()
    svc.session.receipt_timeout_s = 4.0
    q = svc.quote_buy(Decimal("300"))
    proxy.send_mode = "withhold"
    with pytest.raises(ReceiptTimeout):
        svc.buy(q)
    (tx,) = [r for r in svc.transactions() if r.kind == "buy"]
    svc.close()
    proxy.send_mode = "forward"
    return {"proxy": proxy, "home": home, "name": name, "addr": addr, "w3": w3,
            "vault": dev.deployment.vault, "tx": tx.tx_hash, "dev": dev}


def _start_app(qtbot: Any, ctx: dict[str, Any]) -> tuple[Any, Any, WalletService]:
    svc = WalletService(ctx["home"])
    svc.select_wallet(ctx["name"])
    win, ctl = open_app(qtbot, svc, auto_onboard=False)
    qtbot.waitUntil(lambda: win.notice.isVisible()
                    and "unresolved transaction" in win.notice.title.text(), timeout=WAIT)
    return win, ctl, svc


def test_send_now_sends_the_same_bytes_once(qtbot, devnet, tmp_path: Path,  # noqa: ANN001
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _withheld_buy(devnet, tmp_path, monkeypatch)
    proxy: HostileProxy = ctx["proxy"]
    sends_before = proxy.count("eth_sendRawTransaction")
    win, ctl, svc = _start_app(qtbot, ctx)
    try:
        assert "buy request: 300" in win.notice.message.text().lower() or \
            "300" in win.notice.message.text()
        qtbot.wait(1500)  # a reader reads the notice; the app must not act meanwhile
        assert proxy.count("eth_sendRawTransaction") == sends_before, "sent without asking"
        assert _requests(ctx["w3"], ctx["vault"], ctx["addr"]) == 0
        click(qtbot, win.nav_buttons["transactions"])
        page = win.tx_page
        qtbot.waitUntil(lambda: page.select_hash(ctx["tx"]), timeout=WAIT)
        assert page.send_button.isEnabled() and page.leave_button.isEnabled()
        click(qtbot, page.send_button)
        qtbot.waitUntil(lambda: page.banner.isVisible()
                        and page.banner.title.text() == "Sent again", timeout=WAIT)
        sent = proxy.decoded()
        assert len(sent) == 2 and sent[0]["hash"] == sent[1]["hash"] == ctx["tx"]
        assert _requests(ctx["w3"], ctx["vault"], ctx["addr"]) == 1
        # The devnet keeper strikes after the request's cut-off; the app then records the
        # settlement from the pinned vault's event when it refreshes the journal.
        from wallet_app.operator import Operator

        (row,) = svc.requests()
        assert svc.session.vault is not None
        Operator(ctx["w3"], ctx["dev"].deployment, svc.session.vault).strike(
            not_before=int(row.eligible_at.timestamp()))
        ctl.refresh_journal()
        qtbot.waitUntil(lambda: any(r.tx_hash == ctx["tx"] and r.status is TxStatus.CONFIRMED
                                    for r in page.records), timeout=WAIT)
        qtbot.waitUntil(lambda: ctl.position is not None and ctl.position.shares > 0
                        and ctl.position.cost_basis_usdc == Decimal("300"), timeout=WAIT)
    finally:
        close_app(ctl, svc)
        WalletService(ctx["home"]).keys.delete(ctx["name"], ctx["name"])
        proxy.close()


def test_leave_sends_nothing_and_keeps_new_trades_refused(  # noqa: ANN001
        qtbot, devnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _withheld_buy(devnet, tmp_path, monkeypatch)
    proxy: HostileProxy = ctx["proxy"]
    sends_before = proxy.count("eth_sendRawTransaction")
    win, ctl, svc = _start_app(qtbot, ctx)
    try:
        click(qtbot, win.nav_buttons["transactions"])
        page = win.tx_page
        qtbot.waitUntil(lambda: page.select_hash(ctx["tx"]), timeout=WAIT)
        click(qtbot, page.leave_button)
        qtbot.waitUntil(lambda: page.banner.isVisible()
                        and page.banner.title.text() == "Left as it is", timeout=WAIT)
        assert "Nothing was sent" in page.banner.message.text()
        qtbot.wait(1000)
        assert proxy.count("eth_sendRawTransaction") == sends_before
        assert _requests(ctx["w3"], ctx["vault"], ctx["addr"]) == 0
        # Still before its deadline: it stays listed, so a new buy is refused plainly.
        assert [i.tx_hash for i in svc.pending_list()] == [ctx["tx"]]
    finally:
        close_app(ctl, svc)
        WalletService(ctx["home"]).keys.delete(ctx["name"], ctx["name"])
        proxy.close()
