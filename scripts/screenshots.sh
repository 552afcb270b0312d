#!/usr/bin/env bash
# Render every screen and dialog at 1280x800 to screenshots/*.png (see scripts/screenshots.py).
# Offscreen: no display needed. Extra arguments go to the Python script (--source sample).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export QT_QPA_PLATFORM=offscreen
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-run-session >/dev/null \
   && command -v gnome-keyring-daemon >/dev/null; then
    # The devnet run creates a real wallet: give it a private, unlocked keyring session in
    # a throw-away folder (never the user's own login keyring).
    keyring_home=$(mktemp -d)
    trap 'rm -rf "$keyring_home"' EXIT
    export XDG_DATA_HOME="$keyring_home"
    dbus-run-session -- bash -c \
        'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$0" scripts/screenshots.py "$@"' \
        "$PY" "$@"
    exit $?
fi
exec "$PY" scripts/screenshots.py "$@"
