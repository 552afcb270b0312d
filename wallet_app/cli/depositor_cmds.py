"""A depositor's checks from the command line.

* ``index-wallet exit --in-kind [SHARES|N%] [--yes]``: redeem shares (default: all) for
  your slice of every holding and of the cash. The preview is a simulation of the exact
  call; the exit is signed under the trade lock, journaled, and verified from the pinned
  vault's ``RedeemedInKind`` (exit 57 when it cannot be), like a trade.
* ``index-wallet index verify``: the rule verifier; exit 0 "matches the rules", 164 with
  the list of differences.
* ``index-wallet index changes``: the timelock's pending changes and when each takes effect.

Nothing heavy is imported until a command runs (the facade pulls in web3).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .output import emit, progress

if TYPE_CHECKING:
    from ..services.inkind_exit import InKindQuote


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("exit", help="leave the index in kind: your share of every holding "
                                    "(works paused or not; no price, no fee)")
    e.add_argument("shares", nargs="?", default="100%",
                   help="shares to redeem, or a percentage (default: 100%%)")
    e.add_argument("--in-kind", action="store_true", required=True,
                   help="redeem for the underlying tokens and cash (the only exit offered "
                        "here; a USDC exit is `sell`)")
    e.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.add_argument("--wallet", default=None, help="wallet name (default: the active one)")
    e.add_argument("--password-stdin", action="store_true",
                   help="read the wallet password from the first line of stdin")
    e.set_defaults(func=_exit)


def register_index(isub: argparse._SubParsersAction) -> None:
    """``index verify`` and ``index changes`` (called by the ``index`` group)."""
    v = isub.add_parser("verify", help="recompute the last rebalance from its recorded "
                                       "snapshot and compare with the vault")
    v.add_argument("--json", action="store_true")
    v.add_argument("--wallet", default=None, help=argparse.SUPPRESS)
    v.set_defaults(func=_verify)
    c = isub.add_parser("changes", help="governance changes pending in the timelock")
    c.add_argument("--json", action="store_true")
    c.add_argument("--wallet", default=None, help=argparse.SUPPRESS)
    c.set_defaults(func=_changes)


def _service(args: argparse.Namespace) -> Any:
    from .trade_cmds import _service as trade_service

    return trade_service(args)


def _exit_text(q: InKindQuote, changes: list[Any]) -> str:
    lines = [f"Redeem in kind:     {q.shares:.6f} G100 (of {q.shares_balance:.6f})",
             f"USDC you receive:   {q.usdc_out}",
             f"Tokens you receive: {len(q.lines)} (simulated, largest first):"]
    for ln in sorted(q.lines, key=lambda x: -(x.value_usdc or 0))[:10]:
        value = f" (~{ln.value_usdc} USDC at the oracle)" if ln.value_usdc is not None else ""
        lines.append(f"  {ln.symbol:<10} {ln.amount}{value}")
    if len(q.lines) > 10:
        lines.append(f"  ... and {len(q.lines) - 10} more (see --json)")
    lines.append(f"Value at the oracle: {q.value_usdc} USDC; no fee")
    lines.append(f"Network fee:        {q.gas.max_fee_eth:.8f} ETH at most")
    if q.paused:
        lines.append("The vault is paused: this exit still works.")
    for c in changes:
        lines.append(f"Pending governance: {c.headline}")
    return "\n".join(lines)


def _exit(args: argparse.Namespace) -> int:
    from .trade_cmds import EXIT_UNVERIFIED, _confirm, _unlock

    svc = _service(args)
    try:
        q = svc.quote_exit_in_kind(args.shares)
        if not _confirm(args, _exit_text(q, svc.pending_governance())):
            return 1
        _unlock(svc, args)
        r = svc.exit_in_kind(q, progress=progress)
        if not r.verified:
            emit(args, r, f"In-kind exit UNVERIFIED in block {r.block_number}: {r.note}.\n"
                          f"Transaction: {r.tx_hash}")
            return EXIT_UNVERIFIED
        emit(args, r, f"Redeemed in kind in block {r.block_number}: {r.shares:.6f} G100 "
                      f"burned, {len(q.lines)} tokens and the USDC arrived at your address "
                      f"(worth {r.usdc} USDC at the oracle).\nTransaction: {r.tx_hash}")
        return 0
    finally:
        svc.close()


def _verify(args: argparse.Namespace) -> int:
    from ..services.rule_verifier import RulesMismatch

    svc = _service(args)
    try:
        rep = svc.verify_rules()
        lines = [rep.headline + (f" (market close {rep.market_day}, recorded at block "
                                 f"{rep.block}, snapshot {rep.snapshot_hash})"
                                 if rep.block else "")]
        if rep.matches:
            lines.append(f"Checked {rep.checked_targets} target weights, "
                         f"{rep.checked_holdings} holdings and the regime "
                         f"({rep.regime_vault}).")
        lines += [f"  - {d.text}" for d in rep.differences]
        lines += [f"  note: {n}" for n in rep.notes]
        import dataclasses

        data = {**dataclasses.asdict(rep), "matches": rep.matches, "headline": rep.headline}
        emit(args, data, "\n".join(lines))
        return 0 if rep.matches else RulesMismatch.exit_code
    finally:
        svc.close()


def _changes(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        changes = svc.pending_governance()
        text = "\n".join(f"{c.headline} (ready {c.ready_at:%Y-%m-%d %H:%M} UTC, "
                         f"operation {c.op_id})" for c in changes) or \
            "No governance change is pending in the index's timelock."
        emit(args, changes, text)
        return 0
    finally:
        svc.close()
