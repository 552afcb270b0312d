#!/usr/bin/env bash
# Every benchmark, printed: contract gas (forge gas report), index engine, treemap paint,
# command-line and bundle start-up, wallet engine on a fresh devnet, GUI start-up and
# responsiveness, the operator service (weekly rebalance, keeper per day). Reruns give comparable
# figures; nothing here fails on a slow machine except where a script says so.
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home"
run() { echo; echo "== $*"; "$@" || echo "(exit $?)"; }
run .venv/bin/python scripts/bench_gas.py
run .venv/bin/python scripts/bench_index.py
run .venv/bin/python scripts/bench_performance.py
run .venv/bin/python scripts/bench_ui.py
run .venv/bin/python scripts/bench_log.py
run .venv/bin/python scripts/bench_startup.py
run .venv/bin/python scripts/bench_deploy.py
run .venv/bin/python scripts/bench_operator.py
run .venv/bin/python scripts/bench_devnet_tx.py
dbus-run-session -- bash -c '
  printf "bench-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  echo; echo "== wallet engine"; .venv/bin/python scripts/bench_wallet.py
  if [ -f scripts/bench_gui.py ]; then echo; echo "== desktop app"; .venv/bin/python scripts/bench_gui.py; fi
'
