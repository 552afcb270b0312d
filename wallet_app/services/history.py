"""History and position: the user's transactions and trades from the journal, what a
receipt says was bought or sold, cost basis and P&L, pending transactions and CSV export.

The journal is the wallet's memory; this service is the only one that writes trades into
it, from receipts alone (the chain's numbers, never the quote's), and only as *verified*
when the pinned vault's own event and the balances read afterwards agree with what the
user signed (:mod:`wallet_app.trust.outcome`); anything else is kept as unverified and
never counts in cost basis or P&L.

The journal only knows what *this computer* signed. What the same key did elsewhere (the
recovery phrase imported on a new computer, the CLI on another machine) is read from the
pinned contracts' events about the address (:mod:`.owner_events`, the same reading a
watch-only wallet uses) and merged in (:meth:`HistoryService.all_trades`):

* a journal record wins wherever it and an event describe the same thing: the same
  forward request id, or the same transaction (instant trade, in-kind exit, transfer);
  an *unverified* journal record therefore keeps an event of the same request or
  transaction out of the cost basis, as issue 10 asks;
* everything else the events say (settlements of requests this journal never sent,
  instant trades, in-kind exits, G100 transfers) is added, in chain order, so nothing is
  counted twice and two computers compute the same position.

Cost: the position and trade list scan the address's events only when the lens snapshot
(already read for the index screen) shows the address's G100 or USDC balance changed
since the last scan, so an idle refresh adds no request; a changed one adds the three
``eth_getLogs`` of an incremental scan (plus one batched block read when it found logs).
The Transactions page always scans up to the head.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..chain.errors import DeadlinePassed
from ..journal_records import CostBasis, Trade, chain_order, position_from_trades
from ..models import Position, TxRecord, TxStatus
from ..trust.guard import Confirmed
from ..trust.outcome import (
    Expected,
    RequestOutcome,
    Settlement,
    verify_request,
    verify_settlement,
)
from ..vault import SHARE_DECIMALS, VaultSnapshot, to_decimal
from .session import Session
from .types import EVENT_SOURCE, SNAPSHOT_REUSE_S, TradeResult, TradeRow


def position_of(owner: str, snap: VaultSnapshot, basis: CostBasis) -> Position:
    """The holding from a lens snapshot and the cost basis of the trades that explain it.

    Shares no recorded trade explains (received by transfer, bought before this wallet's
    history, the devnet's seed) have no known cost: counting their value against the basis
    of the others would show them as pure profit, so they are in the value, named in
    ``shares_without_basis``, and left out of the unrealised P&L.
    """
    value = to_decimal(snap.share_value, snap.usdc_decimals)
    shares = to_decimal(snap.shares, SHARE_DECIMALS)
    explained = min(shares, basis.shares)
    explained_value = (value * explained / shares).quantize(Decimal("0.000001")) \
        if shares else Decimal(0)
    return Position(
        address=owner, shares=shares, value_usdc=value,
        usdc_balance=to_decimal(snap.usdc_balance, snap.usdc_decimals),
        eth_balance=to_decimal(snap.eth_balance, 18),
        cost_basis_usdc=basis.cost_basis_usdc, realized_pnl_usdc=basis.realized_pnl_usdc,
        unrealized_pnl_usdc=(explained_value - basis.cost_basis_usdc)
        if basis.shares else Decimal(0),
        fees_paid_usdc=basis.fees_paid_usdc, shares_without_basis=shares - explained)


class HistoryService:
    """The active wallet's position, trades and transactions."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._times: dict[str, datetime] = {}  # tx hash -> block time (never changes)
        #: Called with the address after the journal was settled with the chain (other
        #: capabilities verify their own mined transactions here, e.g. transfers).
        self.settle_hooks: list[Callable[[str], Any]] = []
        session.on_connect.append(self._after_connect)
        self._events: Any = None  # OwnerEvents, shared with the facade's (set_events)
        self._chain: Any = None  # WatchHistoryService over the same events
        #: address -> the (shares, USDC) the last event scan explained.
        self._scanned: dict[str, tuple[int, int]] = {}

    def set_events(self, events: Any) -> None:
        """Read the address's events through ``events`` (an :class:`OwnerEvents`), the
        reader the tax report and the watch-only screens share (one cache)."""
        from .watch_history import WatchHistoryService

        self._events = events
        self._chain = WatchHistoryService(self.s, events)

    def _chain_view(self) -> Any:
        if self._chain is None:
            from .owner_events import OwnerEvents

            self.set_events(OwnerEvents(self.s))
        return self._chain

    def _after_connect(self, addr: str) -> None:
        """Settle what the chain already decided; never broadcasts (the user decides)."""
        _, _, sender = self.s.need()
        sender.reconcile(addr, rebroadcast=False)
        self.record_settled_trades(addr)

    # ------------------------------------------------------------------ trades journal

    def record_settled_trades(self, addr: str) -> int:
        """Requests confirmed while the app was not watching (e.g. it was killed after the
        broadcast) are recorded from their receipts, verified, and every pending request's
        outcome is looked up on the pinned vault; a settled one enters the activity
        journal. Idempotent; returns the number of trades added."""
        client, _, _ = self.s.need()
        journal = self.s.journal
        for rec in journal.transactions(sender=addr, chain_id=client.chain_id):
            if rec.kind not in ("buy", "sell") or rec.status is not TxStatus.CONFIRMED:
                continue
            entry = journal.entry(rec.tx_hash)
            if entry is None or entry.meta.get("request_state"):
                continue
            receipt = client.get_receipt(rec.tx_hash)
            if receipt:
                self.journal_request(rec.kind, receipt, rec.tx_hash, rec.block_number,
                                     entry.fee_paid_wei, addr)
        added = sum(1 for r in self.settle_requests(addr) if r.state == "settled")
        for hook in self.settle_hooks:
            hook(addr)
        return added

    def expected_of(self, tx_hash: str) -> Expected | None:
        """What the user signed for, decoded from the journaled signed bytes."""
        from eth_account.typed_transactions import TypedTransaction
        from hexbytes import HexBytes

        entry = self.s.journal.entry(tx_hash)
        if entry is None:
            return None
        _, vault, _ = self.s.need()
        data = bytes(TypedTransaction.from_bytes(HexBytes(entry.raw_tx)).as_dict()
                     .get("data", b""))
        call = vault.decode_call(data)
        if call is None:
            return None
        name, a = call
        if name in ("requestBuy", "requestBuyWithPermit"):
            return Expected("buy", int(a["assets"]), int(a["minSharesOut"]))
        if name == "requestSell":
            return Expected("sell", int(a["shares"]), int(a["minUsdcOut"]))
        return None

    def verify(self, kind: str, receipt: dict[str, Any], tx_hash: str,
               addr: str) -> RequestOutcome:
        """The request's receipt checked against the pinned vault (see trust.outcome)."""
        _, vault, _ = self.s.need()
        record = self.s.require_record()
        expected = self.expected_of(tx_hash)
        if expected is None or expected.kind != kind:
            return RequestOutcome(False, kind,
                                  reason="the signed transaction is not a vault request")
        return verify_request(
            receipt=receipt, tx_hash=tx_hash, owner=addr, vault=record.vault,
            usdc=record.usdc, expected=expected, decode_vault_log=vault.decode_vault_log,
            balance_of=lambda token, owner, block: vault.erc20_balance(token, owner, block))

    def journal_request(self, kind: str, receipt: dict[str, Any], tx_hash: str,
                        block_number: int | None, fee_paid_wei: int | None,
                        addr: str) -> TradeResult:
        """Record a mined request from the pinned vault's event. It is not a trade yet:
        nothing enters cost basis or P&L until its settlement (:meth:`settle_requests`)."""
        out = self.verify(kind, receipt, tx_hash, addr)
        gas_eth = to_decimal(fee_paid_wei or 0, 18)
        state = "pending" if out.verified else "unverified"
        self.s.journal.update_meta(
            tx_hash, outcome="requested" if out.verified else "unverified",
            outcome_note=out.reason, request_id=out.request_id, request_state=state,
            request_block=block_number)
        amount = out.amount
        return TradeResult(
            kind, tx_hash, TxStatus.CONFIRMED,
            to_decimal(amount, SHARE_DECIMALS) if kind == "sell" else Decimal(0),
            to_decimal(amount, 6) if kind == "buy" else Decimal(0), Decimal(0),
            block_number, addr, gas_eth, verified=out.verified, note=out.reason,
            request_id=out.request_id, state="requested" if out.verified else "unverified")

    def settle_requests(self, addr: str) -> list[TradeResult]:
        """Look up each pending request's outcome on the pinned vault (one ``eth_getLogs``
        filtered by its id); a verified settlement enters the activity journal, keyed by
        the request's own transaction, with the strike's numbers."""
        client, vault, _ = self.s.need()
        journal = self.s.journal
        results = []
        for rec in journal.transactions(sender=addr, chain_id=client.chain_id):
            entry = journal.entry(rec.tx_hash) if rec.kind in ("buy", "sell") else None
            if entry is None or entry.meta.get("request_state") != "pending":
                continue
            rid, start = entry.meta.get("request_id"), entry.meta.get("request_block")
            expected = self.expected_of(rec.tx_hash)
            if rid is None or expected is None:
                continue
            logs = vault.request_outcome_logs(int(rid), int(start or 0))
            outcome = verify_settlement(
                logs=logs, request_id=int(rid), owner=addr, vault=self.s.require_record().vault,
                expected=expected, decode_vault_log=vault.decode_vault_log)
            if outcome is None:
                continue
            if outcome.state in ("settled", "refunded"):
                outcome = self._check_strike_balances(outcome, addr)
            results.append(self._record_settlement(rec.kind, rec.tx_hash, entry, outcome,
                                                   addr))
        if results:
            self.s.forget_snapshot()
        return results

    def _check_strike_balances(self, out: Settlement, addr: str) -> Settlement:
        """The balances read from the pinned contracts at the strike's block must have
        moved by exactly what the pinned vault's outcome events for this owner in that
        block say (settled buys add shares, settled sells add USDC, refunds give back);
        otherwise the settlement is unverified (a node inventing or inflating events)."""
        import dataclasses

        from eth_utils import to_checksum_address

        _, vault, _ = self.s.need()
        rec = self.s.require_record()
        block = out.block_number
        if block is None:
            return dataclasses.replace(out, state="unverified",
                                       reason="the settlement has no block number")
        want_shares = want_usdc = 0
        for raw in vault.owner_outcome_logs(addr, block):
            ev = vault.decode_vault_log(raw)
            if ev is None or to_checksum_address(ev[1].get("owner", "0x" + "00" * 20)) != addr:
                continue
            name, a = ev
            if name == "BuySettled":
                want_shares += int(a["shares"])
            elif name == "SellSettled":
                want_usdc += int(a["usdcOut"])
            elif name == "RequestRefunded":
                if int(a["id"]) & 1:
                    want_shares += int(a["amount"])
                else:
                    want_usdc += int(a["amount"])
        try:
            d_shares = (vault.erc20_balance(rec.vault, addr, block)
                        - vault.erc20_balance(rec.vault, addr, block - 1))
            d_usdc = (vault.erc20_balance(rec.usdc, addr, block)
                      - vault.erc20_balance(rec.usdc, addr, block - 1))
        except Exception:  # noqa: BLE001 - unreadable balances: cannot verify
            return dataclasses.replace(out, state="unverified",
                                       reason="your balances could not be read at the strike")
        if (d_shares, d_usdc) != (want_shares, want_usdc):
            return dataclasses.replace(out, state="unverified",
                                       reason="your balances at the strike do not match the "
                                              "vault's settlement event")
        return out

    def _record_settlement(self, kind: str, tx_hash: str, entry: Any, out: Settlement,
                           addr: str) -> TradeResult:
        client, _, _ = self.s.need()
        gas_eth = to_decimal(entry.fee_paid_wei or 0, 18)
        self.s.journal.update_meta(tx_hash, request_state=out.state,
                                   outcome={"settled": "verified"}.get(out.state, out.state),
                                   outcome_note=out.reason, settled_tx=out.tx_hash,
                                   settled_block=out.block_number)
        shares, usdc, fee = (to_decimal(out.shares, SHARE_DECIMALS), to_decimal(out.assets, 6),
                             to_decimal(out.fee, 6))
        if out.state == "settled":
            self.s.journal.add_trade(
                chain_id=client.chain_id, account=addr, kind=kind, usdc=usdc, shares=shares,
                fee_usdc=fee, gas_fee_eth=gas_eth, tx_hash=tx_hash,
                block_number=out.block_number, verified=True,
                note=f"request #{out.request_id}, settled in {out.tx_hash}")
        return TradeResult(kind, tx_hash, TxStatus.CONFIRMED, shares, usdc, fee,
                           out.block_number, addr, gas_eth, verified=out.verified,
                           note=out.reason, request_id=out.request_id, state=out.state)

    def request_state(self, tx_hash: str) -> str | None:
        """Where the request sent in ``tx_hash`` stands (see :class:`TradeResult`)."""
        entry = self.s.journal.entry(tx_hash)
        return entry.meta.get("request_state") if entry else None

    # ------------------------------------------------------------------ position

    def _settle_pending(self, addr: str) -> None:
        """Pick up the outcome of requests still pending in the journal (one getLogs each;
        nothing at all when none is pending), so every screen shows a settled trade as
        soon as the strike happened. A failure here only delays it to the next refresh."""
        if self.s.client is None or self.s.vault is None:
            return
        chain_id = self.s.client.chain_id
        pending = [r for r in self.s.journal.transactions(sender=addr, chain_id=chain_id)
                   if r.kind in ("buy", "sell") and r.status is TxStatus.CONFIRMED]
        if not any((e := self.s.journal.entry(r.tx_hash)) is not None
                   and e.meta.get("request_state") == "pending" for r in pending):
            return
        try:
            self.settle_requests(addr)
        except Exception:  # noqa: BLE001 - shown at the next refresh instead
            import logging

            logging.getLogger(__name__).warning("could not look up request outcomes",
                                                exc_info=True)

    def position(self) -> Position | None:
        addr = self.s.active_address()
        if addr is None:
            return None
        self._settle_pending(addr)
        # A refresh asks for the index and the position together: the lens read for the
        # index moments ago already holds the user's balances, so it is reused (a trade
        # clears it, so a position after a trade is always read fresh).
        snap = self.s.recent_snapshot(addr, SNAPSHOT_REUSE_S)
        basis = position_from_trades(self.all_trades(addr, snap))
        return position_of(addr, snap, basis)

    # ------------------------------------------------------------------ merged trades

    def _owner_logs(self, addr: str, snap: Any = None) -> list[Any] | None:
        """The address's events (see the module docstring for when they are re-read);
        None when they cannot be read (offline, no pinned deployment)."""
        chain = self._chain_view()
        try:
            if snap is None:
                logs = chain.events.logs_of(addr)
            else:
                seen = (int(snap.shares), int(snap.usdc_balance))
                upto = None if self._scanned.get(addr) != seen else \
                    chain.events.scanned_to(addr)
                logs = chain.events.logs_of(addr, upto=upto if upto is not None
                                            else snap.block_number)
                self._scanned[addr] = seen
        except Exception:  # noqa: BLE001 - offline: the journal alone is shown
            import logging

            logging.getLogger(__name__).warning("could not read the address's events",
                                                exc_info=True)
            return None
        return logs

    def chain_trades(self, addr: str, snap: Any = None, known: set[str] | None = None
                     ) -> list[Trade]:
        """The trades and G100 transfers the pinned contracts' events show for ``addr``
        (read as a watch-only wallet reads them). They are *verified* only when the
        events add up to the G100 balance the pinned lens shows (see
        :func:`.owner_events.shares_from_logs`); otherwise they are listed, unverified,
        and never counted."""
        import dataclasses
        import logging

        from .owner_events import shares_from_logs

        logs = self._owner_logs(addr, snap)
        if not logs:
            return []
        try:
            trades = self._chain_view().trades_of(addr, logs, known)
            snap = snap or self.s.recent_snapshot(addr, SNAPSHOT_REUSE_S)
        except Exception:  # noqa: BLE001 - e.g. a pruned node without an old block's state
            logging.getLogger(__name__).warning("could not read the trades in the "
                                                "address's events", exc_info=True)
            return []
        if shares_from_logs(addr, logs, int(snap.block_number)) != int(snap.shares):
            note = "unverified: the vault's events do not add up to your G100 balance"
            return [dataclasses.replace(t, verified=False, note=note) for t in trades]
        return trades

    def all_trades(self, addr: str | None = None, snap: Any = None) -> list[Trade]:
        """The journal's trades merged with what the chain's events add (see the module
        docstring), in chain order."""
        addr = addr or self.s.require_address()
        chain_id = self.s.client.chain_id if self.s.client else None
        journal = self.s.journal
        mine = journal.trades(addr, chain_id)
        if self.s.client is None or self.s.record is None:
            return chain_order(mine)
        requests: set[int] = set()
        txs = {t.tx_hash.lower() for t in mine if t.tx_hash}
        unverified: set[str] = set()
        for e in journal.entries(sender=addr, chain_id=chain_id):
            txs.add(e.tx_hash.lower())
            if e.meta.get("request_id") is not None:
                requests.add(int(e.meta["request_id"]))
            if e.meta.get("outcome") == "unverified":
                unverified.add(e.tx_hash.lower())

        def wanted(t: Trade) -> bool:
            if t.request_id is not None:  # a settlement: the journal's request decides
                return t.request_id not in requests
            tx = (t.tx_hash or "").lower()
            if t.kind.startswith("transfer"):  # never a journal trade; unverified: out
                return tx not in unverified
            return tx not in txs  # an instant trade or exit this journal has not got

        extra = [t for t in self.chain_trades(addr, snap, known=txs) if wanted(t)]
        return chain_order(mine + extra)

    def my_trades(self) -> list[TradeRow]:
        from .watch_history import trade_row

        addr = self.s.active_address()
        if addr is None or self.s.client is None:
            return []
        snap = self.s.recent_snapshot(addr, SNAPSHOT_REUSE_S)
        trades = list(reversed(self.all_trades(addr, snap)))
        times = self._block_times([t for t in trades if t.origin == "journal"])
        return [trade_row(t, times.get(t.tx_hash or "", t.created_at)
                          if t.origin == "journal" else t.created_at) for t in trades]

    def _block_times(self, trades: list[Any]) -> dict[str, datetime]:
        """Each trade's time is its block's timestamp (chain time), the same moment the
        index's log shows for it: from the cached vault events, else one block read per
        trade not cached yet (remembered). Missing (offline): the journal's own time."""
        client = self.s.client
        assert client is not None
        wanted = {t.tx_hash: t.block_number for t in trades if t.tx_hash}
        out = {h: self._times[h] for h in wanted if h in self._times}
        blocks = [b for h, b in wanted.items() if h not in out and b is not None]
        if blocks:
            for ev in self.s.journal.index_events(client.chain_id, EVENT_SOURCE,
                                                  since_block=min(blocks),
                                                  kinds=["buy", "sell"]):
                if ev.tx_hash in wanted and ev.timestamp is not None:
                    out[ev.tx_hash] = ev.timestamp
        for h, b in wanted.items():
            if h in out or b is None:
                continue
            try:
                block = client.w3.eth.get_block(b)
                out[h] = datetime.fromtimestamp(int(block["timestamp"]), UTC)
            except Exception:  # noqa: BLE001 - offline: the journal's time is shown instead
                break
        self._times.update(out)
        return out

    # ------------------------------------------------------------------ transactions

    def transactions(self) -> list[TxRecord]:
        addr = self.s.active_address()
        if addr is None:
            return []
        self._settle_pending(addr)
        chain_id = self.s.client.chain_id if self.s.client else None
        rows = self.s.journal.transactions(sender=addr, chain_id=chain_id)
        if self.s.client is None or self.s.record is None:
            return rows
        logs = self._owner_logs(addr)
        if not logs:
            return rows
        # What the key did elsewhere (or before this journal): the chain's rows for every
        # transaction the journal does not hold; the journal's rows win.
        known = {r.tx_hash.lower() for r in rows}
        extra = self._chain_view().transactions(addr, skip=known, logs=logs)
        return sorted(rows + extra, key=lambda r: r.created_at, reverse=True)

    def refresh_pending(self) -> list[TxRecord]:
        _, _, sender = self.s.need()
        addr = self.s.active_address()
        if addr:
            sender.reconcile(addr, rebroadcast=False)
            self.record_settled_trades(addr)
        return self.transactions()

    def speed_up(self, tx_hash: str) -> TxRecord:
        """Re-sign at a higher fee (same nonce), refused once the trade's deadline passed:
        mined then, it could only fail."""
        client, _, sender = self.s.need()
        with self.s.replacing():
            entry = self.s.journal.entry(tx_hash)
            deadline = entry.meta.get("deadline") if entry else None
            if deadline is not None:
                block = client.get_block("latest") or {}
                now = block.get("timestamp", 0)
                now = int(now, 16) if isinstance(now, str) else int(now)
                if now >= int(deadline):
                    raise DeadlinePassed(tx_hash)
            confirmed = Confirmed.from_journal(entry.meta if entry else None)
            res = sender.speed_up(tx_hash, self.s.sign_fn(client.chain_id, confirmed),
                                  wait=False)
        self.s.forget_snapshot()
        return res.record

    def cancel(self, tx_hash: str) -> TxRecord:
        client, _, sender = self.s.need()
        with self.s.replacing():
            res = sender.cancel(tx_hash, self.s.sign_fn(client.chain_id), wait=False)
        self.s.forget_snapshot()
        return res.record

    def export_csv(self, path: Path) -> int:
        """The user's transactions and trades as CSV (``path`` and ``path``-activity.csv)."""
        addr = self.s.active_address()
        journal = self.s.journal
        n = journal.export_transactions_csv(path, sender=addr) if addr else \
            journal.export_transactions_csv(path)
        activity = path.with_name(path.stem + "-activity.csv")
        journal.export_activity_csv(activity, account=addr)
        return n
