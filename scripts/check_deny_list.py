#!/usr/bin/env python3
"""Check the deny list against fresh market data: what should be added to exclusions.json?

Part of keeping ``assets/index/exclusions.json`` up to date (README, "Deny list"). Reads

* a market snapshot (CoinGecko ``/coins/markets`` array with ``categories``, or the app's
  wrapper) and lists every asset that an excluded category marks but the deny list does not
  name, so that it still stays out when a later snapshot (or a history table) lacks
  categories;
* optionally a daily price table (``date,symbol|base,close``) and runs the price detectors
  of ``wallet_app.index.peg_detect`` on it, listing flagged tickers the list does not name.

Exit status 0 when nothing is missing, 1 when something should be reviewed, 2 on bad input.
No network: fetch the snapshot first (``index-wallet market fetch`` or the API directly).

    .venv/bin/python scripts/check_deny_list.py --snapshot markets.json [--prices ohlcv.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wallet_app.index import IndexDataError, default_deny_list, is_excluded_category  # noqa: E402
from wallet_app.index.history import read_price_table  # noqa: E402
from wallet_app.index.peg_detect import detect  # noqa: E402
from wallet_app.market.errors import SnapshotError  # noqa: E402
from wallet_app.market.snapshot import SOURCE_FILE, load_snapshot_file  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--snapshot", type=Path, help="markets JSON with categories")
    ap.add_argument("--prices", type=Path, help="daily price CSV for the price detectors")
    args = ap.parse_args(argv)
    if not args.snapshot and not args.prices:
        ap.error("give --snapshot and/or --prices")
    deny = default_deny_list()
    missing = 0
    try:
        if args.snapshot:
            snap = load_snapshot_file(args.snapshot, SOURCE_FILE)
            print(f"snapshot {args.snapshot} ({len(snap.assets)} assets, as of "
                  f"{snap.as_of:%Y-%m-%d})")
            for a in snap.assets:
                cats = [c for c in a.categories if is_excluded_category(c)]
                if cats and deny.match(a.symbol, a.id) is None:
                    missing += 1
                    print(f"  ADD  {a.symbol.upper():<12} id={a.id:<40} {a.name} "
                          f"(categories: {', '.join(cats)})")
        if args.prices:
            hits = detect(read_price_table(args.prices))
            print(f"prices {args.prices}: {len(hits)} detections")
            for d in hits:
                known = deny.denies_symbol(d.symbol, d.first_day)
                if not known:
                    missing += 1
                print(f"  {'ok  ' if known else 'REVIEW'} {d.symbol:<12} {d.detector:<15} "
                      f"from {d.first_day}: {d.detail}")
    except (IndexDataError, SnapshotError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("nothing missing" if not missing else f"{missing} to review")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
