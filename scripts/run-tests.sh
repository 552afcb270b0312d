#!/usr/bin/env bash
# The whole test suite: lint, forge tests, then pytest inside a private D-Bus session with
# an unlocked GNOME Keyring (the real Secret Service the wallet stores keys in). Anvil nodes
# are started and stopped by the pytest fixtures themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
# PYTEST_ONLY=1 (make test-core): the Python tests alone, lint and forge ran already.
if [ -z "${PYTEST_ONLY:-}" ]; then
  echo "== ruff"
  "${VENV:-.venv}"/bin/ruff check .
  echo "== forge test"
  (cd contracts && node_modules/@foundry-rs/forge-linux-amd64/bin/forge test)
fi
echo "== pytest (GNOME Keyring over D-Bus, Qt offscreen)"
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
# A private keyring folder for this run: the login keyring of $HOME (created by an earlier
# run or by the user, with another password) is never touched or depended on.
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
export XDG_DATA_HOME="$keyring_home"
dbus-run-session -- bash -c '
  printf "test-keyring-password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "${VENV:-.venv}"/bin/python -m pytest -q "$@"
' pytest "$@"
