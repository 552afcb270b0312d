"""The embedded devnet: one call from nothing to a running, deployed, seeded index.

``ensure_devnet`` starts Anvil (or reuses the running node), deploys the market and the
vault with the current composition from the app's snapshot (100 constituents), seeds the
vault so the index holds real positions, records the deployment and the market clock in
the data dir, pins the deployment (a :class:`~wallet_app.trust.DeploymentRecord` with the
vault's and lens's code hashes, which the wallet checks on every connect), and optionally
funds an address with test ETH and USDC. A second call on a running devnet only checks
that the recorded contracts are still there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from web3 import Web3

from ..errors import DevnetError
from ..index import compose, compute_regime
from ..market.snapshot import load_app_snapshot
from ..models import Regime
from ..paths import AppPaths, app_paths
from . import process
from .deploy import ConstituentSpec, Deployment, deploy_market, fund
from .market_clock import MarketClock

log = logging.getLogger(__name__)

#: USDC the devnet's market maker invests in the index at start, so it holds positions.
SEED_USDC = Decimal(1_000_000)
DEFAULT_SEED = 65  # Bull at the anchor (gauge ~64), first flip to Bear 23 days later
#: Decimals assigned to the test tokens: real ones where well known, else a fixed cycle, so
#: that the devnet exercises 6, 8 and 18 decimals deterministically.
KNOWN_DECIMALS = {"BTC": 8, "ETH": 18, "USDC": 6, "DOGE": 8, "SOL": 9, "ADA": 6, "TRX": 6,
                  "XRP": 6, "LTC": 8, "BCH": 8}
CYCLE = (18, 8, 6)


@dataclass(frozen=True)
class Devnet:
    node: process.NodeInfo
    deployment: Deployment
    clock: MarketClock
    started: bool
    deployed: bool


def deployment_path(paths: AppPaths) -> Path:
    return paths.devnet_dir / "deployment.json"


def clock_path(paths: AppPaths) -> Path:
    return paths.devnet_dir / "market.json"


def snapshot_specs() -> tuple[list[ConstituentSpec], dict[str, Decimal], str]:
    """Constituent specs from the app snapshot's composition, plus anchor caps and date."""
    snap = load_app_snapshot()
    comp = compose(snap.assets)
    specs, caps, seen = [], {}, set()
    for i, c in enumerate(comp.constituents):
        sym = c.symbol.upper()
        if sym in seen:  # two assets sharing a ticker: keep them apart on the devnet
            sym = f"{sym}{i}"
        seen.add(sym)
        decimals = KNOWN_DECIMALS.get(sym, CYCLE[i % len(CYCLE)])
        if decimals == 9:
            decimals = 18
        specs.append(ConstituentSpec(symbol=sym, name=c.name, decimals=decimals,
                                     price_usd=c.price, weight_bps=c.weight_bps))
        caps[sym] = c.market_cap
    return specs, caps, snap.as_of.date().isoformat()


def pin_devnet(paths: AppPaths, w3: Web3, deployment: Deployment) -> None:
    """Write the devnet's deployment record (replacing an older devnet's): this is the
    user's own `devnet up` on the node the app just started, so it may repoint the pin."""
    from ..trust.record import DeploymentStore, record_from_chain

    record = record_from_chain(
        w3, chain_id=deployment.chain_id, vault=deployment.vault, lens=deployment.lens,
        usdc=deployment.usdc, deployment_block=deployment.block_number,
        timelock=deployment.timelock, label="devnet", abi="v2")
    DeploymentStore(paths).save(record, replace=True)


def _alive(w3: Web3, deployment: Deployment) -> bool:
    try:
        return len(w3.eth.get_code(deployment.vault)) > 0
    except Exception:  # noqa: BLE001 - any failure means "redeploy"
        return False


def ensure_devnet(
    paths: AppPaths | None = None,
    *,
    port: int | None = None,
    fund_address: str | None = None,
    fund_eth: Decimal = Decimal(10),
    fund_usdc: Decimal = Decimal(100_000),
    seed: int = DEFAULT_SEED,
    history_csv: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Devnet:
    """Start, deploy and seed the devnet as needed; idempotent.

    ``history_csv`` drives the price replay with real daily closes (e.g.
    ``../shared/data/market/daily_ohlcv_2020-2025.csv``) instead of the seeded market.
    """
    paths = (paths or app_paths()).ensure()
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    say("Starting the local devnet (Anvil)")
    node, started = process.up(paths, port=port)
    w3 = Web3(Web3.HTTPProvider(node.rpc_url, request_kwargs={"timeout": 60}))
    dep_file, clock_file = deployment_path(paths), clock_path(paths)
    deployment = Deployment.load(dep_file) if dep_file.is_file() else None
    clock = MarketClock.load(clock_file)
    deployed = False
    if deployment is None or clock is None or not _alive(w3, deployment):
        specs, caps, anchor = snapshot_specs()
        say(f"Deploying USDC, Uniswap V2, {len(specs)} markets, the vault and the lens")
        deployment = deploy_market(w3, specs)
        deployment.save(dep_file)
        from datetime import date

        clock = MarketClock.new(seed, date.fromisoformat(anchor), caps,
                                {s.symbol: s.price_usd for s in specs}, history_csv)
        from .reconstitution import bench_from_snapshot

        # The assets ranked just below the index, priced by the replay: some rise into
        # the top 100 and members fall out, so the devnet shows reconstitution.
        clock.bench_caps, clock.bench_prices, clock.bench_names = bench_from_snapshot(
            list(load_app_snapshot().assets), set(caps))
        clock.save(clock_file)
        say("Seeding the index: the market maker buys in and the operator invests")
        seed_index(w3, deployment, clock)
        deployed = True
    from ..trust.record import DeploymentStore

    pinned = DeploymentStore(paths).load(deployment.chain_id)
    if deployed or pinned is None or pinned.vault != deployment.vault or pinned.abi != "v2":
        pin_devnet(paths, w3, deployment)
    if fund_address:
        say(f"Funding {fund_address} with {fund_eth} ETH and {fund_usdc} USDC")
        fund(w3, deployment, fund_address, fund_eth, fund_usdc)
    log.info("devnet ready in %.1f s (deployed=%s)", time.perf_counter() - t0, deployed)
    return Devnet(node, deployment, clock, started, deployed)


def seed_index(w3: Web3, deployment: Deployment, clock: MarketClock) -> None:
    """Give the index holdings: set the regime from the replay, buy in, rebalance."""
    from ..chain.provider import ChainClient
    from ..chain.registry import get_chain
    from ..operator import Operator
    from ..vault import VaultClient
    from .deploy import TxBatch, contract

    chain = get_chain("devnet")
    client = ChainClient(type(chain)(**{**chain.__dict__, "rpc_url": w3.provider.endpoint_uri}))
    vault = VaultClient(client, deployment.vault, deployment.lens)
    op = Operator(w3, deployment, vault)
    latest = compute_regime(clock.market_series()).latest
    if latest is not None and latest.gauge.state is Regime.BEAR:
        op.set_regime(Regime.BEAR)
    maker = deployment.roles["deployer"]
    fund(w3, deployment, maker, Decimal(0), SEED_USDC)
    usdc = contract(w3, deployment, "USDC")
    vault_c = contract(w3, deployment, "IndexVault")
    amount = int(SEED_USDC.scaleb(6))
    tx = TxBatch(w3)
    tx.send("seed approve", maker, usdc.address,
            usdc.encode_abi("approve", [deployment.vault, amount]), 100_000)
    # The vault holds only cash yet, so its NAV is exact and the ERC-4626 instant deposit
    # is open: the seed needs no strike.
    tx.send("seed buy", maker, deployment.vault,
            vault_c.encode_abi("deposit", [amount, maker]), 400_000)
    tx.wait()
    op.rebalance()


def require_devnet(paths: AppPaths | None = None) -> tuple[process.NodeInfo, Deployment]:
    """The running devnet and its deployment, or a clear error saying how to start it."""
    paths = paths or app_paths()
    node = process.status(paths)
    dep_file = deployment_path(paths)
    if node is None or not dep_file.is_file():
        raise DevnetError("The devnet is not running. Start it with `index-wallet devnet up`.")
    return node, Deployment.load(dep_file)
