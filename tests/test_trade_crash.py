"""Never trade twice: SIGKILL at each step of a buy, then a retry as a user would; and two
processes trading at once. Real Anvil, real keyring, real subprocesses.

The user's retry: start the wallet again, look at the unresolved transactions it lists,
send or leave them, look at the position, and buy again only if nothing was bought. The
chain must then hold exactly one buy for the wallet.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3

from wallet_app.config import Settings
from wallet_app.devnet.deploy import fund
from wallet_app.devnet.embedded import Devnet
from wallet_app.facade import WalletService
from wallet_app.models import TxStatus
from wallet_app.operator import Operator
from wallet_app.paths import AppPaths

pytestmark = [pytest.mark.chain, pytest.mark.keyring, pytest.mark.slow]

PASSWORD = "orbit-Lantern-93-velvet"
BUY_REQUESTED = "0x" + Web3.keccak(
    text="BuyRequested(uint256,address,uint256,uint256,uint256)").hex().removeprefix("0x")

#: A buy that SIGKILLs itself at one step: right before/after the journal write, right
#: after the broadcast (before it is noted) or right after the receipt is recorded (before
#: the trade enters the activity journal).
CHILD = textwrap.dedent("""
    import os, signal, sys
    from decimal import Decimal
    from pathlib import Path
    from wallet_app.config import Settings
    from wallet_app.facade import WalletService
    from wallet_app.paths import AppPaths
    home, name, password, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    svc = WalletService(AppPaths(home / "data", home / "config", home / "logs"), Settings())
    svc.select_wallet(name)
    svc.connect()
    svc.unlock(password)
    q = svc.quote_buy(Decimal("300"))
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)
    journal, client = svc.session.journal, svc.session.client

    def wrap(obj, attr, before):
        real = getattr(obj, attr)
        def hooked(*a, **k):
            if before:
                die()
            out = real(*a, **k)
            die()
            return out
        setattr(obj, attr, hooked)

    if step == "before_journal":
        wrap(journal, "record_signed", True)
    elif step == "after_journal":
        wrap(journal, "record_signed", False)
    elif step == "after_broadcast":
        wrap(client, "send_raw_transaction", False)
    elif step == "after_receipt":
        wrap(journal, "mark_mined", False)
    print("buying", flush=True)
    svc.buy(q)
    print("not killed", flush=True)
""")


@pytest.fixture
def wallet(devnet: tuple[AppPaths, Devnet], monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[str, str]]:
    paths, dev = devnet
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    svc = WalletService(paths, Settings())
    name = f"c{secrets.token_hex(3)}"
    svc.create_wallet(name, PASSWORD)
    addr = svc.active_address()
    assert addr
    fund(Web3(Web3.HTTPProvider(dev.node.rpc_url)), dev.deployment, addr, Decimal(5),
         Decimal(2_000))
    svc.close()
    try:
        yield name, addr
    finally:
        s = WalletService(paths, Settings())
        s.keys.delete(name, name)
        s.close()


def _requests(w3: Web3, dev: Devnet, addr: str) -> int:
    """BuyRequested events of the real vault for ``addr`` (one per user transaction)."""
    logs = w3.eth.get_logs({"address": dev.deployment.vault, "fromBlock": 0,
                            "topics": [BUY_REQUESTED]})
    return sum(1 for lg in logs if lg["topics"][2].hex().endswith(addr.lower()[2:]))


def _child_env() -> dict[str, str]:
    env = os.environ.copy()
    env["G100_TEST_SCRYPT_N"] = "1024"
    return env


@pytest.mark.parametrize("step", ["before_journal", "after_journal", "after_broadcast",
                                  "after_receipt"])
def test_sigkill_at_each_step_then_user_retry_is_one_trade(
        step: str, devnet: tuple[AppPaths, Devnet], wallet: tuple[str, str]) -> None:
    paths, dev = devnet
    name, addr = wallet
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    child = subprocess.run([sys.executable, "-c", CHILD, str(paths.data_dir.parent), name,
                            PASSWORD, step], capture_output=True, text=True, timeout=120,
                           env=_child_env())
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "not killed" not in child.stdout

    # The user starts the wallet again.
    svc = WalletService(paths, Settings())
    try:
        svc.select_wallet(name)
        svc.connect()
        assert svc.session.client is not None
        assert svc.session.client.provider.send_count == 0  # the start sent nothing
        items = svc.pending_list()
        if step == "after_journal":
            (item,) = items  # signed and journaled, never sent: the user is asked
            assert item.state == "unsent" and item.can_send and "300" in item.what
            svc.unlock(PASSWORD)
            rec = svc.pending_send(item.tx_hash)
            assert rec.status is TxStatus.CONFIRMED and rec.outcome == "requested"
        else:
            assert items == []
        if _requests(w3, dev, addr) == 0:  # nothing was requested: the user buys again
            assert step == "before_journal"
            svc.unlock(PASSWORD)
            again = svc.buy(svc.quote_buy(Decimal("300")))
            assert again.verified and again.state == "settled"
        else:
            # Requested before the kill; the keeper's strike settles it and the wallet
            # records the settlement from the pinned vault's event (no trade before it).
            pos = svc.position()
            assert pos is not None and pos.cost_basis_usdc == 0
            (row,) = svc.requests()
            assert svc.session.vault is not None
            Operator(w3, dev.deployment, svc.session.vault).strike(
                not_before=int(row.eligible_at.timestamp()))
            assert [r.state for r in svc.settle_requests()] == ["settled"]
        pos = svc.position()
        assert pos is not None and pos.shares > 0
        assert _requests(w3, dev, addr) == 1  # exactly one request on chain
        assert pos.cost_basis_usdc == Decimal("300")  # and it counts once
        statuses = [t.status for t in svc.transactions()]
        assert statuses.count(TxStatus.CONFIRMED) == 1
        assert TxStatus.FAILED not in statuses
    finally:
        svc.close()


HOLDER = textwrap.dedent("""
    import sys
    from decimal import Decimal
    from pathlib import Path
    from wallet_app.config import Settings
    from wallet_app.facade import WalletService
    from wallet_app.paths import AppPaths
    home = Path(sys.argv[1])
    svc = WalletService(AppPaths(home / "data", home / "config", home / "logs"), Settings())
    svc.select_wallet(sys.argv[2])
    svc.connect()
    svc.unlock(sys.argv[3])
    r = svc.buy(svc.quote_buy(Decimal("200")))
    print("bought", r.verified, flush=True)
""")


def test_two_processes_trading_at_once(devnet: tuple[AppPaths, Devnet],
                                       wallet: tuple[str, str]) -> None:
    """The app (a process waiting for its buy's receipt) and the CLI buying at the same
    moment: the CLI is told plainly and changes nothing; no failed or dropped transaction."""
    paths, dev = devnet
    name, addr = wallet
    w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url))
    home = str(paths.data_dir.parent)
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, home, name, PASSWORD],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_child_env())
    try:
        deadline = time.monotonic() + 60
        while w3.eth.get_transaction_count(addr, "pending") == 0:
            assert holder.poll() is None, holder.stderr.read() if holder.stderr else ""
            assert time.monotonic() < deadline, "the first process never sent its buy"
            time.sleep(0.05)
        env = _child_env()
        env["G100_HOME"] = home
        cli = subprocess.run([sys.executable, "-m", "wallet_app", "buy", "150", "--wallet",
                              name, "--yes", "--password-stdin"], input=PASSWORD + "\n",
                             capture_output=True, text=True, timeout=120, env=env)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0 and "bought True" in out, err
    assert cli.returncode != 0
    assert f"Another trade is in progress (process {holder.pid})" in cli.stderr, cli.stderr
    assert "Traceback" not in cli.stderr
    assert _requests(w3, dev, addr) == 1 and w3.eth.get_transaction_count(addr) == 1
    svc = WalletService(paths, Settings())
    try:
        svc.select_wallet(name)
        svc.connect()
        assert [t.status for t in svc.transactions()] == [TxStatus.CONFIRMED]
    finally:
        svc.close()


def test_lock_file_names_its_holder_and_dies_with_it(app_home: AppPaths) -> None:
    """The OS lock is released by the kernel when its holder is SIGKILLed."""
    from wallet_app.trust import TradeInProgress, WalletTradeLock

    addr = "0x" + "ab" * 20
    script = textwrap.dedent(f"""
        import time
        from wallet_app.paths import AppPaths
        from pathlib import Path
        from wallet_app.trust import WalletTradeLock
        p = Path({str(app_home.data_dir.parent)!r})
        lock = WalletTradeLock(AppPaths(p / "data", p / "config", p / "logs"), 1, {addr!r})
        lock.acquire()
        print("held", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        lock = WalletTradeLock(app_home, 1, addr)
        with pytest.raises(TradeInProgress, match=f"process {child.pid}"):
            lock.acquire()
        assert not lock.held_here
    finally:
        child.kill()
        child.wait(10)
    with WalletTradeLock(app_home, 1, addr) as lock:
        assert lock.held_here
    assert not Path(lock.path).read_text()  # the pid is cleared on release
