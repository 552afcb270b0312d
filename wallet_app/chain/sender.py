"""The send pipeline: build -> check chain -> simulate -> sign -> journal -> broadcast -> wait.

Why this order (DESIGN safety rules):

1. **Chain id first.** ``eth_chainId`` is asked right before every signature; a node on
   another chain fails here, before the signer is ever called (EIP-155 replay safety).
2. **Simulate before signing.** ``eth_call`` + ``eth_estimateGas`` of the unsigned
   transaction: a revert is decoded and refused before the user signs anything; the gas
   limit gets a safety margin. The account must hold value + gas limit x max fee.
3. **The caller signs.** This module never sees a key: ``sign(tx) -> raw bytes`` comes
   from the key-custody module. The returned bytes are decoded and checked against what we
   asked for (chain, nonce, recipient, value, data, fees, signer address), so a wrong
   wallet or a misbehaving signer cannot send something else.
4. **Journal, fsynced, before broadcast.** If the process dies at any later point the
   signed bytes are on disk and :meth:`Sender.reconcile` finds them on the next start.
5. **Broadcast once.** The provider never retries ``eth_sendRawTransaction``. A connection
   refused means nothing was delivered (the row is marked dropped, nothing spent); a
   timeout means "maybe delivered": the sender asks the node for the hash and, if it is
   not there, hands it *the same bytes* once more; if that is still inconclusive the row
   stays pending (:class:`BroadcastUncertain`) and reconcile settles it later. Same bytes
   = same hash = the same transaction, so no path creates a second transaction or uses a
   new nonce.
6. **Wait** for a receipt of the transaction *or of any same-nonce sibling* (speed-up,
   cancel), with a progress callback, then record the outcome.

Replacement (speed-up/cancel) re-signs the same nonce with both fee fields raised by at
least 12.5 % (geth's pool rule is 10 %, others differ; 12.5 % satisfies them all).

Reconcile rule for a pending journal row (run on start, per nonce group):

* a receipt exists for one of the group's hashes -> that one is confirmed/failed, the
  others are replaced (``replaced_by`` = the mined hash);
* no receipt, but the account's mined nonce has moved past it -> the slot was used by a
  transaction this wallet did not journal: every row of the group is marked dropped;
* the nonce is still free and the node knows one of the hashes -> still pending;
* the nonce is still free and the node knows none of them -> it stays pending ("not
  known to the node") until the *user* decides: :meth:`Sender.send_again` hands the node the
  same signed bytes (only while their deadline has not passed), :meth:`Sender.cancel`
  replaces them. Nothing is re-broadcast on start or by reconcile unless a caller asks for
  it explicitly (``rebroadcast=True``, which the wallet never does).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes

from ..journal import Journal, JournalEntry
from ..models import TxStatus
from .errors import (
    AlreadyKnown,
    BroadcastUncertain,
    ChainError,
    GasEstimateRose,
    InsufficientFundsForGas,
    ReceiptTimeout,
    RpcUnavailable,
    SignerMismatch,
    TransactionDropped,
    TransactionNotFound,
)
from .fees import (
    DEFAULT_POLICY,
    PRESETS,
    FeePolicy,
    FeeSuggestion,
    compute_presets,
    read_fee_history,
    to_gas_estimate,
)
from .l1fee import l1_data_fee_wei, max_l1_fee_wei, with_l1_fee
from .nonces import NonceManager
from .pending_resolution import PendingResolution
from .provider import ChainClient, RpcCallError
from .send_types import (
    _DROPPED_TEXT,
    TRANSFER_GAS,  # noqa: F401 - re-exported
    PreparedTx,
    ProgressFn,
    ReconcileOutcome,
    SendProgress,
    SendResult,
    SignFn,
    TxRequest,
    _int,
)
from .simulate import (
    DEFAULT_GAS_MARGIN_BPS,
    RevertDecoder,
    call_params,
    error_from_rpc,
)
from .simulate import simulate as run_simulation

log = logging.getLogger(__name__)


class Sender(PendingResolution):
    """Sends, replaces and reconciles transactions of one chain; holds no keys.

    Replacement, send-again/abandon and reconcile are in
    :class:`~wallet_app.chain.pending_resolution.PendingResolution`.
    """

    def __init__(
        self,
        client: ChainClient,
        journal: Journal,
        *,
        nonces: NonceManager | None = None,
        decoder: RevertDecoder | None = None,
        fee_policy: FeePolicy = DEFAULT_POLICY,
        gas_margin_bps: int = DEFAULT_GAS_MARGIN_BPS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.journal = journal
        self.nonces = nonces or NonceManager(client, journal)
        self.decoder = decoder or RevertDecoder()
        self.fee_policy = fee_policy
        self.gas_margin_bps = gas_margin_bps
        self._sleep = sleep

    # ------------------------------------------------------------------ helpers

    @property
    def chain_id(self) -> int:
        return self.client.chain_id

    def _fees(self, preset: str) -> FeeSuggestion:
        if preset not in PRESETS:
            raise ValueError(f"unknown fee preset {preset!r}; use one of {PRESETS}")
        return compute_presets(read_fee_history(self.client, self.fee_policy),
                               self.fee_policy)[preset]

    def _unsigned(self, req: TxRequest, nonce: int | None, gas: int, max_fee: int,
                  tip: int) -> dict[str, Any]:
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
            "value": int(req.value_wei),
            "data": "0x" + bytes(req.data).hex(),
        }
        if req.to is not None:
            tx["to"] = to_checksum_address(req.to)
        return tx

    def check_funds(self, sender: str, value: int, gas: int, max_fee: int,
                    extra_wei: int = 0) -> None:
        """Refuse before signing when the balance cannot pay value + worst-case fees
        (``extra_wei``: fees outside the gas price, e.g. an OP-stack L1 data fee)."""
        needed = value + gas * max_fee + extra_wei
        balance = self.client.get_balance(sender, "pending")
        if balance < needed:
            raise InsufficientFundsForGas(needed, balance, self.client.chain.native_symbol)

    def _progress(self, progress: ProgressFn | None, stage: str, message: str,
                  tx_hash: str | None, t0: float) -> None:
        if progress is None:
            return
        try:
            progress(SendProgress(stage, message, tx_hash, time.monotonic() - t0))
        except Exception:  # a broken display must not break a send in flight
            log.exception("progress callback failed")

    def _verify_signed(self, raw: bytes, expected: Mapping[str, Any], sender: str) -> str:
        """Check the signer's bytes are our transaction from ``sender``; return the hash."""
        if not isinstance(raw, bytes | bytearray) or not raw:
            raise SignerMismatch("no signed bytes were returned")
        raw = bytes(raw)
        try:
            decoded = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            signer = Account.recover_transaction(raw)
        except Exception:  # malformed bytes from the signer: say so, never echo them
            raise SignerMismatch("the signed bytes are not a valid EIP-1559 transaction") \
                from None
        checks = {
            "chain id": (decoded.get("chainId"), expected["chainId"]),
            "nonce": (decoded.get("nonce"), expected["nonce"]),
            "gas limit": (decoded.get("gas"), expected["gas"]),
            "max fee": (decoded.get("maxFeePerGas"), expected["maxFeePerGas"]),
            "priority fee": (decoded.get("maxPriorityFeePerGas"),
                             expected["maxPriorityFeePerGas"]),
            "value": (decoded.get("value"), expected["value"]),
            "data": ("0x" + bytes(decoded.get("data", b"")).hex(), expected["data"].lower()),
            "recipient": (("0x" + bytes(decoded.get("to") or b"").hex()) if decoded.get("to")
                          else None, expected.get("to", "").lower() or None),
        }
        for what, (got, want) in checks.items():
            if got != want:
                raise SignerMismatch(f"different {what}")
        if signer.lower() != sender.lower():
            raise SignerMismatch("signed by another account")
        return "0x" + keccak(raw).hex()

    # ------------------------------------------------------------------ prepare / quote

    def prepare(self, req: TxRequest, *, eth_usd: Decimal | None = None,
                check_funds: bool = True) -> PreparedTx:
        """Simulate and price ``req`` without signing (quotes use this).

        Raises :class:`TransactionReverted` (decoded), :class:`InsufficientFundsForGas`, or
        a transport/chain error. The returned tx has ``nonce`` None: :meth:`send` binds it.
        """
        if not is_address(req.sender):
            raise ValueError("sender must be an address")
        call: dict[str, Any] = {"from": to_checksum_address(req.sender),
                                "value": int(req.value_wei), "data": bytes(req.data)}
        if req.to is not None:
            call["to"] = to_checksum_address(req.to)
        if req.gas_limit is not None:
            call["gas"] = req.gas_limit
        sim = run_simulation(self.client, call, decoder=self.decoder,
                             margin_bps=self.gas_margin_bps, estimate=req.gas_limit is None)
        gas_limit = req.gas_limit or sim.gas_limit
        if req.max_fee_per_gas_wei is not None and req.max_priority_fee_wei is not None:
            fees = FeeSuggestion(req.preset, req.max_fee_per_gas_wei, req.max_priority_fee_wei,
                                 max(0, req.max_fee_per_gas_wei - req.max_priority_fee_wei))
        else:
            fees = self._fees(req.preset)
        tx = self._unsigned(req, None, gas_limit, fees.max_fee_per_gas_wei,
                            fees.max_priority_fee_wei)
        l1_wei = l1_data_fee_wei(self.client, tx) if self.client.chain.op_stack else 0
        if check_funds:
            self.check_funds(req.sender, int(req.value_wei), gas_limit,
                             fees.max_fee_per_gas_wei, max_l1_fee_wei(l1_wei))
        gas = to_gas_estimate(fees, gas_limit, gas_expected=sim.gas_expected, eth_usd=eth_usd)
        return PreparedTx(tx, with_l1_fee(gas, l1_wei, eth_usd), sim)

    # ------------------------------------------------------------------ send

    def send(
        self,
        req: TxRequest,
        sign: SignFn,
        *,
        wait: bool = True,
        timeout_s: float = 120.0,
        progress: ProgressFn | None = None,
    ) -> SendResult:
        """Run the whole pipeline (see module doc). ``wait=False`` returns once broadcast."""
        t0 = time.monotonic()
        self._progress(progress, "checking", "Checking the network", None, t0)
        self.client.check_chain_id()
        self._progress(progress, "simulating", "Simulating the transaction", None, t0)
        prepared = self.prepare(req)
        if req.max_gas_limit is not None and prepared.tx["gas"] > req.max_gas_limit:
            raise GasEstimateRose(req.max_gas_limit, prepared.tx["gas"])
        sender = to_checksum_address(req.sender)
        with self.nonces.reserve(sender) as nonce:
            tx = dict(prepared.tx, nonce=nonce)
            self._progress(progress, "signing", "Waiting for the signature", None, t0)
            raw = bytes(sign(dict(tx)))
            tx_hash = self._verify_signed(raw, tx, sender)
            self.journal.record_signed(
                tx_hash=tx_hash, raw_tx=raw, chain_id=self.chain_id, sender=sender,
                nonce=nonce, kind=req.kind, to=tx.get("to"), value_wei=int(req.value_wei),
                data=bytes(req.data), gas_limit=tx["gas"],
                max_fee_per_gas_wei=tx["maxFeePerGas"],
                max_priority_fee_wei=tx["maxPriorityFeePerGas"], summary=req.summary,
                meta=dict(req.meta))
        self._progress(progress, "journaled", "Saved to the journal", tx_hash, t0)
        self._broadcast_new(tx_hash, raw, progress, t0)
        if not wait:
            return self._result(tx_hash)
        return self.wait_for_receipt(tx_hash, timeout_s=timeout_s, progress=progress, _t0=t0)

    def _broadcast_new(self, tx_hash: str, raw: bytes, progress: ProgressFn | None,
                       t0: float) -> None:
        """First broadcast of a journaled transaction; failures settle the row first."""
        self._progress(progress, "broadcasting", "Sending to the network", tx_hash, t0)
        try:
            returned = self.client.send_raw_transaction(raw)
        except AlreadyKnown:
            returned = tx_hash
        except BroadcastUncertain:
            self.journal.note_broadcast_attempt(tx_hash)
            if not self._settle_uncertain(tx_hash, raw):
                raise BroadcastUncertain(self.client.host, tx_hash) from None
            returned = tx_hash
        except RpcUnavailable:
            # Connection refused: the bytes never left this machine.
            self.journal.mark_dropped(tx_hash, "Not sent: the network could not be reached.")
            raise
        except ChainError as exc:
            self.journal.mark_dropped(tx_hash, f"Not sent: {exc}")
            raise
        if str(returned).lower() != tx_hash:
            log.warning("node returned a different transaction hash than computed")
        self.journal.mark_broadcast(tx_hash)
        self._progress(progress, "broadcast", "Sent; waiting for a block", tx_hash, t0)

    def _settle_uncertain(self, tx_hash: str, raw: bytes) -> bool:
        """After a "maybe delivered" broadcast: does the node have it now? If not, hand it
        the *same* bytes once more (cannot duplicate: same hash). True when it is in."""
        try:
            if self.client.get_transaction(tx_hash) is not None:
                return True
            if self.client.get_receipt(tx_hash) is not None:
                return True
        except ChainError:
            return False
        try:
            self.client.send_raw_transaction(raw)
        except AlreadyKnown:
            return True
        except ChainError:
            return False  # still unknown: reconcile settles it later
        self.journal.note_broadcast_attempt(tx_hash)
        return True

    # ------------------------------------------------------------------ receipts

    def _result(self, tx_hash: str, receipt: Mapping[str, Any] | None = None) -> SendResult:
        entry = self.journal.entry(tx_hash)
        if entry is None:
            raise TransactionNotFound(tx_hash)
        return SendResult(entry.tx_hash, entry.status, entry.record(), entry.block_number,
                          entry.gas_used, entry.fee_paid_wei, receipt, entry.error)

    def _apply_receipt(self, entry: JournalEntry, receipt: Mapping[str, Any]) -> str | None:
        """Record a receipt; returns our error sentence for a failed transaction."""
        ok = _int(receipt.get("status", 1)) == 1
        error = None if ok else self._failure_reason(entry, receipt)
        egp = receipt.get("effectiveGasPrice")
        self.journal.mark_mined(
            entry.tx_hash, success=ok, block_number=_int(receipt["blockNumber"]),
            gas_used=_int(receipt["gasUsed"]) if receipt.get("gasUsed") is not None else None,
            effective_gas_price_wei=_int(egp) if egp is not None else None, error=error)
        return error

    def _failure_reason(self, entry: JournalEntry, receipt: Mapping[str, Any]) -> str:
        """Replay a failed transaction as a call on its block's state to learn why."""
        try:
            decoded = TypedTransaction.from_bytes(HexBytes(entry.raw_tx)).as_dict()
            tx: dict[str, Any] = {"from": entry.sender, "value": decoded["value"],
                                  "data": "0x" + bytes(decoded["data"]).hex(),
                                  "gas": decoded["gas"]}
            if decoded.get("to"):
                tx["to"] = to_checksum_address(bytes(decoded["to"]))
            # Replayed on the state *after* its block: that includes whatever ran before
            # it in the same block (the usual cause, e.g. a price move), which the parent
            # block's state would miss.
            self.client.rpc_raw("eth_call", call_params(tx), hex(_int(receipt["blockNumber"])))
        except RpcCallError as err:
            exc = error_from_rpc(err, self.decoder, simulated=False)
            return str(exc)
        except ChainError:
            pass
        gas_used = receipt.get("gasUsed")
        if gas_used is not None and _int(gas_used) >= entry.gas_limit:
            return "The transaction failed on-chain: it ran out of gas. Only the gas fee " \
                   "was spent."
        return "The transaction failed on-chain. Only the gas fee was spent."

    def wait_for_receipt(
        self,
        tx_hash: str,
        *,
        timeout_s: float = 120.0,
        progress: ProgressFn | None = None,
        _t0: float | None = None,
    ) -> SendResult:
        """Poll until this transaction or a same-nonce sibling is mined.

        Returns the mined one's result (status confirmed or failed; the others are marked
        replaced). Raises :class:`ReceiptTimeout` (still pending, nothing changed) or
        :class:`TransactionDropped` (its nonce was used by a transaction not journaled).
        """
        t0 = _t0 if _t0 is not None else time.monotonic()
        start = time.monotonic()
        entry = self.journal.entry(tx_hash)
        if entry is None:
            raise TransactionNotFound(tx_hash)
        if entry.status != TxStatus.PENDING:
            return self._result(entry.replaced_by or tx_hash)
        interval = 0.02
        cap = max(0.1, min(2.0, self.client.chain.block_time_s / 4))
        polls = 0
        self._progress(progress, "waiting", "Waiting for the transaction to be included",
                       tx_hash, t0)
        while True:
            group = [e for e in self.journal.same_nonce(entry.chain_id, entry.sender,
                                                        entry.nonce)
                     if e.status == TxStatus.PENDING]
            for member in sorted(group, key=lambda e: e.tx_hash != tx_hash):
                receipt = self.client.get_receipt(member.tx_hash)
                if receipt is not None and receipt.get("blockNumber") is not None:
                    error = self._apply_receipt(member, receipt)
                    stage = "failed" if error else "confirmed"
                    self._progress(progress, stage, error or "Confirmed", member.tx_hash, t0)
                    return self._result(member.tx_hash, receipt)
            polls += 1
            if polls % 10 == 0:
                latest = self.client.get_transaction_count(entry.sender, "latest")
                if latest > entry.nonce:
                    # One more look: a receipt may have landed between the two reads.
                    if any(self.client.get_receipt(m.tx_hash) for m in group):
                        continue
                    for m in group:
                        self.journal.mark_dropped(m.tx_hash, _DROPPED_TEXT)
                    raise TransactionDropped(tx_hash)
            if time.monotonic() - start >= timeout_s:
                raise ReceiptTimeout(tx_hash, timeout_s)
            self._sleep(interval)
            interval = min(cap, interval * 2)


__all__ = [
    "PreparedTx",
    "ProgressFn",
    "ReconcileOutcome",
    "SendProgress",
    "SendResult",
    "Sender",
    "SignFn",
    "TxRequest",
]
