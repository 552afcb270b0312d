"""`index-wallet gui` and `index-wallet demo`: open the desktop app.

``demo`` is the embedded default: it starts (or reuses) the local devnet, deploys and
seeds the index, and opens the app on it with the simulated market moving one day per
tick. Without a display, without the desktop app installed, or with ``--cli``, it runs
the same journey on the command line instead: a demo wallet, test funds, a buy, market
days passing, a sell.

The window itself belongs to the GUI package, which registers its entry point
(:mod:`wallet_app.frontends`); this module never imports ``ui`` or Qt, and nothing heavy
is imported before a command runs.
"""

from __future__ import annotations

import argparse
import os
import secrets
from decimal import Decimal

from ..frontends import GuiMissingError, gui_entry
from ..hardening import secret_env
from .output import emit, progress


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("gui", help="open the desktop app (also: index-wallet-gui)")
    g.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    g.set_defaults(func=_gui)
    d = sub.add_parser("demo", help="start the devnet and open the app on it")
    d.add_argument("--cli", action="store_true", help="run the command-line demo instead")
    # Defaults (None) are the devnet driver's own (30 s, 6 steps), not repeated here: the
    # driver module imports web3, which building the parser must not.
    d.add_argument("--tick", type=float, default=None,
                   help="demo speed: wall-clock seconds per market day (default 30; 0: paused; "
                        "chain time is real time either way)")
    d.add_argument("--steps", type=int, default=None,
                   help="price steps per market day (default 6; prices move smoothly)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=_demo)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"))


def _gui(args: argparse.Namespace) -> int:
    return int(gui_entry("app")(args.rest))


def _demo(args: argparse.Namespace) -> int:
    from ..devnet.embedded import ensure_devnet

    dev = ensure_devnet(progress=progress)
    progress(f"Devnet ready at {dev.node.rpc_url}: {len(dev.deployment.tokens)} constituents")
    gui_main = None
    if not args.cli and _has_display():
        try:
            gui_main = gui_entry("app")
        except GuiMissingError as exc:
            progress(f"{exc}\nRunning the command-line demo instead of the window.")
    elif not args.cli:
        progress("No display found: running the command-line demo instead of the window.")
    if gui_main is None:
        return _cli_demo(args)
    speed = [] if args.tick is None else ["--tick", str(args.tick)]
    speed += [] if args.steps is None else ["--steps", str(args.steps)]
    return int(gui_main(["--demo", *speed]))


def _cli_demo(args: argparse.Namespace) -> int:
    """The whole journey on the command line, against the running devnet."""
    from ..facade import WalletService

    svc = WalletService()
    try:
        name = "demo"
        chosen = secret_env("G100_WALLET_PASSWORD")
        password = chosen or ("walk-" + secrets.token_urlsafe(16))
        if name not in [w.name for w in svc.wallets()]:
            progress("Creating the wallet 'demo' (keys in your OS keyring)")
            svc.create_wallet(name, password)
            if not chosen:
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
