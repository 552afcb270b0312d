#!/usr/bin/env python3
"""Deploy benchmark: the index at N = 100 with its timelock (48 h delay), on the devnet.

Starts a private devnet (its market plays the chain's USDC, router, tokens, feeds and
pools), then deploys the index R times from a config of its 100 constituents, each time
with a fresh deployer key funded by ``anvil_setBalance``, through the same code path as
``index-wallet deploy`` (estimate, sign locally, journal with fsync, broadcast, receipt,
one step at a time) and once as a dry run on a fork. Prints total gas, transactions and
the median wall time. Nothing here asserts: it measures and prints.

Run: ``.venv/bin/python scripts/bench_deploy.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account  # noqa: E402
from web3 import Web3  # noqa: E402

from wallet_app.deploy import runner  # noqa: E402
from wallet_app.deploy.config import config_from_dict  # noqa: E402
from wallet_app.deploy.signers import KeySigner  # noqa: E402
from wallet_app.devnet import process  # noqa: E402
from wallet_app.devnet.embedded import ensure_devnet  # noqa: E402
from wallet_app.keys.sensitive import SecretBytes  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="g100-bench-deploy-"))
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    dev = ensure_devnet(paths, port=process.free_port())
    try:
        w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url, request_kwargs={"timeout": 120}))
        dep = dev.deployment
        owner = Account.create().address
        cfg = config_from_dict({
            "label": "bench", "usdc": dep.usdc, "router": dep.router,
            "roles": {"guardian": Account.create().address, "operator": Account.create().address,
                      "fee_recipient": owner},
            "timelock": {"delay": 172_800, "proposers": [owner], "executors": [owner]},
            "keeper": {"strike_interval": 3_600, "min_request_age": 300},
            "constituents": [{"symbol": t.symbol, "token": t.address, "feed": t.feed,
                              "heartbeat": 86_400, "weight_bps": t.weight_bps}
                             for t in dep.tokens]})
        n = len(cfg.constituents)
        times, gas, txs = [], 0, 0
        for r in range(args.runs):
            acct = Account.create()
            w3.provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                                     [acct.address, hex(10**22)])
            signer = KeySigner(SecretBytes(acct.key), acct.address)
            t0 = time.perf_counter()
            run = runner.deploy(w3, cfg, signer, home / f"journal-{r}.json")
            times.append(time.perf_counter() - t0)
            gas, txs = run.total_gas, len(run.steps)
            signer.close()
        pre = []
        for _ in range(3):
            t0 = time.perf_counter()
            runner.preflight(w3, cfg)
            pre.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        dry = runner.dry_run(w3, dev.node.rpc_url, cfg, Account.create().address)
        dry_s = time.perf_counter() - t0
        print(f"deploy of N = {n} with the timelock (48 h delay), {args.runs} runs:")
        print(f"  transactions            {txs}")
        print(f"  total gas               {gas:,}")
        print(f"  wall time, median       {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f})")
        print(f"  of which read-only checks (3 reads per constituent), median "
              f"{statistics.median(pre):.2f} s")
        print(f"  dry run (fork, estimates) {dry_s:.2f} s, {dry.total_gas:,} gas estimated")
        print(f"  (machine load average {os.getloadavg()[0]:.1f})")
        for s in run.steps:
            print(f"    {s.step.label:<28} {s.gas:>12,}")
    finally:
        process.down(paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
