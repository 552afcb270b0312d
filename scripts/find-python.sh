#!/usr/bin/env bash
# Print the path of a working interpreter for $1 (e.g. python3.12, or a path). A pyenv shim
# for a version that is installed but not selected fails when run, so after the command
# itself this also looks in pyenv's versions folder and the usual system places.
set -euo pipefail
want=${1:?usage: find-python.sh python3.X}
name=$(basename "$want")
ver=${name#python}
candidates=("$want")
if [[ $ver =~ ^3\.[0-9]+$ ]]; then
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$ver".*/bin/"$name" \
           /usr/local/bin/"$name" /usr/bin/"$name"; do
    candidates+=("$p")
  done
fi
for c in "${candidates[@]}"; do
  if "$c" -c 'import sys, venv' >/dev/null 2>&1; then
    "$c" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "Python $ver was not found (tried: ${candidates[*]}); install it (e.g. pyenv install $ver)" >&2
exit 1
