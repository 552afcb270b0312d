"""The devnet's transactions, signed locally and sent in batches; owner calls through the
timelock; web3 handles on the deployed contracts (kept out of ``wallet_app/devnet/deploy.py``).

Why local signing: a real chain has no unlocked accounts and the devnet runs like one, so
every transaction is signed here with the devnet's own key (:mod:`.keys`, derived from
Anvil's public test mnemonic) and goes out with ``eth_sendRawTransaction``: the node is
never asked to sign (``eth_sendTransaction``), and Anvil with ``--accounts 0`` runs it all.

Why batched: the devnet's market and price moves are many transactions (a 100-asset price
step is ~300). Nonces are counted locally, gas limits are given, and the queued
transactions go out as one JSON-RPC batch; their receipts come back in one batch too, so a
price step costs a handful of HTTP round trips instead of two per transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from web3 import Web3
from web3._utils.method_formatters import receipt_formatter
from web3.contract import Contract
from web3.datastructures import AttributeDict

from ..deploy.signers import TxSigner
from ..errors import DevnetError
from . import artifacts
from .deployment import Deployment
from .keys import DevnetKeys, devnet_keys

#: The priority fee of the devnet's transactions (Anvil's default suggestion, 1 gwei).
TIP_WEI = 10**9
#: How long :meth:`TxBatch.wait` lets a sent transaction stay unmined before it mines a
#: block itself (see :meth:`TxBatch._nudge`).
NUDGE_S = 0.1


def rpc_batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """JSON-RPC ``calls`` in one HTTP request; the responses in call order (each with
    ``result`` or ``error``). A node that refuses batches gets the calls one by one."""
    provider: Any = w3.provider
    if len(calls) > 1 and hasattr(provider, "make_batch_request"):
        resp = provider.make_batch_request(list(calls))
        if isinstance(resp, list) and len(resp) == len(calls):
            return [dict(r) for r in resp]
    return [dict(provider.make_request(m, p)) for m, p in calls]


def _node_reason(resp: dict[str, Any]) -> str:
    err = resp.get("error")
    msg = err.get("message", "") if isinstance(err, dict) else ""
    return str(msg)[:160] or "no reason given"


#: One lock per (node endpoint, sender) in this process: a batch holds it from reading the
#: sender's pending nonce until its transactions are in the node's pool, so two threads
#: (the demo market's price step and the faucet, say) never sign the same nonce.
_SENDER_LOCKS: dict[tuple[str, str], threading.Lock] = {}
_SENDER_LOCKS_GUARD = threading.Lock()


def _sender_lock(w3: Web3, sender: str) -> threading.Lock:
    key = (str(getattr(w3.provider, "endpoint_uri", id(w3.provider))), sender)
    with _SENDER_LOCKS_GUARD:
        return _SENDER_LOCKS.setdefault(key, threading.Lock())


class TxBatch:
    """Signs the devnet's transactions locally and sends them in JSON-RPC batches.

    :meth:`send` queues; :meth:`flush` reads the sender's pending nonce (with the chain id
    and base fee, one round trip), signs the queue with consecutive nonces and broadcasts
    it as one batch of ``eth_sendRawTransaction``, all under the sender's process lock;
    :meth:`wait` flushes and returns the receipts. A change of sender flushes first, so
    transactions of different senders reach the node in the order they were queued.
    :meth:`nonce` tells the nonce the next queued transaction will get (for addresses and
    salts computed in advance); if another transaction of that sender lands before the
    flush, the flush refuses rather than sign under other nonces. Keys: the devnet's own
    (:func:`~.keys.devnet_keys`) or ``signers`` given.
    """

    def __init__(self, w3: Web3, signers: Iterable[TxSigner] = (),
                 keys: DevnetKeys | None = None) -> None:
        self.w3 = w3
        self._keys = keys or devnet_keys()
        self._signers: dict[str, TxSigner] = {
            Web3.to_checksum_address(s.address): s for s in signers}
        self._chain_id: int | None = None
        self._max_fee = 0
        self._queue: list[tuple[str, dict[str, Any]]] = []  # (label, unsigned fields)
        self._queued_from: str | None = None
        #: sender -> the nonce :meth:`nonce` told for its first queued transaction
        self._promised: dict[str, int] = {}
        self.sent: list[tuple[str, bytes]] = []

    def __repr__(self) -> str:
        return f"TxBatch({len(self._queue)} queued, {len(self.sent)} sent)"

    def _signer(self, sender: str, label: str) -> TxSigner:
        signer = self._signers.get(sender) or self._keys.for_address(sender)
        if signer is None:
            raise DevnetError(f"The devnet holds no key for {sender} ('{label}'); it signs "
                              "only with its own accounts.")
        self._signers[sender] = signer
        return signer

    def _read(self, sender: str) -> int:
        """One round trip: the sender's pending nonce, and the chain id and base fee on
        first use (the fee cap is twice the base fee plus the tip, valid for blocks of
        rising fees)."""
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getTransactionCount", [sender, "pending"])]
        if self._chain_id is None:
            calls += [("eth_chainId", []), ("eth_getBlockByNumber", ["latest", False])]
        out = rpc_batch(self.w3, calls)
        if any("result" not in r for r in out):
            raise DevnetError(f"The devnet node did not answer ({_node_reason(out[0])}).")
        if self._chain_id is None:
            self._chain_id = int(out[1]["result"], 16)
            base = int((out[2]["result"] or {}).get("baseFeePerGas") or "0x0", 16)
            self._max_fee = max(2 * base + TIP_WEI, 2 * TIP_WEI)
        return int(out[0]["result"], 16)

    def nonce(self, sender: str) -> int:
        """The nonce the next transaction of ``sender`` queued here will be signed with."""
        sender = Web3.to_checksum_address(sender)
        if self._queued_from not in (None, sender):
            self.flush()
        if sender not in self._promised:  # the first queued one's, held to at the flush
            self._promised[sender] = self._read(sender)
        return self._promised[sender] + (len(self._queue) if self._queued_from == sender
                                         else 0)

    def send(
        self, label: str, sender: str, to: str | None, data: str, gas: int, value: int = 0
    ) -> None:
        """Queue one transaction of ``sender`` (signed and sent at :meth:`flush`)."""
        sender = Web3.to_checksum_address(sender)
        self._signer(sender, label)
        if self._queued_from not in (None, sender):
            self.flush()
        tx: dict[str, Any] = {"gas": int(gas), "value": int(value), "data": data}
        if to is not None:
            tx["to"] = Web3.to_checksum_address(to)
        self._queue.append((label, tx))
        self._queued_from = sender

    def flush(self) -> None:
        """Sign everything queued and broadcast it in one batch; raises on the first
        refusal."""
        queue, sender = self._queue, self._queued_from
        self._queue, self._queued_from = [], None
        if not queue or sender is None:
            return
        signer = self._signer(sender, queue[0][0])
        with _sender_lock(self.w3, sender):
            first = self._read(sender)
            promised = self._promised.pop(sender, None)
            if promised is not None and promised != first:
                raise DevnetError(f"Another transaction of {sender} was sent while "
                                  f"'{queue[0][0]}' waited; nothing of this batch was sent.")
            assert self._chain_id is not None
            raws, hashes = [], []
            for i, (_, fields) in enumerate(queue):
                tx = {"type": 2, "chainId": self._chain_id, "nonce": first + i,
                      "maxFeePerGas": self._max_fee, "maxPriorityFeePerGas": TIP_WEI,
                      **fields}
                signed = signer.sign(tx, self._chain_id)
                raws.append("0x" + signed.raw.hex())
                hashes.append(signed.tx_hash)
            out = rpc_batch(self.w3, [("eth_sendRawTransaction", [raw]) for raw in raws])
        for (label, _), tx_hash, resp in zip(queue, hashes, out, strict=True):
            if "result" not in resp:
                raise DevnetError(f"The devnet rejected the transaction '{label}' "
                                  f"({_node_reason(resp)}). See the Anvil log.")
            self.sent.append((label, tx_hash))

    def _nudge(self) -> None:
        """Mine a block now. Why: a batch reaches Anvil at once and is admitted in any
        order (its batch handler runs the calls concurrently); automine mines one block
        per admission, and when the transactions that became ready do not all fit in it
        (the market's 125M-gas seeding calls), the rest wait for the next admission,
        which may never come. An explicit ``evm_mine`` takes them (a node without it
        mines on its own: the error is ignored)."""
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def wait(self, timeout: float = 120.0) -> list[Any]:
        """Receipts of everything sent since the last wait; raises if any reverted."""
        self.flush()
        sent, self.sent = self.sent, []
        receipts: dict[int, Any] = {}
        start = time.monotonic()
        deadline, nudge = start + timeout, start + NUDGE_S
        while len(receipts) < len(sent):
            todo = [i for i in range(len(sent)) if i not in receipts]
            out = rpc_batch(self.w3, [("eth_getTransactionReceipt", ["0x" + sent[i][1].hex()])
                                      for i in todo])
            for i, resp in zip(todo, out, strict=True):
                if resp.get("result"):
                    receipts[i] = AttributeDict.recursive(receipt_formatter(resp["result"]))
            if len(receipts) < len(sent):
                if time.monotonic() > deadline:
                    label = sent[min(set(range(len(sent))) - set(receipts))][0]
                    raise DevnetError(
                        f"The devnet did not mine '{label}' within {timeout:.0f} s.")
                if time.monotonic() > nudge:
                    self._nudge()
                    nudge = time.monotonic() + NUDGE_S
                time.sleep(0.005)
        for i, (label, _) in enumerate(sent):
            if receipts[i]["status"] != 1:
                raise DevnetError(f"Devnet transaction '{label}' reverted; see the Anvil log.")
        return [receipts[i] for i in range(len(sent))]


def timelock_calls(tx: TxBatch, proposer: str, timelock: str, target: str,
                   calls: Sequence[str], gas: int) -> None:
    """Owner calls on ``target`` through the ``TimelockController``: ``scheduleBatch`` then
    ``executeBatch`` (the devnet's min delay is 0, so both land at once; on a real chain
    the execute waits out the delay)."""
    tl = Web3().eth.contract(abi=artifacts.load("TimelockController").abi)
    targets, values = [target] * len(calls), [0] * len(calls)
    payloads = [bytes.fromhex(c[2:]) for c in calls]
    salt = Web3.keccak(b"".join(payloads) + tx.nonce(proposer).to_bytes(32, "big"))
    tx.send("timelock schedule", proposer, timelock,
            tl.encode_abi("scheduleBatch", [targets, values, payloads, b"\x00" * 32, salt, 0]),
            200_000 + 30_000 * len(calls) + sum(len(p) for p in payloads) * 40)
    tx.send("timelock execute", proposer, timelock,
            tl.encode_abi("executeBatch", [targets, values, payloads, b"\x00" * 32, salt]),
            gas + sum(len(p) for p in payloads) * 40)


def contract(w3: Web3, deployment: Deployment, name: str) -> Contract:
    """A web3 contract object for a deployed contract by its ``addresses`` key
    (``"USDC"`` uses the DevUSDC ABI)."""
    abi_name = {"USDC": "DevUSDC"}.get(name, name)
    return w3.eth.contract(address=deployment.addresses[name], abi=artifacts.load(abi_name).abi)


def token_contract(w3: Web3, deployment: Deployment, symbol: str) -> Contract:
    """The DevToken contract of a constituent."""
    return w3.eth.contract(
        address=deployment.token(symbol).address, abi=artifacts.load("DevToken").abi
    )
