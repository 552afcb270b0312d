"""`index-wallet operator run|status|key-import|rebalance|regime`: the index operator.

`run` and `status` are the operator service on any chain (its own key); `rebalance` and
`regime` run the same engine on the devnet now, signed with the devnet operator's key.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..models import Regime
from ..paths import app_paths
from ..text import counted
from .output import emit, progress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("operator", help="the index operator: service (run, status) and devnet")
    osub = p.add_subparsers(dest="operator_cmd", required=True)
    r = osub.add_parser("rebalance", help="devnet: rebalance now from the replay day's market")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_rebalance)
    g = osub.add_parser("regime", help="devnet: switch the regime (bear: all USDC; bull: buy)")
    g.add_argument("state", choices=["bull", "bear"])
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=_regime)
    _register_service(osub)


def _register_service(osub: argparse._SubParsersAction) -> None:
    """`operator run` and `operator status`: the service (its own key, any chain)."""
    r = osub.add_parser("run", help="run the operator and keeper service (SIGTERM stops it)")
    r.add_argument("--config", type=Path, help="operator config JSON (see the README)")
    r.add_argument("--deployment", type=Path, help="deployment record file (else the pinned)")
    r.add_argument("--rpc", help="JSON-RPC URL (overrides the config)")
    r.add_argument("--keystore", type=Path, help="the operator's keystore-v3 file")
    r.add_argument("--keyring", help="the operator's key entry in the OS keyring")
    r.add_argument("--password-file", type=Path,
                   help="file holding the key's password (else G100_OPERATOR_PASSWORD)")
    r.add_argument("--market-url", help="CoinGecko-compatible base URL (market source)")
    r.add_argument("--poll", type=float, help="seconds between passes")
    r.add_argument("--dry-run", action="store_true",
                   help="print the rebalance plan (legs, slippage, gas); sign nothing")
    r.add_argument("--once", action="store_true", help="one pass, then exit")
    r.add_argument("--rebalance-now", action="store_true",
                   help="rebalance in the first pass whatever the day")
    r.add_argument("-v", "--verbose", action="store_true")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_run)
    s = osub.add_parser("status", help="is the operator running; last actions; next scheduled")
    s.add_argument("--config", type=Path)
    s.add_argument("--deployment", type=Path)
    s.add_argument("--rpc")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_status)
    k = osub.add_parser("key-import", help="store an operator keystore-v3 file in the OS "
                                           "keyring (still encrypted)")
    k.add_argument("keystore", type=Path)
    k.add_argument("--entry", required=True, help="name of the keyring entry (--keyring)")
    k.set_defaults(func=_key_import)


def _key_import(args: argparse.Namespace) -> int:
    from ..operator_keys import OperatorKeyError, store_in_keyring

    try:
        text = args.keystore.read_text(encoding="utf-8")
    except OSError as exc:
        raise OperatorKeyError(f"Cannot read {args.keystore} ({exc.strerror}).") from None
    store_in_keyring(args.entry, text)
    emit(args, {"entry": args.entry}, f"Operator key stored in the OS keyring as "
                                      f"'{args.entry}' (encrypted; run with --keyring "
                                      f"{args.entry}). You may delete {args.keystore} now.")
    return 0


def _config(args: argparse.Namespace):  # -> OperatorConfig
    from ..operator_service import OperatorConfig, OperatorConfigError

    if args.config:
        cfg = OperatorConfig.load(args.config)
    elif args.rpc:
        cfg = OperatorConfig(rpc_url=args.rpc)
    else:
        raise OperatorConfigError("Give --config FILE or --rpc URL (with --deployment FILE "
                                  "and --keystore FILE).")
    if args.rpc:
        cfg.rpc_url = args.rpc
    if args.deployment:
        cfg.record_file = args.deployment.resolve()
    for name in ("keystore", "keyring", "password_file"):
        v = getattr(args, name, None)
        if v:
            setattr(cfg, name, v)
    if getattr(args, "market_url", None):
        cfg.market = {"source": "coingecko", "base_url": args.market_url}
    if getattr(args, "poll", None):
        cfg.poll_s = args.poll
    return cfg


def _run(args: argparse.Namespace) -> int:
    from ..operator_service import setup_service_logging
    from ..services.operator_run import build_service, dry_run

    paths = app_paths().ensure()
    cfg = _config(args)
    if args.dry_run:
        plan = dry_run(cfg, paths)
        emit(args, plan, _dry_run_text(plan))
        return 0
    setup_service_logging(paths.log_dir, args.verbose)
    svc = build_service(cfg, paths)
    svc.install_signals()
    try:
        return svc.run(once=args.once, rebalance_now=args.rebalance_now)
    finally:
        svc.engine.sender.wipe()


def _dry_run_text(plan) -> str:  # noqa: ANN001 - a DryRunPlan
    lines = [f"Rebalance plan (dry run, nothing signed) from snapshot {plan.as_of}",
             f"  snapshot hash {plan.snapshot_hash}; regime {plan.regime}",
             f"  entrants: {', '.join(plan.entrants) or 'none'}; "
             f"leavers: {', '.join(plan.leavers) or 'none'}",
             f"  {counted(len(plan.legs), 'leg')}:"]
    for leg in plan.legs:
        slip = "" if leg.slippage_bps is None else f", {leg.slippage_bps} bp vs oracle"
        note = f" ({leg.note})" if leg.note else ""
        lines.append(f"    {leg.side:4} {leg.symbol:10} {leg.usdc:>14,.2f} USDC{slip}{note}")
    lines.append(f"  {counted(len(plan.transactions), 'transaction')}, "
                 f"{plan.total_gas:,} gas in all:")
    for t in plan.transactions:
        lines.append(f"    {t['label']}: {t['gas']:,} gas"
                     f"{'' if t['estimated'] else ' (model)'}")
    for s in plan.skipped[:20]:
        lines.append(f"  skipped {s}")
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:
    import time

    from ..operator_service import status
    from ..services.operator_run import connect

    paths = app_paths().ensure()
    cfg = _config(args)
    if cfg.record_file:  # no node needed to say whether the service runs
        from ..operator_service import service_dir
        from ..services.operator_run import load_record

        record = load_record(cfg, paths, cfg.chain_id or 0)
        folder = service_dir(paths.data_dir, record.chain_id, record.vault)
    else:
        folder = connect(cfg, paths).folder
    st = status(folder)
    if st["running"]:
        head = f"Operator running (pid {st['pid']}), operator {st.get('operator', '?')}"
    else:
        head = "Operator not running"
    lines = [head]
    if st.get("updated_at"):
        lines.append(f"  last pass {int(time.time()) - int(st['updated_at'])} s ago")
    for k, v in (st.get("next") or {}).items():
        lines.append(f"  next {k}: {v}")
    if st.get("plan_in_progress"):
        p = st["plan_in_progress"]
        lines.append(f"  plan in progress {p['plan_id']}: {' '.join(p['steps'])}")
    for a in st.get("last_actions", []):
        lines.append(f"  {a['kind']} {a.get('plan_id', '')} {a.get('status', '')}: "
                     f"{a.get('transactions', 0)} tx, {a.get('gas_used', 0):,} gas")
    emit(args, st, "\n".join(lines))
    return 0


def _driver():  # -> MarketDriver
    from ..devnet.driver import MarketDriver
    from ..devnet.embedded import require_devnet

    node, dep = require_devnet()
    return MarketDriver(app_paths(), node.rpc_url, dep)


def _rebalance(args: argparse.Namespace) -> int:
    """The devnet's operator engine (journaled, signed with the devnet operator's own key),
    from the current replay day's market: reconstitution included."""
    rep = _driver().operate(None, progress)
    if rep is None:
        emit(args, {"running_service": True}, "An operator service is running for the "
                                             "devnet; it rebalances on its schedule.")
        return 0
    emit(args, rep, f"Rebalanced ({rep.regime.value}): {counted(rep.legs, 'trade')} in "
                    f"{counted(rep.transactions, 'transaction')}, {rep.gas_used:,} gas; targets "
                    f"{'updated' if rep.targets_changed else 'unchanged'}")
    return 0


def _regime(args: argparse.Namespace) -> int:
    rep = _driver().operate(Regime(args.state), progress)
    if rep is None:
        emit(args, {"running_service": True}, "An operator service is running for the "
                                             "devnet; it switches on its schedule.")
        return 0
    emit(args, rep, f"Regime {args.state}: {counted(rep.legs, 'trade')} in "
                    f"{counted(rep.transactions, 'transaction')}, {rep.gas_used:,} gas")
    return 0
