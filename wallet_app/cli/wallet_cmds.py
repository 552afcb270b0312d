"""`index-wallet wallet ...`: create, import, list, unlock, lock, reveal, export, delete,
change-password (and add-account, verify-backup) from the command line.

Secrets are never taken from argv (it lands in shell history and ``ps``). Each secret is
read, in this order, from:

1. an environment variable (``G100_WALLET_PASSWORD``, ``G100_NEW_WALLET_PASSWORD``,
   ``G100_KEYSTORE_PASSWORD``, ``G100_WALLET_MNEMONIC``, ``G100_WALLET_PASSPHRASE``,
   ``G100_WALLET_PRIVATE_KEY``, ``G100_EXPORT_PASSWORD``), for scripts; each is removed
   from the process environment at start (``wallet_app.hardening``), so no child sees it;
2. with ``--password-stdin``: the next line of standard input (one secret per line, in
   the order each command's help lists), e.g. ``index-wallet wallet unlock Main
   --password-stdin < pwfile``;
3. otherwise a hidden prompt on the terminal (new passwords are asked twice).

A command-line process ends right after the command, so ``unlock`` only checks that the
password opens the wallet (exit 0) and ``lock`` has nothing to lock; both exist so that
scripts can test a password and so that the commands mirror the GUI. Exit codes: 0 ok,
2 usage, and the code of each named error (see ``wallet_app.keys.errors``: 11 wrong
password, 12 bad phrase, 15 no keyring, 16 keyring locked, 18 no such wallet, 21 weak
password, 24 cancelled, ...).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..hardening import secret_env
from ..keys.errors import UserCancelled
from ..keys.fileio import atomic_write_text
from ..keys.metadata import WalletInfo, WalletRegistry
from ..paths import app_paths

if TYPE_CHECKING:  # the manager pulls in eth-account: loaded only by commands that use keys
    from ..keys import WalletManager
from .output import emit

ENV = {
    "password": "G100_WALLET_PASSWORD",
    "new_password": "G100_NEW_WALLET_PASSWORD",
    "keystore_password": "G100_KEYSTORE_PASSWORD",
    "mnemonic": "G100_WALLET_MNEMONIC",
    "passphrase": "G100_WALLET_PASSPHRASE",
    "private_key": "G100_WALLET_PRIVATE_KEY",
    "export_password": "G100_EXPORT_PASSWORD",
}


class SecretReader:
    """Reads each secret from its env var, the next stdin line, or a hidden prompt."""

    def __init__(self, from_stdin: bool) -> None:
        self.from_stdin = from_stdin

    def get(self, kind: str, prompt: str, *, confirm: bool = False) -> str:
        env = secret_env(ENV[kind]) if kind in ENV else None
        if env is not None:
            return env
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise UserCancelled(f"Standard input ended before the {prompt.lower()} "
                                    "(one secret per line; see --help for the order).")
            return line.rstrip("\r\n")
        if not sys.stdin.isatty():
            raise UserCancelled(
                f"No terminal to ask for the {prompt.lower()}: pass it with "
                "--password-stdin (one line per secret)"
                + (f" or set {ENV[kind]}." if kind in ENV else "."))
        value = getpass.getpass(f"{prompt}: ")
        if confirm and getpass.getpass(f"{prompt} (again): ") != value:
            raise UserCancelled("The two entries differ; nothing was changed.")
        return value


def _add_common(p: argparse.ArgumentParser, secrets_order: str | None = None) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    if secrets_order is not None:
        p.add_argument("--password-stdin", action="store_true",
                       help=f"read secrets from standard input, one per line: {secrets_order}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("wallet", help="create, import and manage wallets (keys in the OS keyring)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ws = p.add_subparsers(dest="wallet_cmd", required=True)

    c = ws.add_parser("create", help="create a wallet with a new recovery phrase")
    c.add_argument("name")
    c.add_argument("--words", type=int, choices=(12, 24), default=24)
    c.add_argument("--accounts", type=int, default=1, help="accounts to derive (default 1)")
    c.add_argument("--passphrase", action="store_true",
                   help="also set a BIP-39 passphrase (asked for, never on the command line)")
    _add_common(c, "new password, then passphrase (if --passphrase)")
    c.set_defaults(func=_create)

    i = ws.add_parser("import", help="import a recovery phrase, private key or keystore file")
    i.add_argument("name")
    src = i.add_mutually_exclusive_group(required=True)
    src.add_argument("--mnemonic", action="store_true", help="import a recovery phrase")
    src.add_argument("--private-key", action="store_true", help="import a hex private key")
    src.add_argument("--keystore", type=Path, metavar="FILE", help="import a keystore-v3 file")
    i.add_argument("--passphrase", action="store_true", help="the phrase has a BIP-39 passphrase")
    i.add_argument("--accounts", type=int, default=1)
    _add_common(i, "phrase/key/keystore password, then passphrase (if --passphrase), "
                   "then the new wallet password")
    i.set_defaults(func=_import)

    ls = ws.add_parser("list", help="list wallets and their addresses")
    _add_common(ls)
    ls.set_defaults(func=_list)

    sh = ws.add_parser("show", help="one wallet: kind, accounts, whether its backup is checked")
    sh.add_argument("name")
    _add_common(sh)
    sh.set_defaults(func=_show)

    u = ws.add_parser("unlock", help="check that the password opens the wallet")
    u.add_argument("name")
    _add_common(u, "password")
    u.set_defaults(func=_unlock)

    lk = ws.add_parser("lock", help="lock (no-op for a one-shot command; for symmetry)")
    lk.add_argument("name", nargs="?")
    _add_common(lk)
    lk.set_defaults(func=_lock)

    r = ws.add_parser("reveal", help="show the recovery phrase (asks for the password)")
    r.add_argument("name")
    _add_common(r, "password")
    r.set_defaults(func=_reveal)

    e = ws.add_parser("export", help="export one account as a keystore-v3 JSON file")
    e.add_argument("name")
    e.add_argument("--account", type=int, default=0)
    e.add_argument("--out", type=Path, help="write to this file (mode 0600) instead of stdout")
    e.add_argument("--export-password", action="store_true",
                   help="encrypt the file with a different password (asked for)")
    _add_common(e, "password, then export password (if --export-password)")
    e.set_defaults(func=_export)

    d = ws.add_parser("delete", help="delete a wallet and its encrypted key")
    d.add_argument("name")
    d.add_argument("--confirm", metavar="NAME",
                   help="the wallet name again (else you are asked to type it)")
    _add_common(d)
    d.set_defaults(func=_delete)

    cp = ws.add_parser("change-password", help="re-encrypt the wallet under a new password")
    cp.add_argument("name")
    _add_common(cp, "current password, then new password")
    cp.set_defaults(func=_change_password)

    aa = ws.add_parser("add-account", help="derive the next account of a phrase wallet")
    aa.add_argument("name")
    _add_common(aa, "password")
    aa.set_defaults(func=_add_account)

    vb = ws.add_parser("verify-backup", help="check your written-down phrase (k random words)")
    vb.add_argument("name")
    vb.add_argument("-k", type=int, default=3, help="number of words to ask (default 3)")
    _add_common(vb, "password, then each requested word")
    vb.set_defaults(func=_verify_backup)


def _manager() -> WalletManager:
    from ..keys import WalletManager

    return WalletManager()


def _reader(args: argparse.Namespace) -> SecretReader:
    return SecretReader(bool(getattr(args, "password_stdin", False)))


def _info_text(info: WalletInfo) -> str:
    lines = [f"{info.name}  ({info.kind.replace('_', ' ')}, {info.storage}, "
             f"created {info.created_at:%Y-%m-%d})"]
    for a in info.accounts:
        lines.append(f"  #{a.index}  {a.address}  {a.path or '(imported key)'}")
    if info.needs_backup_check:
        lines.append(f"  ! BACKUP NOT CHECKED: run `index-wallet wallet verify-backup "
                     f"{info.name}` with your written recovery phrase")
    elif info.kind == "mnemonic":
        lines.append("  backup checked")
    return "\n".join(lines)


def _numbered(words: list[str]) -> str:
    return "\n".join(f"{i:>2}. {w}" for i, w in enumerate(words, 1))


def _warn(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def _create(args: argparse.Namespace) -> int:
    rd = _reader(args)
    password = rd.get("password", "New wallet password", confirm=True)
    passphrase = rd.get("passphrase", "BIP-39 passphrase", confirm=True) if args.passphrase else ""
    info, phrase = _manager().create(args.name, password, words=args.words,
                                     passphrase=passphrase, accounts=args.accounts)
    try:
        words = phrase.words
        _warn("Write these words down, in order, and keep them offline. They are the only "
              "way to recover the wallet and are shown once.")
        emit(args, {"wallet": info.to_dict(), "mnemonic": words},
             _info_text(info) + "\n\nRecovery phrase:\n" + _numbered(words))
        del words
    finally:
        phrase.wipe()
    return 0


def _import(args: argparse.Namespace) -> int:
    rd = _reader(args)
    mgr = _manager()
    if args.mnemonic:
        phrase = rd.get("mnemonic", "Recovery phrase")
        passphrase = rd.get("passphrase", "BIP-39 passphrase") if args.passphrase else ""
        password = rd.get("password", "New wallet password", confirm=True)
        info = mgr.import_mnemonic(args.name, phrase, password, passphrase=passphrase,
                                   accounts=args.accounts)
    elif args.private_key:
        key = rd.get("private_key", "Private key (hex)")
        password = rd.get("password", "New wallet password", confirm=True)
        info = mgr.import_private_key(args.name, key, password)
    else:
        try:
            text = args.keystore.read_bytes()
        except OSError as exc:
            raise UserCancelled(f"Cannot read {args.keystore}: {exc.strerror}.") from None
        ks_password = rd.get("keystore_password", "Keystore file password")
        password = rd.get("password", "New wallet password", confirm=True)
        info = mgr.import_keystore(args.name, text, ks_password, password)
    emit(args, {"wallet": info.to_dict()}, "Imported:\n" + _info_text(info))
    return 0


def _list(args: argparse.Namespace) -> int:
    # The registry alone (names, addresses): what WalletManager.list() returns, without
    # loading the key code, so listing wallets starts as fast as the index commands.
    wallets = [r.info for r in WalletRegistry(app_paths().wallets_file).load()]
    emit(args, {"wallets": [w.to_dict() for w in wallets]},
         "\n".join(_info_text(w) for w in wallets) or
         "No wallets yet (create one: index-wallet wallet create NAME)")
    return 0


def _show(args: argparse.Namespace) -> int:
    record = WalletRegistry(app_paths().wallets_file).find(args.name)
    if record is None:
        from ..keys.errors import WalletNotFound

        raise WalletNotFound(f"There is no wallet named '{args.name}' (see `index-wallet "
                             "wallet list`).")
    emit(args, {"wallet": record.info.to_dict()}, _info_text(record.info))
    return 0


def _unlock(args: argparse.Namespace) -> int:
    mgr = _manager()
    mgr.unlock(args.name, _reader(args).get("password", f"Password for '{args.name}'"))
    mgr.close()
    emit(args, {"name": args.name, "password_ok": True, "unlocked": False},
         f"Password OK: '{args.name}' unlocks. (This command ends here, so the wallet is "
         "locked again; the app keeps it unlocked until it locks.)")
    return 0


def _lock(args: argparse.Namespace) -> int:
    emit(args, {"locked": True, "name": args.name},
         "Nothing to lock: a command-line process never keeps a wallet unlocked.")
    return 0


def _reveal(args: argparse.Namespace) -> int:
    phrase = _manager().reveal_mnemonic(
        args.name, _reader(args).get("password", f"Password for '{args.name}'"))
    try:
        _warn("Anyone who sees these words can take the funds. Make sure nobody is watching.")
        data: dict[str, Any] = {"name": args.name, "mnemonic": phrase.words}
        text = _numbered(phrase.words)
        if phrase.has_passphrase:
            data["passphrase"] = phrase.passphrase
            text += "\n(This wallet also uses a BIP-39 passphrase.)"
        emit(args, data, text)
    finally:
        phrase.wipe()
    return 0


def _export(args: argparse.Namespace) -> int:
    rd = _reader(args)
    password = rd.get("password", f"Password for '{args.name}'")
    export_pw = rd.get("export_password", "Password for the exported file", confirm=True) \
        if args.export_password else None
    text = _manager().export_keystore(args.name, password, args.account,
                                      export_password=export_pw)
    if args.out:
        atomic_write_text(args.out, text + "\n")
        emit(args, {"name": args.name, "account": args.account, "file": str(args.out)},
             f"Keystore of account {args.account} written to {args.out} (mode 0600).")
    elif args.json:
        emit(args, {"name": args.name, "account": args.account, "keystore": text})
    else:
        sys.stdout.write(text + "\n")
    return 0


def _delete(args: argparse.Namespace) -> int:
    confirm = args.confirm
    if confirm is None:
        if not sys.stdin.isatty():
            raise UserCancelled("Deleting needs confirmation: pass --confirm NAME. "
                                "Nothing was deleted.")
        _warn(f"This deletes '{args.name}' and its encrypted key. Without the recovery "
              "phrase or an exported keystore the funds are lost.")
        confirm = input(f"Type the wallet name ({args.name}) to confirm: ")
    _manager().delete(args.name, confirm)
    from ..book.store import BookStore

    BookStore(app_paths().data_dir).forget_wallet(args.name)
    emit(args, {"deleted": args.name}, f"Deleted '{args.name}'.")
    return 0


def _change_password(args: argparse.Namespace) -> int:
    rd = _reader(args)
    old = rd.get("password", f"Current password for '{args.name}'")
    new = rd.get("new_password", "New password", confirm=True)
    _manager().change_password(args.name, old, new)
    emit(args, {"name": args.name, "changed": True}, f"Password of '{args.name}' changed.")
    return 0


def _add_account(args: argparse.Namespace) -> int:
    mgr = _manager()
    address = mgr.add_account(args.name, _reader(args).get("password",
                                                           f"Password for '{args.name}'"))
    info = mgr.get(args.name)
    emit(args, {"wallet": info.to_dict(), "address": address},
         f"Account #{len(info.accounts) - 1}: {address}")
    return 0


def _verify_backup(args: argparse.Namespace) -> int:
    rd = _reader(args)
    mgr = _manager()
    positions = mgr.backup_challenge(args.name, args.k)
    password = rd.get("password", f"Password for '{args.name}'")
    answers = {p: rd.get("word", f"Word #{p}") for p in positions}
    result = mgr.verify_backup(args.name, answers, password)
    emit(args, {"name": args.name, "positions": positions, "ok": result.ok,
                "wrong_positions": list(result.wrong)}, result.message())
    return 0 if result.ok else 1
