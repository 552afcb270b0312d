#!/usr/bin/env python3
"""Operator service benchmark on a fresh devnet (N = 100): prints medians.

* one weekly rebalance at N = 100 (the devnet's own weeks: the replay moves prices day by
  day and every market-calendar Monday the operator engine reweights, reconstitution
  included): total gas and transactions, median over the Mondays of ``--weeks`` weeks;
* the keeper's gas per day at the devnet cadence: one ``updateNav`` (N prices) and one
  strike of one request, measured; times the refreshes a real day holds at the devnet's
  strike interval (NAV kept fresh every half interval when idle) and at the demo
  market's price steps (a NAV refresh with every step).

Run: ``.venv/bin/python scripts/bench_operator.py [--weeks 4]``. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from web3 import Web3  # noqa: E402

from wallet_app.chain.provider import ChainClient  # noqa: E402
from wallet_app.chain.registry import get_chain  # noqa: E402
from wallet_app.devnet import process  # noqa: E402
from wallet_app.devnet.deploy import TxBatch, contract, fund  # noqa: E402
from wallet_app.devnet.driver import DAY_S, STEPS, MarketDriver  # noqa: E402
from wallet_app.devnet.embedded import ensure_devnet  # noqa: E402
from wallet_app.devnet.reconstitution import devnet_engine  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402
from wallet_app.vault import VaultClient  # noqa: E402


def _history(paths: AppPaths) -> list[dict]:
    files = list((paths.data_dir / "operator").glob("*/journal.json"))
    return json.loads(files[0].read_text())["history"] if files else []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--weeks", type=int, default=4)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="g100-bench-op-"))
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    dev = ensure_devnet(paths, port=process.free_port())
    try:
        w3 = Web3(Web3.HTTPProvider(dev.node.rpc_url, request_kwargs={"timeout": 120}))
        driver = MarketDriver(paths, dev.node.rpc_url, dev.deployment)
        t0 = time.perf_counter()
        for _ in range(7 * args.weeks):
            driver.tick()
        ticks_s = time.perf_counter() - t0
        weekly = [h for h in _history(paths) if h["kind"] == "rebalance"]
        regime = [h for h in _history(paths) if h["kind"] == "regime"]
        recon = [h for h in weekly if h["summary"].get("entrants") or h["summary"].get("leavers")]

        # The keeper: one NAV refresh and one strike of one request, through the engine.
        client = ChainClient(dataclasses.replace(get_chain("devnet"), rpc_url=dev.node.rpc_url))
        vault = VaultClient(client, dev.deployment.vault, dev.deployment.lens)
        engine = devnet_engine(paths, w3, dev.deployment, vault)
        nav_gas, strike_gas = [], []
        from wallet_app.devnet.keys import devnet_keys

        user = devnet_keys().address(5)  # a devnet account, signed locally by TxBatch
        fund(w3, dev.deployment, user, Decimal(0), Decimal(10_000))
        usdc, vault_c = contract(w3, dev.deployment, "USDC"), contract(w3, dev.deployment,
                                                                         "IndexVault")
        for _ in range(3):
            engine._one_off("nav", engine._vault_call(
                "updateNav", [], 300_000 + 60_000 * len(dev.deployment.tokens), "updateNav"))
            nav_gas.append(_last_gas(paths, "nav", engine))
            tx = TxBatch(w3)
            amount = 100 * 10**6
            deadline = w3.eth.get_block("latest")["timestamp"] + 3600
            tx.send("approve", user, usdc.address, usdc.encode_abi(
                "approve", [dev.deployment.vault, amount]), 100_000)
            tx.send("requestBuy", user, dev.deployment.vault, vault_c.encode_abi(
                "requestBuy", [amount, 0, deadline]), 300_000)
            tx.wait()
            end = time.monotonic() + 60
            while not engine.strike_due(engine.now()) and time.monotonic() < end:
                time.sleep(0.5)
                w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            assert engine.keeper_tick() == "strike"
            strike_gas.append(_last_gas(paths, "strike", engine))
        interval = int(vault_c.functions.strikeInterval().call())
    finally:
        process.down(paths)

    def med(xs: list[int]) -> int:
        return int(statistics.median(xs)) if xs else 0

    nav, strike = med(nav_gas), med(strike_gas)
    idle_per_day = 86_400 // max(1, interval // 2)
    steps_per_day = int(86_400 / (DAY_S / STEPS))
    print(f"devnet weeks simulated: {args.weeks} ({7 * args.weeks} market days in "
          f"{ticks_s:.0f} s)")
    print(f"weekly rebalance, N = 100, median of {len(weekly)}: "
          f"{med([h['gas_used'] for h in weekly]):,} gas, "
          f"{med([h['transactions'] for h in weekly])} transactions "
          f"(max {max((h['gas_used'] for h in weekly), default=0):,} gas, "
          f"{max((h['transactions'] for h in weekly), default=0)} transactions)")
    for h in recon:
        print(f"  reconstitution {h['plan_id']}: +{','.join(h['summary']['entrants'])} "
              f"-{','.join(h['summary']['leavers'])}: {h['gas_used']:,} gas, "
              f"{h['transactions']} transactions")
    for h in regime:
        print(f"  regime switch {h['summary'].get('regime')}: {h['gas_used']:,} gas, "
              f"{h['transactions']} transactions")
    print(f"keeper: updateNav {nav:,} gas, strike of 1 request {strike:,} gas (medians of 3)")
    print(f"keeper gas per day, market paused (NAV every {interval // 2} s): "
          f"{idle_per_day * nav:,} ({idle_per_day} refreshes)")
    print(f"keeper gas per day, demo market running (NAV at each of {steps_per_day:,} price "
          f"steps): {steps_per_day * nav:,}; + {strike:,} per strike")
    return 0


def _last_gas(paths: AppPaths, kind: str, engine) -> int:  # noqa: ANN001
    """Gas of the keeper transaction just journaled (read back from the node)."""
    del paths, kind
    tx_hash = engine.journal.last_tx_hash
    return int(engine.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])


if __name__ == "__main__":
    raise SystemExit(main())
