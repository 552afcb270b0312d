"""What happens to a transaction after it was sent: speed-up and cancel (the same nonce
re-signed with both fees raised), the user's decisions on an unresolved one (send the same
bytes again, or abandon it) and the start-up reconcile of pending journal rows with the
chain (kept out of ``wallet_app/chain/sender.py``; the rules are in its docstring).

A mixin of :class:`wallet_app.chain.sender.Sender`: it uses the sender's journal, client,
fee presets and ``send``/``wait_for_receipt``.
"""

from __future__ import annotations

import time

from eth_account.typed_transactions import TypedTransaction
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from ..journal import JournalEntry
from ..models import TxRecord, TxStatus
from .errors import (
    AlreadyKnown,
    BroadcastUncertain,
    ChainError,
    DeadlinePassed,
    FeeTooLow,
    InsufficientFundsForGas,
    NonceConflict,
    NotReplaceable,
    RpcUnavailable,
    TransactionNotFound,
)
from .fees import replacement_fees
from .send_types import (
    _DROPPED_TEXT,
    TRANSFER_GAS,
    ProgressFn,
    ReconcileOutcome,
    SendResult,
    SignFn,
    TxRequest,
)
from .simulate import simulate as run_simulation


class PendingResolution:
    """Replacements, send-again/abandon and reconcile for one chain's pending rows."""

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


