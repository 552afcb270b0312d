"""The devnet's side of reconstitution, and the devnet's operator service.

Why: on a real chain an entrant already has a token, a Chainlink feed and a DEX pool, named
in the operator's config. The devnet has only what it deployed, so when the replay makes a
bench asset rise into the top 100, :func:`provision_market` deploys its token, feed and
Uniswap V2 pool (through ``DevMarketSeeder``, the devnet's market maker: account 0) at the
replay's price, and records it in the devnet's deployment. The vault listing itself is the
operator service's job (through the timelock, like on any chain).

:func:`devnet_engine` builds the same :class:`~wallet_app.operator_engine.OperatorEngine`
that ``index-wallet operator run`` uses, with keys the service signs with locally: the
devnet operator's and owner's keys are accounts 2 and 1 of Anvil's public test mnemonic,
derived by :mod:`.keys` (their addresses are checked against the deployment's roles),
never the node's unlocked accounts.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from ..index import compose
from ..index.eligibility import screen
from ..index.inputs import MarketAsset
from ..index.selection import rank_eligible
from ..paths import AppPaths
from . import artifacts
from .deploy import (
    DEFAULT_MIN_POOL_USDC,
    USDC_DECIMALS,
    Deployment,
    TokenInfo,
    TxBatch,
    feed_answer,
    feed_decimals_for,
    to_units,
)
from .market_clock import MarketClock

log = logging.getLogger(__name__)

BENCH_SIZE = 40
BENCH_CYCLE = (18, 8, 6)
#: USDC in a new entrant's pool (deep enough for the index's buy).
ENTRANT_POOL_USDC = Decimal(2_000_000)


def bench_from_snapshot(assets: list[MarketAsset], members: set[str]
                        ) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The eligible assets ranked right after the index's at the anchor (caps, prices,
    names by symbol); symbols already used by members are skipped."""
    ranked = rank_eligible(screen(assets).eligible)
    chosen = {c.id for c in compose(assets).constituents}
    caps, prices, names = {}, {}, {}
    for r in ranked:
        a = r.asset
        sym = a.symbol.upper()
        if a.id in chosen or sym in members or sym in caps or not sym.isalnum():
            continue
        caps[sym], prices[sym], names[sym] = str(a.market_cap), str(a.current_price), a.name
        if len(caps) >= BENCH_SIZE:
            break
    return caps, prices, names


def devnet_market_assets(clock: MarketClock) -> list[MarketAsset]:
    """The devnet's market today in ``/coins/markets`` terms: members and bench, each at
    its anchor market cap moved by the replay's price (supply held constant)."""
    prices = clock.all_prices()
    p = clock.paths()
    anchor = p.anchor_index
    bench = clock.bench_paths()
    out = []
    for caps, names, paths in ((clock.caps, {}, p), (clock.bench_caps, clock.bench_names,
                                                     bench)):
        if paths is None:
            continue
        for sym, cap0 in caps.items():
            series = paths.prices.get(sym)
            if not series or sym not in prices:
                continue
            cap = Decimal(cap0) * prices[sym] / series[anchor]
            out.append(MarketAsset(id=sym.lower(), symbol=sym, name=names.get(sym, sym),
                                   current_price=prices[sym], market_cap=cap,
                                   total_volume=max(cap / 20, Decimal(10_000_000))))
    return out


def provision_market(w3: Web3, deployment: Deployment, dep_file: Path | None, symbol: str,
                     name: str, price: Decimal) -> TokenInfo:
    """Deploy a token, feed and seeded USDC pool for an entrant (idempotent per symbol)."""
    sym = symbol.upper()
    for t in deployment.tokens:
        if t.symbol.upper() == sym:
            return t
    known = dict(deployment.params)
    if f"market:{sym}" in known:  # provisioned earlier but not (yet) a constituent
        return TokenInfo.from_dict(__import__("json").loads(known[f"market:{sym}"]))
    decimals = BENCH_CYCLE[sum(map(ord, sym)) % len(BENCH_CYCLE)]
    fd = feed_decimals_for(price)
    answer = feed_answer(price, fd)
    usdc_units = to_units(max(ENTRANT_POOL_USDC, DEFAULT_MIN_POOL_USDC), USDC_DECIMALS)
    token_units = usdc_units * 10**decimals * 10**fd // (answer * 10**USDC_DECIMALS)
    deployer = deployment.roles["deployer"]
    seeder = w3.eth.contract(address=deployment.addresses["DevMarketSeeder"],
                             abi=artifacts.load("DevMarketSeeder").abi)
    usdc = w3.eth.contract(address=deployment.usdc, abi=artifacts.load("DevUSDC").abi)
    tx = TxBatch(w3)
    tx.send(f"USDC for {sym} pool", deployer, usdc.address,
            usdc.encode_abi("mint", [seeder.address, usdc_units]), 200_000)
    tx.send(f"market {sym}", deployer, seeder.address,
            seeder.encode_abi("createMarkets", [[(name, sym, decimals, fd, answer, token_units,
                                                  usdc_units)], deployer]), 6_000_000)
    receipt = tx.wait()[-1]
    ev = seeder.events.MarketCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]
    info = TokenInfo(symbol=sym, name=name, decimals=decimals,
                     address=Web3.to_checksum_address(ev["token"]),
                     feed=Web3.to_checksum_address(ev["feed"]), feed_decimals=fd,
                     pair=Web3.to_checksum_address(ev["pair"]), weight_bps=0,
                     initial_price_usd=price,
                     pool_usdc=Decimal(usdc_units).scaleb(-USDC_DECIMALS))
    deployment.params[f"market:{sym}"] = __import__("json").dumps(info.to_dict())
    if dep_file is not None:
        deployment.save(dep_file)
    log.info("devnet market for entrant %s deployed: token %s", sym, info.address)
    return info


def sync_tokens(deployment: Deployment, vault: Any, dep_file: Path | None) -> None:
    """Make the deployment's token list the vault's constituents (after a listing or a
    removal), keeping provisioned markets' details; saved when it changed."""
    import json

    by_addr = {t.address: t for t in deployment.tokens}
    for k, v in deployment.params.items():
        if k.startswith("market:"):
            t = TokenInfo.from_dict(json.loads(v))
            by_addr.setdefault(t.address, t)
    snap = vault.snapshot()
    tokens = [replace(by_addr[c.token], weight_bps=c.target_bps)
              for c in snap.constituents if c.token in by_addr]
    if [t.address for t in tokens] != [t.address for t in deployment.tokens]:
        deployment.tokens = tokens
        if dep_file is not None:
            deployment.save(dep_file)


def devnet_engine(paths: AppPaths, w3: Web3, deployment: Deployment, vault: Any,
                  stop: Any = None) -> Any:
    """The operator service's engine on the devnet (journal in the app's data dir)."""
    from ..operator_engine import OperatorEngine
    from ..operator_journal import OperatorJournal
    from ..operator_keys import OperatorSender, operator_guard
    from ..trust.record import DeploymentStore
    from .embedded import deployment_path
    from .keys import devnet_keys

    record = DeploymentStore(paths).load(deployment.chain_id)
    if record is None or record.vault != deployment.vault:
        from ..trust.record import record_from_chain

        record = record_from_chain(w3, chain_id=deployment.chain_id, vault=deployment.vault,
                                   lens=deployment.lens, usdc=deployment.usdc,
                                   deployment_block=deployment.block_number,
                                   timelock=deployment.timelock, label="devnet", abi="v2")

    def sender(role: str, role_key: str) -> OperatorSender:
        key = devnet_keys().key_copy(role_key)
        addr = Account.from_key(key.reveal()).address
        if addr != deployment.roles[role]:
            key.wipe()
            raise RuntimeError(f"the devnet's {role} is not the test mnemonic's account")
        return OperatorSender(w3, deployment.chain_id, addr, key,
                              operator_guard(with_tokens(record, deployment), addr))

    dep_file = deployment_path(paths)
    clock_file = paths.devnet_dir / "market.json"

    def listing(symbol: str, price: Any) -> tuple[str, str, int] | None:
        clock = MarketClock.load(clock_file)
        if clock is None:
            return None
        p = Decimal(str(price)) if price is not None else clock.all_prices().get(symbol)
        if p is None:
            return None
        name = clock.bench_names.get(symbol, symbol)
        info = provision_market(w3, deployment, dep_file, symbol, name, p)
        # The new token must pass the operator's address check from now on.
        engine.sender.guard = operator_guard(with_tokens(record, deployment),
                                             engine.sender.address)
        return info.address, info.feed, int(deployment.params.get("heartbeat", "86400"))

    journal = OperatorJournal(paths.data_dir / "operator" /
                              f"{deployment.chain_id}-{deployment.vault.lower()}")
    engine = OperatorEngine(w3, vault, journal, sender("operator", "operator"),
                            timelock=deployment.timelock,
                            governance=sender("owner", "owner"), listing=listing, stop=stop)
    return engine


def with_tokens(record: Any, deployment: Deployment) -> Any:
    """The pinned record plus the deployment's constituent tokens (and provisioned
    markets) as extra pinned roles, for the operator's address check on rebalance legs."""
    import json

    extra = dict(record.extra)
    for t in deployment.tokens:
        extra[f"token:{t.symbol}"] = t.address
    for k, v in deployment.params.items():
        if k.startswith("market:"):
            t = json.loads(v)
            extra[f"token:{t['symbol']}"] = Web3.to_checksum_address(t["address"])
    return replace(record, extra=extra)
