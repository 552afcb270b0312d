#!/usr/bin/env python3
"""Export the ABI + bytecode of the contracts the Python side deploys into assets/contracts/.

Run after `forge build` (scripts/build-contracts.sh does both). Our contracts come from
contracts/out; the real Uniswap V2 factory, pair, Router02 and WETH9 from the npm packages'
build JSON. The output is deterministic, and tests/test_artifacts_sync.py fails when it
drifts from a fresh build.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wallet_app.devnet.artifacts import ARTIFACTS_DIR, export  # noqa: E402


def main() -> int:
    paths = export()
    print(f"exported {len(paths)} contract artifacts to {ARTIFACTS_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
