"""The send pipeline on a private Anvil: journal before broadcast, refusals before signing,
speed-up/cancel, reconcile after a real SIGKILL, dropped transactions."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from tests.test_chain_support import (
    ETH,
    REVERTER_SOURCE,
    FlakyProxy,
    Signer,
    balance,
    deploy,
    devnet_client,
    fresh_account,
    nonce_of,
    rpc,
    start_anvil,
)
from wallet_app.chain.errors import (
    BroadcastUncertain,
    InsufficientFundsForGas,
    RpcUnavailable,
    TransactionReverted,
    WrongNetwork,
)
from wallet_app.chain.nonces import NonceManager
from wallet_app.chain.provider import ChainClient
from wallet_app.chain.sender import Sender, SendProgress, TxRequest
from wallet_app.chain.simulate import RevertDecoder
from wallet_app.devnet import process
from wallet_app.journal import Journal
from wallet_app.models import TxStatus
from wallet_app.paths import PROJECT_ROOT, AppPaths

RECIPIENT = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.NodeInfo]:
    """A private Anvil: these tests switch automine off and drop transactions."""
    yield from start_anvil(tmp_path_factory.mktemp("sender-anvil"))


@pytest.fixture
def url(node: process.NodeInfo) -> str:
    return node.rpc_url


@pytest.fixture
def journal(app_home: AppPaths) -> Iterator[Journal]:
    j = Journal.for_paths(app_home)
    yield j
    j.close()


@pytest.fixture
def client(url: str) -> ChainClient:
    return devnet_client(url)


@pytest.fixture
def manual_mining(url: str) -> Iterator[None]:
    """Automine off for the test (transactions wait in the pool until evm_mine)."""
    rpc(url, "evm_setAutomine", False)
    try:
        yield
    finally:
        rpc(url, "evm_setAutomine", True)


def _transfer(sender: str, value: int = 12_345, **kw: Any) -> TxRequest:
    return TxRequest(sender=sender, to=RECIPIENT, value_wei=value, kind="transfer",
                     summary="test transfer", **kw)


# ----------------------------------------------------------------- the happy path

def test_transfer_confirmed_and_journaled_before_broadcast(
        url: str, client: ChainClient, journal: Journal, app_home: AppPaths) -> None:
    acct = fresh_account(url)
    signer = Signer(acct)
    seen_at_broadcast: list[tuple[str, str, bool]] = []

    def check_journal(method: str, params: Any) -> None:
        # A separate connection sees only committed (durable) rows.
        raw_hex = params[0]
        tx_hash = "0x" + keccak(bytes.fromhex(raw_hex[2:])).hex()
        with sqlite3.connect(app_home.journal_file) as db:
            row = db.execute("SELECT status, raw_tx, broadcast_at FROM transactions"
                             " WHERE tx_hash = ?", (tx_hash,)).fetchone()
        assert row is not None, "broadcast before the journal row was committed"
        seen_at_broadcast.append((row[0], row[1], row[2] is None))

    client.provider.before_send = check_journal
    stages: list[SendProgress] = []
    before = balance(url, RECIPIENT)
    with client.provider.measure() as window:
        result = Sender(client, journal).send(_transfer(acct.address), signer,
                                              progress=stages.append)
    assert result.status == TxStatus.CONFIRMED and result.block_number is not None
    assert seen_at_broadcast == [("pending", seen_at_broadcast[0][1], True)]
    assert balance(url, RECIPIENT) - before == 12_345
    assert len(signer.calls) == 1 and signer.calls[0]["chainId"] == 31337
    assert signer.calls[0]["type"] == 2 and signer.calls[0]["gas"] == 21_000
    entry = journal.entry(result.tx_hash)
    assert entry is not None and entry.status == TxStatus.CONFIRMED
    assert entry.broadcast_at is not None and entry.gas_used == 21_000
    assert entry.fee_paid_wei == result.fee_paid_wei and entry.fee_paid_wei > 0
    assert [s.stage for s in stages] == ["checking", "simulating", "signing", "journaled",
                                         "broadcasting", "broadcast", "waiting", "confirmed"]
    assert window.sends == 1
    # chainId, eth_call, estimateGas, feeHistory, balance, nonce, send, receipt
    assert window.requests <= 9, window.by_method
    rec = journal.transactions(sender=acct.address)
    assert [r.tx_hash for r in rec] == [result.tx_hash]


def test_concurrent_sends_get_distinct_nonces(url: str, client: ChainClient,
                                              journal: Journal) -> None:
    acct = fresh_account(url)
    sender = Sender(client, journal)
    results: list[Any] = []

    def go() -> None:
        results.append(sender.send(_transfer(acct.address), Signer(acct)))

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(journal.entry(r.tx_hash).nonce for r in results) == [0, 1, 2]  # type: ignore[union-attr]
    assert all(r.status == TxStatus.CONFIRMED for r in results)


# ----------------------------------------------------------------- refusals before signing

def test_wrong_chain_refused_before_signing(url: str, journal: Journal) -> None:
    acct = fresh_account(url)
    signer = Signer(acct)
    wrong = devnet_client(url, chain_id=8453)  # the wallet thinks it is on Base
    with pytest.raises(WrongNetwork, match="Nothing was signed"):
        Sender(wrong, journal).send(_transfer(acct.address), signer)
    assert signer.calls == []
    assert journal.entries() == []
    assert wrong.provider.method_counts.get("eth_call", 0) == 0


def test_rpc_down_refused_before_signing(url: str, journal: Journal) -> None:
    acct = fresh_account(url)
    signer = Signer(acct)
    port = process.free_port()
    down = devnet_client(f"http://127.0.0.1:{port}", retries=1, timeout=1)
    with pytest.raises(RpcUnavailable) as exc:
        Sender(down, journal).send(_transfer(acct.address), signer)
    assert str(exc.value) == (f"Cannot reach the network at 127.0.0.1:{port}; check your "
                              "connection or the RPC URL in Settings.")
    assert signer.calls == [] and journal.entries() == []


def test_rpc_down_at_broadcast_marks_not_sent(url: str, client: ChainClient,
                                              journal: Journal) -> None:
    """The connection drops between journaling and broadcast: nothing left the machine."""
    acct = fresh_account(url)
    closed = f"http://127.0.0.1:{process.free_port()}"

    def cut(method: str, params: Any) -> None:
        client.provider.endpoint_uri = closed

    client.provider.before_send = cut
    with pytest.raises(RpcUnavailable):
        Sender(client, journal).send(_transfer(acct.address), Signer(acct))
    (entry,) = journal.entries(sender=acct.address)
    assert entry.status == TxStatus.DROPPED and entry.error is not None
    assert entry.error.startswith("Not sent")
    assert nonce_of(url, acct.address, "pending") == 0
    # Connection back: the next send takes the same nonce (those bytes never went out).
    client.provider.endpoint_uri = url
    client.provider.before_send = None
    again = Sender(client, journal).send(_transfer(acct.address), Signer(acct))
    assert again.status == TxStatus.CONFIRMED and journal.entry(again.tx_hash).nonce == 0  # type: ignore[union-attr]


def test_lost_answer_to_broadcast_resends_same_bytes(
        url: str, journal: Journal, manual_mining: None) -> None:
    """The send's answer times out: the pipeline checks by hash and hands the node the
    same signed bytes again (same hash), so there is still exactly one transaction."""
    acct = fresh_account(url)
    # A 1 s client timeout (not 0.3 s) so the unscripted reads through the proxy never
    # time out on a loaded machine; the scripted hang lasts 4 s, far past the timeout and
    # the check by hash that follows it.
    proxy = FlakyProxy(url, ["sleep"], only_method="eth_sendRawTransaction", sleep_s=4.0)
    try:
        flaky = devnet_client(proxy.url, timeout=1.0)
        res = Sender(flaky, journal).send(_transfer(acct.address), Signer(acct), wait=False)
    finally:
        proxy.close()
    assert res.status == TxStatus.PENDING
    assert flaky.provider.send_count == 2  # the same bytes, twice
    assert journal.entry(res.tx_hash).broadcast_at is not None  # type: ignore[union-attr]
    rpc(url, "evm_mine")
    s = Sender(devnet_client(url), journal)
    assert [o.action for o in s.reconcile()] == ["confirmed"]
    assert nonce_of(url, acct.address) == 1


def test_timeout_during_broadcast_is_uncertain_then_reconciled(
        url: str, journal: Journal, manual_mining: None) -> None:
    """Both attempts time out (the node did get the bytes): a plain "saved, will be
    checked" error; reconcile on restart finds it by hash and sends nothing."""
    acct = fresh_account(url)
    proxy = FlakyProxy(url, ["sleep", "sleep"], only_method="eth_sendRawTransaction",
                       sleep_s=4.0)  # as above: reads never time out, the sends always do
    try:
        flaky = devnet_client(proxy.url, timeout=1.0)
        with pytest.raises(BroadcastUncertain) as exc:
            Sender(flaky, journal).send(_transfer(acct.address), Signer(acct))
    finally:
        proxy.close()
    (entry,) = journal.pending()
    assert exc.value.tx_hash == entry.tx_hash and "cannot be sent twice" in str(exc.value)
    assert entry.broadcast_at is None and entry.broadcast_attempts == 1
    deadline = time.monotonic() + 60  # the proxy forwards after its delay: the node gets
    while time.monotonic() < deadline:  # the bytes (polled: a loaded machine is slow)
        if rpc(url, "eth_getTransactionByHash", entry.tx_hash) is not None:
            break
        time.sleep(0.05)
    client = devnet_client(url)
    s = Sender(client, journal)
    assert [o.action for o in s.reconcile()] == ["pending"]  # the node has it
    rpc(url, "evm_mine")
    assert [o.action for o in s.reconcile()] == ["confirmed"]
    assert client.provider.send_count == 0 and nonce_of(url, acct.address) == 1


def test_revert_refused_before_signing(url: str, client: ChainClient,
                                       journal: Journal) -> None:
    c = deploy(url, REVERTER_SOURCE, "Reverter")
    acct = fresh_account(url)
    signer = Signer(acct)
    req = TxRequest(sender=acct.address, to=c.address, data=keccak(text="requireFails()")[:4],
                    kind="buy")
    with pytest.raises(TransactionReverted, match='said "Deadline passed"'):
        Sender(client, journal).send(req, signer)
    assert signer.calls == [] and journal.entries() == []


def test_insufficient_funds_for_gas(url: str, client: ChainClient, journal: Journal) -> None:
    acct = fresh_account(url, wei=1000)
    signer = Signer(acct)
    with pytest.raises(InsufficientFundsForGas) as exc:
        Sender(client, journal).send(_transfer(acct.address, value=0), signer)
    assert "Not enough ETH" in str(exc.value) and "0.000000000000001 ETH" in str(exc.value)
    assert signer.calls == [] and journal.entries() == []


def test_signer_for_another_account_is_refused(url: str, client: ChainClient,
                                               journal: Journal) -> None:
    from wallet_app.chain.errors import SignerMismatch

    acct, other = fresh_account(url), fresh_account(url)
    with pytest.raises(SignerMismatch, match="another account"):
        Sender(client, journal).send(_transfer(acct.address), Signer(other))
    assert journal.entries() == [] and client.provider.send_count == 0


# ----------------------------------------------------------------- replacement

def test_speed_up_replaces_original(url: str, client: ChainClient, journal: Journal,
                                    manual_mining: None) -> None:
    acct = fresh_account(url)
    signer = Signer(acct)
    s = Sender(client, journal)
    first = s.send(_transfer(acct.address), signer, wait=False)
    assert first.status == TxStatus.PENDING
    fast = s.speed_up(first.tx_hash, signer, wait=False)
    old, new = journal.entry(first.tx_hash), journal.entry(fast.tx_hash)
    assert old is not None and new is not None
    assert new.nonce == old.nonce and new.replaces == old.tx_hash and new.kind == "transfer"
    assert new.max_fee_per_gas_wei * 10_000 >= old.max_fee_per_gas_wei * 11_250
    assert new.max_priority_fee_wei * 10_000 >= old.max_priority_fee_wei * 11_250
    rpc(url, "evm_mine")
    done = s.wait_for_receipt(first.tx_hash, timeout_s=10)
    assert done.tx_hash == fast.tx_hash and done.status == TxStatus.CONFIRMED
    replaced = journal.get(first.tx_hash)
    assert replaced is not None and replaced.status == TxStatus.REPLACED
    assert replaced.replaced_by == fast.tx_hash
    assert rpc(url, "eth_getTransactionReceipt", first.tx_hash) is None
    assert nonce_of(url, acct.address) == 1


def test_cancel_is_zero_value_self_transfer(url: str, client: ChainClient, journal: Journal,
                                            manual_mining: None) -> None:
    acct = fresh_account(url)
    signer = Signer(acct)
    s = Sender(client, journal)
    before = balance(url, RECIPIENT)
    first = s.send(_transfer(acct.address, value=ETH), signer, wait=False)
    cancel = s.cancel(first.tx_hash, signer, wait=False)
    tx = signer.calls[-1]
    assert tx["to"] == acct.address and tx["value"] == 0 and tx["data"] == "0x"
    assert tx["nonce"] == signer.calls[0]["nonce"]
    rpc(url, "evm_mine")
    outcomes = {o.tx_hash: o.action for o in s.reconcile()}
    assert outcomes == {first.tx_hash: "replaced", cancel.tx_hash: "confirmed"}
    assert balance(url, RECIPIENT) == before  # the 1 ETH never left
    assert journal.get(first.tx_hash).replaced_by == cancel.tx_hash  # type: ignore[union-attr]
    assert journal.get(cancel.tx_hash).kind == "cancel"  # type: ignore[union-attr]


def test_replacing_a_mined_transaction_is_refused(url: str, client: ChainClient,
                                                  journal: Journal) -> None:
    from wallet_app.chain.errors import NotReplaceable

    acct = fresh_account(url)
    s = Sender(client, journal)
    done = s.send(_transfer(acct.address), Signer(acct))
    with pytest.raises(NotReplaceable, match="already confirmed"):
        s.speed_up(done.tx_hash, Signer(acct))


def test_failed_on_chain_records_decoded_reason(url: str, client: ChainClient,
                                                journal: Journal) -> None:
    c = deploy(url, REVERTER_SOURCE, "Reverter")
    acct = fresh_account(url)
    dec = RevertDecoder([c.abi], messages={"AlreadyDone": "this was already done."})
    s = Sender(client, journal, decoder=dec)
    once = keccak(text="once()")[:4]
    rpc(url, "evm_setAutomine", False)
    try:
        # Both pass simulation (the first is not mined yet); the second fails in the block.
        a = s.send(TxRequest(acct.address, c.address, data=once, kind="buy"), Signer(acct),
                   wait=False)
        b = s.send(TxRequest(acct.address, c.address, data=once, kind="buy"), Signer(acct),
                   wait=False)
        rpc(url, "evm_mine")
    finally:
        rpc(url, "evm_setAutomine", True)
    assert s.wait_for_receipt(a.tx_hash).status == TxStatus.CONFIRMED
    failed = s.wait_for_receipt(b.tx_hash)
    assert failed.status == TxStatus.FAILED
    assert failed.error == ("The transaction failed on-chain: This was already done. "
                            "Only the gas fee was spent.")


# ----------------------------------------------------------------- restart and reconcile

_CHILD = r"""
import os, signal, sys
from eth_account import Account
from tests.test_chain_support import Signer, devnet_client
from wallet_app.chain.sender import Sender, TxRequest
from wallet_app.journal import Journal

url, to, mode = sys.argv[1:4]
acct = Account.from_key(os.environ["TEST_ONLY_KEY"])
client = devnet_client(url)
if mode == "before_broadcast":
    client.provider.before_send = lambda m, p: os.kill(os.getpid(), signal.SIGKILL)
res = Sender(client, Journal()).send(
    TxRequest(sender=acct.address, to=to, value_wei=777, kind="transfer"), Signer(acct),
    wait=False)
print(res.tx_hash, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _run_and_sigkill(url: str, key: bytes, mode: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, G100_HOME=str(home), TEST_ONLY_KEY="0x" + key.hex())
    return subprocess.run([sys.executable, "-c", _CHILD, url, RECIPIENT, mode],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_sigkill_after_broadcast_then_reconcile_without_resend(
        url: str, app_home: AppPaths, manual_mining: None) -> None:
    acct = fresh_account(url)
    child = _run_and_sigkill(url, acct.key, "after_broadcast", app_home.data_dir.parent)
    assert child.returncode == -signal.SIGKILL, child.stderr
    sent_hash = child.stdout.strip()
    # "Restart": nothing survives but the journal file.
    client = devnet_client(url)
    with Journal.for_paths(app_home) as journal:
        (entry,) = journal.pending()
        assert entry.tx_hash == sent_hash and entry.broadcast_at is not None
        rpc(url, "evm_mine")
        outcomes = Sender(client, journal).reconcile()
        assert [(o.tx_hash, o.action) for o in outcomes] == [(sent_hash, "confirmed")]
        assert journal.get(sent_hash).status == TxStatus.CONFIRMED  # type: ignore[union-attr]
    assert client.provider.send_count == 0  # no second send
    assert nonce_of(url, acct.address) == 1


def test_sigkill_before_broadcast_then_user_sends_same_bytes(
        url: str, app_home: AppPaths, manual_mining: None) -> None:
    acct = fresh_account(url)
    child = _run_and_sigkill(url, acct.key, "before_broadcast", app_home.data_dir.parent)
    assert child.returncode == -signal.SIGKILL and child.stdout == ""
    client = devnet_client(url)
    with Journal.for_paths(app_home) as journal:
        (entry,) = journal.pending()
        assert entry.broadcast_at is None  # journaled, killed before the broadcast
        assert rpc(url, "eth_getTransactionByHash", entry.tx_hash) is None
        # The journaled nonce is taken: a new transaction would get the next one.
        assert NonceManager(client, journal).next_nonce(acct.address) == entry.nonce + 1
        # Reconcile on start never re-sends: the row waits for the user's decision.
        outcomes = Sender(client, journal).reconcile()
        assert [(o.tx_hash, o.action) for o in outcomes] == [(entry.tx_hash, "pending")]
        assert client.provider.send_count == 0
        assert rpc(url, "eth_getTransactionByHash", entry.tx_hash) is None
        # The user chose "send now": the same bytes, once.
        Sender(client, journal).send_again(entry.tx_hash, chain_time=0)
        assert client.provider.send_count == 1
        assert rpc(url, "eth_getTransactionByHash", entry.tx_hash) is not None  # same hash
        rpc(url, "evm_mine")
        assert [o.action for o in Sender(client, journal).reconcile()] == ["confirmed"]
    assert client.provider.send_count == 1
    assert nonce_of(url, acct.address) == 1


def test_dropped_from_pool_is_resent_with_same_hash_when_user_asks(
        url: str, client: ChainClient, journal: Journal, manual_mining: None) -> None:
    acct = fresh_account(url)
    s = Sender(client, journal)
    sent = s.send(_transfer(acct.address), Signer(acct), wait=False)
    rpc(url, "anvil_dropTransaction", sent.tx_hash)
    assert rpc(url, "eth_getTransactionByHash", sent.tx_hash) is None
    sends = client.provider.send_count
    outcomes = s.reconcile(acct.address)
    assert [(o.tx_hash, o.action) for o in outcomes] == [(sent.tx_hash, "pending")]
    assert client.provider.send_count == sends  # never re-sent behind the user's back
    s.send_again(sent.tx_hash, chain_time=0)
    assert client.provider.send_count == sends + 1
    assert rpc(url, "eth_getTransactionByHash", sent.tx_hash)["hash"] == sent.tx_hash
    rpc(url, "evm_mine")
    assert [o.action for o in s.reconcile(acct.address)] == ["confirmed"]


def test_dropped_and_nonce_used_elsewhere_is_marked_dropped(
        url: str, client: ChainClient, journal: Journal, manual_mining: None) -> None:
    acct = fresh_account(url)
    s = Sender(client, journal)
    sent = s.send(_transfer(acct.address), Signer(acct), wait=False)
    rpc(url, "anvil_dropTransaction", sent.tx_hash)
    # Another wallet with the same key uses the nonce (not in our journal).
    tx = dict(Signer(acct).calls or {}, **{})
    tx = {"type": 2, "chainId": 31337, "nonce": 0, "gas": 21_000, "to": acct.address,
          "value": 0, "data": "0x", "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
    rpc(url, "eth_sendRawTransaction", "0x" + bytes(acct.sign_transaction(tx).raw_transaction)
        .hex())
    rpc(url, "evm_mine")
    outcomes = s.reconcile()
    assert [(o.tx_hash, o.action) for o in outcomes] == [(sent.tx_hash, "dropped")]
    e = journal.entry(sent.tx_hash)
    assert e is not None and e.status == TxStatus.DROPPED and "same nonce" in (e.error or "")


def test_nonce_choice_rule() -> None:
    assert NonceManager.choose(5, set()) == 5
    assert NonceManager.choose(5, {5, 6}) == 7  # journaled, unbroadcast: taken
    assert NonceManager.choose(5, {3, 4}) == 5  # stale rows below the node count
    assert NonceManager.choose(5, {7}) == 5  # never skip a free slot
