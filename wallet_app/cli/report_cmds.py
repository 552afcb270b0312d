"""`index-wallet report`: the tax year, and the legs printed by `index-wallet log --details`.

The report covers only verified, settled trades (the journal's verified status); USD
values come from the sources named in :mod:`wallet_app.services.reports`.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..index.legs import price_text
from ..text import counted
from .output import emit, progress


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("report", help="the tax year: disposals, cost basis (FIFO or HIFO), "
                                      "realized gain, fees in USD")
    r.add_argument("--year", type=int, default=datetime.now(UTC).year,
                   help="tax year (UTC; default: this year)")
    r.add_argument("--method", choices=("fifo", "hifo"), default="fifo",
                   help="which lots a sell disposes of first (default fifo)")
    r.add_argument("--csv", type=Path, default=None,
                   help="write the year's disposals (one line per lot sold) as CSV")
    r.add_argument("--history", type=Path, default=None, metavar="FILE.csv",
                   help="also write the whole history (every verified trade) as CSV")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--wallet", default=None, help="wallet name (default: the active one)")
    r.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from ..facade import WalletService
    from ..reports.tax_csv import year_text

    svc = WalletService()
    try:
        if args.wallet:
            svc.select_wallet(args.wallet)
        svc.connect()
        rep = svc.tax_year_report(args.year, args.method, args.csv)
        if args.csv:
            progress(f"Wrote {counted(len(rep.disposals), 'disposal')} to {args.csv}")
        if args.history:
            n = svc.export_tax_csv(args.history, args.method)
            progress(f"Wrote {counted(n, 'trade')} to {args.history}")
        emit(args, report_payload(rep), year_text(rep))
    finally:
        svc.close()
    return 0


def report_payload(rep: Any) -> dict[str, Any]:
    """The year report for ``--json``: totals and the disposal lines as the CSV has them
    (rounded to the cent), so a script sees the same figures as a person."""
    import dataclasses

    from ..reports.tax_csv import (
        DISPOSAL_COLUMNS,
        TRANSFER_OUT_COLUMNS,
        disposal_rows,
        transfer_out_rows,
    )

    totals = {f.name: getattr(rep, f.name) for f in dataclasses.fields(rep)
              if f.name not in ("disposals", "transfers_out")}
    return {**totals, "disposals": [dict(zip(DISPOSAL_COLUMNS, row, strict=True))
                                    for row in disposal_rows(rep.disposals)],
            "transfers_out": [dict(zip(TRANSFER_OUT_COLUMNS, row, strict=True))
                              for row in transfer_out_rows(rep.transfers_out)]}


def details_payload(svc: Any, events: list[Any]) -> list[dict[str, Any]]:
    """Each log entry with its legs for ``log --details --json`` (exact amounts)."""
    import dataclasses

    out = []
    for e in events:
        ls = svc.event_legs(e)
        legs = [{**dataclasses.asdict(leg), "slippage_bps": leg.slippage_bps}
                for leg in ls.legs]
        out.append({**dataclasses.asdict(e), "legs": legs, "gas_used": ls.gas_used,
                    "gas_eth": ls.gas_eth, "transactions": [t.tx_hash for t in
                                                            ls.transactions],
                    "oracle_checked": ls.oracle_checked, "note": ls.note})
    return out


def details_lines(svc: Any, events: list[Any]) -> list[str]:
    """The log with each entry's legs under it (`index-wallet log --details`)."""
    lines = ["Index log:"]
    for e in events:
        lines.append(f"  block {e.block_number:>7}  {e.kind:<10} {e.summary}")
        ls = svc.event_legs(e)
        if not ls.legs and not ls.transactions:
            continue
        if ls.transactions:
            check = {True: "; oracle values match the Rebalanced totals",
                     False: "; oracle values NOT confirmed by the Rebalanced totals",
                     None: ""}[ls.oracle_checked]
            lines.append(f"      gas {ls.gas_used:,} ({ls.gas_eth.normalize():f} ETH) in "
                         f"{len(ls.transactions)} tx{'s' if len(ls.transactions) != 1 else ''}"
                         f"{check}")
        if ls.note:
            lines.append(f"      {ls.note}")
        for i, leg in enumerate(ls.legs, 1):
            price = "" if leg.oracle_price_usd is None else \
                f" @ {price_text(leg.oracle_price_usd)} USD"
            value = "" if leg.oracle_value_in_usd is None else \
                f", oracle {leg.oracle_value_in_usd:,.2f} -> {leg.oracle_value_out_usd:,.2f}"
            slip = "" if leg.slippage_bps is None else f", slippage {leg.slippage_bps} bp"
            lines.append(f"      {i:>3}. {leg.side:<6} {leg.asset:<6} "
                         f"in {leg.amount_in.normalize():f} {leg.asset_in}, "
                         f"out {leg.amount_out.normalize():f} {leg.asset_out}{price}{value}"
                         f"{slip}, gas {leg.gas_eth.normalize():f} ETH")
    return lines

