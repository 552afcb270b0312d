"""`index-wallet operator rebalance|regime`: the index operator on the devnet.

The operator key is the devnet's (Anvil account 2), never a user's wallet.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from ..models import Regime
from ..paths import app_paths
from ..text import counted
from .output import emit, progress

if TYPE_CHECKING:  # web3 and the chain client load only when an operator command runs
    from ..devnet.market_clock import MarketClock
    from ..operator import Operator


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("operator", help="run the index operator on the devnet")
    osub = p.add_subparsers(dest="operator_cmd", required=True)
    r = osub.add_parser("rebalance", help="reweight from the index engine and rebalance")
    r.add_argument("--slippage-bps", type=int, default=100)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_rebalance)
    g = osub.add_parser("regime", help="switch the regime (bear: all to USDC; bull: buy back)")
    g.add_argument("state", choices=["bull", "bear"])
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=_regime)


def _operator() -> tuple[Operator, MarketClock | None]:
    from web3 import Web3

    from ..chain.provider import ChainClient
    from ..chain.registry import get_chain
    from ..devnet.embedded import clock_path, require_devnet
    from ..devnet.market_clock import MarketClock
    from ..operator import Operator
    from ..vault import VaultClient

    node, dep = require_devnet()
    client = ChainClient(dataclasses.replace(get_chain("devnet"), rpc_url=node.rpc_url))
    w3 = Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 60}))
    op = Operator(w3, dep, VaultClient(client, dep.vault, dep.lens))
    return op, MarketClock.load(clock_path(app_paths()))


def _rebalance(args: argparse.Namespace) -> int:
    from decimal import Decimal

    op, clock = _operator()
    changed = False
    if clock is not None:
        caps = {s: Decimal(v) for s, v in clock.caps.items()}
        targets = op.targets_from_prices(clock.prices(), caps,
                                         clock.prices(clock.paths().anchor_index))
        changed = op.set_targets(targets)
    rep = op.rebalance(slippage_bps=args.slippage_bps, progress=progress)
    rep.targets_changed = changed
    emit(args, rep, f"Rebalanced ({rep.regime.value}): {counted(rep.legs, 'trade')} in "
                    f"{counted(rep.transactions, 'transaction')}, {rep.gas_used:,} gas; targets "
                    f"{'updated' if changed else 'unchanged'}")
    return 0


def _regime(args: argparse.Namespace) -> int:
    op, _ = _operator()
    rep = op.switch_regime(Regime(args.state), progress=progress)
    emit(args, rep, f"Regime {args.state}: {counted(rep.legs, 'trade')} in "
                    f"{counted(rep.transactions, 'transaction')}, {rep.gas_used:,} gas")
    return 0
