"""Building the operator service from its config, its status, and the dry run.

Why here: the CLI stays a thin edge (argument parsing, printing), and the same builder
serves ``operator run``, ``operator status`` and ``operator run --dry-run``. Addresses come
from the deployment record (a file or the pinned one), never from the node; the vault's own
constituents (read from the pinned vault) and the config's listing candidates are the only
token addresses a leg may name.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..operator_plan import (
    DryRunLeg,
    DryRunPlan,
    MarketView,
    batches,
    check_plausible,
    leg_tuple,
    model_gas,
    plan_values,
    reconstitute,
)
from ..operator_service import OperatorConfig, OperatorConfigError, service_dir
from ..paths import AppPaths


def load_record(cfg: OperatorConfig, paths: AppPaths, chain_id: int) -> Any:
    from ..trust.record import DeploymentRecord, DeploymentStore

    if cfg.record_file:
        try:
            return DeploymentRecord.from_json(cfg.record_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise OperatorConfigError(f"Cannot read the deployment record {cfg.record_file} "
                                      f"({exc.strerror}).") from None
    record = DeploymentStore(paths).load(chain_id)
    if record is None:
        raise OperatorConfigError(f"No deployment pinned for chain {chain_id}: give "
                                  "--deployment FILE or `index-wallet deployment import`.")
    return record


@dataclasses.dataclass
class Built:
    w3: Any
    record: Any
    vault: Any
    folder: Path
    cfg: OperatorConfig


def connect(cfg: OperatorConfig, paths: AppPaths) -> Built:
    """Node, record (code hashes checked) and vault client, no key loaded."""
    from web3 import Web3

    from ..chain.provider import ChainClient
    from ..chain.registry import custom_chain
    from ..trust.record import verify_code
    from ..vault import VaultClient

    w3 = Web3(Web3.HTTPProvider(cfg.rpc_url, request_kwargs={"timeout": 60}))
    chain_id = int(w3.eth.chain_id)
    if cfg.chain_id is not None and int(cfg.chain_id) != chain_id:
        raise OperatorConfigError(f"The node at {cfg.rpc_url} serves chain {chain_id}, the "
                                  f"config says {cfg.chain_id}.")
    record = load_record(cfg, paths, chain_id)
    if record.chain_id != chain_id:
        raise OperatorConfigError(f"The deployment record is for chain {record.chain_id}, "
                                  f"the node serves {chain_id}.")
    client = ChainClient(custom_chain(cfg.rpc_url, chain_id, "operator"))
    verify_code(client, record)
    vault = VaultClient(client, record.vault, record.lens)
    return Built(w3, record, vault, service_dir(paths.data_dir, chain_id, record.vault), cfg)


def pinned_with_tokens(b: Built) -> Any:
    """The record plus the vault's constituents and the config's candidates as pinned
    token addresses (the operator's address check on rebalance legs)."""
    from web3 import Web3

    extra = dict(b.record.extra)
    for c in b.vault.snapshot().constituents:
        extra[f"token:{c.symbol}"] = c.token
    for sym, info in b.cfg.candidates.items():
        extra[f"token:{sym.upper()}"] = Web3.to_checksum_address(info["token"])
    return dataclasses.replace(b.record, extra=extra)


def market_source(cfg: OperatorConfig, paths: AppPaths, folder: Path) -> Any:

    from ..operator_market import (
        HISTORY_ASSETS,
        HISTORY_DAYS,
        CoinGeckoSource,
        DevnetSource,
        HistoryFile,
        SnapshotSource,
    )

    m = cfg.market
    history = HistoryFile(folder / "market_caps.csv", cfg.history)
    kind = m.get("source", "snapshot")
    if kind == "coingecko":
        from ..hardening import secret_env

        key = secret_env(m.get("api_key_env", "COINGECKO_API_KEY")) or ""
        return CoinGeckoSource(m.get("base_url"), history, api_key=key,
                               plan=m.get("plan", "demo"), pages=int(m.get("pages", 2)),
                               per_page=int(m.get("per_page", 250)),
                               history_assets=int(m.get("history_assets", HISTORY_ASSETS)),
                               history_days=int(m.get("history_days", HISTORY_DAYS)))
    if kind == "devnet":
        return DevnetSource(paths.devnet_dir / "market.json")
    if kind == "snapshot":
        f = m.get("file")
        return SnapshotSource(Path(f) if f else None, history)
    raise OperatorConfigError(f"Unknown market source {kind!r} (coingecko, snapshot, devnet).")


def build_service(cfg: OperatorConfig, paths: AppPaths) -> Any:
    """The running service: keys loaded, engine and loop wired."""
    from ..operator_engine import OperatorEngine
    from ..operator_journal import OperatorJournal
    from ..operator_keys import KeySource, OperatorSender, load_key, operator_guard
    from ..operator_service import OperatorService

    b = connect(cfg, paths)
    address, key = load_key(KeySource(cfg.keystore, cfg.keyring, cfg.password_file))
    snap = b.vault.snapshot()
    if address not in (snap.operator, snap.keeper):
        raise OperatorConfigError(f"The key's address {address} is neither the vault's "
                                  f"operator ({snap.operator}) nor its keeper.")
    pinned = pinned_with_tokens(b)
    sender = OperatorSender(b.w3, b.record.chain_id, address, key,
                            operator_guard(pinned, address))
    governance = None
    if cfg.governance_keystore:
        g_addr, g_key = load_key(KeySource(cfg.governance_keystore, None,
                                           cfg.governance_password_file or cfg.password_file))
        governance = OperatorSender(b.w3, b.record.chain_id, g_addr, g_key,
                                    operator_guard(pinned, g_addr))

    def listing(symbol: str, _price: Any) -> tuple[str, str, int] | None:
        info = cfg.candidates.get(symbol.upper()) or cfg.candidates.get(symbol)
        if not info:
            return None
        return info["token"], info["feed"], int(info.get("heartbeat", 86_400))

    if cfg.market.get("source") == "devnet":
        listing = _devnet_listing(paths, b, lambda: engine)
    engine = OperatorEngine(b.w3, b.vault, OperatorJournal(b.folder), sender,
                            timelock=b.record.timelock, governance=governance,
                            listing=listing, batch_size=cfg.batch_size,
                            slippage_bps=cfg.slippage_bps)
    if cfg.market.get("source") != "devnet":  # the devnet's market driver records its own
        engine.snapshot_hooks.append(snapshot_recorder(paths, b, cfg))
    return OperatorService(engine, market_source(cfg, paths, b.folder), b.folder,
                           poll_s=cfg.poll_s)


def snapshot_recorder(paths: AppPaths, b: Built, cfg: OperatorConfig) -> Any:
    """The hook that records a rebalance's market snapshot before its first leg, where the
    rule verifier (``index-wallet index verify``) reads it: the assets the plan was made
    from, the members before (the buffer rule), the market-cap history behind the regime,
    and the targets the plan sets. Without it a holder on a real chain had nothing to
    check the vault against."""
    from ..index.snapshot_record import RebalanceSnapshot, record
    from ..operator_market import HistoryFile

    history = HistoryFile(b.folder / "market_caps.csv", cfg.history)

    def hook(view: Any, recon: Any) -> None:
        snap = b.vault.snapshot()
        head = b.w3.eth.get_block("latest")
        members = {c.symbol.upper() for c in snap.constituents}
        previous = tuple(a.id for a in view.assets if a.symbol.upper() in members)
        record(paths, RebalanceSnapshot(
            chain_id=b.record.chain_id, vault=b.record.vault, block=int(head["number"]),
            timestamp=int(head["timestamp"]), market_day=str(view.as_of)[:10],
            kind="rebalance", assets=tuple(view.assets), previous=previous,
            series=tuple(history.points()), targets_bps=dict(recon.weights),
            regime=snap.regime.value))

    return hook


def _devnet_listing(paths: AppPaths, b: Built, engine: Any) -> Any:
    """On the devnet an entrant has no market yet: deploy its token, feed and pool (the
    devnet's market maker), then list it like on any chain."""
    from decimal import Decimal

    from ..devnet.deploy import Deployment
    from ..devnet.market_clock import MarketClock
    from ..devnet.reconstitution import provision_market, with_tokens
    from ..operator_keys import operator_guard

    dep_file = paths.devnet_dir / "deployment.json"

    def listing(symbol: str, price: Any) -> tuple[str, str, int] | None:
        dep = Deployment.load(dep_file)
        clock = MarketClock.load(paths.devnet_dir / "market.json")
        if clock is None or dep.vault != b.record.vault:
            return None
        p = Decimal(str(price)) if price is not None else clock.all_prices().get(symbol)
        if p is None:
            return None
        info = provision_market(b.w3, dep, dep_file, symbol,
                                clock.bench_names.get(symbol, symbol), p)
        eng = engine()
        eng.sender.guard = operator_guard(with_tokens(pinned_with_tokens(b), dep),
                                          eng.sender.address)
        return info.address, info.feed, int(dep.params.get("heartbeat", "86400"))

    return listing


# ---------------------------------------------------------------------- dry run


def dry_run(cfg: OperatorConfig, paths: AppPaths, *, operator: str | None = None) -> DryRunPlan:
    """The rebalance the service would make now: legs with the pools' prices against the
    oracle, transactions and gas. Signs nothing and sends nothing (eth_call and
    eth_estimateGas only)."""
    from ..devnet import artifacts

    b = connect(cfg, paths)
    view: MarketView = market_source(cfg, paths, b.folder).snapshot()
    snap = b.vault.snapshot()
    sender = operator or snap.operator
    cons = {c.symbol.upper(): c for c in snap.constituents}
    recon = reconstitute(view, list(cons))
    check_plausible(recon, list(cons))
    vault_c = b.w3.eth.contract(address=b.record.vault, abi=artifacts.load("IndexVault").abi)
    router = b.w3.eth.contract(address=vault_c.functions.router().call(),
                               abi=artifacts.load("UniswapV2Router02").abi)
    from ..operator_plan import OnChainConstituent

    members = [OnChainConstituent(s, c.token, c.decimals, c.target_bps, c.balance, c.price18,
                                  c.value) for s, c in cons.items()]
    plan = plan_values(members, snap.cash, snap.usdc_decimals, recon.weights, snap.regime)
    legs: list[DryRunLeg] = []
    sells: list[dict] = []
    for leg in plan.legs:
        c = cons.get(leg.asset_id)
        d = DryRunLeg(leg.asset_id, leg.side, leg.usdc)
        if c is None:
            d.note = "entrant: listed through the timelock first"
            legs.append(d)
            continue
        price = Decimal(c.price18).scaleb(-18)
        try:
            if leg.side == "sell":
                amount = c.balance if leg.full_exit else min(
                    c.balance, int((leg.usdc / price).scaleb(c.decimals)))
                out = router.functions.getAmountsOut(amount, [c.token, b.record.usdc]).call()[-1]
                d.expected_out = Decimal(out).scaleb(-snap.usdc_decimals)
                d.oracle_out = Decimal(amount).scaleb(-c.decimals) * price
                sells.append({"symbol": c.symbol, "token": c.token, "is_buy": False,
                              "amount": str(amount)})
            else:
                amount = int(leg.usdc.scaleb(snap.usdc_decimals))
                out = router.functions.getAmountsOut(amount, [b.record.usdc, c.token]).call()[-1]
                d.expected_out = Decimal(out).scaleb(-c.decimals)
                d.oracle_out = leg.usdc / price
            if d.oracle_out:
                d.slippage_bps = ((1 - d.expected_out / d.oracle_out) * 10_000).quantize(
                    Decimal("0.1"))
        except Exception:  # noqa: BLE001 - a pool that cannot quote is shown, not hidden
            d.note = "no pool quote"
        if leg.full_exit:
            d.note = (d.note + "; " if d.note else "") + "full exit (leaver)"
        legs.append(d)
    txs: list[dict] = []
    if recon.entrants:
        txs += [{"label": "timelock schedule addConstituents", "gas": 300_000,
                 "estimated": False},
                {"label": "timelock execute addConstituents",
                 "gas": 250_000 * len(recon.entrants) + 200_000, "estimated": False}]
    def estimate(label: str, data: str, model: int) -> dict:
        try:
            gas = int(b.w3.eth.estimate_gas({"from": sender, "to": b.record.vault,
                                             "data": data}))
            return {"label": label, "gas": gas, "estimated": True}
        except Exception:  # noqa: BLE001 - fall back to the measured model
            return {"label": label, "gas": model, "estimated": False}

    from ..operator_plan import target_weights

    weights = target_weights(list(cons), recon.weights)
    if weights != [c.target_bps for c in cons.values()]:
        txs.append(estimate("setTargetWeights",
                            vault_c.encode_abi("setTargetWeights", [weights]),
                            200_000 + 6_000 * len(cons)))
    import time

    deadline = int(time.time()) + 600
    for i, batch in enumerate(batches(sells, cfg.batch_size)):
        data = vault_c.encode_abi("rebalance", [[leg_tuple(x) for x in batch],
                                                cfg.slippage_bps, deadline])
        txs.append(estimate(f"rebalance sell {i + 1}", data, model_gas(len(batch))))
    n_buys = sum(1 for leg in plan.legs if leg.side == "buy")
    for i, _ in enumerate(batches([0] * n_buys, cfg.batch_size)):
        size = min(cfg.batch_size, n_buys - i * cfg.batch_size)
        txs.append({"label": f"rebalance buy {i + 1}", "gas": model_gas(size),
                    "estimated": False})
    if recon.leavers:
        txs += [{"label": "timelock schedule removeConstituent", "gas": 250_000,
                 "estimated": False},
                {"label": "timelock execute removeConstituent",
                 "gas": 150_000 * len(recon.leavers) + 200_000, "estimated": False}]
    txs.append(estimate("updateNav", vault_c.encode_abi("updateNav", []),
                        60_000 + 26_000 * len(cons)))
    return DryRunPlan(view.snapshot_hash, view.as_of, snap.regime.value, list(recon.entrants),
                      list(recon.leavers), legs, txs,
                      [f"{s.asset_id}: {s.reason}" for s in plan.skipped])
