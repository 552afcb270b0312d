"""`index-wallet send` and `index-wallet approvals list|revoke`.

The same facade as the GUI: the recipient is checked before anything is signed (checksum,
pinned contracts refused, a contract or a look-alike of a known address needs
``--confirm contract`` / ``--confirm lookalike``), the preview is a simulation, and the
outcome is verified from the pinned token's event (exit 113 when it is not).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..services.types import FEE_PRESETS
from .output import emit, progress
from .trade_cmds import _common, _confirm, _service, _unlock

if TYPE_CHECKING:
    from ..services.transfer_types import TransferQuote

EXIT_UNVERIFIED = 113


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("send", help="send USDC, ETH or G100 shares to an address")
    s.add_argument("--asset", choices=("usdc", "eth", "g100"), required=True)
    s.add_argument("--to", required=True, help="the recipient's address (0x...)")
    s.add_argument("--amount", required=True, help="an amount, or max (ETH: leaves the fee)")
    s.add_argument("--fee", choices=FEE_PRESETS, default="market", help="network fee preset")
    s.add_argument("--confirm", action="append", default=[], metavar="WHAT",
                   choices=("contract", "lookalike"),
                   help="confirm a blocking warning: contract (the recipient is a "
                        "contract), lookalike (it resembles a known address); repeatable")
    s.add_argument("--yes", action="store_true", help="do not ask before signing")
    _common(s, signing=True)
    s.set_defaults(func=_send)

    a = sub.add_parser("approvals", help="allowances this wallet granted; revoke them")
    asub = a.add_subparsers(dest="approvals_cmd", required=True)
    al = asub.add_parser("list", help="every spender of your USDC and G100, with the "
                                      "current allowance")
    al.add_argument("--all", action="store_true", help="also spenders already at 0")
    _common(al)
    al.set_defaults(func=_approvals_list)
    ar = asub.add_parser("revoke", help="set a spender's allowance to 0 (one transaction)")
    ar.add_argument("token", help="USDC or G100")
    ar.add_argument("spender", help="the spender's address, from `approvals list`")
    _common(ar, signing=True)
    ar.set_defaults(func=_approvals_revoke)


def quote_text(q: TransferQuote) -> str:
    lines = [f"Send:             {q.amount.normalize():f} {q.symbol}"
             + (" (max)" if q.is_max else ""),
             f"To:               {q.recipient}"
             + (f" ({q.check.label})" if q.check.label else ""),
             f"Network fee:      {q.gas.expected_fee_eth:.8f} ETH expected, "
             f"{q.gas.max_fee_eth:.8f} ETH at most",
             "Balance changes:  " + ", ".join(f"{c.asset} {c.delta:+}"
                                              for c in q.balance_changes)]
    for w in q.check.warnings:
        lines.append(f"{'BLOCKED' if w.blocking else 'WARNING'}: {w.title}. {w.message}")
        for label, addr in w.similar:
            lines.append(f"    you typed  {q.recipient}\n    known      {addr}  ({label})")
    return "\n".join(lines)


def _send(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        q = svc.quote_transfer(args.asset, args.to, args.amount, args.fee)
        open_ = [c for c in q.check.needs_confirmation if c not in args.confirm]
        if open_ and (args.yes or args.json):
            progress(quote_text(q))  # what blocks it, side by side, before the refusal
        if not _confirm(args, quote_text(q)):
            return 1
        _unlock(svc, args)
        r = svc.send_transfer(q, confirmed=args.confirm, progress=progress)
        return _outcome(args, r, f"Sent {r.amount.normalize():f} {q.symbol} to "
                                 f"{r.recipient}", "the balances" if q.asset == "eth"
                                 else "the token's Transfer event and the balances")
    finally:
        svc.close()


def _outcome(args: argparse.Namespace, r: Any, what: str,
             source: str = "the token's event") -> int:
    if not r.verified:
        emit(args, r, f"UNVERIFIED in block {r.block_number}: {r.note}. Check the "
                      f"transaction on a block explorer you trust.\nTransaction: {r.tx_hash}")
        return EXIT_UNVERIFIED
    emit(args, r, f"{what} (block {r.block_number}, fee {r.fee_eth:.8f} ETH), verified "
                  f"from {source}.\nTransaction: {r.tx_hash}")
    return 0


def _approvals_list(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        rows = svc.approvals_list(include_zero=args.all)
        lines = [f"{a.symbol:<5} {a.spender}  {a.label}\n      allowance "
                 + ("UNLIMITED (it can move all of this token you hold; revoke it unless "
                    "you use it)" if a.unlimited else f"{a.allowance} {a.symbol}")
                 for a in rows]
        emit(args, rows, "\n".join(lines) or "No allowances granted on USDC or G100.")
    finally:
        svc.close()
    return 0


def _approvals_revoke(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        _unlock(svc, args)
        r = svc.revoke_approval(args.token, args.spender, progress=progress)
        return _outcome(args, r, f"Revoked the {args.token.upper()} allowance of "
                                 f"{r.recipient}", "the token's Approval event and the "
                                 "allowance after it")
    finally:
        svc.close()
