"""History and position: the user's transactions and trades from the journal, what a
receipt says was bought or sold, cost basis and P&L, pending transactions and CSV export.

The journal is the wallet's memory; this service is the only one that writes trades into
it, from receipts alone (the chain's numbers, never the quote's).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from ..models import Position, TxRecord, TxStatus
from ..vault import SHARE_DECIMALS, to_decimal
from .session import Session
from .types import SNAPSHOT_REUSE_S, TradeResult, TradeRow

_TRANSFER_TOPIC = bytes.fromhex(
    "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")


class HistoryService:
    """The active wallet's position, trades and transactions."""

    def __init__(self, session: Session) -> None:
        self.s = session
        session.on_connect.append(self._after_connect)

    def _after_connect(self, addr: str) -> None:
        _, _, sender = self.s.need()
        sender.reconcile(addr)
        self.record_settled_trades(addr)

    # ------------------------------------------------------------------ trades journal

    def record_settled_trades(self, addr: str) -> int:
        """Trades confirmed while the app was not watching (e.g. it was killed after the
        broadcast) enter the activity journal from their receipts; idempotent."""
        client, _, _ = self.s.need()
        journal = self.s.journal
        known = {t.tx_hash for t in journal.trades(addr, client.chain_id)}
        added = 0
        for rec in journal.transactions(sender=addr, chain_id=client.chain_id):
            if rec.kind not in ("buy", "sell") or rec.status is not TxStatus.CONFIRMED \
                    or rec.tx_hash in known:
                continue
            receipt = client.get_receipt(rec.tx_hash)
            if not receipt:
                continue
            entry = journal.entry(rec.tx_hash)
            self.journal_trade(rec.kind, receipt, rec.tx_hash, rec.block_number,
                               entry.fee_paid_wei if entry else None, addr,
                               self.s.snapshot(addr).usdc)
            added += 1
        return added

    def journal_trade(self, kind: str, receipt: dict[str, Any], tx_hash: str,
                      block_number: int | None, fee_paid_wei: int | None, addr: str,
                      usdc_token: str) -> TradeResult:
        """Record a confirmed buy or sell in the activity journal from its receipt alone
        (the chain's numbers, never the quote's) and describe it."""
        client, vault, _ = self.s.need()
        moved = vault.decode_receipt(receipt)
        if kind == "buy":
            usdc, shares = moved["assets_in"], moved["shares_minted"]
        else:  # the payout, confirmed by the USDC Transfer to the user's own address
            usdc, shares = usdc_received(receipt, usdc_token, addr), moved["shares_burned"]
        gas_eth = to_decimal(fee_paid_wei or 0, 18)
        trade = self.s.journal.add_trade(
            chain_id=client.chain_id, account=addr, kind=kind, usdc=to_decimal(usdc, 6),
            shares=to_decimal(shares, SHARE_DECIMALS), fee_usdc=to_decimal(moved["fee"], 6),
            gas_fee_eth=gas_eth, tx_hash=tx_hash, block_number=block_number)
        return TradeResult(kind, tx_hash, TxStatus.CONFIRMED, trade.shares, trade.usdc,
                           trade.fee_usdc, block_number, addr, gas_eth)

    # ------------------------------------------------------------------ position

    def position(self) -> Position | None:
        addr = self.s.active_address()
        if addr is None:
            return None
        # A refresh asks for the index and the position together: the lens read for the
        # index moments ago already holds the user's balances, so it is reused (a trade
        # clears it, so a position after a trade is always read fresh).
        snap = self.s.recent_snapshot(addr, SNAPSHOT_REUSE_S)
        basis = self.s.journal.position(addr, snap.chain_id)
        value = to_decimal(snap.share_value, snap.usdc_decimals)
        shares = to_decimal(snap.shares, SHARE_DECIMALS)
        return Position(
            address=addr, shares=shares, value_usdc=value,
            usdc_balance=to_decimal(snap.usdc_balance, snap.usdc_decimals),
            eth_balance=to_decimal(snap.eth_balance, 18),
            cost_basis_usdc=basis.cost_basis_usdc, realized_pnl_usdc=basis.realized_pnl_usdc,
            unrealized_pnl_usdc=(value - basis.cost_basis_usdc) if basis.shares else Decimal(0),
            fees_paid_usdc=basis.fees_paid_usdc)

    def my_trades(self) -> list[TradeRow]:
        addr = self.s.active_address()
        if addr is None or self.s.client is None:
            return []
        rows = []
        for t in reversed(self.s.journal.trades(addr, self.s.client.chain_id)):
            gross = t.usdc - t.fee_usdc if t.kind == "buy" else t.usdc + t.fee_usdc
            nav = (gross / t.shares).quantize(Decimal("0.000001")) if t.shares else None
            rows.append(TradeRow(t.kind, t.tx_hash, t.created_at, t.usdc, t.shares, t.fee_usdc,
                                 nav))
        return rows

    # ------------------------------------------------------------------ transactions

    def transactions(self) -> list[TxRecord]:
        addr = self.s.active_address()
        if addr is None:
            return []
        chain_id = self.s.client.chain_id if self.s.client else None
        return self.s.journal.transactions(sender=addr, chain_id=chain_id)

    def refresh_pending(self) -> list[TxRecord]:
        _, _, sender = self.s.need()
        addr = self.s.active_address()
        if addr:
            sender.reconcile(addr, rebroadcast=False)
            self.record_settled_trades(addr)
        return self.transactions()

    def speed_up(self, tx_hash: str) -> TxRecord:
        client, _, sender = self.s.need()
        res = sender.speed_up(tx_hash, self.s.sign_fn(client.chain_id), wait=False)
        self.s.forget_snapshot()
        return res.record

    def cancel(self, tx_hash: str) -> TxRecord:
        client, _, sender = self.s.need()
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


def usdc_received(receipt: dict[str, Any], usdc: str, to: str) -> int:
    """USDC transferred to ``to`` in ``receipt`` (the payout, confirmed from the logs)."""
    total = 0
    for log in receipt.get("logs", []):
        if to_checksum_address(log["address"]) != to_checksum_address(usdc):
            continue
        topics = [bytes(t) if not isinstance(t, str) else bytes.fromhex(t[2:])
                  for t in log["topics"]]
        if len(topics) == 3 and topics[0] == _TRANSFER_TOPIC and \
                to_checksum_address(topics[2][-20:]) == to_checksum_address(to):
            data = log["data"]
            total += int.from_bytes(bytes(data) if not isinstance(data, str)
                                    else bytes.fromhex(data[2:]), "big")
    return total
