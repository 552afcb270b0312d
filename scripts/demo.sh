#!/usr/bin/env bash
# Start the embedded devnet and open the app on it. Without a display it says so and runs
# the command-line demo instead (never a Qt crash). On a machine with no session bus (a
# headless server), the command-line demo runs in a throwaway sandbox: its own D-Bus
# session with an unlocked GNOME Keyring and its own app folder, both deleted afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/index-wallet demo
fi
echo "No display found (DISPLAY/WAYLAND_DISPLAY unset): running the command-line demo."
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v gnome-keyring-daemon >/dev/null; then
  sandbox=$(mktemp -d)
  trap 'G100_HOME="$sandbox/home" .venv/bin/index-wallet devnet down >/dev/null 2>&1 || true; rm -rf "$sandbox"' EXIT
  echo "No session bus either: using a throwaway keyring and app folder in $sandbox."
  export XDG_DATA_HOME="$sandbox/xdg" G100_HOME="$sandbox/home"
  dbus-run-session -- bash -c '
    printf "demo-sandbox" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    .venv/bin/index-wallet demo --cli'
  exit $?
fi
exec .venv/bin/index-wallet demo --cli
