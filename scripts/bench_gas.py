#!/usr/bin/env python3
"""Gas benchmark of the index vault (v2, forward pricing) at N = 10, 50 and 100 constituents.

For each N it runs the forge gas report over contracts/test/GasBench.t.sol with
``--isolate`` (every measured call is its own transaction: cold storage, real refunds), and
reads the per-operation figures the test records with ``vm.snapshotGasLastCall``. Those
include the 21,000 intrinsic gas of a transaction; the table shows call gas = recorded
- 21,000 (calldata cost stays in, so the figures are slightly conservative). The last column
is the v1 figure of the comparable operation at N = 100 (measured at commit 69f24ef, before
issue 11), where there is one.

Targets checked (exit code 1 when missed), from issue 11: buy and sell requests (any size,
warm or first-use queue slot, with or without permit) at most 80,000 gas at every N and flat
in N; a strike settling 100 requests at N = 100 at most 3,000,000 + 40,000 per request; a
cancel of a sell (any size, every share included) and of a buy whose refund lands in a USDC
balance the holder still has at most 40,000 gas. A buy of the whole USDC balance, cancelled,
re-creates that balance inside USDC (22,100 gas of storage creation in the token contract
alone): printed, not checked. The last column is the v2 figure at N = 100 before cancels
cleared their request slots (main at 50c09e3).

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
REQUEST_MAX = 80_000
FLAT_RATIO = 1.05
STRIKE_BASE, STRIKE_PER_REQUEST, SETTLED = 3_000_000, 40_000, 100
CANCEL_MAX = 40_000
# (key, label, v1 figure at N = 100 of the comparable v1 operation, or None)
ROWS = [
    ("request_buy", "requestBuy (queue slot reused)", 55_322, 41_085),
    ("request_buy_fresh_slot", "requestBuy (queue slot written the first time)", 67_622, 75_285),
    ("request_buy_permit", "requestBuyWithPermit (a new holder's first permit)", None, 70_003),
    ("request_sell", "requestSell (any size)", 52_195, 33_132),
    ("request_sell_large", "requestSell of 1/5 of the vault (2x the cash)", 8_890_779, 33_144),
    ("cancel_buy", "cancel a buy (refund into a USDC balance the holder still has)", None, 34_617),
    ("cancel_buy_empty_balance", "cancel a buy of all USDC held (re-created)", None, 51_717),
    ("cancel_sell", "cancel a sell (shares back to a holder)", None, 31_259),
    ("cancel_sell_all", "cancel a sell of every share held", None, 48_359),
    ("strike_0", "strike, nothing queued (N prices refreshed)", 2_543_465, 2_586_394),
    ("strike_1", "strike, 1 request", None, 2_639_814),
    ("strike_100", "strike, 100 requests (50 new holders buy, 50 sell all)", None, 6_092_980),
    ("per_request", "strike cost per settled request ((100 - 0) / 100)", None, 35_065),
    ("redeem_in_kind", "redeemInKind (N tokens out)", 4_467_487, 4_550_488),
    ("rebalance_one_leg", "rebalance, one leg", 116_844, 156_115),
    ("update_nav", "updateNav (N prices, deviation-checked)", 2_543_465, 2_562_533),
    ("lens_snapshot", "IndexLens.snapshot (eth_call)", 3_971_510, 3_973_503),
    ("lens_quote_sell", "IndexLens.quoteSell (eth_call)", 4_120_983, 3_687_757),
]
REQUESTS = (
    "request_buy",
    "request_buy_fresh_slot",
    "request_buy_permit",
    "request_sell",
    "request_sell_large",
)
CANCELS = ("cancel_buy", "cancel_sell", "cancel_sell_all")


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
    out = {k: int(v) - INTRINSIC for k, v in raw.items()}
    out["per_request"] = (out["strike_100"] - out["strike_0"]) // SETTLED
    return out


def table(results: dict[int, dict[str, int]]) -> str:
    head = (
        "| operation | " + " | ".join(f"N = {n}" for n in SIZES)
        + " | N=100 / N=10 | v1, N = 100 | v2 before, N = 100 |"
    )
    sep = "|---|" + "---:|" * (len(SIZES) + 3)
    lines = [head, sep]
    for key, label, v1, before in ROWS:
        vals = [results[n][key] for n in SIZES]
        ratio = vals[-1] / vals[0]
        old = f"{v1:,}" if v1 is not None else "-"
        cells = " | ".join(f"{v:,}" for v in vals)
        lines.append(f"| {label} | {cells} | {ratio:.2f}x | {old} | {before:,} |")
    return "\n".join(lines)


def check(results: dict[int, dict[str, int]]) -> list[str]:
    problems = []
    for key in REQUESTS:
        for n in SIZES:
            if results[n][key] > REQUEST_MAX:
                problems.append(f"{key} at N={n} costs {results[n][key]:,} gas (> {REQUEST_MAX:,})")
        if results[100][key] > FLAT_RATIO * results[10][key]:
            problems.append(f"{key} is not flat in N ({results[100][key] / results[10][key]:.2f}x)")
    limit = STRIKE_BASE + STRIKE_PER_REQUEST * SETTLED
    if results[100]["strike_100"] > limit:
        got = results[100]["strike_100"]
        problems.append(f"strike of {SETTLED} at N=100 costs {got:,} (> {limit:,})")
    for key in CANCELS:
        if results[100][key] > CANCEL_MAX:
            problems.append(f"{key} costs {results[100][key]:,} gas (> {CANCEL_MAX:,})")
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
            f"targets met: requests <= {REQUEST_MAX:,} gas and flat in N; strike of {SETTLED} "
            f"requests at N=100 <= {STRIKE_BASE:,} + {STRIKE_PER_REQUEST:,} each; cancels "
            f"<= {CANCEL_MAX:,} (sells always, buys into a balance the holder still has)"
        )
    k = "cancel_buy_empty_balance"
    if results[100][k] > CANCEL_MAX:
        print(
            f"note: {k} costs {results[100][k]:,} gas: 22,100 of it is USDC's own storage "
            "creation of the emptied balance the refund re-creates"
        )
    if args.write_readme:
        write_readme(text)
        print(f"updated {README}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
