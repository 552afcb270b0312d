"""`index-wallet quote|buy|sell|requests|claims|holdings|log|pending`: the index from the
command line.

Every command goes through the same facade as the GUI. On start every command lists the
wallet's unsent and pending transactions (on stderr) with what each would do; nothing is
ever re-sent without ``pending send``. A trade whose outcome the pinned vault's events do
not confirm is printed as UNVERIFIED and the command exits with code 57. Amounts are
parsed as Decimal with the token's decimals. Signing commands read the wallet password like
the ``wallet`` commands do (``G100_WALLET_PASSWORD``, ``--password-stdin`` or a hidden
prompt). Progress goes to stderr so that ``--json`` output on stdout stays parseable.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..models import BuyQuote, SellQuote
from ..services.types import FEE_PRESETS
from ..text import counted
from .output import emit, progress
from .wallet_cmds import SecretReader

if TYPE_CHECKING:  # the facade pulls in web3: imported only when a command runs
    from ..facade import WalletService


def _common(p: argparse.ArgumentParser, signing: bool = False) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--wallet", default=None, help="wallet name (default: the active one)")
    if signing:
        p.add_argument("--password-stdin", action="store_true",
                       help="read the wallet password from the first line of stdin")


def _trade_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--slippage", type=Decimal, default=None,
                   help="maximum slippage in percent (default from settings, 0.5)")
    p.add_argument("--fee", choices=FEE_PRESETS, default="market", help="network fee preset")


def register(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("quote", help="preview a buy or a sell (nothing is signed)")
    qsub = q.add_subparsers(dest="quote_cmd", required=True)
    qb = qsub.add_parser("buy", help="preview buying the index with USDC")
    qb.add_argument("usdc", help="USDC to spend, fee included (e.g. 250.50)")
    _trade_opts(qb)
    _common(qb)
    qb.set_defaults(func=_quote_buy)
    qs = qsub.add_parser("sell", help="preview selling index shares for USDC")
    qs.add_argument("shares", help="shares to sell, or a percentage like 50%%")
    _trade_opts(qs)
    _common(qs)
    qs.set_defaults(func=_quote_sell)

    b = sub.add_parser("buy", help="buy the index with USDC (one signed transaction)")
    b.add_argument("usdc")
    _trade_opts(b)
    _common(b, signing=True)
    b.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    b.set_defaults(func=_buy)
    s = sub.add_parser("sell", help="sell index shares back to USDC at your address")
    s.add_argument("shares", help="shares, or a percentage like 100%%")
    _trade_opts(s)
    _common(s, signing=True)
    s.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    s.set_defaults(func=_sell)

    rq = sub.add_parser("requests", help="your buy and sell requests waiting for a strike")
    rsub = rq.add_subparsers(dest="requests_cmd", required=True)
    rl = rsub.add_parser("list", help="list your pending requests")
    _common(rl)
    rl.set_defaults(func=_requests_list)
    rc = rsub.add_parser("cancel", help="cancel a pending request (before its cut-off)")
    rc.add_argument("id", type=int, help="the request id from `requests list`")
    _common(rc, signing=True)
    rc.set_defaults(func=_requests_cancel)

    cl = sub.add_parser("claims", help="USDC or tokens the vault keeps for you after a "
                                       "payment that could not be delivered")
    csub = cl.add_subparsers(dest="claims_cmd", required=True)
    cll = csub.add_parser("list", help="list what you can claim")
    _common(cll)
    cll.set_defaults(func=_claims_list)
    clc = csub.add_parser("claim", help="claim it: `usdc` or a token address from the list")
    clc.add_argument("what", help="usdc, or the token address from `claims list`")
    _common(clc, signing=True)
    clc.set_defaults(func=_claims_claim)

    h = sub.add_parser("holdings", help="your position: shares, value, cost basis, P&L")
    _common(h)
    h.set_defaults(func=_holdings)
    lg = sub.add_parser("log", help="the index's transactions log and your own transactions")
    _common(lg)
    lg.add_argument("--limit", type=int, default=50)
    lg.add_argument("--csv", type=Path, default=None, help="export your transactions as CSV")
    lg.add_argument("--details", action="store_true",
                    help="each rebalance, strike, regime switch and constituent change with "
                         "its legs (with --csv also FILE-index-log.csv, one line per leg)")
    lg.set_defaults(func=_log)

    pd = sub.add_parser("pending", help="unsent and pending transactions: list, send now, "
                                        "cancel, leave, speed up")
    psub = pd.add_subparsers(dest="pending_cmd", required=True)
    pl = psub.add_parser("list", help="what each unresolved transaction would do")
    _common(pl)
    pl.set_defaults(func=_pending_list)
    for name, fn, text in (
            ("send", _pending_send, "send the same signed bytes now (before its deadline)"),
            ("cancel", _cancel, "cancel: a 0-value replacement at the same nonce"),
            ("leave", _pending_leave, "leave it (unsent bytes past their deadline are "
                                      "forgotten)"),
            ("speedup", _speedup, "speed up: the same transaction with a higher fee")):
        pp = psub.add_parser(name, help=text)
        pp.add_argument("tx_hash")
        _common(pp, signing=name in ("cancel", "speedup"))
        pp.set_defaults(func=fn)


def _service(args: argparse.Namespace, notice: bool = True) -> WalletService:
    from ..facade import WalletService

    svc = WalletService()
    if args.wallet:
        svc.select_wallet(args.wallet)
    svc.connect()
    if notice and svc.active_address():
        _pending_notice(svc)
    _backup_notice(svc)
    return svc


def _backup_notice(svc: WalletService) -> None:
    """A warning line on every trade command while the phrase's backup is unchecked."""
    from ..keys.backup import unchecked_warning

    wallet = svc.active_wallet()
    if wallet is not None and wallet.needs_backup_check:
        progress(f"warning: {unchecked_warning(wallet.name)}")


def _pending_notice(svc: WalletService) -> None:
    """On start: the unresolved transactions and the user's choices (stderr)."""
    items = svc.pending_list()
    if not items:
        return
    progress(f"{len(items)} unresolved transaction(s); nothing is sent until you decide:")
    for i in items:
        progress(f"  {i.tx_hash}  {i.what}: {i.state_text}")
    progress("  Resolve with `index-wallet pending send|cancel|leave HASH`.")


def _slippage_bps(args: argparse.Namespace) -> int | None:
    return None if args.slippage is None else int(args.slippage * 100)


def _unlock(svc: WalletService, args: argparse.Namespace) -> None:
    if not svc.is_unlocked():
        pw = SecretReader(bool(args.password_stdin)).get("password", "Wallet password")
        svc.unlock(pw)


def _buy_text(q: BuyQuote) -> str:
    changes = ", ".join(f"{c.asset} {c.delta:+}" for c in q.balance_changes)
    return "\n".join([
        f"Spend:              {q.usdc_in} USDC (platform fee {q.fee_usdc} USDC, "
        f"{Decimal(q.fee_bps) / 100}%)",
        f"NAV per share now:  {q.nav_per_share} USDC",
        f"Estimated shares:   {q.expected_shares:.6f} G100 (at today's NAV; the next price "
        "strike decides)",
        f"Minimum at strike:  {q.min_shares_out:.6f} G100 (worth {q.min_value_usdc} USDC; "
        f"below it your USDC is refunded; max slippage {Decimal(q.slippage_bps) / 100}%)",
        f"Next price strike:  {_when(q.next_strike_at)} (cancellable for "
        f"{q.min_request_age} s after the request)",
        f"Estimated gas:      {q.gas.expected_fee_eth:.8f} ETH expected, "
        f"{q.gas.max_fee_eth:.8f} ETH at most ({q.gas.preset})"
        + (f" = ${q.gas.expected_fee_usd:.2f} / ${q.gas.max_fee_usd:.2f}"
           if q.gas.expected_fee_usd is not None and q.gas.max_fee_usd is not None else ""),
        "Signature:          "
        + ("one (USDC permit + buy request)" if q.uses_permit else
           "approval first, then the buy request" if q.needs_approval
           else "one (buy request)"),
        f"Balance changes:    {changes}" + ("" if q.simulated else " (estimated)"),
    ])


def _sell_text(q: SellQuote) -> str:
    return "\n".join([
        f"Sell:               {q.shares_in:.6f} G100",
        f"Value at NAV now:   {q.gross_usdc} USDC (platform fee {q.fee_usdc} USDC)",
        f"Estimated payout:   {q.expected_usdc} USDC to your address (the next price "
        "strike decides)",
        f"Minimum at strike:  {q.min_usdc_out} USDC (below it your shares come back; max "
        f"slippage {Decimal(q.slippage_bps) / 100}%)",
        f"Next price strike:  {_when(q.next_strike_at)}"
        + ("" if q.cash_sufficient else " (the operator first raises cash for it)"),
        f"Estimated gas:      {q.gas.expected_fee_eth:.8f} ETH expected, "
        f"{q.gas.max_fee_eth:.8f} ETH at most",
    ])


def _when(ts: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "unknown"


def _shares_arg(svc: WalletService, text: str) -> Decimal:
    text = text.strip()
    if text.endswith("%"):
        pct = Decimal(text[:-1])
        pos = svc.position()
        held = pos.shares if pos else Decimal(0)
        if pct == 100:
            return held
        return (held * pct / 100).quantize(Decimal(1).scaleb(-18))
    return Decimal(text)


def _quote_buy(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        q = svc.quote_buy(args.usdc, _slippage_bps(args), args.fee)
        emit(args, q, _buy_text(q))
    finally:
        svc.close()
    return 0


def _quote_sell(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        q = svc.quote_sell(_shares_arg(svc, args.shares), _slippage_bps(args), args.fee)
        emit(args, q, _sell_text(q))
    finally:
        svc.close()
    return 0


def _confirm(args: argparse.Namespace, text: str) -> bool:
    if args.yes or args.json:
        return True
    print(text)
    if not sys.stdin.isatty():
        print("Not confirmed: no terminal to ask; pass --yes to confirm.", file=sys.stderr)
        return False
    return input("Sign and send? [y/N] ").strip().lower() in ("y", "yes")


#: Exit code of a trade that was mined but whose outcome could not be verified.
EXIT_UNVERIFIED = 57


def _result(args: argparse.Namespace, r: Any, what: str) -> int:
    if not r.verified:
        emit(args, r, f"{what} UNVERIFIED in block {r.block_number}: {r.note}. It is not "
                      "counted in your cost basis or P&L; check the transaction on a block "
                      f"explorer you trust.\nTransaction: {r.tx_hash}")
        return EXIT_UNVERIFIED
    if r.state == "requested":
        emit(args, r, f"{what} requested (#{r.request_id}) in block {r.block_number}: it "
                      "settles at the next price strike (see `index-wallet requests list`)."
                      f"\nTransaction: {r.tx_hash}")
    elif r.state in ("refunded", "cancelled"):
        emit(args, r, f"{what} request #{r.request_id} {r.state}"
                      + (f": {r.note}" if r.note else "") + "; nothing was traded."
                      f"\nTransaction: {r.tx_hash}")
    else:
        emit(args, r, f"{what} settled (request #{r.request_id}, block {r.block_number}): "
                      f"{r.shares:.6f} G100, {r.usdc} USDC (fee {r.fee_usdc} USDC)"
                      f"\nTransaction: {r.tx_hash}")
    return 0


def _buy(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        q = svc.quote_buy(args.usdc, _slippage_bps(args), args.fee)
        if not _confirm(args, _buy_text(q)):
            return 1
        _unlock(svc, args)
        return _result(args, svc.buy(q, progress=progress), "Buy")
    finally:
        svc.close()


def _sell(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        q = svc.quote_sell(_shares_arg(svc, args.shares), _slippage_bps(args), args.fee)
        if not _confirm(args, _sell_text(q)):
            return 1
        _unlock(svc, args)
        return _result(args, svc.sell(q, progress=progress), "Sell")
    finally:
        svc.close()


def _requests_list(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        svc.settle_requests()
        rows = svc.requests()
        lines = [f"#{r.request_id}  {r.summary}\n    cut-off "
                 f"{r.eligible_at:%H:%M:%S} UTC, deadline {r.deadline:%Y-%m-%d %H:%M} UTC, "
                 + ("cancellable" if r.cancellable else "committed to the next strike")
                 for r in rows]
        emit(args, {"requests": rows}, "\n".join(lines) or "No pending requests.")
    finally:
        svc.close()
    return 0


def _requests_cancel(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        _unlock(svc, args)
        return _result(args, svc.cancel_request(args.id, progress=progress), "Cancel")
    finally:
        svc.close()


def _claims_list(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        rows = svc.claims()
        lines = [f"{r.amount} {r.symbol}" + ("" if r.kind == "usdc" else f"  ({r.token})")
                 for r in rows]
        emit(args, {"claims": rows}, "\n".join(lines) or "Nothing to claim.")
    finally:
        svc.close()
    return 0


def _claims_claim(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        _unlock(svc, args)
        if args.what.lower() == "usdc":
            res = svc.claim_usdc(progress=progress)
        else:
            res = svc.claim_in_kind(args.what, progress=progress)
        text = f"Claimed {res.amount} {res.symbol}: {res.tx_hash}"
        if not res.verified:
            text = "UNVERIFIED: " + text + " (the vault's InKindClaimed/UsdcClaimed event " \
                   "does not match the amount listed)"
        emit(args, res, text)
        return 0 if res.verified else EXIT_UNVERIFIED
    finally:
        svc.close()


def _holdings(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        p = svc.position()
        if p is None:
            emit(args, {"position": None}, "No wallet yet.")
            return 0
        emit(args, p, "\n".join([
            f"Address:          {p.address}",
            f"Shares:           {p.shares:.6f} G100",
            f"Value at NAV:     {p.value_usdc} USDC",
            f"Cost basis:       {p.cost_basis_usdc} USDC"
            + (f" ({p.shares_without_basis:.6f} shares have no known cost and are left "
               "out of P&L)" if p.shares_without_basis > 0 else ""),
            f"Unrealized P&L:   {p.unrealized_pnl_usdc:+} USDC",
            f"Realized P&L:     {p.realized_pnl_usdc:+} USDC",
            f"Fees paid:        {p.fees_paid_usdc} USDC",
            f"USDC balance:     {p.usdc_balance}",
            f"ETH balance:      {p.eth_balance:.6f}",
        ]))
    finally:
        svc.close()
    return 0


def _log(args: argparse.Namespace) -> int:
    svc = _service(args)
    try:
        events = svc.index_events(limit=args.limit)
        txs = svc.transactions()
        if args.csv:
            n = svc.export_csv(args.csv)
            progress(f"Wrote {counted(n, 'transaction')} to {args.csv}")
        index: list[Any] = list(events)
        if args.details:
            from .report_cmds import details_lines, details_payload

            lines = details_lines(svc, events)
            index = details_payload(svc, events)
            if args.csv:
                legs_csv = args.csv.with_name(args.csv.stem + "-index-log.csv")
                n = svc.export_log_csv(legs_csv, limit=args.limit)
                progress(f"Wrote {n} index log lines (one per leg) to {legs_csv}")
        else:
            lines = ["Index log:"] + [f"  block {e.block_number:>7}  {e.kind:<10} {e.summary}"
                                      for e in events]
        lines += ["Your transactions:"] + [
            f"  {t.created_at:%Y-%m-%d %H:%M}  {t.status_text:<9} {t.kind:<8} {t.tx_hash}"
            for t in txs]
        emit(args, {"index": index, "transactions": txs}, "\n".join(lines))
    finally:
        svc.close()
    return 0


def _pending_list(args: argparse.Namespace) -> int:
    svc = _service(args, notice=False)
    try:
        items = svc.pending_list()
        lines = [f"{i.tx_hash}  nonce {i.nonce}  {i.what}\n    {i.state_text}"
                 + (f"; deadline {i.deadline:%Y-%m-%d %H:%M:%S} UTC" if i.deadline else "")
                 + "\n    choices: " + ", ".join(
                     (["send"] if i.can_send else []) + ["cancel", "leave"])
                 for i in items]
        emit(args, items, "\n".join(lines) or "No unsent or pending transactions.")
    finally:
        svc.close()
    return 0


def _pending_send(args: argparse.Namespace) -> int:
    svc = _service(args, notice=False)
    try:
        rec = svc.pending_send(args.tx_hash)
        emit(args, rec, f"Sent the same signed transaction {rec.tx_hash}: "
                        f"{rec.status_text}")
    finally:
        svc.close()
    return 0


def _pending_leave(args: argparse.Namespace) -> int:
    svc = _service(args, notice=False)
    try:
        rec = svc.pending_leave(args.tx_hash)
        emit(args, rec, f"Left {rec.tx_hash} as it is ({rec.status_text}); nothing was sent.")
    finally:
        svc.close()
    return 0


def _replace(args: argparse.Namespace, cancel: bool) -> int:
    svc = _service(args, notice=False)
    try:
        _unlock(svc, args)
        rec = svc.cancel(args.tx_hash) if cancel else svc.speed_up(args.tx_hash)
        emit(args, rec, f"{'Cancel' if cancel else 'Speed-up'} sent: {rec.tx_hash}")
    finally:
        svc.close()
    return 0


def _speedup(args: argparse.Namespace) -> int:
    return _replace(args, cancel=False)


def _cancel(args: argparse.Namespace) -> int:
    return _replace(args, cancel=True)
