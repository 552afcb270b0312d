"""The tax history and the yearly report as CSV text (columns documented in the README).

Pure: takes the ledger of :mod:`wallet_app.reports.tax` and returns rows or writes them to
a file object. USD columns are rounded half-even to the cent; token amounts (shares, USDC,
ETH) are written exactly as the chain's events give them; the NAV to 6 decimals and the
ETH price as the feed reported it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from ..keys.fileio import atomic_write_text
from ..text import counted
from .tax import Disposal, HistoryRow, TaxLedger, YearReport, cents

HISTORY_COLUMNS = (
    "date_utc", "type", "request_id", "shares", "nav_usd", "value_usd", "usdc",
    "platform_fee_usd", "network_fee_eth", "eth_usd", "network_fee_usd", "lots",
    "cost_basis_usd", "proceeds_usd", "realized_gain_usd", "method", "request_tx",
    "settlement_tx", "block", "in_kind_usd", "counterparty", "note",
)
TRANSFER_OUT_COLUMNS = (
    "date_utc", "shares", "nav_usd", "value_usd", "lots", "cost_basis_usd", "to",
    "network_fee_usd", "tx",
)
_NOTES = {
    ("transfer_out", False): "sent to someone else: not a sale, no gain computed (a gift "
                             "or a payment is yours to report); the basis left with it",
    ("transfer_out", True): "moved to your own account: lots, basis and dates carry over",
    ("transfer_in", False): "received from someone else: a new lot at the NAV of the block",
    ("transfer_in", True): "from your own account: its lots, basis and dates carried over",
    ("in_kind_exit", False): "in-kind exit: disposed of at the USDC plus the tokens at the "
                             "oracle prices of its block",
}
DISPOSAL_COLUMNS = (
    "date_sold_utc", "lot", "date_acquired_utc", "shares", "proceeds_usd", "cost_basis_usd",
    "gain_usd", "term", "sell_request_id", "settlement_tx",
)
NAV_QUANTUM = Decimal("0.000001")


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return f"{v:f}"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


def history_rows(ledger: TaxLedger) -> list[list[str]]:
    """One line per verified trade, oldest first."""
    return [[_fmt(v) for v in _history_line(r, ledger.method)] for r in ledger.rows]


def _history_line(r: HistoryRow, method: str) -> list[Any]:
    t = r.trade
    notes = [_NOTES[(t.kind, t.own)]] if (t.kind, t.own) in _NOTES else []
    if t.eth_usd is None and t.gas_eth > 0:
        notes.append("ETH/USD unknown at the request's block: network fee not valued")
    if any(not d.lot_id for d in r.disposals + r.moved):
        notes.append("shares beyond the known lots: zero basis")
    note = "; ".join(notes)
    parts = r.disposals or r.moved
    return [
        t.time, t.kind, t.request_id, t.shares.normalize(), t.nav_usd.quantize(NAV_QUANTUM),
        cents(t.value_usd), t.usdc.normalize(), cents(t.platform_fee_usdc),
        t.gas_eth.normalize(), None if t.eth_usd is None else t.eth_usd.normalize(),
        None if t.eth_usd is None else cents(t.gas_usd), r.lots_text,
        cents(r.cost_basis_usd) if r.lot_id else
        sum((cents(d.cost_basis_usd) for d in parts), Decimal("0.00")),
        None if r.proceeds_usd is None else
        sum((cents(d.proceeds_usd) for d in r.disposals), Decimal("0.00")),
        r.realized_gain_usd, method, t.request_tx, t.settlement_tx, t.block_number,
        cents(t.in_kind_usd) if t.kind == "in_kind_exit" else None, t.counterparty or None,
        note,
    ]


def transfer_out_rows(rows: Sequence[HistoryRow]) -> list[list[str]]:
    """The year's shares sent to someone else (not sales), one line per transfer."""
    return [[_fmt(v) for v in (
        r.trade.time, r.trade.shares.normalize(), r.trade.nav_usd.quantize(NAV_QUANTUM),
        cents(r.trade.value_usd), r.lots_text,
        sum((cents(d.cost_basis_usd) for d in r.moved), Decimal("0.00")),
        r.trade.counterparty, None if r.trade.eth_usd is None else cents(r.trade.gas_usd),
        r.trade.settlement_tx)] for r in rows]


def disposal_rows(disposals: Sequence[Disposal]) -> list[list[str]]:
    return [[_fmt(v) for v in (
        d.sell_time, d.lot_id or "unknown", d.acquired, d.shares.normalize(),
        cents(d.proceeds_usd), cents(d.cost_basis_usd), d.gain_usd, d.term,
        d.sell_request_id, d.settlement_tx)] for d in disposals]


def write_csv(dest: Path | TextIO, header: Sequence[str], rows: list[list[str]]) -> int:
    """Write ``rows`` under ``header``; a path is written in one go (no half file)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    if isinstance(dest, str | Path):
        atomic_write_text(Path(dest), buf.getvalue())  # whole or not at all
    else:
        dest.write(buf.getvalue())
    return len(rows)


def year_text(rep: YearReport) -> str:
    """The yearly report as the CLI prints it."""
    lines = [
        f"Tax year {rep.year} ({rep.method.upper()}; USD, rounded to the cent; "
        f"{counted(rep.buys, 'buy')}, {counted(rep.sells, 'sell')}"
        + (f", {counted(rep.in_kind_exits, 'in-kind exit')}" if rep.in_kind_exits else "")
        + (f", {counted(rep.transfers_in, 'transfer')} in" if rep.transfers_in else "")
        + ")",
        f"  Proceeds:            {rep.proceeds_usd:>14,.2f}",
        f"  Cost basis:          {rep.cost_basis_usd:>14,.2f}",
        f"  Realized gain:       {rep.gain_usd:>+14,.2f}",
        f"    short-term:        {rep.short_term_gain_usd:>+14,.2f}",
        f"    long-term:         {rep.long_term_gain_usd:>+14,.2f}",
        f"  Platform fees:       {rep.platform_fees_usd:>14,.2f}",
        f"  Network fees:        {rep.network_fees_usd:>14,.2f}",
    ]
    if rep.missing_eth_price:
        lines.append(f"  ({rep.missing_eth_price} network fees could not be valued: no "
                     "ETH/USD price at their block)")
    if rep.disposals:
        lines.append("  Disposals (sold, lot, acquired, shares, proceeds, basis, gain, term):")
        for d in rep.disposals:
            acq = d.acquired.strftime("%Y-%m-%d") if d.acquired else "unknown"
            lines.append(f"    {d.sell_time:%Y-%m-%d}  {d.lot_id or '-':<4} {acq}  "
                         f"{d.shares.normalize():f}  {cents(d.proceeds_usd):,.2f}  "
                         f"{cents(d.cost_basis_usd):,.2f}  {d.gain_usd:+,.2f}  {d.term}")
    else:
        lines.append("  No sells settled in this year.")
    if rep.transfers_out:
        lines.append("  Sent to others (not sales, no gain computed; date, shares, value at "
                     "NAV, basis removed, to):")
        for r in rep.transfers_out:
            basis = sum((cents(d.cost_basis_usd) for d in r.moved), Decimal("0.00"))
            lines.append(f"    {r.trade.time:%Y-%m-%d}  {r.trade.shares.normalize():f}  "
                         f"{cents(r.trade.value_usd):,.2f}  {basis:,.2f}  "
                         f"{r.trade.counterparty}")
    return "\n".join(lines)
