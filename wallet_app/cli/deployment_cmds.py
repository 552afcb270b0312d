"""`index-wallet deployment import|show`: the pinned deployment record of a chain.

The wallet signs only for the addresses in the record of the chain it is connected to, and
checks the vault's and lens's code hashes on every connect. ``devnet up`` pins the devnet's
own deployment; for any other chain the user imports the record file published with the
deployment. Importing over a different pinned record needs ``--replace``: repointing a
wallet at other contracts is a decision, never a side effect.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from .output import emit

if TYPE_CHECKING:  # the facade and the trust records pull in web3 and eth-utils
    from ..trust import DeploymentRecord


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("deployment", help="the pinned deployment record of a chain")
    dsub = d.add_subparsers(dest="deployment_cmd", required=True)
    imp = dsub.add_parser("import", help="pin the deployment record in FILE for its chain")
    imp.add_argument("file", type=Path)
    imp.add_argument("--replace", action="store_true",
                     help="replace a different record already pinned for that chain")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.set_defaults(func=_import)
    show = dsub.add_parser("show", help="print the record pinned for a chain")
    show.add_argument("--chain-id", type=int, default=None,
                      help="chain id (default: the configured network's)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=_show)


def _text(r: DeploymentRecord) -> str:
    lines = [f"Chain id:          {r.chain_id}" + (f" ({r.label})" if r.label else ""),
             f"Vault:             {r.vault}", f"  code hash:       {r.vault_code_hash}",
             f"Lens:              {r.lens}", f"  code hash:       {r.lens_code_hash}",
             f"USDC:              {r.usdc}",
             f"Timelock:          {r.timelock or '(none)'}",
             f"Deployment block:  {r.deployment_block}", f"Vault ABI:         {r.abi}"]
    lines += [f"{role + ':':<19}{addr}" for role, addr in r.extra.items()]
    return "\n".join(lines)


def _import(args: argparse.Namespace) -> int:
    from ..facade import WalletService

    svc = WalletService()
    try:
        rec = svc.import_deployment(args.file, replace=args.replace)
        emit(args, rec.to_dict(), "Pinned:\n" + _text(rec)
             + "\nThe code hashes are checked on the next connect.")
    finally:
        svc.close()
    return 0


def _show(args: argparse.Namespace) -> int:
    from ..facade import WalletService

    svc = WalletService()
    try:
        chain_id = args.chain_id
        if chain_id is None:
            from ..chain.registry import resolve_chain

            chain_id = resolve_chain(svc.settings, svc.paths).chain_id
        rec = svc.deployment(chain_id)
        if rec is None:
            emit(args, {"record": None}, f"No deployment is pinned for chain {chain_id}. "
                 "Import one with `index-wallet deployment import FILE`.")
            return 0
        emit(args, rec.to_dict(), _text(rec))
    finally:
        svc.close()
    return 0
