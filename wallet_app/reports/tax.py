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

    kind: str  # "buy" | "sell"
    time: datetime  # the settlement's block time (the strike)
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
    lot_id: str = ""  # buy: the lot it opened
    cost_basis_usd: Decimal = Decimal(0)  # buy: the lot's basis; sell: basis disposed of
    proceeds_usd: Decimal | None = None  # sell only
    disposals: tuple[Disposal, ...] = ()

    @property
    def realized_gain_usd(self) -> Decimal | None:
        if self.proceeds_usd is None:
            return None
        return sum((d.gain_usd for d in self.disposals), Decimal(0))

    @property
    def lots_text(self) -> str:
        """``L1`` for a buy; ``L1:0.5 L2:1.25`` (lot: shares) for a sell."""
        if self.trade.kind == "buy":
            return self.lot_id
        return " ".join(f"{d.lot_id or 'unknown'}:{_plain(d.shares)}" for d in self.disposals)


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
        return [d for r in self.rows for d in r.disposals]


def run_lots(trades: list[TaxTrade], method: str = "fifo") -> TaxLedger:
    """Match every sell against the lots opened by earlier buys (``method``: fifo/hifo).

    ``trades`` are verified trades in any order; they are taken in settlement order
    (time, then block, then request id), which is the order the vault settled them."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    ordered = sorted(trades, key=lambda t: (t.time, t.block_number or 0, t.request_id or 0))
    lots: list[_Lot] = []
    rows: list[HistoryRow] = []
    with localcontext(_CTX):
        for t in ordered:
            if t.kind == "buy":
                lot = _Lot(f"L{len([r for r in rows if r.trade.kind == 'buy']) + 1}", t.time,
                           t.shares, t.usdc + t.gas_usd, len(lots))
                lots.append(lot)
                rows.append(HistoryRow(t, lot_id=lot.lot_id, cost_basis_usd=lot.cost))
            elif t.kind == "sell":
                rows.append(_dispose(t, lots, method))
            else:
                raise ValueError(f"a tax trade is a buy or a sell, not {t.kind!r}")
        open_lots = tuple((lot.lot_id, lot.acquired, lot.shares, lot.cost) for lot in lots
                          if lot.shares > 0)
    return TaxLedger(method, tuple(rows), open_lots)


def _dispose(t: TaxTrade, lots: list[_Lot], method: str) -> HistoryRow:
    proceeds = t.usdc - t.gas_usd
    left = t.shares
    out: list[Disposal] = []
    candidates = [lot for lot in lots if lot.shares > 0]
    if method == "hifo":
        candidates.sort(key=lambda lot: (-(lot.cost / lot.shares), lot.order))
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
    basis_total = sum((d.cost_basis_usd for d in out), Decimal(0))
    return HistoryRow(t, cost_basis_usd=basis_total, proceeds_usd=proceeds,
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
        missing_eth_price=sum(1 for t in in_year if t.eth_usd is None and t.gas_eth > 0))


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

