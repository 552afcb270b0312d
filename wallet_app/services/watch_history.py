"""Holdings, P&L and trade history of an address this app has no key for (watch-only).

A keyed wallet's P&L comes from the journal, which records only what this app verified
for its own trades. A watched address traded elsewhere, so its trades are read from the
chain instead: one ``eth_getLogs`` on the *pinned* vault for its settlement events naming
that owner (``BuySettled``/``SellSettled``, v2 forward pricing, and the all-cash instant
``Deposit``), from the deployment block to the head. Only the pinned vault's own logs
count (the address filter is the record's vault, and each log's address is checked again),
and the figures are the events' integers. The same average-cost math as for a keyed wallet
turns them into cost basis and realised/unrealised P&L; balances come from the lens read
for that address, like any position.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address

from ..journal import Trade, position_from_trades
from ..models import Position
from ..vault import SHARE_DECIMALS, to_decimal
from .session import Session
from .types import SNAPSHOT_REUSE_S, TradeRow

#: The owner is the second indexed argument of each (topic 2).
TRADE_EVENTS = ("BuySettled", "SellSettled", "Deposit")


class WatchHistoryService:
    """Position and trades of the active watched address, from the pinned vault's events."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._cache: dict[tuple[int, str], tuple[int, list[Trade]]] = {}
        self._times: dict[int, datetime] = {}

    def trades_of(self, owner: str) -> list[Trade]:
        """The owner's settled trades in chain order (cached up to the last block read)."""
        client, vault, _ = self.s.need()
        record = self.s.require_record()
        owner = to_checksum_address(owner)
        key = (client.chain_id, owner.lower())
        head = client.block_number()
        start = int(record.deployment_block or 0)
        known: list[Trade] = []
        if key in self._cache:
            last, known = self._cache[key]
            if last >= head:
                return list(known)
            start = last + 1
        topic_owner = "0x" + bytes.fromhex(owner[2:]).rjust(32, b"\0").hex()
        logs = client.rpc("eth_getLogs", {
            "address": record.vault,
            "topics": [[vault._topic(n) for n in TRADE_EVENTS], None, topic_owner],
            "fromBlock": hex(start), "toBlock": hex(head)}) or []
        # The instant path's fee is its own event (FeeCharged, payer = topic 1), in the
        # Deposit's transaction; settled requests carry their fee in the event itself.
        fee_logs = client.rpc("eth_getLogs", {
            "address": record.vault, "topics": [vault._topic("FeeCharged"), topic_owner],
            "fromBlock": hex(start), "toBlock": hex(head)}) or []
        fees: dict[str, int] = {}
        for raw in fee_logs:
            if not isinstance(raw, dict) or str(raw.get("address", "")).lower() != \
                    record.vault.lower():
                continue
            ev = vault.decode_vault_log(raw)
            if ev is not None and ev[0] == "FeeCharged" and ev[1].get("onBuy"):
                key_tx = _hash(raw.get("transactionHash"))
                fees[key_tx] = fees.get(key_tx, 0) + int(ev[1]["amount"])
        new = []
        for raw in logs:
            if not isinstance(raw, dict) or str(raw.get("address", "")).lower() != \
                    record.vault.lower():
                continue  # only the pinned vault's own logs count
            ev = vault.decode_vault_log(raw)
            if ev is None:
                continue
            name, a = ev
            if to_checksum_address(a.get("owner", "0x" + "00" * 20)) != owner:
                continue
            if name == "Deposit":
                a = {**a, "fee": fees.get(_hash(raw.get("transactionHash")), 0)}
            new.append(self._trade(client.chain_id, owner, name, a, raw))
        trades = known + new
        self._cache[key] = (head, trades)
        return list(trades)

    def _trade(self, chain_id: int, owner: str, name: str, a: dict[str, Any],
               raw: dict[str, Any]) -> Trade:
        block = _int(raw.get("blockNumber"))
        tx_hash = _hash(raw.get("transactionHash"))
        if name == "SellSettled":
            kind, usdc = "sell", to_decimal(int(a["usdcOut"]), 6)
        else:
            kind, usdc = "buy", to_decimal(int(a["assets"]), 6)
        fee = to_decimal(int(a.get("fee", 0)), 6)
        return Trade(0, chain_id, owner, kind, usdc, to_decimal(int(a["shares"]),
                                                                 SHARE_DECIMALS),
                     fee, Decimal(0), tx_hash, block, self._block_time(block),
                     note=f"{name} (read from the vault's events)", verified=True)

    def _block_time(self, block: int | None) -> datetime:
        if block is None:
            return datetime.now(UTC)
        if block not in self._times:
            client, _, _ = self.s.need()
            b = client.w3.eth.get_block(block)
            self._times[block] = datetime.fromtimestamp(int(b["timestamp"]), UTC)
        return self._times[block]

    def position(self, owner: str) -> Position:
        snap = self.s.recent_snapshot(owner, SNAPSHOT_REUSE_S)
        basis = position_from_trades(self.trades_of(owner))
        value = to_decimal(snap.share_value, snap.usdc_decimals)
        shares = to_decimal(snap.shares, SHARE_DECIMALS)
        # Shares that arrived by transfer carry no known cost: unrealised P&L is over the
        # shares the events explain (the rest is shown in the holding, not as profit).
        explained = min(shares, basis.shares)
        explained_value = (value * explained / shares) if shares else Decimal(0)
        return Position(
            address=owner, shares=shares, value_usdc=value,
            usdc_balance=to_decimal(snap.usdc_balance, snap.usdc_decimals),
            eth_balance=to_decimal(snap.eth_balance, 18),
            cost_basis_usdc=basis.cost_basis_usdc, realized_pnl_usdc=basis.realized_pnl_usdc,
            unrealized_pnl_usdc=(explained_value - basis.cost_basis_usdc)
            if basis.shares else Decimal(0),
            fees_paid_usdc=basis.fees_paid_usdc)

    def my_trades(self, owner: str) -> list[TradeRow]:
        rows = []
        for t in reversed(self.trades_of(owner)):
            gross = t.usdc - t.fee_usdc if t.kind == "buy" else t.usdc + t.fee_usdc
            nav = (gross / t.shares).quantize(Decimal("0.000001")) if t.shares else None
            rows.append(TradeRow(t.kind, t.tx_hash, t.created_at, t.usdc, t.shares,
                                 t.fee_usdc, nav, verified=True))
        return rows


def _hash(tx: Any) -> str:
    return ("0x" + bytes(tx).hex() if isinstance(tx, bytes | bytearray) else str(tx)).lower()


def _int(v: Any) -> int | None:
    if v is None:
        return None
    return int(v, 16) if isinstance(v, str) else int(v)
