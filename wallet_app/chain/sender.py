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
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes

from ..journal import Journal, JournalEntry
from ..models import GasEstimate, TxRecord, TxStatus
from .errors import (
    AlreadyKnown,
    BroadcastUncertain,
    ChainError,
    DeadlinePassed,
    FeeTooLow,
    GasEstimateRose,
    InsufficientFundsForGas,
    NonceConflict,
    NotReplaceable,
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
    replacement_fees,
    to_gas_estimate,
)
from .l1fee import l1_data_fee_wei, max_l1_fee_wei, with_l1_fee
from .nonces import NonceManager
from .provider import ChainClient, RpcCallError
from .simulate import (
    DEFAULT_GAS_MARGIN_BPS,
    RevertDecoder,
    Simulation,
    call_params,
    error_from_rpc,
)
from .simulate import simulate as run_simulation

log = logging.getLogger(__name__)

#: ``sign(unsigned_tx_dict) -> raw signed transaction bytes`` (from the key custody module).
SignFn = Callable[[dict[str, Any]], bytes]

TRANSFER_GAS = 21_000


@dataclass(frozen=True)
class SendProgress:
    """One step of the pipeline, for a progress display.

    ``stage`` is one of: checking, simulating, signing, journaled, broadcasting,
    broadcast, waiting, confirmed, failed, replaced.
    """

    stage: str
    message: str
    tx_hash: str | None = None
    elapsed_s: float = 0.0


ProgressFn = Callable[[SendProgress], None]


@dataclass(frozen=True)
class TxRequest:
    """What to send. Fees come from ``preset`` unless both explicit fees are given."""

    sender: str
    to: str | None  # None: contract creation
    value_wei: int = 0
    data: bytes = b""
    kind: str = "transfer"
    summary: str = ""
    gas_limit: int | None = None  # None: estimated with the safety margin
    preset: str = "market"
    max_fee_per_gas_wei: int | None = None
    max_priority_fee_wei: int | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: Refuse before signing when the fresh estimate exceeds this (the quote's limit plus a
    #: margin): a node cannot raise the gas the user pays after they confirmed a quote.
    max_gas_limit: int | None = None


@dataclass(frozen=True)
class PreparedTx:
    """An unsigned, simulated transaction and its fee estimate (not yet nonce-bound)."""

    tx: dict[str, Any]
    gas: GasEstimate
    simulation: Simulation


@dataclass(frozen=True)
class SendResult:
    """Where a sent transaction ended up (for the mined one of its nonce group)."""

    tx_hash: str
    status: TxStatus
    record: TxRecord
    block_number: int | None = None
    gas_used: int | None = None
    fee_paid_wei: int | None = None
    receipt: Mapping[str, Any] | None = None
    error: str | None = None  # our own sentence for a failed transaction


@dataclass(frozen=True)
class ReconcileOutcome:
    """What reconcile did with one journal row."""

    tx_hash: str
    status: TxStatus
    action: str  # "confirmed" | "failed" | "replaced" | "dropped" | "pending" | "rebroadcast"


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16) if str(value).startswith("0x") else int(value)


class Sender:
    """Sends, replaces and reconciles transactions of one chain; holds no keys."""

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

    # ------------------------------------------------------------------ replacement

    def _pending_group(self, tx_hash: str) -> tuple[JournalEntry, list[JournalEntry]]:
        entry = self.journal.entry(tx_hash)
        if entry is None or entry.chain_id != self.chain_id:
            raise TransactionNotFound(tx_hash)
        self.refresh(tx_hash)
        entry = self.journal.entry(tx_hash)
        assert entry is not None
        if entry.status != TxStatus.PENDING:
            raise NotReplaceable(tx_hash, entry.status.value)
        group = [e for e in self.journal.same_nonce(entry.chain_id, entry.sender, entry.nonce)
                 if e.status == TxStatus.PENDING]
        return entry, group

    def speed_up(self, tx_hash: str, sign: SignFn, *, preset: str = "aggressive",
                 wait: bool = True, timeout_s: float = 120.0,
                 progress: ProgressFn | None = None) -> SendResult:
        """Re-sign the same transaction (same nonce) with fees raised >= 12.5 %."""
        entry, _ = self._pending_group(tx_hash)
        decoded = TypedTransaction.from_bytes(HexBytes(entry.raw_tx)).as_dict()
        to = to_checksum_address(bytes(decoded["to"])) if decoded.get("to") else None
        req = TxRequest(sender=entry.sender, to=to, value_wei=int(decoded["value"]),
                        data=bytes(decoded["data"]), kind=entry.kind,
                        summary=f"Speed-up: {entry.summary}" if entry.summary else "Speed-up",
                        gas_limit=int(decoded["gas"]), preset=preset, meta=entry.meta)
        return self._replace(entry, req, sign, simulate=True, wait=wait,
                             timeout_s=timeout_s, progress=progress)

    def cancel(self, tx_hash: str, sign: SignFn, *, preset: str = "aggressive",
               wait: bool = True, timeout_s: float = 120.0,
               progress: ProgressFn | None = None) -> SendResult:
        """Replace the transaction with a 0-value transfer to self at the same nonce."""
        entry, _ = self._pending_group(tx_hash)
        req = TxRequest(sender=entry.sender, to=entry.sender, value_wei=0, data=b"",
                        kind="cancel", summary=f"Cancel of {entry.kind} {entry.tx_hash[:10]}",
                        gas_limit=TRANSFER_GAS, preset=preset)
        return self._replace(entry, req, sign, simulate=False, wait=wait,
                             timeout_s=timeout_s, progress=progress)

    def _replace(self, entry: JournalEntry, req: TxRequest, sign: SignFn, *, simulate: bool,
                 wait: bool, timeout_s: float, progress: ProgressFn | None) -> SendResult:
        t0 = time.monotonic()
        self._progress(progress, "checking", "Checking the network", entry.tx_hash, t0)
        self.client.check_chain_id()
        sender = to_checksum_address(entry.sender)
        with self.nonces.lock(sender):
            _, group = self._pending_group(entry.tx_hash)
            base_max = max(e.max_fee_per_gas_wei for e in group)
            base_tip = max(e.max_priority_fee_wei for e in group)
            max_fee, tip = replacement_fees(base_max, base_tip, self._fees(req.preset))
            tx = self._unsigned(req, entry.nonce, int(req.gas_limit or TRANSFER_GAS),
                                max_fee, tip)
            if simulate:
                self._progress(progress, "simulating", "Simulating the transaction",
                               entry.tx_hash, t0)
                run_simulation(self.client, {"from": sender, "to": tx.get("to"),
                                             "value": tx["value"], "data": req.data,
                                             "gas": tx["gas"]},
                               decoder=self.decoder, estimate=False)
            self.check_funds(sender, int(req.value_wei), tx["gas"], max_fee)
            self._progress(progress, "signing", "Waiting for the signature", entry.tx_hash, t0)
            raw = bytes(sign(dict(tx)))
            new_hash = self._verify_signed(raw, tx, sender)
            self.journal.record_signed(
                tx_hash=new_hash, raw_tx=raw, chain_id=self.chain_id, sender=sender,
                nonce=entry.nonce, kind=req.kind, to=tx.get("to"), value_wei=tx["value"],
                data=bytes(req.data), gas_limit=tx["gas"], max_fee_per_gas_wei=max_fee,
                max_priority_fee_wei=tip, summary=req.summary, replaces=entry.tx_hash,
                meta=dict(req.meta))
        self._progress(progress, "journaled", "Saved to the journal", new_hash, t0)
        try:
            self._broadcast_new(new_hash, raw, progress, t0)
        except NonceConflict:
            # The nonce got mined meanwhile (the original, most likely): settle the group.
            self.refresh(entry.tx_hash)
            raise NotReplaceable(entry.tx_hash, "mined") from None
        if not wait:
            return self._result(new_hash)
        return self.wait_for_receipt(new_hash, timeout_s=timeout_s, progress=progress, _t0=t0)

    # ------------------------------------------------------------------ reconcile

    def refresh(self, tx_hash: str) -> TxRecord:
        """Settle one transaction's nonce group against the chain (no re-broadcast)."""
        entry = self.journal.entry(tx_hash)
        if entry is None:
            raise TransactionNotFound(tx_hash)
        if entry.status == TxStatus.PENDING:
            self._reconcile_group(entry.sender, entry.nonce, rebroadcast=False, latest={})
        rec = self.journal.get(tx_hash)
        assert rec is not None
        return rec

    def send_again(self, tx_hash: str, *, chain_time: int) -> SendResult:
        """The user's "send now" for a journaled, unresolved transaction: the *same* signed
        bytes, once, and only while their deadline (``meta["deadline"]``, chain time) has
        not passed. Raises :class:`DeadlinePassed`, :class:`NotReplaceable` (already
        settled) or the broadcast's own error; returns without waiting."""
        entry, _ = self._pending_group(tx_hash)
        deadline = entry.meta.get("deadline")
        if deadline is not None and int(chain_time) >= int(deadline):
            raise DeadlinePassed(entry.tx_hash)
        self.client.check_chain_id()
        try:
            self.client.send_raw_transaction(entry.raw_tx)
        except AlreadyKnown:
            pass
        except BroadcastUncertain:
            self.journal.note_broadcast_attempt(entry.tx_hash)
            raise
        except NonceConflict:
            self.refresh(entry.tx_hash)
            raise NotReplaceable(entry.tx_hash, "mined") from None
        self.journal.mark_broadcast(entry.tx_hash)
        self.journal.set_error(entry.tx_hash, None)
        return self._result(entry.tx_hash)

    def abandon(self, tx_hash: str, reason: str) -> TxRecord:
        """Forget signed bytes the node does not know and that can no longer execute (past
        their deadline), freeing their nonce. Refused while the node still has them."""
        entry, _ = self._pending_group(tx_hash)
        if self.client.get_transaction(entry.tx_hash) is not None:
            raise NotReplaceable(entry.tx_hash, "still in the network's pool")
        self.journal.mark_dropped(entry.tx_hash, reason)
        rec = self.journal.get(entry.tx_hash)
        assert rec is not None
        return rec

    def reconcile(self, sender: str | None = None, *, rebroadcast: bool = False
                  ) -> list[ReconcileOutcome]:
        """Settle every pending journal row of this chain (see module doc for the rule).

        Call on start (and whenever the connection comes back). Raises
        :class:`RpcUnavailable` when the node cannot be reached; rows stay pending.
        """
        self.client.check_chain_id()
        outcomes: list[ReconcileOutcome] = []
        latest: dict[str, int] = {}
        seen: set[tuple[str, int]] = set()
        for e in self.journal.pending(self.chain_id, sender):
            key = (e.sender.lower(), e.nonce)
            if key in seen:
                continue
            seen.add(key)
            outcomes.extend(self._reconcile_group(e.sender, e.nonce, rebroadcast, latest))
        return outcomes

    def _reconcile_group(self, sender: str, nonce: int, rebroadcast: bool,
                         latest: dict[str, int]) -> list[ReconcileOutcome]:
        group = self.journal.same_nonce(self.chain_id, sender, nonce)
        pending = [e for e in group if e.status == TxStatus.PENDING]
        if not pending:
            return []
        # 1. mined? (also check dropped siblings: "dropped" bytes can still be mined by
        #    anyone who saw them)
        for e in sorted(group, key=lambda e: e.status != TxStatus.PENDING):
            if e.status not in (TxStatus.PENDING, TxStatus.DROPPED):
                continue
            receipt = self.client.get_receipt(e.tx_hash)
            if receipt is not None and receipt.get("blockNumber") is not None:
                self._apply_receipt(e, receipt)
                return self._outcomes(pending, e.tx_hash)
        # 2. nonce consumed by something we did not journal?
        key = sender.lower()
        if key not in latest:
            latest[key] = self.client.get_transaction_count(sender, "latest")
        if latest[key] > nonce:
            for e in pending:
                self.journal.mark_dropped(e.tx_hash, _DROPPED_TEXT)
            return [ReconcileOutcome(e.tx_hash, TxStatus.DROPPED, "dropped") for e in pending]
        # 3. still in the node's pool?
        for e in pending:
            if self.client.get_transaction(e.tx_hash) is not None:
                return [ReconcileOutcome(x.tx_hash, TxStatus.PENDING, "pending")
                        for x in pending]
        if not rebroadcast:
            return [ReconcileOutcome(x.tx_hash, TxStatus.PENDING, "pending") for x in pending]
        # 4. the node lacks it: re-send the newest, best-paying signed bytes, unchanged.
        best = max(pending, key=lambda e: (e.max_priority_fee_wei, e.max_fee_per_gas_wei,
                                           e.created_at))
        try:
            self.client.send_raw_transaction(best.raw_tx)
        except AlreadyKnown:
            pass
        except BroadcastUncertain:
            self.journal.note_broadcast_attempt(best.tx_hash)
            raise
        except RpcUnavailable:
            raise
        except NonceConflict:
            # The nonce was used between our reads; the next reconcile settles it.
            return [ReconcileOutcome(x.tx_hash, TxStatus.PENDING, "pending") for x in pending]
        except (FeeTooLow, InsufficientFundsForGas, ChainError) as exc:
            # Still valid signed bytes that may be mined later: keep pending, explain.
            self.journal.set_error(best.tx_hash, f"Waiting to be re-sent: {exc}")
            return [ReconcileOutcome(x.tx_hash, TxStatus.PENDING, "pending") for x in pending]
        self.journal.mark_broadcast(best.tx_hash)
        self.journal.set_error(best.tx_hash, None)
        out = [ReconcileOutcome(best.tx_hash, TxStatus.PENDING, "rebroadcast")]
        out += [ReconcileOutcome(x.tx_hash, TxStatus.PENDING, "pending")
                for x in pending if x.tx_hash != best.tx_hash]
        return out

    def _outcomes(self, pending: list[JournalEntry], mined: str) -> list[ReconcileOutcome]:
        out = []
        for e in pending:
            now = self.journal.entry(e.tx_hash)
            assert now is not None
            out.append(ReconcileOutcome(e.tx_hash, now.status, now.status.value))
        if mined not in {e.tx_hash for e in pending}:
            now = self.journal.entry(mined)
            assert now is not None
            out.append(ReconcileOutcome(mined, now.status, now.status.value))
        return out


_DROPPED_TEXT = ("Dropped: another transaction from this account used the same nonce, so "
                 "this one will never be mined. Nothing was spent by it.")


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
