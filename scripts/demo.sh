#!/usr/bin/env bash
# Start the embedded devnet and open the app. Without a display it says so and runs the
# command-line demo instead (never a Qt crash).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/index-wallet demo
fi
echo "No display found (DISPLAY/WAYLAND_DISPLAY unset): running the command-line demo."
exec .venv/bin/index-wallet demo --cli
