"""Holdings, P&L, trades and transactions of an address this app has no key for
(watch-only).

A keyed wallet's history comes from the journal, which records what this app signed and
verified. A watched address acted elsewhere, so everything is read from the chain
instead: the pinned vault's and USDC token's events about that address
(:mod:`.owner_events`, only the pinned contracts' own logs, the events' integers).

* **Trades** (P&L, the My Indices list): the forward-priced settlements
  (``BuySettled``/``SellSettled``), the all-cash instant paths (``Deposit``, and
  ``Withdraw`` whose owner is the *third* topic; each with its ``FeeCharged`` of the same
  transaction) and the in-kind exits (``RedeemedInKind``, valued like a keyed wallet's:
  the USDC plus each token at the oracle price the lens reads at that block). The same
  average-cost math as for a keyed wallet turns them into cost basis and P&L.
* **Transactions** (the Transactions table): one row per transaction that acted for the
  address: buy and sell requests, cancels, instant buys and sells, in-kind exits, claims,
  and G100 or USDC sent or received. Settlements run in the keeper's transaction and are
  trades, not rows here (as for a keyed wallet). ETH moves leave no event and are not
  listed. Each row's nonce is the transaction's own when the address sent it, else -1
  (received: the table shows a dash).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from ..journal import Trade, position_from_trades
from ..journal_records import _csv_text, _iso, _write_csv, chain_order
from ..models import Position, TxRecord, TxStatus
from ..vault import SHARE_DECIMALS, to_decimal
from .history import position_of
from .owner_events import OwnerEvents, OwnerLog, as_int, basket_value, hex_hash
from .session import Session
from .types import SNAPSHOT_REUSE_S, TradeRow

#: The ``outcome_note`` of a Transactions row read from the chain (not from a journal).
CHAIN_NOTE = "read from the pinned contracts' events"
#: Which event of a transaction names its row, first match wins.
ROW_EVENTS = ("RedeemedInKind", "Withdraw", "Deposit", "BuyRequested", "SellRequested",
              "RequestCancelled", "UsdcClaimed", "InKindClaimed", "Transfer")
_KINDS = {"RedeemedInKind": "redeem_in_kind", "Withdraw": "sell", "Deposit": "buy",
          "BuyRequested": "buy", "SellRequested": "sell", "RequestCancelled": "cancel_request",
          "UsdcClaimed": "claim", "InKindClaimed": "claim", "Transfer": "transfer"}


def _usdc(v: Any) -> Decimal:
    return to_decimal(int(v), 6)


def _shares(v: Any) -> Decimal:
    return to_decimal(int(v), SHARE_DECIMALS)


class WatchHistoryService:
    """Position, trades and transactions of a watched address, from the pinned contracts'
    events."""

    def __init__(self, session: Session, events: OwnerEvents | None = None) -> None:
        self.s = session
        self.events = events or OwnerEvents(session)
        self._times: dict[int, datetime] = {}
        self._values: dict[str, Decimal] = {}  # in-kind exit tx -> basket value
        self._txs: dict[str, dict[str, Any]] = {}  # tx hash -> eth_getTransactionByHash

    # ------------------------------------------------------------------ trades

    def trades_of(self, owner: str, logs: list[OwnerLog] | None = None,
                  known: set[str] | None = None) -> list[Trade]:
        """The owner's settled trades and G100 transfers in chain order (``logs``: the
        owner's events when the caller already read them; ``known``: transactions whose
        in-kind exit the caller already has, not valued again: valuing one reads the lens
        at its block). A forward trade is named by its request's transaction (as the
        journal of the app that sent it names it), the strike's transaction is its
        ``settled_tx``."""
        client, _, _ = self.s.need()
        owner = to_checksum_address(owner)
        logs = self.events.logs_of(owner) if logs is None else logs
        fees: dict[tuple[str, bool], int] = {}
        requested: dict[int, str] = {}  # request id -> the request's transaction
        for lg in logs:
            if lg.name == "FeeCharged" and lg.source == "vault":
                k = (lg.tx_hash, bool(lg.args["onBuy"]))
                fees[k] = fees.get(k, 0) + int(lg.args["amount"])
            elif lg.name in ("BuyRequested", "SellRequested") and lg.source == "vault":
                requested[int(lg.args["id"])] = lg.tx_hash
        out = []
        for lg in logs:
            if lg.source != "vault":
                continue
            a = lg.args
            if lg.name in ("BuySettled", "SellSettled", "Deposit", "Withdraw") and \
                    to_checksum_address(a["owner"]) == owner:
                if lg.name == "Deposit":
                    a = {**a, "fee": fees.get((lg.tx_hash, True), 0)}
                elif lg.name == "Withdraw":
                    a = {**a, "fee": fees.get((lg.tx_hash, False), 0)}
                out.append(self._trade(client.chain_id, owner, lg.name, a, lg, requested))
            elif lg.name == "RedeemedInKind" and to_checksum_address(a["caller"]) == owner:
                if known is None or lg.tx_hash.lower() not in known:
                    out.append(self._exit(client.chain_id, owner, lg))
            elif lg.name == "Transfer":
                t = self._transfer(client.chain_id, owner, lg)
                if t is not None:
                    out.append(t)
        return out

    def _trade(self, chain_id: int, owner: str, name: str, a: dict[str, Any],
               lg: OwnerLog, requested: dict[int, str] | None = None) -> Trade:
        if name == "SellSettled":
            kind, usdc = "sell", _usdc(a["usdcOut"])
        elif name == "Withdraw":  # assets: what the receiver got, net of the sell fee
            kind, usdc = "sell", _usdc(a["assets"])
        else:
            kind, usdc = "buy", _usdc(a["assets"])
        rid = int(a["id"]) if name in ("BuySettled", "SellSettled") else None
        tx = (requested or {}).get(rid, lg.tx_hash) if rid is not None else lg.tx_hash
        note = f"request #{rid}, settled in {lg.tx_hash}" if rid is not None else name
        return Trade(0, chain_id, owner, kind, usdc, _shares(a["shares"]),
                     _usdc(a.get("fee", 0)), Decimal(0), tx, lg.block,
                     self._block_time(lg.block, lg),
                     note=f"{note} (read from the vault's events)", verified=True,
                     request_id=rid, settled_tx=lg.tx_hash if rid is not None else None,
                     origin="chain")

    def _transfer(self, chain_id: int, owner: str, lg: OwnerLog) -> Trade | None:
        """A G100 transfer to or from someone else (None: to oneself)."""
        frm, to = to_checksum_address(lg.args["from"]), to_checksum_address(lg.args["to"])
        if frm == to or owner not in (frm, to):
            return None
        out = frm == owner
        return Trade(0, chain_id, owner, "transfer_out" if out else "transfer_in",
                     Decimal(0), _shares(lg.args["value"]), Decimal(0), Decimal(0),
                     lg.tx_hash, lg.block, self._block_time(lg.block, lg),
                     note=(f"sent to {to}" if out else f"received from {frm}")
                     + " (read from the vault's events)", verified=True, origin="chain")

    def _exit(self, chain_id: int, owner: str, lg: OwnerLog) -> Trade:
        if lg.tx_hash not in self._values:
            _, vault, _ = self.s.need()
            self._values[lg.tx_hash] = basket_value(vault, lg.args, lg.block).quantize(
                Decimal("0.000001"), rounding=ROUND_DOWN)
        return Trade(0, chain_id, owner, "redeem_in_kind", self._values[lg.tx_hash],
                     _shares(lg.args["shares"]), Decimal(0), Decimal(0), lg.tx_hash,
                     lg.block, self._block_time(lg.block, lg),
                     note="in kind: valued at the oracle (read from the vault's events)",
                     verified=True, origin="chain")

    def _block_time(self, block: int | None, lg: OwnerLog | None = None) -> datetime:
        if block is None:
            return datetime.now(UTC)
        if lg is not None and lg.timestamp is not None:
            self._times.setdefault(block, lg.timestamp)
        if block not in self._times:
            client, _, _ = self.s.need()
            b = client.get_block(block) or {}
            self._times[block] = datetime.fromtimestamp(as_int(b.get("timestamp", 0)), UTC)
        return self._times[block]

    def position(self, owner: str) -> Position:
        snap = self.s.recent_snapshot(owner, SNAPSHOT_REUSE_S)
        basis = position_from_trades(chain_order(self.trades_of(owner)))
        return position_of(owner, snap, basis)

    def my_trades(self, owner: str) -> list[TradeRow]:
        return [trade_row(t, t.created_at) for t in reversed(self.trades_of(owner))]

    # ------------------------------------------------------------------ transactions

    def transactions(self, owner: str, skip: set[str] | None = None,
                     logs: list[OwnerLog] | None = None) -> list[TxRecord]:
        """One row per transaction that acted for ``owner`` (see the module docstring),
        newest first; none for the transaction hashes in ``skip`` (a keyed wallet's
        journal already lists them)."""
        client, _, _ = self.s.need()
        owner = to_checksum_address(owner)
        by_tx: dict[str, list[OwnerLog]] = {}
        for lg in self.events.logs_of(owner) if logs is None else logs:
            if skip is None or lg.tx_hash.lower() not in skip:
                by_tx.setdefault(lg.tx_hash, []).append(lg)
        self._prefetch([h for h, lgs in by_tx.items()
                        if h not in self._txs and _row_event(lgs, owner) is not None])
        rows = []
        for tx_hash, logs_ in by_tx.items():
            main = _row_event(logs_, owner)
            if main is None:
                continue  # a settlement or a fee in someone else's transaction
            tx = self._tx(tx_hash)
            sender = to_checksum_address(tx.get("from") or owner)
            nonce = as_int(tx["nonce"]) if sender == owner and "nonce" in tx else -1
            rows.append(TxRecord(
                tx_hash=tx_hash, kind=_KINDS[main.name], status=TxStatus.CONFIRMED,
                nonce=nonce, chain_id=client.chain_id, sender=sender,
                created_at=self._block_time(main.block, main), block_number=main.block,
                summary=self._summary(main, logs_, owner), outcome="verified",
                outcome_note=CHAIN_NOTE))
        rows.sort(key=lambda r: (r.block_number or 0, r.created_at), reverse=True)
        return rows

    def _prefetch(self, hashes: list[str]) -> None:
        """The transactions of new rows (sender, nonce) in one batched request; anything
        the batch does not answer is asked one by one by :meth:`_tx`."""
        if len(hashes) < 2:
            return
        client, _, _ = self.s.need()
        try:
            from web3.types import RPCEndpoint

            answers = client.provider.make_batch_request(
                [(RPCEndpoint("eth_getTransactionByHash"), [h]) for h in hashes])
        except Exception:  # noqa: BLE001 - no batching here: one request per row instead
            return
        for h, ans in zip(hashes, answers if isinstance(answers, list) else [], strict=False):
            tx = ans.get("result") if isinstance(ans, dict) else None
            if isinstance(tx, dict) and hex_hash(tx.get("hash", "")) == h.lower():
                self._txs[h] = dict(tx)

    def _tx(self, tx_hash: str) -> dict[str, Any]:
        if tx_hash not in self._txs:
            client, _, _ = self.s.need()
            self._txs[tx_hash] = dict(client.get_transaction(tx_hash) or {})
        return self._txs[tx_hash]

    def _summary(self, lg: OwnerLog, logs: list[OwnerLog], owner: str) -> str:
        a, name = lg.args, lg.name
        if name == "RedeemedInKind":
            n = sum(1 for x in a["amounts"] if int(x))
            return (f"Exit in kind: {_shares(a['shares']):,.4f} G100 for "
                    f"{_usdc(a['usdcOut']):,.2f} USDC and {n} token"
                    f"{'' if n == 1 else 's'}")
        if name == "Withdraw":
            return (f"Instant sell: {_shares(a['shares']):,.4f} G100 for "
                    f"{_usdc(a['assets']):,.2f} USDC")
        if name == "Deposit":
            return (f"Instant buy: {_usdc(a['assets']):,.2f} USDC for "
                    f"{_shares(a['shares']):,.4f} G100")
        if name == "BuyRequested":
            return f"Buy requested #{a['id']}: {_usdc(a['assets']):,.2f} USDC"
        if name == "SellRequested":
            return f"Sell requested #{a['id']}: {_shares(a['shares']):,.4f} G100"
        if name == "RequestCancelled":
            return f"Request #{a['id']} cancelled"
        if name == "UsdcClaimed":
            return f"Claimed {_usdc(a['amount']):,.2f} USDC"
        if name == "InKindClaimed":
            return f"Claimed {a['amount']:,} base units of {a['token']}"
        amount = (f"{_shares(a['value']):,.4f} G100" if lg.source == "vault"
                  else f"{_usdc(a['value']):,.2f} USDC")
        if to_checksum_address(a["from"]) == owner:
            return f"Sent {amount} to {to_checksum_address(a['to'])}"
        return f"Received {amount} from {to_checksum_address(a['from'])}"


#: The watch-only export: the journal's transaction columns the chain can answer.
TX_COLUMNS = ("created_at", "tx_hash", "kind", "status", "chain_id", "sender", "nonce",
              "block_number", "summary")
TRADE_COLUMNS = ("created_at", "kind", "account", "chain_id", "usdc", "shares",
                 "fee_usdc", "tx_hash", "block_number", "note")


def export_csv(watch: WatchHistoryService, owner: str, path: Path) -> int:
    """The watched address's transactions (``path``) and trades (``path``-activity.csv),
    from the chain's events; returns the number of transactions."""
    n = _write_csv(path, TX_COLUMNS, [
        [_iso(r.created_at), r.tx_hash, r.kind, r.status.value, r.chain_id, r.sender,
         r.nonce if r.nonce >= 0 else "", r.block_number or "", _csv_text(r.summary)]
        for r in watch.transactions(owner)])
    _write_csv(path.with_name(path.stem + "-activity.csv"), TRADE_COLUMNS, [
        [_iso(t.created_at), t.kind, t.account, t.chain_id, t.usdc, t.shares, t.fee_usdc,
         t.tx_hash or "", t.block_number or "", _csv_text(t.note)]
        for t in watch.trades_of(owner)])
    return n


def trade_row(t: Trade, when: datetime) -> TradeRow:
    """A trade as the My Indices list shows it (a transfer has no USDC and no NAV)."""
    gross = t.usdc - t.fee_usdc if t.kind == "buy" else t.usdc + t.fee_usdc
    nav = (gross / t.shares).quantize(Decimal("0.000001")) \
        if t.shares and not t.kind.startswith("transfer") else None
    return TradeRow(t.kind, t.tx_hash, when, t.usdc, t.shares, t.fee_usdc, nav,
                    verified=t.verified)


def _row_event(logs: list[OwnerLog], owner: str) -> OwnerLog | None:
    """The event that names a transaction's row (None: not the owner's transaction)."""
    for name in ROW_EVENTS:
        for lg in logs:
            if lg.name != name:
                continue
            if name == "RedeemedInKind" and to_checksum_address(lg.args["caller"]) != owner:
                continue
            if name in ("Deposit", "Withdraw") and \
                    to_checksum_address(lg.args["owner"]) != owner:
                continue
            return lg
    return None
