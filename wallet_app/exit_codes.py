"""The catalogue of process exit codes: every error class's, and the few the CLI sets itself.

Why it exists: a script that drives ``index-wallet`` branches on the exit code (retry on a
wrong password, stop on an uncertain broadcast). That is only safe when each code means one
thing, so every :class:`~wallet_app.errors.WalletError` subclass declares its own code and
``tests/test_exit_codes.py`` fails when two classes share one, or when a class takes a
code reserved below. The README's table of codes is generated from here
(``scripts/exit_codes.py --write-readme``) and the same test checks it is current.

Ranges, so that engineers adding classes do not collide: 1-9 general, 10-27 key custody,
28 journal, 30-39 wallet engine, 40-49 operator and market data, 50-59 trust,
60-69 and 71-89 chain, 100-199 later features.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass

from .errors import WalletError

#: Codes the CLI returns without an error class (no class may use them).
RESERVED: dict[int, str] = {
    0: "success",
    2: "usage error (a bad command line, printed by argparse)",
    57: "a trade was mined but its outcome could not be verified (`buy`, `sell`)",
    70: "an unexpected internal error (details in the log only)",
    130: "interrupted (Ctrl-C)",
}

#: Modules never imported by the walk (``__main__`` would run the CLI).
_SKIP = ("__main__",)

README_START = "<!-- exit-codes:start -->"
README_END = "<!-- exit-codes:end -->"


@dataclass(frozen=True)
class CodeRow:
    """One line of the table: a code and the class (or reserved use) that owns it."""

    code: int
    name: str
    module: str
    meaning: str


def import_all(package: str = "wallet_app") -> None:
    """Import every module of ``package`` so that all error classes are defined."""
    pkg = importlib.import_module(package)
    for mod in pkgutil.walk_packages(pkg.__path__, f"{package}."):
        if mod.name.rsplit(".", 1)[-1] in _SKIP:
            continue
        importlib.import_module(mod.name)


def error_classes(base: type[WalletError] = WalletError,
                  package: str | None = "wallet_app") -> list[type[WalletError]]:
    """``base`` and every subclass of it defined in ``package`` (None: anywhere, e.g. a
    test's own subclasses too), each once, in a stable order."""
    seen: dict[type[WalletError], None] = {base: None}
    stack = [base]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen[sub] = None
                stack.append(sub)
    found = [c for c in seen if package is None or c.__module__ == package
             or c.__module__.startswith(f"{package}.")]
    return sorted(found, key=lambda c: (c.exit_code, c.__module__, c.__qualname__))


def own_doc(cls: type) -> str:
    """The class's own docstring (not an inherited one), cleaned; "" when it has none."""
    return inspect.cleandoc(cls.__dict__.get("__doc__") or "")


def _first_line(cls: type) -> str:
    doc = own_doc(cls)
    text = " ".join(doc.split("\n\n", 1)[0].split())
    return text.replace("|", "\\|")


def rows(package: str = "wallet_app",
         classes: list[type[WalletError]] | None = None) -> list[CodeRow]:
    """Every class's code (of ``package``, or the ``classes`` given) and every reserved
    code, sorted by code."""
    import_all(package)
    out = [CodeRow(c.exit_code, c.__qualname__, c.__module__, _first_line(c))
           for c in (error_classes(package=package) if classes is None else classes)]
    out += [CodeRow(code, "(reserved)", "wallet_app.cli.main", text)
            for code, text in RESERVED.items()]
    return sorted(out, key=lambda r: (r.code, r.name))


def collisions(table: list[CodeRow]) -> dict[int, list[str]]:
    """Codes owned by more than one class or reserved use, with their owners."""
    owners: dict[int, list[str]] = {}
    for r in table:
        owners.setdefault(r.code, []).append(f"{r.module}.{r.name}")
    return {code: names for code, names in owners.items() if len(names) > 1}


def markdown_table(table: list[CodeRow]) -> str:
    """The README's table (between the exit-codes markers)."""
    lines = ["| code | error | where | meaning |", "|---:|---|---|---|"]
    for r in table:
        lines.append(f"| {r.code} | `{r.name}` | `{r.module}` | {r.meaning} |")
    return "\n".join(lines)


def readme_block(table: list[CodeRow]) -> str:
    """The marked block as it must appear in the README."""
    return f"{README_START}\n{markdown_table(table)}\n{README_END}"
