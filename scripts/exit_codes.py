#!/usr/bin/env python3
"""Print the table of exit codes (every error class's, and the CLI's reserved ones).

    scripts/exit_codes.py                  # the markdown table on stdout
    scripts/exit_codes.py --write-readme   # refresh the table in README.md

``tests/test_exit_codes.py`` fails when the README's table differs from this output, or
when two classes share a code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wallet_app import exit_codes  # noqa: E402 - after the path set-up

README = ROOT / "README.md"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write-readme", action="store_true")
    args = ap.parse_args()
    table = exit_codes.rows()
    clash = exit_codes.collisions(table)
    for code, names in sorted(clash.items()):
        print(f"error: exit code {code} is used by {', '.join(names)}", file=sys.stderr)
    if not args.write_readme:
        print(exit_codes.markdown_table(table))
        return 1 if clash else 0
    text = README.read_text()
    start = text.index(exit_codes.README_START)
    end = text.index(exit_codes.README_END) + len(exit_codes.README_END)
    README.write_text(text[:start] + exit_codes.readme_block(table) + text[end:])
    print(f"wrote {len(table)} rows to {README}")
    return 1 if clash else 0


if __name__ == "__main__":
    sys.exit(main())
