#!/usr/bin/env bash
# Install the Debian packages the tests and the GUI need (GNOME Keyring over D-Bus, Xvfb,
# Qt's xcb libraries) when some are missing. Needs root (CI runs as root); otherwise it
# names the missing packages and carries on, so a developer can install them once.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: missing Debian packages (install as root): ${missing[*]}" >&2
fi
