"""Tax lots: cost basis per lot, realized gain per sell, the yearly disposals report.

Pure computation over the wallet's *verified* trades (the caller passes only those: see
:mod:`wallet_app.trust.outcome`), with every USD value already attached to each trade by
:mod:`wallet_app.services.reports`. Nothing here reads the chain, the clock or a file, so
the numbers can be checked by hand and the unit tests can pin them to the cent.

Rules (also in the README's "History for taxes"):

* **Money is Decimal**, computed exactly in a private 60-digit context and rounded only
  when a figure is written out: half-even to the cent (:data:`CENT`). A realized gain is
  the rounded proceeds minus the rounded cost basis, so every written row adds up.
* **A buy opens a lot**: its cost basis is the USDC paid (the platform fee is inside it;
  USDC counts as exactly 1 USD) plus the request transaction's network fee in USD.
* **A sell disposes of lots**: FIFO (oldest first) by default, or HIFO (highest cost per
  share first; ties oldest first). Its proceeds are the USDC received (already net of the
  platform fee) less its network fee in USD, shared among the lots it disposes of in
  proportion to the shares taken from each. Shares sold beyond the known lots (received
  from elsewhere) carry a zero basis and are marked as such.
* **An in-kind exit is a disposal** like a sell (same lot method): the shares burned, at
  the USD value of what arrived (its USDC plus each token at the oracle price of the
  exit's block, ``usdc + in_kind_usd``) less its network fee.
* **G100 shares sent to someone else are not a sale**: the lots they came from (same lot
  method) leave the wallet with their basis, and the row lists the shares at the NAV of
  that block, the basis removed and no gain. Whether it was a gift, a payment (then a
  disposal at that value) or a move to a wallet of yours elsewhere, only the user knows,
  so it is listed apart (:attr:`YearReport.transfers_out`), never summed into proceeds.
* **Between the user's own accounts** (``own``: both are accounts of keys this app holds)
  a transfer is no event at all: the lots move with their basis and acquisition date
  (each account keeps its own lots, as wallet-by-wallet tracking asks). The lot keeps its
  id with ``@`` and the first hex of the account it came from (``L1@0x12ab``).
* **Shares received from someone else** open a new lot at the NAV of the receiving block.
* **Holding period**: a disposal is long-term when the shares were held more than one
  year (a sell on or after the acquisition's anniversary plus one day), else short-term.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

#: Output rounding: USD to the cent, half-even.
CENT = Decimal("0.01")
METHODS = ("fifo", "hifo")
_CTX = Context(prec=60)


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half-even to the cent (the only rounding of this module)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class TaxTrade:
    """One verified, settled trade with the USD values of its moment."""

    kind: str  # "buy" | "sell" | "in_kind_exit" | "transfer_in" | "transfer_out"
    time: datetime  # the settlement's block time (the strike); else the event's block
    shares: Decimal  # G100 received (buy) or given (sell)
    usdc: Decimal  # buy: USDC paid, fee included; sell: USDC received, net of the fee
    platform_fee_usdc: Decimal
    nav_usd: Decimal  # USD per share at the settlement's strike (the pinned vault's Struck)
    gas_eth: Decimal  # the request transaction's network fee
    eth_usd: Decimal | None  # ETH/USD at the request's block; None: unknown
    request_id: int | None = None
    request_tx: str = ""
    settlement_tx: str = ""
    block_number: int | None = None
    #: Whose lots this moves (lower-case address; "" = the one account of the history).
    account: str = ""
    counterparty: str = ""  # transfers: the other side
    own: bool = False  # transfers: the other side is an own account (the lots move)
    log_index: int = 0  # transfers: the Transfer log's index (order, pairing)
    in_kind_usd: Decimal = Decimal(0)  # in-kind exit: the tokens at the oracle (not USDC)

    @property
    def pair_key(self) -> tuple[str, int]:
        return (self.settlement_tx, self.log_index)

    @property
    def value_usd(self) -> Decimal:
        """The shares at the settlement's NAV (what they were worth at that moment)."""
        return self.shares * self.nav_usd

    @property
    def gas_usd(self) -> Decimal:
        """The network fee in USD (0 when the ETH price is unknown, see ``eth_usd``)."""
        return self.gas_eth * self.eth_usd if self.eth_usd is not None else Decimal(0)


@dataclass(frozen=True)
class Disposal:
    """The part of one sell that one lot covered (a Form-8949-style line)."""

    sell_time: datetime
    lot_id: str  # "" for shares beyond the known lots
    acquired: datetime | None
    shares: Decimal
    proceeds_usd: Decimal  # exact (round with :func:`cents` when writing)
    cost_basis_usd: Decimal
    sell_request_id: int | None = None
    settlement_tx: str = ""

    @property
    def gain_usd(self) -> Decimal:
        """Rounded proceeds minus rounded basis: the written columns add up."""
        return cents(self.proceeds_usd) - cents(self.cost_basis_usd)

    @property
    def term(self) -> str:
        if self.acquired is None:
            return "unknown"
        return "long" if _held_over_a_year(self.acquired, self.sell_time) else "short"


@dataclass(frozen=True)
class HistoryRow:
    """One trade of the tax history, with its lot bookkeeping."""

    trade: TaxTrade
    lot_id: str = ""  # buy, transfer in from someone else: the lot it opened
    #: buy: the lot's basis; sell/exit: basis disposed of; transfer: basis moved
    cost_basis_usd: Decimal = Decimal(0)
    proceeds_usd: Decimal | None = None  # sell and in-kind exit only
    disposals: tuple[Disposal, ...] = ()
    #: transfers out (and in from an own account): the lot parts that moved, no proceeds
    moved: tuple[Disposal, ...] = ()

    @property
    def realized_gain_usd(self) -> Decimal | None:
        if self.proceeds_usd is None:
            return None
        return sum((d.gain_usd for d in self.disposals), Decimal(0))

    @property
    def lots_text(self) -> str:
        """``L1`` for a buy; ``L1:0.5 L2:1.25`` (lot: shares) for a sell, an exit or a
        transfer."""
        if self.lot_id:
            return self.lot_id
        return " ".join(f"{d.lot_id or 'unknown'}:{_plain(d.shares)}"
                        for d in self.disposals or self.moved)


@dataclass
class _Lot:
    lot_id: str
    acquired: datetime
    shares: Decimal  # still held
    cost: Decimal  # basis of the shares still held
    order: int


@dataclass(frozen=True)
class TaxLedger:
    """The whole history run through one lot method."""

    method: str
    rows: tuple[HistoryRow, ...]
    open_lots: tuple[tuple[str, datetime, Decimal, Decimal], ...] = field(default=())

    @property
    def disposals(self) -> list[Disposal]:
        """Sells and in-kind exits lot by lot (transfers are not disposals)."""
        return [d for r in self.rows for d in r.disposals]


DISPOSING = ("sell", "in_kind_exit")
#: Within one block: what leaves an account before what arrives (an own transfer's lots
#: exist on the sending side before they move).
_SUB = {"buy": 0, "sell": 1, "in_kind_exit": 1, "transfer_out": 2, "transfer_in": 3}


def run_lots(trades: list[TaxTrade], method: str = "fifo",
             account: str | None = None) -> TaxLedger:
    """Match every disposal and transfer against the lots opened before it (``method``:
    fifo/hifo), each account with its own lots.

    ``trades`` are verified events in any order, of one or several own accounts; they are
    taken in chain order (time, block, log, request id). With ``account`` the ledger keeps
    only that account's rows and open lots (the others were needed for what moved in)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    ordered = sorted(trades, key=lambda t: (t.time, t.block_number or 0, t.log_index,
                                            _SUB.get(t.kind, 9), t.request_id or 0))
    pools: dict[str, list[_Lot]] = {}
    opened: dict[str, int] = {}
    moving: dict[tuple[str, int], list[Disposal]] = {}
    rows: list[HistoryRow] = []
    with localcontext(_CTX):
        for t in ordered:
            acct = t.account.lower()
            lots = pools.setdefault(acct, [])
            if t.kind == "buy" or (t.kind == "transfer_in" and not t.own):
                opened[acct] = opened.get(acct, 0) + 1
                cost = t.usdc + t.gas_usd if t.kind == "buy" else t.value_usd
                lot = _Lot(f"L{opened[acct]}", t.time, t.shares, cost, _order(pools))
                lots.append(lot)
                rows.append(HistoryRow(t, lot_id=lot.lot_id, cost_basis_usd=lot.cost))
            elif t.kind in DISPOSING:
                rows.append(_dispose(t, lots, method))
            elif t.kind == "transfer_out":
                parts = _take(t, lots, method, Decimal(0))
                if t.own:
                    moving[t.pair_key] = parts
                rows.append(HistoryRow(t, cost_basis_usd=_basis(parts), moved=tuple(parts)))
            elif t.kind == "transfer_in":  # from an own account: its lots arrive
                parts = moving.pop(t.pair_key, [])
                tag = "@" + t.counterparty.lower()[:6]
                got = sum((d.shares for d in parts), Decimal(0))
                if got < t.shares:  # the sender's lots did not cover it: zero basis
                    parts.append(Disposal(t.time, "", None, t.shares - got, Decimal(0),
                                          Decimal(0), None, t.settlement_tx))
                carried = []
                for d in parts:
                    lot_id = f"{d.lot_id}{tag}" if d.lot_id else ""
                    if d.lot_id:
                        lots.append(_Lot(lot_id, d.acquired or t.time, d.shares,
                                         d.cost_basis_usd, _order(pools)))
                    carried.append(Disposal(t.time, lot_id, d.acquired, d.shares,
                                            Decimal(0), d.cost_basis_usd, None,
                                            t.settlement_tx))
                rows.append(HistoryRow(t, cost_basis_usd=_basis(carried),
                                       moved=tuple(carried)))
            else:
                raise ValueError("a tax event is a buy or a sell, an in-kind exit or a share "
                                 f"transfer, not {t.kind!r}")
        wanted = None if account is None else account.lower()
        open_lots = tuple((lot.lot_id, lot.acquired, lot.shares, lot.cost)
                          for acct, lots in pools.items() if wanted in (None, acct)
                          for lot in sorted(lots, key=lambda x: x.order) if lot.shares > 0)
    if wanted is not None:
        rows = [r for r in rows if r.trade.account.lower() == wanted]
    return TaxLedger(method, tuple(rows), open_lots)


def _order(pools: dict[str, list[_Lot]]) -> int:
    return sum(len(v) for v in pools.values())


def _basis(parts: list[Disposal]) -> Decimal:
    return sum((d.cost_basis_usd for d in parts), Decimal(0))


def _take(t: TaxTrade, lots: list[_Lot], method: str, proceeds: Decimal) -> list[Disposal]:
    """Take ``t.shares`` from ``lots`` (FIFO or HIFO), sharing ``proceeds`` among them in
    proportion to the shares; shares beyond the lots get a zero basis and no lot id."""
    left = t.shares
    out: list[Disposal] = []
    # Oldest first by acquisition date (a lot carried in from an own account keeps its
    # date); HIFO: highest cost per share first, ties oldest first.
    candidates = sorted((lot for lot in lots if lot.shares > 0),
                        key=lambda lot: (lot.acquired, lot.order))
    if method == "hifo":
        candidates.sort(key=lambda lot: -(lot.cost / lot.shares))
    for lot in candidates:
        if left <= 0:
            break
        take = min(left, lot.shares)
        basis = lot.cost if take == lot.shares else lot.cost * take / lot.shares
        out.append(Disposal(t.time, lot.lot_id, lot.acquired, take,
                            proceeds * take / t.shares, basis, t.request_id,
                            t.settlement_tx))
        lot.shares -= take
        lot.cost -= basis
        if lot.shares == 0:
            lot.cost = Decimal(0)
        left -= take
    if left > 0:
        out.append(Disposal(t.time, "", None, left, proceeds * left / t.shares, Decimal(0),
                            t.request_id, t.settlement_tx))
    return out


def _dispose(t: TaxTrade, lots: list[_Lot], method: str) -> HistoryRow:
    proceeds = t.usdc + t.in_kind_usd - t.gas_usd
    out = _take(t, lots, method, proceeds)
    return HistoryRow(t, cost_basis_usd=_basis(out), proceeds_usd=proceeds,
                      disposals=tuple(out))


# --------------------------------------------------------------------------- yearly report


@dataclass(frozen=True)
class YearReport:
    """What a tax year needs: its disposals and its totals, all in USD."""

    year: int
    method: str
    disposals: tuple[Disposal, ...]
    proceeds_usd: Decimal
    cost_basis_usd: Decimal
    gain_usd: Decimal
    short_term_gain_usd: Decimal
    long_term_gain_usd: Decimal
    platform_fees_usd: Decimal
    network_fees_usd: Decimal
    buys: int
    sells: int
    missing_eth_price: int  # trades whose network fee could not be valued
    in_kind_exits: int = 0
    transfers_in: int = 0
    #: G100 sent to someone else in the year: not sales, listed apart (value at the NAV
    #: of that block, the basis that left with them); own-account moves are not here.
    transfers_out: tuple[HistoryRow, ...] = ()


def year_report(ledger: TaxLedger, year: int) -> YearReport:
    """The disposals settled in ``year`` (UTC) and the year's totals, each total the sum
    of the rounded figures the report prints (so the lines add up to the totals)."""
    ds = tuple(d for d in ledger.disposals if d.sell_time.year == year)
    in_year = [r.trade for r in ledger.rows if r.trade.time.year == year]

    def total(values: list[Decimal]) -> Decimal:
        return sum(values, Decimal("0.00"))

    return YearReport(
        year=year, method=ledger.method, disposals=ds,
        proceeds_usd=total([cents(d.proceeds_usd) for d in ds]),
        cost_basis_usd=total([cents(d.cost_basis_usd) for d in ds]),
        gain_usd=total([d.gain_usd for d in ds]),
        short_term_gain_usd=total([d.gain_usd for d in ds if d.term != "long"]),
        long_term_gain_usd=total([d.gain_usd for d in ds if d.term == "long"]),
        platform_fees_usd=total([cents(t.platform_fee_usdc) for t in in_year]),
        network_fees_usd=total([cents(t.gas_usd) for t in in_year]),
        buys=sum(1 for t in in_year if t.kind == "buy"),
        sells=sum(1 for t in in_year if t.kind == "sell"),
        missing_eth_price=sum(1 for t in in_year if t.eth_usd is None and t.gas_eth > 0),
        in_kind_exits=sum(1 for t in in_year if t.kind == "in_kind_exit"),
        transfers_in=sum(1 for t in in_year if t.kind == "transfer_in"),
        transfers_out=tuple(r for r in ledger.rows if r.trade.time.year == year
                            and r.trade.kind == "transfer_out" and not r.trade.own))


# --------------------------------------------------------------------------- helpers


def _held_over_a_year(acquired: datetime, sold: datetime) -> bool:
    try:
        anniversary = acquired.replace(year=acquired.year + 1)
    except ValueError:  # 29 February: the anniversary is 1 March
        anniversary = acquired.replace(year=acquired.year + 1, month=3, day=1)
    return sold.date() > anniversary.date()


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros (``1.5``, ``2``)."""
    text = f"{value.normalize():f}"
    return text

