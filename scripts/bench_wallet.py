#!/usr/bin/env python3
"""Wallet engine benchmark on a fresh devnet: prints the figures issue 6 names.

* devnet up (Anvil start + deploy of 100 constituents + seeding), seconds;
* RPC requests per dashboard refresh (NAV, 100 holdings with prices, user balances,
  regime, fees), counted at the provider;
* quote latency (median of 30), ms;
* buy from signature to confirmed receipt (median of 10), ms;
* one simulated market day (100 price moves + NAV refresh), seconds.

Run: ``.venv/bin/python scripts/bench_wallet.py`` (inside a keyring session, as
``scripts/bench.sh`` does). Nothing here asserts: it measures and prints.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wallet_app.config import Settings  # noqa: E402
from wallet_app.devnet import process  # noqa: E402
from wallet_app.devnet.embedded import ensure_devnet  # noqa: E402
from wallet_app.facade import WalletService  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402


def main() -> int:
    os.environ.setdefault("G100_TEST_SCRYPT_N", "1024")
    os.environ.setdefault("PYTEST_CURRENT_TEST", "bench")  # allows the fast scrypt only
    home = Path(tempfile.mkdtemp(prefix="g100-bench-"))
    paths = AppPaths(home / "data", home / "config", home / "logs").ensure()
    t0 = time.perf_counter()
    ensure_devnet(paths, port=process.free_port())
    up_s = time.perf_counter() - t0
    svc = WalletService(paths, Settings())
    name = f"bench-{secrets.token_hex(3)}"
    try:
        svc.create_wallet(name, "bench-Quartz-81-meadow")
        svc.connect()
        svc.faucet(eth=Decimal(50), usdc=Decimal(1_000_000))
        client = svc.session.client
        assert client is not None
        svc.index_state()
        svc.sync_events()
        with client.provider.measure() as m:
            state = svc.index_state()
            svc.sync_events()
        refresh_requests = m.requests
        quotes = []
        for _ in range(30):
            t = time.perf_counter()
            svc.quote_buy(Decimal("100"))
            quotes.append((time.perf_counter() - t) * 1000)
        buys = []
        for _ in range(10):
            q = svc.quote_buy(Decimal("100"))
            t = time.perf_counter()
            svc.buy(q)
            buys.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        svc.advance_market(1)
        tick_s = time.perf_counter() - t
        print("Wallet engine (devnet, 100 constituents)")
        print(f"  devnet up + deploy + seed:          {up_s:6.2f} s")
        print(f"  RPC requests per dashboard refresh: {refresh_requests:6d}"
              f"   ({len(state.holdings)} holdings)")
        print(f"  quote latency, median of 30:        {statistics.median(quotes):6.1f} ms")
        print(f"  buy, signature to receipt, median:  {statistics.median(buys):6.1f} ms")
        print(f"  one simulated market day:           {tick_s:6.2f} s")
    finally:
        svc.keys.delete(name, name)
        svc.close()
        process.down(paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
