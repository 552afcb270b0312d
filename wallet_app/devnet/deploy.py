"""Deploy the devnet market and the index (vault + lens) on a local Anvil node.

What :func:`deploy_market` puts on chain, from a list of :class:`ConstituentSpec`:

* the market: ``DevUSDC`` (6 decimals, EIP-2612 permit), the real Uniswap V2 ``WETH9``,
  ``UniswapV2Factory`` and ``UniswapV2Router02`` (bytecode from the npm packages' build JSON),
  our ``Multicall3``; per constituent, through ``DevMarketSeeder`` (up to 25 per
  transaction), a ``DevToken``, a ``DevPriceFeed`` at the spec's price and a USDC pool seeded
  at exactly that price;
* the index, by the deployer of every other chain (:mod:`wallet_app.deploy`) from a config
  naming that market (:func:`devnet_index_config`): ``IndexBook``, ``IndexLens``, the
  ``TimelockController`` (zero delay here) and ``IndexVault``, its constituents, limits,
  target weights and a first NAV refresh, signed locally with account 0's key.

Roles are accounts of Anvil's public test mnemonic (the devnet's own keys, derived
locally by :mod:`.keys`, never a user's): account 0 deploys and is the faucet (USDC and
token minter, feed writer, LP holder), 1 proposes and executes on the timelock that owns
the vault, 2 operates it, 3 is its guardian; fees go to account 1. Every transaction, the
market's and the index's, is signed locally and sent raw, as on any chain: the node needs
no unlocked account (Anvil with ``--accounts 0`` works once these accounts hold ETH).

Speed: the market is 8 transactions signed and sent as one JSON-RPC batch with explicit
nonces and gas limits; the index's 16 (at 100 constituents) are pipelined (gas limits
from the plan, receipts awaited at the end); :attr:`Deployment.deploy_seconds` records
the total.

:func:`set_price` / :func:`set_prices` drive the market from a price replay: they write the
feed and trade the pool to the new price with a real swap against the pair (the arbitrage a
live market would do). Money is ``Decimal`` or integer base units throughout, never float.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from ..deploy.bytecode import BOOK_LIBRARY, ZERO_ADDRESS  # noqa: F401 - re-exported
from ..deploy.bytecode import create_address as _create_address
from ..deploy.bytecode import deploy_data as _deploy_data
from ..errors import DevnetError
from . import artifacts
from .deployment import (  # noqa: F401 - re-exported: callers import them from here
    ConstituentSpec,
    Deployment,
    TokenInfo,
    deployment_path,
)
from .market_moves import (  # noqa: F401 - re-exported: callers import them from here
    STRIKE_BATCH,
    fund,
    pool_price,
    refresh,
    set_price,
    set_prices,
    strike,
)
from .tx_batch import TxBatch, contract, timelock_calls, token_contract  # noqa: F401
from .units import (  # noqa: F401 - re-exported: callers import them from here
    FEED_DECIMALS,
    FEED_DECIMALS_SMALL,
    MAX_RESERVE,
    USDC_DECIMALS,
    feed_answer,
    feed_decimals_for,
    to_units,
)

log = logging.getLogger(__name__)

VAULT_NAME = "TM Global 100"
VAULT_SYMBOL = "G100"
#: Devnet limits (set through the timelock at deploy). The request cut-off is short so the
#: demo stays quick yet a request can still be cancelled right after it is made.
DEVNET_MIN_REQUEST_AGE = 5
DEVNET_STRIKE_INTERVAL = 60
DEVNET_REBALANCE_SLIPPAGE_BPS = 100
DEVNET_LOSS_BUDGET_BPS = 200
DEVNET_MAX_DEVIATION_BPS = 5_000
#: Gas budgeted per market created by the seeder (token + feed + pair + first mint ~4.1M).
GAS_PER_MARKET = 5_000_000
MAX_MARKETS_PER_TX = 25

#: Default total USDC across all pools, split by target weight. A pool must be several
#: hundred times the size of a rebalance leg for the vault's 1% slippage budget (the pool
#: fee alone is 0.3%): with 200M USDC, a 100k USDC index trade moves every pool ~0.1%.
DEFAULT_POOL_DEPTH_USDC = Decimal(200_000_000)
#: Floor of each pool's USDC side, so that tiny weights still get a usable market.
DEFAULT_MIN_POOL_USDC = Decimal(250_000)


# ----------------------------------------------------------------------- helpers


def synthetic_constituents(n: int) -> list[ConstituentSpec]:
    """A deterministic N-asset market for tests and benchmarks: decimals cycle 18/8/6,
    prices spread from 60,000 to 0.0004 USD, weights as equal as integer bps allow."""
    prices = ["60000", "3000", "1", "0.5", "150", "0.0004", "25", "7.5"]
    decimals = [18, 8, 6]
    base, rest = divmod(10_000, n)
    return [
        ConstituentSpec(
            symbol=f"T{i:03d}",
            name=f"Test Token {i}",
            decimals=decimals[i % 3],
            price_usd=Decimal(prices[i % len(prices)]),
            weight_bps=base + (1 if i < rest else 0),
        )
        for i in range(n)
    ]


def _validate(constituents: Sequence[ConstituentSpec]) -> None:
    if not constituents:
        raise ValueError("at least one constituent is needed")
    if len(constituents) > 128:
        raise ValueError("the vault holds at most 128 constituents")
    symbols = [c.symbol.upper() for c in constituents]
    if len(set(symbols)) != len(symbols):
        raise ValueError("constituent symbols must be unique")
    total = sum(c.weight_bps for c in constituents)
    if total != 10_000:
        raise ValueError(f"target weights sum to {total} bps, not 10,000")
    for c in constituents:
        if not 0 <= c.decimals <= 18:
            raise ValueError(f"{c.symbol}: decimals must be 0..18")
        if c.price_usd <= 0 or c.weight_bps < 0:
            raise ValueError(f"{c.symbol}: price must be positive and weight non-negative")










def _roles(w3: Web3) -> dict[str, str]:
    """The devnet's roles: accounts 0-3 of the test mnemonic, derived here (the node's
    accounts are never asked); each must hold ETH for gas."""
    from .keys import devnet_keys

    roles = devnet_keys().roles()
    if int(w3.eth.get_balance(roles["deployer"])) == 0:
        raise DevnetError(
            f"The devnet deployer {roles['deployer']} holds no ETH. Start Anvil with its "
            "default test mnemonic, or fund the devnet accounts (anvil_setBalance)."
        )
    return roles


def _pool_usdc(spec: ConstituentSpec, depth: Decimal, floor: Decimal) -> int:
    share = (depth * spec.weight_bps / 10_000).quantize(Decimal(1), rounding=ROUND_DOWN)
    return to_units(max(share, floor), USDC_DECIMALS)


def devnet_index_config(constituents: Sequence[ConstituentSpec], tokens: Sequence[str],
                        feeds: Sequence[str], pairs: Sequence[str], roles: Mapping[str, str],
                        *, usdc: str, router: str, heartbeat: int, buy_fee_bps: int,
                        sell_fee_bps: int, min_request_age: int,
                        strike_interval: int) -> Any:
    """The devnet's index as a deployment config (the format of ``index-wallet deploy``):
    the owner account proposes and executes with a zero delay, fees go to the owner."""
    from ..deploy.config import config_from_dict

    return config_from_dict({
        "label": "devnet", "chain_id": 31337, "name": VAULT_NAME, "symbol": VAULT_SYMBOL,
        "usdc": usdc, "router": router,
        "fees": {"buy_bps": buy_fee_bps, "sell_bps": sell_fee_bps},
        "roles": {"guardian": roles["guardian"], "operator": roles["operator"],
                  "fee_recipient": roles["fee_recipient"]},
        "timelock": {"delay": 0, "proposers": [roles["owner"]],
                     "executors": [roles["owner"]]},
        "keeper": {"strike_interval": strike_interval, "min_request_age": min_request_age},
        "limits": {"max_rebalance_slippage_bps": DEVNET_REBALANCE_SLIPPAGE_BPS,
                   "loss_budget_bps": DEVNET_LOSS_BUDGET_BPS,
                   # the devnet operator trades in several batches at once
                   "rebalance_cooldown": 0,
                   "max_price_deviation_bps": DEVNET_MAX_DEVIATION_BPS},
        "constituents": [{"symbol": c.symbol, "token": t, "feed": f, "heartbeat": heartbeat,
                          "weight_bps": c.weight_bps,
                          "route": {"dex": "uniswap-v2", "pair": p}}
                         for c, t, f, p in zip(constituents, tokens, feeds, pairs,
                                               strict=True)]})


def _deploy_index(w3: Web3, constituents: Sequence[ConstituentSpec], tokens: Sequence[str],
                  feeds: Sequence[str], created: Sequence[tuple[str, str, str]],
                  roles: Mapping[str, str], **kw: Any) -> Any:
    import tempfile

    from ..deploy import runner
    from .keys import devnet_keys

    cfg = devnet_index_config(constituents, tokens, feeds,
                              [Web3.to_checksum_address(p) for _, _, p in created], roles, **kw)
    signer = devnet_keys().for_address(roles["deployer"])
    if signer is None:
        raise DevnetError("The devnet's deployer is not the test mnemonic's account 0.")
    with tempfile.TemporaryDirectory(prefix="g100-devnet-deploy-") as tmp:
        return runner.deploy(w3, cfg, signer, Path(tmp) / "journal.json",
                             pipeline=True, check=False, durable=False)


# ------------------------------------------------------------------------- deploy


def deploy_market(
    w3: Web3,
    constituents: Sequence[ConstituentSpec],
    *,
    pool_depth_usdc: Decimal = DEFAULT_POOL_DEPTH_USDC,
    min_pool_usdc: Decimal = DEFAULT_MIN_POOL_USDC,
    heartbeat: int = 86_400,
    buy_fee_bps: int = 25,
    sell_fee_bps: int = 25,
    min_request_age: int = DEVNET_MIN_REQUEST_AGE,
    strike_interval: int = DEVNET_STRIKE_INTERVAL,
) -> Deployment:
    """Deploy USDC, Uniswap V2, the markets, Multicall3, the vault and the lens.

    ``pool_depth_usdc`` is the total USDC seeded across all pools, split by target weight,
    each pool at least ``min_pool_usdc`` (its token side is the same value at the spec's
    price, so pools open exactly at the feed price). ``heartbeat`` is every feed's allowed
    age in seconds. The vault's owner is OpenZeppelin's ``TimelockController`` (min delay
    0 on the devnet, the owner account its only proposer and executor, no admin); every
    owner call below goes through it (schedule, then execute). ``min_request_age`` is the
    requests' cut-off (cancellable before it, struck after it) and ``strike_interval`` the
    keeper's advertised cadence, both in seconds.
    """
    _validate(constituents)
    started = time.perf_counter()
    roles = _roles(w3)
    deployer = roles["deployer"]
    chain_id = w3.eth.chain_id
    gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
    tx = TxBatch(w3)

    # 1. The market's core contracts, addresses known in advance from the deployer's nonces.
    n0 = tx.nonce(deployer)
    usdc, weth, factory, router, multicall, seeder = (
        _create_address(deployer, n0 + i) for i in range(6)
    )
    tx.send("DevUSDC", deployer, None, _deploy_data("DevUSDC", deployer), 3_000_000)
    tx.send("WETH9", deployer, None, _deploy_data("WETH9"), 2_000_000)
    tx.send(
        "UniswapV2Factory", deployer, None, _deploy_data("UniswapV2Factory", deployer), 5_000_000
    )
    tx.send(
        "UniswapV2Router02",
        deployer,
        None,
        _deploy_data("UniswapV2Router02", factory, weth),
        6_000_000,
    )
    tx.send("Multicall3", deployer, None, _deploy_data("Multicall3"), 2_000_000)
    tx.send(
        "DevMarketSeeder",
        deployer,
        None,
        _deploy_data("DevMarketSeeder", factory, usdc, deployer),
        4_000_000,
    )

    # 2. Markets: tokens, feeds and seeded pools, many per transaction.
    specs = []
    pool_units = []
    feed_decs = []
    for c in constituents:
        fd = feed_decimals_for(c.price_usd)
        answer = feed_answer(c.price_usd, fd)
        usdc_units = _pool_usdc(c, pool_depth_usdc, min_pool_usdc)
        token_units = usdc_units * 10**c.decimals * 10**fd // (answer * 10**USDC_DECIMALS)
        if token_units == 0 or token_units > MAX_RESERVE or usdc_units > MAX_RESERVE:
            raise ValueError(f"{c.symbol}: pool reserves out of range at price {c.price_usd}")
        specs.append((c.name, c.symbol, c.decimals, fd, answer, token_units, usdc_units))
        pool_units.append(usdc_units)
        feed_decs.append(fd)
    usdc_c = w3.eth.contract(abi=artifacts.load("DevUSDC").abi)
    seeder_c = w3.eth.contract(address=seeder, abi=artifacts.load("DevMarketSeeder").abi)
    tx.send(
        "USDC for pools",
        deployer,
        usdc,
        usdc_c.encode_abi("mint", [seeder, sum(pool_units)]),
        200_000,
    )
    per_tx = max(1, min(MAX_MARKETS_PER_TX, int(gas_limit * 0.9) // GAS_PER_MARKET))
    for start in range(0, len(specs), per_tx):
        chunk = specs[start : start + per_tx]
        tx.send(
            f"markets {start}..{start + len(chunk) - 1}",
            deployer,
            seeder,
            seeder_c.encode_abi("createMarkets", [chunk, deployer]),
            GAS_PER_MARKET * len(chunk),
        )
    receipts = tx.wait()
    created: list[tuple[str, str, str]] = []
    for receipt in receipts:
        for ev in seeder_c.events.MarketCreated().process_receipt(receipt, errors=DISCARD):
            created.append((ev["args"]["token"], ev["args"]["feed"], ev["args"]["pair"]))
    if len(created) != len(constituents):
        raise DevnetError("The devnet market deployment is incomplete; see the Anvil log.")

    # 3. The index: the same deployer as any chain's (wallet_app.deploy), from a config
    #    that names this market, signed locally with account 0's key (its public test
    #    mnemonic), pipelined; the timelock keeps a zero delay on the devnet.
    token_addrs = [Web3.to_checksum_address(t) for t, _, _ in created]
    feed_addrs = [Web3.to_checksum_address(f) for _, f, _ in created]
    n = len(constituents)
    index = _deploy_index(w3, constituents, token_addrs, feed_addrs, created, roles,
                          usdc=usdc, router=router, heartbeat=heartbeat,
                          buy_fee_bps=buy_fee_bps, sell_fee_bps=sell_fee_bps,
                          min_request_age=min_request_age, strike_interval=strike_interval)
    vault, lens, book, timelock = (index.plan.vault, index.plan.lens, index.plan.book,
                                   index.plan.timelock)

    tokens = [
        TokenInfo(
            symbol=c.symbol,
            name=c.name,
            decimals=c.decimals,
            address=token_addrs[i],
            feed=feed_addrs[i],
            feed_decimals=feed_decs[i],
            pair=Web3.to_checksum_address(created[i][2]),
            weight_bps=c.weight_bps,
            initial_price_usd=Decimal(c.price_usd),
            pool_usdc=Decimal(pool_units[i]).scaleb(-USDC_DECIMALS),
        )
        for i, c in enumerate(constituents)
    ]
    elapsed = time.perf_counter() - started
    deployment = Deployment(
        chain_id=chain_id,
        block_number=int(index.steps[0].block or 0),  # the index's first block: scans see it all
        addresses={
            "USDC": usdc,
            "WETH9": weth,
            "UniswapV2Factory": factory,
            "UniswapV2Router02": router,
            "Multicall3": multicall,
            "DevMarketSeeder": seeder,
            "IndexVault": vault,
            "IndexLens": lens,
            "IndexBook": book,
            "TimelockController": timelock,
        },
        roles=roles,
        tokens=tokens,
        deploy_seconds=round(elapsed, 3),
        params={
            "pool_depth_usdc": str(pool_depth_usdc),
            "min_pool_usdc": str(min_pool_usdc),
            "heartbeat": str(heartbeat),
            "buy_fee_bps": str(buy_fee_bps),
            "sell_fee_bps": str(sell_fee_bps),
            "min_request_age": str(min_request_age),
            "strike_interval": str(strike_interval),
        },
    )
    log.info("devnet market with %d constituents deployed in %.2f s", n, elapsed)
    return deployment


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wallet_app.devnet.deploy --rpc URL --n 100``: deploy a synthetic market
    to a running Anvil, print the timing and (optionally) save the deployment JSON."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--rpc", default="http://127.0.0.1:8545")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    w3 = Web3(Web3.HTTPProvider(args.rpc, request_kwargs={"timeout": 120}))
    dep = deploy_market(w3, synthetic_constituents(args.n))
    print(f"deployed {args.n} constituents in {dep.deploy_seconds:.2f} s (vault {dep.vault})")
    if args.out:
        dep.save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
