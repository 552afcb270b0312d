"""`index-wallet devnet up|down|status`."""

from __future__ import annotations

import argparse
import time
from decimal import Decimal
from pathlib import Path

from ..errors import DevnetError
from ..paths import app_paths
from ..text import counted
from . import output
from .output import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devnet", help="start, stop or inspect the local Anvil devnet")
    dsub = p.add_subparsers(dest="devnet_cmd", required=True)
    up = dsub.add_parser("up", help="start the devnet (reuses a running one)")
    up.add_argument("--port", type=int, default=None, help="port (default 8545, else a free one)")
    up.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the node")
    up.add_argument("--node-only", action="store_true",
                    help="start Anvil only: no market, vault or seeding")
    up.add_argument("--fund", metavar="ADDRESS", default=None,
                    help="send test ETH and USDC to this address")
    up.add_argument("--history", type=Path, default=None, metavar="OHLCV.csv",
                    help="replay real daily closes (date,symbol,base,...,close,volume) "
                         "instead of the seeded synthetic market")
    up.add_argument("--json", action="store_true")
    up.set_defaults(func=_up)
    fu = dsub.add_parser("fund", help="send test ETH and USDC to an address (faucet)")
    fu.add_argument("address")
    fu.add_argument("--eth", type=Decimal, default=Decimal(10))
    fu.add_argument("--usdc", type=Decimal, default=Decimal(10_000))
    fu.add_argument("--json", action="store_true")
    fu.set_defaults(func=_fund)
    tk = dsub.add_parser("tick", help="advance the simulated market by whole days")
    tk.add_argument("--days", type=int, default=1)
    tk.add_argument("--json", action="store_true")
    tk.set_defaults(func=_tick)
    down = dsub.add_parser("down", help="stop the devnet")
    down.add_argument("--json", action="store_true")
    down.set_defaults(func=_down)
    st = dsub.add_parser("status", help="show whether the devnet runs and where")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_status)


def _up(args: argparse.Namespace) -> int:
    from ..devnet import process
    from ..devnet.embedded import ensure_devnet

    if args.node_only:
        info, started = process.up(port=args.port, timeout=args.timeout)
        what = "started" if started else "already running"
        emit(args, {"status": what, **info.__dict__},
             f"Devnet {what}: {info.rpc_url} (chain id {info.chain_id}, pid {info.pid})")
        return 0
    t0 = time.perf_counter()
    if args.history is not None and not args.history.is_file():
        raise DevnetError(f"{args.history} does not exist (a daily OHLCV CSV is expected).")
    dev = ensure_devnet(port=args.port, fund_address=args.fund, history_csv=args.history,
                        progress=output.progress)
    info = dev.node
    what = "started" if dev.started else "already running"
    data = {"status": what, **info.__dict__, "deployed": dev.deployed,
            "vault": dev.deployment.vault, "lens": dev.deployment.lens,
            "usdc": dev.deployment.usdc, "constituents": len(dev.deployment.tokens),
            "seconds": round(time.perf_counter() - t0, 2)}
    emit(args, data,
         f"Devnet {what}: {info.rpc_url} (chain id {info.chain_id}, pid {info.pid})\n"
         f"Index vault {dev.deployment.vault} with {len(dev.deployment.tokens)} constituents"
         f" ({'deployed now' if dev.deployed else 'reused'}), ready in {data['seconds']} s")
    return 0


def _fund(args: argparse.Namespace) -> int:
    from web3 import Web3

    from ..devnet.deploy import fund
    from ..devnet.embedded import require_devnet

    node, dep = require_devnet()
    fund(Web3(Web3.HTTPProvider(node.rpc_url)), dep, args.address, args.eth, args.usdc)
    emit(args, {"address": args.address, "eth": args.eth, "usdc": args.usdc},
         f"Sent {args.eth} ETH and {args.usdc} USDC to {args.address}")
    return 0


def _tick(args: argparse.Namespace) -> int:
    from ..devnet.driver import MarketDriver
    from ..devnet.embedded import require_devnet

    node, dep = require_devnet()
    driver = MarketDriver(app_paths(), node.rpc_url, dep)
    reports = [driver.tick(output.progress) for _ in range(max(1, args.days))]
    emit(args, reports, "\n".join(
        f"{r.day}: {r.regime.value} (gauge {r.score})" + (" - regime switch" if r.flipped else "")
        + (f" - rebalanced {counted(r.rebalanced.legs, 'trade')}" if r.rebalanced else "")
        for r in reports))
    return 0


def _down(args: argparse.Namespace) -> int:
    from ..devnet import process

    stopped = process.down()
    emit(args, {"stopped": stopped}, "Devnet stopped." if stopped else "No devnet was running.")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ..devnet import process

    info = process.status()
    if info is None:
        emit(args, {"running": False}, "Devnet: not running (start it: index-wallet devnet up)")
        return 1
    emit(args, {"running": True, **info.__dict__},
         f"Devnet: running at {info.rpc_url} (chain id {info.chain_id}, pid {info.pid})")
    return 0
