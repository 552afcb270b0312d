"""`index-wallet doctor`: check every run-time need and say how to fix what is missing.

Exit code 0 when nothing failed (warnings allowed), 1 otherwise. See
:mod:`wallet_app.doctor` for the checks.
"""

from __future__ import annotations

import argparse

from .output import emit


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("doctor", help="check keyring, anvil, Qt, data folders and the RPC")
    d.add_argument("--offline", action="store_true", help="skip the network (RPC) check")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from .. import doctor

    checks = doctor.run_checks(offline=args.offline)
    report = doctor.to_dict(checks)
    emit(args, report, doctor.to_text(checks))
    return 0 if report["ok"] else 1
