#!/usr/bin/env bash
# Screenshots of the Send dialog's states and the Approvals screen, light and dark, into
# screenshots/send/*.png: the real flows of tests/test_gui_send.py on a throw-away devnet
# and keyring (every check and warning reached by clicks), with G100_SHOTS_DIR set.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-screenshots/send}")
mkdir -p "$out"
for theme in light dark; do
    G100_SHOTS_DIR="$out" G100_SHOTS_THEME=$theme PYTEST_ONLY=1 \
        scripts/run-tests.sh -q -p no:cacheprovider tests/test_gui_send.py
done
ls "$out"
