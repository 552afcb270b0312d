"""Entry point of `index-wallet`.

Each command group lives in its own module with a ``register(subparsers)`` function. Errors
derived from :class:`WalletError` are printed as their message (never a traceback) and turn
into the exit code the error class names.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .. import __version__
from ..errors import WalletError
from ..hardening import harden_process
from ..logs import setup_logging

log = logging.getLogger(__name__)

#: Command-group modules, in the order they appear in ``--help``.
COMMAND_MODULES = [
    "devnet_cmds",
    "index_cmds",
    "wallet_cmds",
    "trade_cmds",
    "book_cmds",
    "transfer_cmds",
    "report_cmds",
    "depositor_cmds",
    "deployment_cmds",
    "deploy_cmds",
    "governance_cmds",
    "operator_cmds",
    "app_cmds",
    "doctor_cmds",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="index-wallet",
        description="Self-custodial wallet for the TM Global 100 index.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    harden_process()  # before anything else: no core dumps, secrets out of the environment
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        setup_logging()
    except OSError as exc:
        print(f"warning: logging disabled ({exc})", file=sys.stderr)
    try:
        return int(args.func(args) or 0)
    except WalletError as exc:
        log.info("command failed: %s", type(exc).__name__)
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the details in the log only
        log.exception("unexpected error in %s", args.command)
        print(f"error: an unexpected internal error occurred ({type(exc).__name__}). "
              "Please report it with the command you ran.",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
