"""The one signing preamble (:meth:`Session.signing`) on the real devnet and keyring: the
order of its checks and the locks it holds, which every signing service (trades, cancel,
in-kind exit, claims, transfers, revokes) now relies on instead of its own copy."""

from __future__ import annotations

import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from web3 import Web3

from wallet_app.config import Settings
from wallet_app.devnet.deploy import fund
from wallet_app.facade import WalletService
from wallet_app.keys import WalletLocked
from wallet_app.paths import AppPaths
from wallet_app.services.types import TradeFailed
from wallet_app.trust import SigningRefused

pytestmark = [pytest.mark.chain, pytest.mark.keyring]

PASSWORD = "orbit-Lantern-93-velvet"

#: Another process asks for the same wallet's OS trade lock and says what it got.
OTHER_PROCESS = textwrap.dedent("""
    import sys
    from pathlib import Path
    from wallet_app.paths import AppPaths
    from wallet_app.trust import TradeInProgress, WalletTradeLock
    data, config, logs, chain_id, addr = sys.argv[1:6]
    lock = WalletTradeLock(AppPaths(Path(data), Path(config), Path(logs)), int(chain_id), addr)
    try:
        lock.acquire()
    except TradeInProgress:
        print("refused")
    else:
        print("acquired")
        lock.release()
""")


@pytest.fixture
def wallet(devnet: tuple[AppPaths, Any], monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[WalletService, str]]:
    """A new funded wallet, connected, still locked."""
    paths, dev = devnet
    monkeypatch.setenv("G100_TEST_SCRYPT_N", "1024")
    svc = WalletService(paths, Settings())
    name = f"s{secrets.token_hex(3)}"
    svc.import_private_key(name, "0x" + secrets.token_hex(32), PASSWORD)
    svc.select_wallet(name)
    addr = svc.active_address()
    assert addr
    fund(Web3(Web3.HTTPProvider(dev.node.rpc_url)), dev.deployment, addr, Decimal(1),
         Decimal(10))
    svc.connect()
    svc.lock()  # an import leaves the wallet unlocked
    assert not svc.is_unlocked()
    try:
        yield svc, addr
    finally:
        svc.keys.delete(name, name)
        svc.close()


def _other_process_gets_lock(svc: WalletService, addr: str) -> str:
    p = svc.session.paths
    out = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(p.data_dir), str(p.config_dir),
         str(p.log_dir), str(svc.session.client.chain_id), addr],  # type: ignore[union-attr]
        capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def test_locked_wallet_is_refused_before_any_lock_or_check(wallet) -> None:  # noqa: ANN001
    svc, addr = wallet
    asked: list[str] = []
    with pytest.raises(WalletLocked), svc.session.signing(asked.append):
        pytest.fail("the body ran for a locked wallet")
    assert asked == []  # refused before the unresolved-transaction check
    assert not svc.session.trade_file_lock(addr).held_here


def test_scope_holds_both_locks_and_the_pinned_record(wallet) -> None:  # noqa: ANN001
    svc, addr = wallet
    svc.unlock(PASSWORD)
    s = svc.session
    asked: list[str] = []
    with s.signing(asked.append) as scope:
        assert asked == [addr]  # the unresolved check ran, for this wallet, under the lock
        assert s.trade_file_lock(addr).held_here and s.trade_lock.locked()
        assert _other_process_gets_lock(svc, addr) == "refused"
        assert scope.address == addr and scope.record == s.record
        assert scope.record.chain_id == scope.client.chain_id
        assert "sign=" not in repr(scope)  # the signer is never printed with the scope
        # The signer inside the scope still checks every address against the record.
        with pytest.raises(SigningRefused):
            scope.sign({"to": "0x" + "ee" * 20, "data": b"", "value": 1, "chainId":
                        scope.client.chain_id, "nonce": 0, "gas": 21_000,
                        "maxFeePerGas": 1, "maxPriorityFeePerGas": 1})
    assert not s.trade_file_lock(addr).held_here and not s.trade_lock.locked()
    assert _other_process_gets_lock(svc, addr) == "acquired"


def test_unresolved_refusal_releases_the_locks(wallet) -> None:  # noqa: ANN001
    svc, addr = wallet
    svc.unlock(PASSWORD)

    def unresolved(_: str) -> None:
        raise TradeFailed("an earlier transaction is unresolved")

    with pytest.raises(TradeFailed, match="unresolved"), svc.session.signing(unresolved):
        pytest.fail("the body ran although a transaction was unresolved")
    assert not svc.session.trade_file_lock(addr).held_here
    assert not svc.session.trade_lock.locked()
