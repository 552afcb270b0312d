"""`index-wallet deploy`: deploy the index (vault, lens, timelock) from a config file.

Signed locally with a key of this app's OS keyring (``--key-from keyring:WALLET``, its
password from ``G100_WALLET_PASSWORD``, ``--password-stdin`` or a prompt) or a keystore
file (``--keystore FILE``, password from ``G100_KEYSTORE_PASSWORD`` or the same). Never an
unlocked node account. ``--dry-run`` runs the plan on a throw-away fork and prints every
transaction with its gas before anything is signed. A deploy is journaled: run the same
command again after a crash and it continues where it stopped.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

from .output import emit, progress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="deploy the index to an EVM chain from a config file",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, required=True, help="deployment config (.toml/.json)")
    p.add_argument("--rpc", required=True, help="JSON-RPC URL of the chain")
    p.add_argument("--dry-run", action="store_true",
                   help="print every transaction and its gas; sign nothing")
    key = p.add_mutually_exclusive_group()
    key.add_argument("--key-from", metavar="keyring:WALLET", help="a wallet of this app")
    key.add_argument("--keystore", type=Path, metavar="FILE", help="a keystore-v3 file")
    p.add_argument("--out", type=Path, default=None, help="where to write the record")
    p.add_argument("--journal", type=Path, default=None, help="the deploy journal file")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the key's password from standard input")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_deploy)


def _eth(wei: int) -> str:
    return f"{Decimal(wei).scaleb(-18).normalize():f}"


def plan_text(run: Any, dry: bool) -> str:
    """The table of steps: what each does, to, gas."""
    lines = []
    for s in run.steps:
        to = f"new {s.step.creates}" if s.step.creates else f"to {s.step.to}"
        lines.append(f"{s.step.index + 1:>3}. {s.step.what}\n      {to}  "
                     f"gas {'~' if dry else ''}{s.gas:,}")
    lines.append(f"Total: {len(run.steps)} transactions, {run.total_gas:,} gas")
    if dry:
        lines.append(f"At the current base fee ({run.base_fee:,} wei): about "
                     f"{_eth(run.total_gas * run.base_fee)} ETH; the deployer "
                     f"{run.plan.deployer} holds {_eth(run.balance)} ETH.")
    lines += [f"Note: {n}" for n in run.notes]
    return "\n".join(lines)


def _deploy(args: argparse.Namespace) -> int:
    from ..facade import WalletService
    from .wallet_cmds import SecretReader

    kind = "keystore_password" if args.keystore else "password"

    def password() -> str:
        return SecretReader(bool(args.password_stdin)).get(kind, "Password of the key")

    svc = WalletService()
    try:
        out = svc.deploy_index(args.config, args.rpc, key_from=args.key_from,
                               keystore=args.keystore, password=password,
                               dry_run=args.dry_run, out=args.out, journal=args.journal,
                               progress=None if args.json else progress)
    finally:
        svc.close()
    run = out.run
    data = {"dry_run": args.dry_run, "chain_id": run.chain_id, "deployer": run.plan.deployer,
            "total_gas": run.total_gas, "seconds": round(run.seconds, 3),
            "steps": [{"n": s.step.index + 1, "label": s.step.label, "what": s.step.what,
                       "to": s.step.to, "creates": s.step.creates, "gas": s.gas,
                       "tx_hash": s.tx_hash, "resumed": s.resumed} for s in run.steps],
            "journal": str(out.journal_path),
            "record_file": str(out.record_path) if out.record_path else None,
            "record": run.record.to_dict() if run.record else None, "notes": run.notes}
    if args.dry_run:
        text = ("Dry run: nothing was signed or sent.\n" + plan_text(run, True))
    else:
        assert run.record is not None
        text = (plan_text(run, False) + f"\nDeployed in {run.seconds:.1f} s: vault "
                f"{run.record.vault}, lens {run.record.lens}, timelock {run.record.timelock}."
                f"\nRecord written to {out.record_path}.\nPin it in the wallet: "
                f"index-wallet deployment import {out.record_path}")
    emit(args, data, text)
    return 0
