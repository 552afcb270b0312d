"""Recovery the user decides: unsent and pending transactions, and what to do with them.

Nothing here runs by itself. On start the app and the CLI call :meth:`PendingService.list`
(which settles what the chain already decided, and never broadcasts) and show each
unresolved transaction with what it would do; the user picks one of

* **send now**: the same signed bytes, once, only while their deadline has not passed
  (:meth:`send`);
* **cancel**: a 0-value transfer to themselves at the same nonce, with higher fees, so the
  original can never execute (:meth:`cancel`);
* **leave it**: nothing is sent. Signed bytes past their deadline that the node does not
  know are then forgotten (their nonce freed: mined now they could only fail); anything
  else stays listed and keeps new trades refused (:meth:`leave`).

A new trade is refused while any transaction of the wallet is unresolved
(:meth:`require_resolved`): a trade killed after journaling and retried by the user must
never become two trades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..chain.errors import DeadlinePassed
from ..errors import WalletError
from ..journal import JournalEntry
from ..models import TxRecord, TxStatus
from ..vault import SHARE_DECIMALS, to_decimal
from .history import HistoryService
from .session import Session


class UnresolvedTransactions(WalletError):
    """A new trade was asked for while an earlier one is unsent or pending."""

    exit_code = 56

    def __init__(self, items: list[PendingItem]) -> None:
        self.items = items
        lines = "\n".join(f"  {i.tx_hash}  {i.what} ({i.state_text})" for i in items)
        super().__init__(
            "This wallet has an unresolved transaction, so no new trade was signed:\n"
            f"{lines}\nDecide what happens to it first: `index-wallet pending list`, then "
            "`pending send HASH` (only before its deadline), `pending cancel HASH` or "
            "`pending leave HASH` (or the Transactions screen in the app).")


@dataclass(frozen=True)
class PendingItem:
    """One unresolved transaction as the user is asked about it."""

    tx_hash: str
    kind: str
    nonce: int
    what: str  # what it would do, in words, decoded from the signed bytes
    state: str  # "unsent" (the node does not know it) | "pending" (in the node's pool)
    deadline: datetime | None
    expired: bool
    created_at: datetime

    @property
    def can_send(self) -> bool:
        return self.state == "unsent" and not self.expired

    @property
    def state_text(self) -> str:
        if self.state == "pending":
            return "sent, waiting to be mined"
        return "not sent" + (", deadline passed: it can no longer be sent" if self.expired
                             else "")


class PendingService:
    """List and resolve the active wallet's unsent and pending transactions."""

    def __init__(self, session: Session, history: HistoryService) -> None:
        self.s = session
        self.history = history

    # ------------------------------------------------------------------ reading

    def _describe(self, e: JournalEntry) -> str:
        from eth_account.typed_transactions import TypedTransaction
        from hexbytes import HexBytes

        if e.kind == "cancel":
            return f"cancel (0 ETH to yourself at nonce {e.nonce})"
        _, vault, _ = self.s.need()
        data = bytes(TypedTransaction.from_bytes(HexBytes(e.raw_tx)).as_dict().get("data", b""))
        call = vault.decode_call(data)
        if call is None:
            return e.summary or e.kind
        name, a = call
        if name in ("buy", "buyWithPermit"):
            return (f"buy G100 for {to_decimal(a['assets'], 6)} USDC (at least "
                    f"{to_decimal(a['minSharesOut'], SHARE_DECIMALS):.6f} G100)")
        if name == "sell":
            return (f"sell {to_decimal(a['shares'], SHARE_DECIMALS):.6f} G100 (at least "
                    f"{to_decimal(a['minUsdcOut'], 6)} USDC)")
        if name == "redeemInKind":
            return f"redeem {to_decimal(a['shares'], SHARE_DECIMALS):.6f} G100 in kind"
        return e.summary or name

    @staticmethod
    def _deadline(e: JournalEntry) -> int | None:
        d = e.meta.get("deadline")
        return int(d) if d is not None else None

    def _chain_time(self) -> int:
        client, _, _ = self.s.need()
        block = client.get_block("latest") or {}
        ts = block.get("timestamp", 0)
        return int(ts, 16) if isinstance(ts, str) else int(ts)

    def list(self, address: str | None = None) -> list[PendingItem]:
        """Settle with the chain what it already decided (no broadcast), then the rest."""
        addr = address or self.s.require_address()
        client, _, sender = self.s.need()
        rows = self.s.journal.pending(client.chain_id, addr)
        if not rows:
            return []
        sender.reconcile(addr, rebroadcast=False)
        self.history.record_settled_trades(addr)
        rows = self.s.journal.pending(client.chain_id, addr)
        if not rows:
            return []
        now = self._chain_time()
        out = []
        for e in rows:
            known = client.get_transaction(e.tx_hash) is not None
            d = self._deadline(e)
            out.append(PendingItem(
                tx_hash=e.tx_hash, kind=e.kind, nonce=e.nonce, what=self._describe(e),
                state="pending" if known else "unsent",
                deadline=datetime.fromtimestamp(d, UTC) if d is not None else None,
                expired=d is not None and now >= d, created_at=e.created_at))
        return out

    def require_resolved(self, address: str) -> None:
        """Refuse a new trade while anything of this wallet is unresolved."""
        items = self.list(address)
        if items:
            raise UnresolvedTransactions(items)

    # ------------------------------------------------------------------ decisions

    def send(self, tx_hash: str, wait_s: float = 120.0) -> TxRecord:
        """Send now: the same signed bytes, once, only before their deadline; waits for the
        receipt and records a trade's verified outcome."""
        addr = self.s.require_address()
        client, _, sender = self.s.need()
        with self.s.replacing(addr):
            now = self._chain_time()
            entry = self.s.journal.entry(tx_hash)
            d = self._deadline(entry) if entry else None
            if d is not None and now >= d:
                raise DeadlinePassed(tx_hash)
            sender.send_again(tx_hash, chain_time=now)
            res = sender.wait_for_receipt(tx_hash, timeout_s=wait_s)
            self.s.forget_snapshot()
            if res.status is TxStatus.CONFIRMED:
                self.history.record_settled_trades(addr)
            rec = self.s.journal.get(res.tx_hash)
            assert rec is not None
            return rec

    def cancel(self, tx_hash: str) -> TxRecord:
        """Cancel: a replacement at the same nonce (0 ETH to yourself, higher fees)."""
        return self.history.cancel(tx_hash)

    def leave(self, tx_hash: str) -> TxRecord:
        """Leave it: nothing is sent. Unsent bytes past their deadline are forgotten."""
        addr = self.s.require_address()
        with self.s.replacing(addr):
            items = {i.tx_hash: i for i in self.list(addr)}
            item = items.get(tx_hash.lower())
            if item is None:
                rec = self.s.journal.get(tx_hash)
                if rec is None:
                    raise WalletError(f"No transaction {tx_hash} in this wallet's journal.")
                return rec
            _, _, sender = self.s.need()
            if item.state == "unsent" and item.expired:
                return sender.abandon(tx_hash, "Left unsent by you after its deadline: it "
                                               "was never broadcast and can no longer run.")
            self.s.journal.update_meta(tx_hash, left_at=datetime.now(UTC).isoformat())
            rec = self.s.journal.get(tx_hash)
            assert rec is not None
            return rec


__all__ = ["PendingItem", "PendingService", "UnresolvedTransactions"]
