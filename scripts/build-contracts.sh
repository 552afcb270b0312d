#!/usr/bin/env bash
# Build the contracts with forge (through the solc-js shim) and export the ABI+bytecode
# artifacts the Python side deploys into assets/contracts/. The export is deterministic;
# a test compares it against a fresh build so that the two never drift.
set -euo pipefail
cd "$(dirname "$0")/../contracts"
FORGE=node_modules/@foundry-rs/forge-linux-amd64/bin/forge
"$FORGE" build --quiet
if [ -f ../scripts/export_artifacts.py ]; then
  ../.venv/bin/python ../scripts/export_artifacts.py
fi
