"""`index-wallet gui` and `index-wallet demo`: open the desktop app.

``demo`` is the embedded default: it starts (or reuses) the local devnet, deploys and
seeds the index, and opens the app on it with the simulated market moving one day per
tick. Without a display, or with ``--cli``, it runs the same journey on the command line
instead: a demo wallet, test funds, a buy, market days passing, a sell. Qt is imported
only inside these functions, so the core stays Qt-free.
"""

from __future__ import annotations

import argparse
import os
import secrets
from decimal import Decimal

from ..devnet.driver import DAY_S, STEPS
from ..devnet.embedded import ensure_devnet
from ..facade import WalletService
from .output import emit, progress


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("gui", help="open the desktop app")
    g.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    g.set_defaults(func=_gui)
    d = sub.add_parser("demo", help="start the devnet and open the app on it")
    d.add_argument("--cli", action="store_true", help="run the command-line demo instead")
    d.add_argument("--tick", type=float, default=DAY_S,
                   help="demo speed: wall-clock seconds per market day (0: paused; chain "
                        "time is real time either way)")
    d.add_argument("--steps", type=int, default=STEPS,
                   help="price steps per market day (prices move smoothly)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=_demo)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"))


def _gui(args: argparse.Namespace) -> int:
    from ui.app import main as gui_main

    return gui_main(args.rest)


def _demo(args: argparse.Namespace) -> int:
    dev = ensure_devnet(progress=progress)
    progress(f"Devnet ready at {dev.node.rpc_url}: {len(dev.deployment.tokens)} constituents")
    if args.cli or not _has_display():
        if not args.cli:
            progress("No display found: running the command-line demo instead of the window.")
        return _cli_demo(args)
    from ui.app import main as gui_main

    svc = WalletService()
    svc.connect()
    svc.start_market(max(0.0, args.tick), steps=max(1, args.steps))  # 0: the keeper alone
    return gui_main([], service=svc)


def _cli_demo(args: argparse.Namespace) -> int:
    """The whole journey on the command line, against the running devnet."""
    svc = WalletService()
    try:
        name = "demo"
        password = os.environ.get("G100_WALLET_PASSWORD") or (
            "walk-" + secrets.token_urlsafe(16))
        if name not in [w.name for w in svc.wallets()]:
            progress("Creating the wallet 'demo' (keys in your OS keyring)")
            svc.create_wallet(name, password)
            if "G100_WALLET_PASSWORD" not in os.environ:
                progress("  (random password for this demo; set G100_WALLET_PASSWORD to "
                         "choose one)")
        else:
            svc.select_wallet(name)
            svc.unlock(password)
        svc.connect()
        progress(f"Funding {svc.active_address()} with test ETH and USDC")
        svc.faucet()
        state = svc.index_state()
        progress(f"TM Global 100: NAV {state.nav_per_share} USDC/share, regime "
                 f"{state.regime.value}, {len(state.holdings)} holdings")
        q = svc.quote_buy(Decimal(1000))
        progress(f"Quote: 1000 USDC -> at least {q.min_shares_out:.4f} G100 (fee "
                 f"{q.fee_usdc} USDC, gas ~{q.gas.expected_fee_eth:.6f} ETH)")
        buy = svc.buy(q, progress=progress)
        progress(f"Bought {buy.shares:.4f} G100 in block {buy.block_number}")
        for r in svc.advance_market(3, progress=progress):
            progress(f"Market day {r.day}: {r.regime.value}, gauge {r.score}")
        pos = svc.position()
        assert pos is not None
        progress(f"Position: {pos.shares:.4f} G100 worth {pos.value_usdc} USDC "
                 f"(P&L {pos.unrealized_pnl_usdc:+} USDC)")
        sq = svc.quote_sell(pos.shares)
        sell = svc.sell(sq, progress=progress)
        progress(f"Sold for {sell.usdc} USDC, paid to {sell.receiver}")
        emit(args, {"buy": buy, "sell": sell}, "Demo complete.")
        return 0
    finally:
        svc.close()
