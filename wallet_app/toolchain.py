"""Locate the Foundry binaries (anvil, forge, cast).

Order: an environment variable (``ANVIL``, ``FORGE``, ``CAST``), the npm install inside
``contracts/node_modules`` (what the set-up command installs), then ``PATH``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import ToolMissingError
from .paths import CONTRACTS_DIR

INSTALL_HINT = "Run `make setup` (or `make test` / `make demo`), which installs it with npm."


def find_tool(name: str) -> Path:
    """Return the path of a Foundry binary or raise :class:`ToolMissingError`."""
    env = os.environ.get(name.upper())
    if env:
        p = Path(env)
        if p.is_file() and os.access(p, os.X_OK):
            return p
        raise ToolMissingError(f"{name.upper()}={env} does not point at an executable {name}.")
    npm_bin = CONTRACTS_DIR / "node_modules" / "@foundry-rs" / f"{name}-linux-amd64" / "bin" / name
    if npm_bin.is_file() and os.access(npm_bin, os.X_OK):
        return npm_bin
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolMissingError(
        f"The `{name}` binary was not found (looked at ${name.upper()}, {npm_bin} and PATH). "
        + INSTALL_HINT
    )
