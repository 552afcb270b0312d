#!/usr/bin/env python
"""The devnet's own transactions: RPC round trips and wall time per operation.

Why: the devnet's simulated market sends many transactions per price step (a feed update
and a pool arbitrage per asset), and every one is signed locally and broadcast raw. This
measures what that costs: a counting JSON-RPC proxy in front of a fresh Anvil counts the
HTTP round trips and the calls by method (``eth_sendTransaction`` must be 0), and the
same operations run again straight against the node for their wall time and this
process's CPU time (signing and encoding happen here; the node's work is not counted).

Operations: a price step of the demo market (every deployed asset moves: feeds, pool
arbitrage, the NAV refresh, the keeper), the operator's NAV refresh, and the faucet.

Run: ``.venv/bin/python scripts/bench_devnet_tx.py [--steps 5] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class CountingProxy:
    """A local HTTP proxy that forwards JSON-RPC to ``upstream`` and counts it."""

    def __init__(self, upstream: str) -> None:
        self.round_trips = 0
        self.methods: Counter[str] = Counter()
        self._lock = threading.Lock()
        client = httpx.Client(timeout=120)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = json.loads(body)
                with proxy._lock:
                    proxy.round_trips += 1
                    for r in req if isinstance(req, list) else [req]:
                        proxy.methods[r["method"]] += 1
                resp = client.post(upstream, content=body,
                                   headers={"Content-Type": "application/json"})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> tuple[int, Counter[str]]:
        with self._lock:
            out = (self.round_trips, self.methods)
            self.round_trips, self.methods = 0, Counter()
        return out


def _ops(paths: Any, rpc_url: str, dev: Any) -> dict[str, Any]:
    from web3 import Web3

    from wallet_app.devnet.deploy import fund
    from wallet_app.devnet.driver import MarketDriver

    driver = MarketDriver(paths, rpc_url, dev.deployment)
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 120}))
    return {
        "price_step": driver.step,
        "nav_refresh": driver.operator.refresh_nav,
        "faucet": lambda: fund(w3, dev.deployment, "0x000000000000000000000000000000000000dEaD",
                               Decimal(1), Decimal(10)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="repetitions of each operation")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from wallet_app.devnet import process
    from wallet_app.devnet.driver import MarketDriver
    from wallet_app.devnet.embedded import ensure_devnet
    from wallet_app.paths import AppPaths

    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="g100-bench-tx-") as tmp:
        paths = AppPaths(Path(tmp) / "data", Path(tmp) / "config", Path(tmp) / "logs").ensure()
        try:
            dev = ensure_devnet(paths, port=process.free_port())
            # Many steps per market day, so that no step closes the day (no rebalance).
            MarketDriver(paths, dev.node.rpc_url, dev.deployment).set_speed(30, 100_000)
            proxy = CountingProxy(dev.node.rpc_url)
            counted, direct = _ops(paths, proxy.url, dev), _ops(paths, dev.node.rpc_url, dev)
            for name in counted:
                trips, calls, times = [], Counter(), []
                for _ in range(args.steps):
                    proxy.take()
                    counted[name]()
                    n, methods = proxy.take()
                    trips.append(n)
                    calls.update(methods)
                cpu = []
                for _ in range(args.steps):
                    t0, c0 = time.perf_counter(), time.process_time()
                    direct[name]()
                    times.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                report[name] = {
                    "round_trips_median": statistics.median(trips),
                    "round_trips": trips,
                    "wall_s_median": round(statistics.median(times), 3),
                    "wall_s": [round(t, 3) for t in times],
                    # this process's CPU (signing, encoding; the node's is not counted)
                    "cpu_s_median": round(statistics.median(cpu), 3),
                    "calls_per_run": {m: round(c / args.steps, 1)
                                      for m, c in sorted(calls.items())},
                }
        finally:
            process.down(paths)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, r in report.items():
            sends = {m: r["calls_per_run"].get(m, 0)
                     for m in ("eth_sendTransaction", "eth_sendRawTransaction")}
            print(f"{name}: {r['round_trips_median']} round trips (median of "
                  f"{len(r['round_trips'])}), wall {r['wall_s_median']} s, client CPU "
                  f"{r['cpu_s_median']} s; {sends}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
