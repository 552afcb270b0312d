"""`index-wallet governance list|schedule|execute`: the owner's side of the timelock.

``list`` shows every operation of the pinned timelock (scheduled, ready, done, cancelled)
with its calls in words and its time of effect. ``schedule`` proposes a change (a feed, a
constituent in or out, the fees) with the timelock's delay; ``execute`` carries out a
ready one. Both are signed locally with a proposer's / executor's key:
``--key-from keyring:WALLET`` or ``--keystore FILE`` (never an unlocked node account).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from .output import emit


def _key_args(p: argparse.ArgumentParser) -> None:
    k = p.add_mutually_exclusive_group(required=True)
    k.add_argument("--key-from", metavar="keyring:WALLET")
    k.add_argument("--keystore", type=Path, metavar="FILE")
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--json", action="store_true")


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("governance", help="timelock operations: list, schedule, execute",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    gs = g.add_subparsers(dest="governance_cmd", required=True)
    ls = gs.add_parser("list", help="the pinned timelock's operations")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    sc = gs.add_parser("schedule", help="schedule an owner change with the timelock's delay")
    sc.add_argument("change", choices=["set-feed", "add-constituent", "remove-constituent",
                                       "set-fees"])
    sc.add_argument("args", nargs="+", help="set-feed SYMBOL FEED; add-constituent TOKEN "
                    "FEED; remove-constituent SYMBOL; set-fees BUY_BPS SELL_BPS")
    sc.add_argument("--heartbeat", type=int, default=None, help="feed heartbeat (s)")
    _key_args(sc)
    sc.set_defaults(func=_schedule)
    ex = gs.add_parser("execute", help="execute a ready operation")
    ex.add_argument("op_id")
    _key_args(ex)
    ex.set_defaults(func=_execute)


def _ts(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _list(args: argparse.Namespace) -> int:
    from ..facade import WalletService

    svc = WalletService()
    try:
        ops = svc.governance_operations()
    finally:
        svc.close()
    # The sentence and the time are the depositor's notice's (one decoder, chain time);
    # under each, the exact decoded call for the owner who signs it.
    lines = [f"{o.id}  {o.state:<9} effect {_ts(o.ready_at)} ({o.when()})\n"
             f"    {o.summary}" + "".join(f"\n      {c.detail}" for c in o.calls)
             for o in ops] or ["No timelock operations."]
    emit(args, [{"id": o.id, "state": o.state, "scheduled_at": o.scheduled_at,
                 "ready_at": o.ready_at, "executed_at": o.executed_at, "delay": o.delay,
                 "summary": o.summary, "when": o.when(), "now": o.now,
                 "calls": [{"target": c.target, "data": "0x" + c.data.hex(),
                            "function": c.function, "detail": c.detail,
                            "sentence": c.sentence} for c in o.calls]} for o in ops],
         "\n".join(lines))
    return 0


def _password(args: argparse.Namespace) -> object:
    from .wallet_cmds import SecretReader

    kind = "keystore_password" if args.keystore else "password"
    return lambda: SecretReader(bool(args.password_stdin)).get(kind, "Password of the key")


def _schedule(args: argparse.Namespace) -> int:
    from ..facade import WalletService
    from ..governance import GovernanceUsage

    a = args.args
    params: dict[str, object] = {"heartbeat": args.heartbeat}
    try:
        if args.change == "set-fees":
            params.update(buy_bps=int(a[0]), sell_bps=int(a[1]))
        elif args.change == "remove-constituent":
            params.update(token=a[0])
        else:
            params.update(token=a[0], feed=a[1])
            if args.heartbeat is None:
                raise GovernanceUsage(f"{args.change} needs --heartbeat SECONDS.")
    except (IndexError, ValueError):
        raise GovernanceUsage(f"{args.change}: wrong arguments (see --help).") from None
    svc = WalletService()
    try:
        signer = svc.signer(args.key_from, args.keystore)
        op_id, tx, ready_at = svc.governance_schedule(args.change, signer,
                                                      _password(args), **params)
    finally:
        svc.close()
    emit(args, {"id": op_id, "tx_hash": tx, "ready_at": ready_at},
         f"Scheduled {op_id} ({tx}); it can be executed from {_ts(ready_at)}.")
    return 0


def _execute(args: argparse.Namespace) -> int:
    from ..facade import WalletService

    svc = WalletService()
    try:
        signer = svc.signer(args.key_from, args.keystore)
        tx = svc.governance_execute(args.op_id, signer, _password(args))
    finally:
        svc.close()
    emit(args, {"id": args.op_id, "tx_hash": tx}, f"Executed {args.op_id} ({tx}).")
    return 0
