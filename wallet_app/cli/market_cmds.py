"""`index-wallet index market [--refresh]`: the wallet's opt-in market feed from a shell.

The feed (``wallet_app.market.feed``) is what the gauge, the regime history and the
benchmarks read off the devnet. This command shows where it stands and, with
``--refresh``, reads the closes it lacks now (waiting for it, unlike the GUI). While
``market_history`` is off it says so and sends nothing: the setting is the user's choice,
and there is no flag here that overrides it.
"""

from __future__ import annotations

import argparse

from ..config import load_settings
from ..paths import app_paths
from .output import emit, progress


def register_index_market(isub: argparse._SubParsersAction) -> None:
    m = isub.add_parser("market", help="the opt-in market feed behind the gauge off the "
                        "devnet: status, or --refresh to read the new closes now")
    m.add_argument("--refresh", action="store_true", help="read the closes the feed lacks "
                   "(only while market_history is on in the settings)")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=_market)


def _market(args: argparse.Namespace) -> int:
    from ..market.feed import MarketFeed

    paths = app_paths()
    feed = MarketFeed(load_settings(paths), paths)
    if args.refresh and feed.enabled:
        progress(f"Reading market history from {feed.base_url} ...")
        status = feed.refresh()
    else:
        status = feed.status()
    result = feed.regime()
    latest = result.latest if result is not None else None
    data = {
        "enabled": status.enabled, "source": status.source,
        "last_close": status.last_close.isoformat() if status.last_close else None,
        "error": status.error or None, "note": status.note or None,
        "gauge": None if latest is None else {
            "day": latest.day.isoformat(), "score": str(latest.score),
            "band": latest.gauge.band, "state": latest.state.value},
    }
    lines = [f"Market feed: {'on' if status.enabled else 'off'} ({status.source})"]
    if status.last_close:
        lines.append(f"Last close read: {status.last_close:%Y-%m-%d}")
    if latest is not None:
        lines.append(f"Gauge at {latest.day:%Y-%m-%d}: {latest.score:.1f} ({latest.gauge.band}, "
                     f"{latest.state.value} regime)")
    if status.note:
        lines.append(status.note)
    emit(args, data, "\n".join(lines))
    return 0
