"""`index-wallet devnet up|down|status`."""

from __future__ import annotations

import argparse

from ..devnet import process
from .output import emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devnet", help="start, stop or inspect the local Anvil devnet")
    dsub = p.add_subparsers(dest="devnet_cmd", required=True)
    up = dsub.add_parser("up", help="start the devnet (reuses a running one)")
    up.add_argument("--port", type=int, default=None, help="port (default 8545, else a free one)")
    up.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for the node")
    up.add_argument("--json", action="store_true")
    up.set_defaults(func=_up)
    down = dsub.add_parser("down", help="stop the devnet")
    down.add_argument("--json", action="store_true")
    down.set_defaults(func=_down)
    st = dsub.add_parser("status", help="show whether the devnet runs and where")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_status)


def _up(args: argparse.Namespace) -> int:
    info, started = process.up(port=args.port, timeout=args.timeout)
    what = "started" if started else "already running"
    emit(args, {"status": what, **info.__dict__},
         f"Devnet {what}: {info.rpc_url} (chain id {info.chain_id}, pid {info.pid})")
    return 0


def _down(args: argparse.Namespace) -> int:
    stopped = process.down()
    emit(args, {"stopped": stopped}, "Devnet stopped." if stopped else "No devnet was running.")
    return 0


def _status(args: argparse.Namespace) -> int:
    info = process.status()
    if info is None:
        emit(args, {"running": False}, "Devnet: not running (start it: index-wallet devnet up)")
        return 1
    emit(args, {"running": True, **info.__dict__},
         f"Devnet: running at {info.rpc_url} (chain id {info.chain_id}, pid {info.pid})")
    return 0
