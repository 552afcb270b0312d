"""`index-wallet receive|contacts|accounts|watch`: receiving, the address book, accounts
of one recovery phrase and watch-only wallets.

``receive`` prints the active address, the EIP-681 USDC payment link of the connected
chain (its USDC address from the pinned deployment record) and a QR code for a terminal;
``--amount`` puts an amount in the link (in USDC base units: exact, never a float).
``contacts import`` is all or nothing and names every bad row of the file. ``accounts
add`` derives the next account m/44'/60'/0'/0/i of a phrase wallet (the wallet password is
read like the ``wallet`` commands read it: ``G100_WALLET_PASSWORD``, ``--password-stdin``
or a hidden prompt). A watched wallet has no key: ``watch switch`` makes every command
show its holdings, P&L and trades, and every signing command refuses (exit 106).
Exit codes: 100 invalid address, 101 duplicate, 102 no such contact, 103 bad CSV rows,
104 address book unreadable, 105 bad label, 106 watch-only cannot sign, 107 no such
account, 108 no phrase wallet.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .output import emit
from .wallet_cmds import SecretReader

if TYPE_CHECKING:  # the facade pulls in web3: imported only when a command runs
    from ..facade import WalletService


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("receive", help="your address, its QR code and a USDC payment link",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("--amount", default=None, help="USDC to ask for in the link (e.g. 25.50)")
    r.add_argument("--qr", choices=("ansi", "text", "none"), default=None,
                   help="QR code drawing: ansi (white on black, default on a terminal), "
                        "text (plain characters, default in a pipe) or none")
    r.add_argument("--link-qr", action="store_true",
                   help="draw the payment link's QR code instead of the address's")
    _json(r)
    r.set_defaults(func=_receive)

    c = sub.add_parser("contacts", help="labelled addresses; CSV import and export")
    cs = c.add_subparsers(dest="contacts_cmd", required=True)
    ls = cs.add_parser("list", help="list contacts")
    _json(ls)
    ls.set_defaults(func=_contacts_list)
    a = cs.add_parser("add", help="add a contact")
    a.add_argument("label")
    a.add_argument("address", help="checksummed or all-lowercase")
    a.add_argument("--note", default="")
    _json(a)
    a.set_defaults(func=_contacts_add)
    rn = cs.add_parser("rename", help="rename a contact (by its name or address)")
    rn.add_argument("contact")
    rn.add_argument("label")
    _json(rn)
    rn.set_defaults(func=_contacts_rename)
    rm = cs.add_parser("remove", help="remove a contact (by its name or address)")
    rm.add_argument("contact")
    _json(rm)
    rm.set_defaults(func=_contacts_remove)
    im = cs.add_parser("import", help="import a CSV (label,address,note); all or nothing")
    im.add_argument("file", type=Path)
    _json(im)
    im.set_defaults(func=_contacts_import)
    ex = cs.add_parser("export", help="export contacts as CSV")
    ex.add_argument("file", type=Path)
    _json(ex)
    ex.set_defaults(func=_contacts_export)

    ac = sub.add_parser("accounts", help="accounts of one recovery phrase (BIP-44 index)")
    acs = ac.add_subparsers(dest="accounts_cmd", required=True)
    al = acs.add_parser("list", help="the accounts of the active wallet")
    al.add_argument("--wallet", default=None)
    _json(al)
    al.set_defaults(func=_accounts_list)
    aa = acs.add_parser("add", help="derive the next account (needs the wallet password)")
    aa.add_argument("--label", default="")
    aa.add_argument("--password-stdin", action="store_true",
                    help="read the wallet password from the first line of stdin")
    _json(aa)
    aa.set_defaults(func=_accounts_add)
    ar = acs.add_parser("rename", help="name an account (by number 1.., name or address)")
    ar.add_argument("account")
    ar.add_argument("label")
    _json(ar)
    ar.set_defaults(func=_accounts_rename)
    sw = acs.add_parser("switch", help="make an account the active one")
    sw.add_argument("account")
    sw.add_argument("--wallet", default=None)
    _json(sw)
    sw.set_defaults(func=_accounts_switch)

    w = sub.add_parser("watch", help="watch-only wallets: an address and a label, no key")
    wsub = w.add_subparsers(dest="watch_cmd", required=True)
    wl = wsub.add_parser("list", help="watched wallets")
    _json(wl)
    wl.set_defaults(func=_watch_list)
    wa = wsub.add_parser("add", help="watch an address")
    wa.add_argument("label")
    wa.add_argument("address")
    _json(wa)
    wa.set_defaults(func=_watch_add)
    wr = wsub.add_parser("remove", help="stop watching an address")
    wr.add_argument("wallet")
    _json(wr)
    wr.set_defaults(func=_watch_remove)
    ws = wsub.add_parser("switch", help="look at a watched wallet (nothing can sign)")
    ws.add_argument("wallet")
    _json(ws)
    ws.set_defaults(func=_watch_switch)


def _svc() -> WalletService:
    from ..facade import WalletService

    return WalletService()


def _run(fn: Any) -> int:
    svc = _svc()
    try:
        return int(fn(svc) or 0)
    finally:
        svc.close()


def _one_call(call: Callable[[WalletService, argparse.Namespace], Any],
              as_dict: Callable[[Any], Any], said: Callable[[Any], str]
              ) -> Callable[[argparse.Namespace], int]:
    """A command that is one facade call (``call``) and its result printed: ``as_dict``
    for ``--json``, ``said`` for a person. Most book edits are exactly that."""
    def command(args: argparse.Namespace) -> int:
        def run(svc: WalletService) -> None:
            result = call(svc, args)
            emit(args, as_dict(result), said(result))

        return _run(run)

    return command


# -- receive -------------------------------------------------------------------------------

def _receive(args: argparse.Namespace) -> int:
    from ..book.receive import terminal_qr
    from ..errors import WalletError

    amount = None
    if args.amount is not None:
        try:
            amount = Decimal(args.amount)
        except InvalidOperation:
            raise WalletError(f"\u201c{args.amount}\u201d is not an amount of USDC.") from None

    def run(svc: WalletService) -> None:
        import contextlib

        with contextlib.suppress(WalletError):
            svc.connect()  # offline: the address and its QR code still show, the link says why
        info = svc.receive_info(amount)
        data = {"address": info.address, "label": info.label, "chain_id": info.chain_id,
                "usdc": info.usdc, "link": info.link, "amount_base_units":
                info.amount_base_units, "note": info.link_note}
        mode = args.qr or ("ansi" if sys.stdout.isatty() else "text")
        lines = [f"{info.label}", f"Address:      {info.address}",
                 f"Payment link: {info.link or '-'}", f"              {info.link_note}"]
        matrix = info.qr_link if args.link_qr and info.qr_link else info.qr_address
        if mode != "none":
            what = "payment link" if matrix is info.qr_link else "address"
            lines += ["", f"QR code of the {what}:", terminal_qr(matrix, ansi=mode == "ansi")]
        emit(args, data, "\n".join(lines))

    return _run(run)


# -- contacts ------------------------------------------------------------------------------

def _contact_dict(c: Any) -> dict[str, str]:
    return {"label": c.label, "address": c.address, "note": c.note}


def _contacts_list(args: argparse.Namespace) -> int:
    def run(svc: WalletService) -> None:
        rows = svc.contacts()
        width = max((len(c.label) for c in rows), default=5)
        text = "\n".join(f"{c.label:<{width}}  {c.address}  {c.note}".rstrip() for c in rows) \
            or "No contacts yet: `index-wallet contacts add NAME ADDRESS` or `contacts import`."
        emit(args, [_contact_dict(c) for c in rows], text)

    return _run(run)


_contacts_add = _one_call(lambda svc, a: svc.add_contact(a.label, a.address, a.note),
                          _contact_dict, lambda c: f"Added {c.label}: {c.address}")
_contacts_rename = _one_call(lambda svc, a: svc.rename_contact(a.contact, a.label),
                             _contact_dict, lambda c: f"Renamed: {c.label} {c.address}")
_contacts_remove = _one_call(lambda svc, a: svc.remove_contact(a.contact),
                             _contact_dict, lambda c: f"Removed {c.label} ({c.address})")


def _contacts_import(args: argparse.Namespace) -> int:
    def run(svc: WalletService) -> None:
        res = svc.import_contacts(args.file)
        emit(args, {"added": [_contact_dict(c) for c in res.added],
                    "unchanged": res.unchanged},
             f"Imported {len(res.added)} contact{'s' if len(res.added) != 1 else ''}"
             + (f" ({res.unchanged} already there)" if res.unchanged else "") + ".")

    return _run(run)


def _contacts_export(args: argparse.Namespace) -> int:
    def run(svc: WalletService) -> None:
        n = svc.export_contacts(args.file)
        emit(args, {"exported": n, "file": str(args.file)},
             f"Exported {n} contact{'s' if n != 1 else ''} to {args.file}")

    return _run(run)


# -- accounts ------------------------------------------------------------------------------

def _account_dict(r: Any) -> dict[str, Any]:
    return {"wallet": r.wallet, "number": r.index + 1, "index": r.index, "label": r.label,
            "address": r.address, "path": r.path, "active": r.active}


def _account_line(r: Any) -> str:
    return f"{'*' if r.active else ' '} {r.index + 1:>2}  {r.label:<20} {r.address}  {r.path or ''}"


def _accounts_list(args: argparse.Namespace) -> int:
    def run(svc: WalletService) -> None:
        rows = svc.list_accounts(args.wallet)
        head = f"Accounts of \u201c{rows[0].wallet}\u201d (* = active):" if rows else ""
        ident = svc.identity()
        if ident is not None and ident.kind == "watch":
            head += f"\n(now looking at the watch-only wallet {ident.label}; `accounts " \
                    "switch N` comes back)"
        emit(args, [_account_dict(r) for r in rows],
             "\n".join([head, *(_account_line(r) for r in rows)]))

    return _run(run)


def _accounts_add(args: argparse.Namespace) -> int:
    def run(svc: WalletService) -> None:
        pw = SecretReader(bool(args.password_stdin)).get("password", "Wallet password")
        r = svc.add_account(pw, args.label)
        emit(args, _account_dict(r), f"Added account {r.index + 1} \u201c{r.label}\u201d: "
                                     f"{r.address} ({r.path})")

    return _run(run)


_accounts_rename = _one_call(
    lambda svc, a: svc.rename_account(a.account, a.label), _account_dict,
    lambda r: f"Account {r.index + 1} is now \u201c{r.label}\u201d.")
_accounts_switch = _one_call(
    lambda svc, a: svc.switch_account(a.account, a.wallet), _account_dict,
    lambda r: f"Active: {r.wallet} \u00b7 {r.label} {r.address}")


# -- watch-only ----------------------------------------------------------------------------

def _watch_dict(w: Any) -> dict[str, str]:
    return {"label": w.label, "address": w.address}


def _watch_list(args: argparse.Namespace) -> int:
    def run(svc: WalletService) -> None:
        rows = svc.watched_wallets()
        ident = svc.identity()
        active = ident.address.lower() if ident and ident.kind == "watch" else ""
        text = "\n".join(f"{'*' if w.address.lower() == active else ' '} {w.label:<20} "
                         f"{w.address}" for w in rows) or \
            "No watched wallets: `index-wallet watch add NAME ADDRESS`."
        emit(args, [_watch_dict(w) for w in rows], text)

    return _run(run)


_watch_add = _one_call(
    lambda svc, a: svc.add_watch(a.label, a.address), _watch_dict,
    lambda w: f"Watching {w.label}: {w.address} (no key: nothing can be signed for it)")
_watch_remove = _one_call(lambda svc, a: svc.remove_watch(a.wallet), _watch_dict,
                          lambda w: f"No longer watching {w.label} ({w.address})")
_watch_switch = _one_call(
    lambda svc, a: svc.switch_watch(a.wallet), _watch_dict,
    lambda w: f"Now looking at {w.label} {w.address} (watch-only: `holdings` and `log` "
              "show it; signing commands refuse)")
