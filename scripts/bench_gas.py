#!/usr/bin/env python3
"""Gas benchmark of the index vault at N = 10, 50 and 100 constituents.

For each N it runs the forge gas report over contracts/test/GasBench.t.sol with
``--isolate`` (every measured call is its own transaction: cold storage, real refunds), and
reads the per-operation figures the test records with ``vm.snapshotGasLastCall``. Those
include the 21,000 intrinsic gas of a transaction; the table shows call gas = recorded
- 21,000 (calldata cost stays in, so the figures are slightly conservative).

Targets checked (exit code 1 when missed): buy and sell-from-cash at N = 100 cost at most
150,000 gas and at most 1.3x the same call at N = 10.

    scripts/bench_gas.py                 # print the table
    scripts/bench_gas.py --write-readme  # also refresh the table in README.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
FORGE = CONTRACTS / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"
SNAPSHOTS = CONTRACTS / "cache" / "gas-snapshots"
README = ROOT / "README.md"
START, END = "<!-- gas-bench:start -->", "<!-- gas-bench:end -->"

INTRINSIC = 21_000
SIZES = (10, 50, 100)
TARGET_GAS = 150_000
TARGET_RATIO = 1.3
ROWS = [
    ("buy", "buy (USDC -> G100, existing holder)"),
    ("buy_new_holder", "buy (first-time holder)"),
    ("sell_from_cash", "sell paid from cash"),
    ("sell_past_cash", "sell past cash (liquidates N legs)"),
    ("redeem_in_kind", "redeemInKind (N tokens out)"),
    ("rebalance_one_leg", "rebalance, one leg"),
    ("update_nav", "updateNav (keeper, N feeds)"),
    ("lens_snapshot", "IndexLens.snapshot (eth_call)"),
    ("lens_quote_sell", "IndexLens.quoteSell past cash (eth_call)"),
]
FLAT = ("buy", "sell_from_cash")


def run_size(n: int) -> dict[str, int]:
    """Run the benchmark at N = n; return call gas per operation."""
    env = dict(os.environ, BENCH_N=str(n))
    snap = SNAPSHOTS / f"n{n}.json"
    snap.unlink(missing_ok=True)
    r = subprocess.run(
        [
            str(FORGE),
            "test",
            "--match-contract",
            "GasBenchTest",
            "--isolate",
            "--gas-report",
            "--json",
        ],
        cwd=CONTRACTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if r.returncode != 0:
        sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
        raise SystemExit(f"forge gas benchmark failed at N={n}")
    # Keep forge's own gas report beside the snapshots for reference.
    (SNAPSHOTS / f"gas-report-n{n}.json").write_text(r.stdout)
    raw = json.loads(snap.read_text())
    return {k: int(v) - INTRINSIC for k, v in raw.items()}


def table(results: dict[int, dict[str, int]]) -> str:
    head = "| operation | " + " | ".join(f"N = {n}" for n in SIZES) + " | N=100 / N=10 |"
    sep = "|---|" + "---:|" * (len(SIZES) + 1)
    lines = [head, sep]
    for key, label in ROWS:
        vals = [results[n][key] for n in SIZES]
        ratio = vals[-1] / vals[0]
        lines.append(f"| {label} | " + " | ".join(f"{v:,}" for v in vals) + f" | {ratio:.2f}x |")
    return "\n".join(lines)


def check(results: dict[int, dict[str, int]]) -> list[str]:
    problems = []
    for key in FLAT:
        big, small = results[100][key], results[10][key]
        if big > TARGET_GAS:
            problems.append(f"{key} at N=100 costs {big:,} gas (> {TARGET_GAS:,})")
        if big > TARGET_RATIO * small:
            problems.append(f"{key} at N=100 is {big / small:.2f}x N=10 (> {TARGET_RATIO}x)")
    return problems


def write_readme(text: str) -> None:
    content = README.read_text()
    block = f"{START}\n{text}\n{END}"
    if START in content and END in content:
        content = re.sub(re.escape(START) + ".*?" + re.escape(END), block, content, flags=re.S)
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(content)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--write-readme", action="store_true", help="refresh the table in README.md"
    )
    args = parser.parse_args()
    results = {}
    for n in SIZES:
        print(f"benchmarking N = {n} ...", flush=True)
        results[n] = run_size(n)
    text = table(results)
    print()
    print(text)
    problems = check(results)
    print()
    if problems:
        print("TARGETS MISSED:\n  " + "\n  ".join(problems))
    else:
        print(
            f"targets met: buy and sell-from-cash <= {TARGET_GAS:,} gas at N=100 and "
            f"<= {TARGET_RATIO}x N=10"
        )
    if args.write_readme:
        write_readme(text)
        print(f"updated {README}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
