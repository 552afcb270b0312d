"""`index-wallet index compose|regime|backtest|schedule`: the index engine from a shell.

Every command prints a table for people and, with ``--json``, one JSON document a script
can parse (Decimals as strings). Charts are drawn by the GUI package's ``nav-chart`` entry
point (``ui.charts_export``), looked up only when ``--chart`` is given: the core never
imports Qt or ``ui``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..frontends import gui_entry
from ..index import (
    BacktestConfig,
    Composition,
    compose,
    compute_regime,
    load_market_series,
    next_rebalance,
    previous_rebalance,
    read_asset_table,
    read_price_table,
    run_backtest,
)
from ..index.errors import IndexDataError
from ..index.history import detect_kind
from ..index.inputs import loads_exact
from ..market.snapshot import MarketSnapshot, load_app_snapshot, load_snapshot_file
from ..paths import PROJECT_ROOT
from .depositor_cmds import register_index
from .market_cmds import register_index_market
from .output import emit, progress

#: Where CI and developers keep the real research data (never copied into the project).
SHARED_MARKET = PROJECT_ROOT.parent / "shared" / "data" / "market"
DEFAULT_HISTORY = SHARED_MARKET / "daily_market_caps_2020-2025.csv"
DEFAULT_PRICES = SHARED_MARKET / "daily_ohlcv_2020-2025.csv"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="compose the index, read the regime, run a backtest")
    isub = p.add_subparsers(dest="index_cmd", required=True)

    c = isub.add_parser("compose", help="constituents and weights from a market snapshot")
    c.add_argument("--markets", type=Path, help="/coins/markets JSON file (default: the "
                   "app's dated snapshot)")
    c.add_argument("--previous", type=Path, help="previous composition (JSON: a list of ids, "
                   "or the output of this command) for the buffer rule")
    c.add_argument("--live", action="store_true", help="fetch live data (CoinGecko, with "
                   "cache and offline fallback) instead of a file")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=_compose)

    r = isub.add_parser("regime", help="regime gauge per day from a market-cap history CSV")
    r.add_argument("--history", type=Path, required=True, help="CSV: date,market_cap or the "
                   "per-asset table date,symbol,market_cap")
    r.add_argument("--last", type=int, default=None, help="print only the last N days "
                   "(text output; JSON always has every day)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_regime)

    b = isub.add_parser("backtest", help="NAV through history with weekly rebalancing")
    b.add_argument("--history", type=Path, default=None,
                   help=f"per-asset market caps CSV (default: {DEFAULT_HISTORY})")
    b.add_argument("--prices", type=Path, default=None,
                   help=f"daily closes CSV (default: {DEFAULT_PRICES} when present)")
    b.add_argument("--no-prices", action="store_true", help="use market caps as prices")
    b.add_argument("--initial", type=Decimal, default=Decimal(10_000), help="USDC invested")
    b.add_argument("--trade-cost-bps", type=int, default=0, help="cost per traded leg, bp")
    b.add_argument("--no-regime", action="store_true", help="stay invested (no Bear switch)")
    b.add_argument("--volume-floor", action="store_true",
                   help="apply the 1M USD volume floor to the price table's volume x close")
    b.add_argument("--start", type=date.fromisoformat, default=None)
    b.add_argument("--end", type=date.fromisoformat, default=None)
    b.add_argument("--chart", type=Path, default=None, help="write a NAV chart PNG here")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=_backtest)

    register_index(isub)  # verify (the rule verifier) and changes (pending governance)
    register_index_market(isub)  # the opt-in market feed behind the gauge off the devnet

    s = isub.add_parser("schedule", help="previous and next rebalance times (Mondays 00:00 UTC)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_schedule)


# --- compose ------------------------------------------------------------------------------

def _read_previous(path: Path) -> list[str]:
    try:
        data = loads_exact(path.read_bytes())
    except OSError as exc:
        raise IndexDataError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except ValueError as exc:
        raise IndexDataError(f"{path} is not valid JSON ({exc}).") from None
    if isinstance(data, dict):
        data = data.get("constituents")
    if not isinstance(data, list):
        raise IndexDataError(f"{path}: expected a list of ids, a list of objects with 'id', "
                             "or a composition with 'constituents'.")
    ids = []
    for i, e in enumerate(data):
        v = e.get("id") if isinstance(e, dict) else e
        if not isinstance(v, str) or not v:
            raise IndexDataError(f"{path}: entry {i} has no id.")
        ids.append(v)
    return ids


def _fmt_usd(x: Decimal) -> str:
    return f"{x:,.0f}"


def _compose_text(comp: Composition, snap: MarketSnapshot) -> str:
    lines = [
        f"TM Global 100 composition from {snap.describe()}",
        f"{len(comp.constituents)} constituents from {comp.eligible_count} eligible of "
        f"{comp.universe_count} assets; {len(comp.excluded)} excluded.",
        "",
        f"{'rank':>4}  {'symbol':<10} {'id':<28} {'market cap (USD)':>20} {'weight':>8}",
    ]
    for c in comp.constituents:
        flag = " (buffer)" if c.buffered else (" (capped)" if c.capped else "")
        lines.append(f"{c.rank:>4}  {c.symbol.upper():<10} {c.id[:28]:<28} "
                     f"{_fmt_usd(c.market_cap):>20} {c.weight_bps / 100:>7.2f}%{flag}")
    lines += ["", f"Excluded ({len(comp.excluded)}):"]
    for e in comp.excluded:
        lines.append(f"  {e.symbol.upper():<10} {e.id[:28]:<28} {'; '.join(e.reasons)}")
    return "\n".join(lines)


def _compose(args: argparse.Namespace) -> int:
    if args.live:
        from ..market.service import MarketDataService

        service = MarketDataService()
        try:
            snap = service.markets(live=True)
        finally:
            service.close()
    elif args.markets:
        snap = load_snapshot_file(args.markets)
    else:
        snap = load_app_snapshot()
    previous = _read_previous(args.previous) if args.previous else None
    comp = compose(snap.assets, previous, as_of=snap.as_of.isoformat(), source=snap.source)
    data = comp.to_dict()
    if snap.warning:
        data["warning"] = snap.warning
    emit(args, data, _compose_text(comp, snap))
    return 0


# --- regime -------------------------------------------------------------------------------

def _regime(args: argparse.Namespace) -> int:
    kind = detect_kind(args.history)
    series = load_market_series(args.history)
    result = compute_regime(series)
    data = result.to_dict()
    data["input"] = {"path": str(args.history), "kind": kind, "rows": len(series)}
    if not result.points:
        text = (f"{args.history}: {len(series)} days of history; the 200-day average needs at "
                "least 200 days, so the regime is not defined yet.")
        emit(args, data, text)
        return 0
    pts = result.points if args.last is None else result.points[-args.last:]
    lines = [f"{'date':<10}  {'rho':>9}  {'score':>6}  {'band':<11}  state"]
    for p in pts:
        lines.append(f"{p.day.isoformat():<10}  {p.rho:>+9.4f}  {p.score:>6.2f}  "
                     f"{p.band:<11}  {p.state.value}")
    lines += ["", f"Flips ({len(result.flips)}):"]
    for f in result.flips:
        lines.append(f"  {f.day.isoformat()}  {f.from_state.value} -> {f.to_state.value}  "
                     f"rho {f.rho:+.4f}  score {f.score:.2f}")
    last = result.points[-1]
    lines += ["", f"Latest {last.day.isoformat()}: {last.state.value.upper()}, score "
              f"{last.score:.1f} ({last.band}), rho {last.rho:+.4f}"]
    emit(args, data, "\n".join(lines))
    return 0


# --- backtest -----------------------------------------------------------------------------

def _bear_spans(points: Any) -> list[tuple[date, date]]:
    spans: list[tuple[date, date]] = []
    start = None
    for p in points:
        if p.state.value == "bear" and start is None:
            start = p.day
        elif p.state.value != "bear" and start is not None:
            spans.append((start, p.day))
            start = None
    if start is not None:
        spans.append((start, points[-1].day))
    return spans


def _pct(value: object) -> str:
    return f"{Decimal(str(value)) * 100:.2f}%"


def _backtest(args: argparse.Namespace) -> int:
    # The chart writer is the GUI's (Qt): looked up first, so a missing GUI is said before
    # a backtest runs, and never imported when no chart is asked for.
    write_nav_chart = gui_entry("nav-chart") if args.chart else None
    history = args.history or DEFAULT_HISTORY
    if not history.exists():
        raise IndexDataError(f"No market-cap history at {history}: pass --history FILE.csv "
                             "(a per-asset table date,symbol,market_cap).")
    if detect_kind(history) != "per-asset":
        raise IndexDataError(f"{history}: a backtest needs the per-asset table "
                             "(date,symbol,market_cap) to compose the index each week.")
    default_prices = DEFAULT_PRICES if DEFAULT_PRICES.exists() else None
    prices_path = None if args.no_prices else (args.prices or default_prices)
    if args.prices and not args.prices.exists():
        raise IndexDataError(f"No price table at {args.prices}.")
    progress(f"reading {history}" + (f" and {prices_path}" if prices_path else ""))
    caps = read_asset_table(history)
    prices = read_price_table(prices_path) if prices_path else None
    cfg = BacktestConfig(initial_usdc=args.initial, trade_cost_bps=args.trade_cost_bps,
                         use_regime=not args.no_regime, apply_volume_floor=args.volume_floor,
                         start=args.start, end=args.end)
    result = run_backtest(caps, prices, cfg)
    other = run_backtest(caps, prices, BacktestConfig(
        initial_usdc=cfg.initial_usdc, trade_cost_bps=cfg.trade_cost_bps,
        use_regime=not cfg.use_regime, apply_volume_floor=cfg.apply_volume_floor,
        start=cfg.start, end=cfg.end))
    data = result.to_dict()
    data["comparison"] = other.summary()
    if write_nav_chart is not None:
        with_regime, without = (result, other) if result.use_regime else (other, result)
        write_nav_chart(
            args.chart, [p.day for p in with_regime.points],
            {"Global 100 (regime switch)": [float(p.nav) for p in with_regime.points],
             "Global 100 (always invested)": [float(p.nav) for p in without.points]},
            bear_spans=_bear_spans(with_regime.points),
            title=f"TM Global 100 backtest, {with_regime.start} to {with_regime.end}")
        data["chart"] = str(args.chart)
    s, o = result.summary(), other.summary()
    lines = [
        f"Backtest {s['start']} .. {s['end']} ({s['days']} days), prices: {s['price_source']}",
        f"{'':<24}{'this run':>16}{'comparison':>16}",
        f"{'regime switch':<24}{str(s['use_regime']):>16}{str(o['use_regime']):>16}",
        f"{'final value (USDC)':<24}{s['final_value_after_exit_fee']:>16}"
        f"{o['final_value_after_exit_fee']:>16}",
        f"{'total return':<24}{_pct(s['total_return']):>16}{_pct(o['total_return']):>16}",
        f"{'CAGR':<24}{_pct(s['cagr']):>16}{_pct(o['cagr']):>16}",
        f"{'volatility (annual)':<24}{_pct(s['volatility_annualised']):>16}"
        f"{_pct(o['volatility_annualised']):>16}",
        f"{'max drawdown':<24}{_pct(s['max_drawdown']):>16}{_pct(o['max_drawdown']):>16}",
        f"{'turnover per year':<24}{_pct(s['turnover_per_year']):>16}"
        f"{_pct(o['turnover_per_year']):>16}",
        f"{'rebalances / trades':<24}{str(s['rebalances']) + ' / ' + str(s['trades']):>16}"
        f"{str(o['rebalances']) + ' / ' + str(o['trades']):>16}",
        f"{'fees paid (USDC)':<24}{s['fees_usdc']:>16}{o['fees_usdc']:>16}",
    ]
    if result.flips:
        lines += ["", "Regime switches: " + ", ".join(
            f"{f.day} {f.to_state.value}" for f in result.flips)]
    if args.chart:
        lines.append(f"Chart written to {args.chart}")
    emit(args, data, "\n".join(lines))
    return 0


# --- schedule -----------------------------------------------------------------------------

def _schedule(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    nxt, prev = next_rebalance(now), previous_rebalance(now)
    emit(args, {"now": now.isoformat(), "previous_rebalance": prev.isoformat(),
                "next_rebalance": nxt.isoformat()},
         f"Previous rebalance: {prev:%Y-%m-%d %H:%M} UTC\n"
         f"Next rebalance:     {nxt:%Y-%m-%d %H:%M} UTC (in {nxt - now})")
    return 0

