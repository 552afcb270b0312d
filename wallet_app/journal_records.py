"""What the journal hands out: its rows as frozen objects, the position math over the
user's trades, and the small conversions between Python values and the journal's text
columns (kept out of ``wallet_app/journal.py``).

Money: wei as decimal text (it exceeds SQLite's 64-bit integers), USDC/shares/ETH as
``Decimal`` text; never float.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from .models import TxRecord, TxStatus

WEI_PER_ETH = Decimal(10) ** 18
GWEI = Decimal(10) ** 9
USDC_QUANTUM = Decimal("0.000001")

TRADE_KINDS = ("buy", "sell", "redeem_in_kind")


# --------------------------------------------------------------------------- data objects


@dataclass(frozen=True)
class JournalEntry:
    """A full ``transactions`` row (the chain client's view; the UI gets TxRecord)."""

    tx_hash: str
    chain_id: int
    sender: str
    nonce: int
    kind: str
    status: TxStatus
    to: str | None
    value_wei: int
    data_summary: str
    gas_limit: int
    max_fee_per_gas_wei: int
    max_priority_fee_wei: int
    raw_tx: bytes
    summary: str
    created_at: datetime
    updated_at: datetime
    broadcast_at: datetime | None
    broadcast_attempts: int
    block_number: int | None
    gas_used: int | None
    effective_gas_price_wei: int | None
    replaces: str | None
    replaced_by: str | None
    error: str | None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def fee_paid_wei(self) -> int | None:
        """Gas actually paid (mined transactions only)."""
        if self.gas_used is None or self.effective_gas_price_wei is None:
            return None
        return self.gas_used * self.effective_gas_price_wei

    def record(self) -> TxRecord:
        return TxRecord(
            tx_hash=self.tx_hash,
            kind=self.kind,
            status=self.status,
            nonce=self.nonce,
            chain_id=self.chain_id,
            sender=self.sender,
            created_at=self.created_at,
            block_number=self.block_number,
            summary=self.summary,
            replaced_by=self.replaced_by,
            outcome=self.meta.get("outcome"),
            outcome_note=self.meta.get("outcome_note"),
        )


@dataclass(frozen=True)
class Trade:
    """One buy or sell of index shares by the user (or, read from the chain's events only,
    a G100 transfer: "transfer_in" / "transfer_out", never stored in the journal)."""

    id: int
    chain_id: int
    account: str
    kind: str  # "buy" | "sell" | "redeem_in_kind" | "transfer_in" | "transfer_out"
    usdc: Decimal  # buy: USDC paid in, fee included; sell: USDC received, net of fee
    shares: Decimal
    fee_usdc: Decimal  # platform fee inside ``usdc``
    gas_fee_eth: Decimal
    tx_hash: str | None
    block_number: int | None
    created_at: datetime
    note: str = ""
    #: False when the outcome could not be verified from the pinned vault's events and the
    #: balances: shown, but never counted in cost basis or P&L.
    verified: bool = True
    #: Read from the chain (not the journal): the forward request's id and the strike's
    #: transaction that settled it (``tx_hash`` is then the request's own transaction).
    request_id: int | None = None
    settled_tx: str | None = None
    #: Where the trade came from: "journal" or "chain" (the pinned contracts' events).
    origin: str = "journal"


@dataclass(frozen=True)
class CostBasis:
    """Position math by average cost (see :func:`position_from_trades`)."""

    shares: Decimal
    cost_basis_usdc: Decimal  # what the shares still held cost, fees included
    realized_pnl_usdc: Decimal
    fees_paid_usdc: Decimal  # platform fees, buys and sells
    gas_paid_eth: Decimal
    invested_usdc: Decimal  # total USDC paid in
    proceeds_usdc: Decimal  # total USDC received

    @property
    def average_cost_usdc(self) -> Decimal | None:
        return (self.cost_basis_usdc / self.shares).quantize(USDC_QUANTUM) \
            if self.shares > 0 else None

    def unrealized_pnl(self, nav_per_share: Decimal) -> Decimal:
        """Value at NAV minus cost basis of the shares held."""
        return (self.shares * nav_per_share - self.cost_basis_usdc).quantize(USDC_QUANTUM)

    def value_at(self, nav_per_share: Decimal) -> Decimal:
        return (self.shares * nav_per_share).quantize(USDC_QUANTUM)


def position_from_trades(trades: Iterable[Trade]) -> CostBasis:
    """Average-cost position math over trades in time order.

    * A buy adds its shares and its USDC (fee included: fees are part of what the
      position cost) to the cost basis.
    * A sell removes the sold fraction of the cost basis (``cost x sold / held``, exact,
      no rounded average in between) and realizes ``proceeds - removed cost``; proceeds are
      net of the sell fee. An in-kind redemption counts like a sell at the USDC value the
      integrator records for it.
    * Shares sold beyond what the journal knows (e.g. received by transfer) carry zero
      cost: their whole proceeds are gain, and the position never goes negative.
    * A G100 transfer out removes the sent fraction of the cost basis and realises
      nothing; a transfer in adds no cost (those shares have no known cost).
    """
    shares = cost = realized = fees = gas = invested = proceeds = Decimal(0)
    for t in trades:
        if not t.verified:
            continue  # an unverified outcome is never money the position math believes
        fees += t.fee_usdc
        gas += t.gas_fee_eth
        if t.kind == "transfer_in":
            continue  # no known cost: counted in ``shares_without_basis`` by the position
        if t.kind == "transfer_out":
            # The shares leave with their share of the cost; nothing is realised (no
            # proceeds: a gift or a move to another wallet, not a sale).
            sent = min(t.shares, shares)
            cost -= cost * sent / shares if shares > 0 else Decimal(0)
            shares -= sent
            if shares == 0:
                cost = Decimal(0)
            continue
        if t.kind == "buy":
            shares += t.shares
            cost += t.usdc
            invested += t.usdc
        else:
            proceeds += t.usdc
            sold_known = min(t.shares, shares)
            removed = cost * sold_known / shares if shares > 0 else Decimal(0)
            realized += t.usdc - removed
            cost -= removed
            shares -= sold_known
            if shares == 0:
                cost = Decimal(0)  # no rounding residue left on an empty position
    q = USDC_QUANTUM
    return CostBasis(shares, cost.quantize(q), realized.quantize(q), fees.quantize(q),
                     gas, invested.quantize(q), proceeds.quantize(q))


#: Within one block: what adds shares before what removes them (any order of the removals
#: gives the same average-cost result; a buy and a sell do not commute, so one rule for all).
_IN_BLOCK = {"buy": 0, "transfer_in": 0, "sell": 1, "redeem_in_kind": 1, "transfer_out": 1}


def chain_order(trades: Iterable[Trade]) -> list[Trade]:
    """Trades in the order the chain settled them: by block, buys before sells within a
    block. The journal's own trades and the ones read from events sort alike, so two
    computers with different journals do the same position math."""
    return sorted(trades, key=lambda t: (t.block_number if t.block_number is not None
                                         else 1 << 62, _IN_BLOCK.get(t.kind, 1)))


@dataclass(frozen=True)
class CachedEvent:
    """One vault event in the index-log cache (``payload`` is the decoded JSON args)."""

    block_number: int
    tx_hash: str
    log_index: int
    kind: str
    payload: dict[str, Any]
    timestamp: datetime | None = None


# --------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _hash(tx_hash: str) -> str:
    h = tx_hash.lower()
    return h if h.startswith("0x") else "0x" + h


def _dec(value: Decimal | int | str) -> str:
    if isinstance(value, float):
        raise TypeError("money is never float: pass Decimal, int or str")
    return str(Decimal(value))


def data_summary(data: bytes) -> str:
    """What the log shows about calldata: the 4-byte selector and the size, not the body."""
    if not data:
        return ""
    if len(data) < 4:
        return f"0x{data.hex()} ({len(data)} bytes)"
    return f"0x{data[:4].hex()} ({len(data)} bytes)"


_CSV_RISKY = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Any) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_CSV_RISKY) else text


def _write_csv(dest: Path | TextIO, header: Sequence[str], rows: list[list[Any]]) -> int:
    def fmt(v: Any) -> Any:
        return f"{v.normalize():f}" if isinstance(v, Decimal) else v

    def write(fh: TextIO) -> None:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow([fmt(v) for v in r])

    if isinstance(dest, str | Path):
        buf = io.StringIO()
        write(buf)
        # Whole or not at all: a reader (a spreadsheet open on the old export, a script
        # polling for the file) never sees half a CSV.
        from .keys.fileio import atomic_write_text

        atomic_write_text(Path(dest), buf.getvalue())
    else:
        write(dest)
    return len(rows)
