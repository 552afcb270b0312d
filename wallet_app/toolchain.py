"""Locate the Foundry binaries (anvil, forge, cast).

Order: an environment variable (``ANVIL``, ``FORGE``, ``CAST``), the npm install inside a
source checkout's ``contracts/node_modules`` (what ``make setup`` installs, pinned by
``contracts/package.json``), then ``PATH``. An installed wheel has no checkout beside it,
so there the variable or ``PATH`` answers (Foundry's own installer puts ``anvil`` on it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import ToolMissingError
from .paths import CONTRACTS_DIR


def install_hint(name: str) -> str:
    """How to get a missing Foundry binary, for a checkout and for an installed app."""
    return (f"In a source checkout, `make setup` installs {name} with npm; otherwise install "
            f"Foundry (its `foundryup` installer puts {name} on PATH) or set "
            f"{name.upper()}=/path/to/{name}.")


def npm_tool_path(name: str, contracts_dir: Path = CONTRACTS_DIR) -> Path:
    """Where ``npm ci`` in a checkout's ``contracts/`` puts the binary."""
    return contracts_dir / "node_modules" / "@foundry-rs" / f"{name}-linux-amd64" / "bin" / name


def _executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def find_tool(name: str) -> Path:
    """Return the path of a Foundry binary or raise :class:`ToolMissingError`."""
    env = os.environ.get(name.upper())
    if env:
        p = Path(env)
        if _executable(p):
            return p
        raise ToolMissingError(f"{name.upper()}={env} does not point at an executable {name}.")
    npm_bin = npm_tool_path(name)
    if _executable(npm_bin):
        return npm_bin
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolMissingError(
        f"The `{name}` binary was not found (looked at ${name.upper()}, {npm_bin} and PATH). "
        + install_hint(name)
    )
