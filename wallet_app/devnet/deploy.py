"""Deploy the devnet market and the index (vault + lens) on a local Anvil node.

What :func:`deploy_market` puts on chain, from a list of :class:`ConstituentSpec`:

* ``DevUSDC`` (6 decimals, EIP-2612 permit), the real Uniswap V2 ``WETH9``,
  ``UniswapV2Factory`` and ``UniswapV2Router02`` (bytecode from the npm packages' build JSON),
  our ``Multicall3``, ``IndexLens`` and ``IndexVault`` ("TM Global 100", "G100");
* per constituent, through ``DevMarketSeeder`` (up to 25 per transaction): a ``DevToken``, a
  ``DevPriceFeed`` at the spec's price, and a USDC pool seeded at exactly that price;
* the vault's constituent list, target weights and a first NAV refresh.

Roles are Anvil's unlocked default accounts (the devnet's own keys, never a user's):
account 0 deploys and is the faucet (USDC and token minter, feed writer, LP holder),
1 owns the vault, 2 operates it, 3 is its guardian; fees go to the owner.

Speed: a 100-constituent deploy is 16 transactions, sent back to back with explicit nonces
and gas limits (no ``eth_estimateGas`` round trips, no waiting between independent
transactions); it takes well under a second on Anvil, and :attr:`Deployment.deploy_seconds`
records it.

:func:`set_price` / :func:`set_prices` drive the market from a price replay: they write the
feed and trade the pool to the new price with a real swap against the pair (the arbitrage a
live market would do). Money is ``Decimal`` or integer base units throughout, never float.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD

from ..errors import DevnetError
from ..paths import AppPaths
from . import artifacts

log = logging.getLogger(__name__)

VAULT_NAME = "TM Global 100"
VAULT_SYMBOL = "G100"
USDC_DECIMALS = 6
#: Feed decimals for prices of at least one cent (like Chainlink USD feeds) and below it.
FEED_DECIMALS = 8
FEED_DECIMALS_SMALL = 18
#: Uniswap V2 reserves are uint112.
MAX_RESERVE = 2**112 - 1
ZERO_ADDRESS = "0x" + "00" * 20
#: The vault's external library, as its placeholder in the creation bytecode names it.
BOOK_LIBRARY = "src/IndexBook.sol:IndexBook"
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


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ConstituentSpec:
    """One constituent to create on the devnet.

    ``price_usd`` is the USD price of one whole token; ``weight_bps`` the target weight
    (all specs together sum to 10,000).
    """

    symbol: str
    name: str
    decimals: int
    price_usd: Decimal
    weight_bps: int


@dataclass(frozen=True)
class TokenInfo:
    """One deployed constituent: token, its feed and its USDC pool."""

    symbol: str
    name: str
    decimals: int
    address: str
    feed: str
    feed_decimals: int
    pair: str
    weight_bps: int
    initial_price_usd: Decimal
    pool_usdc: Decimal

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["initial_price_usd"] = str(self.initial_price_usd)
        d["pool_usdc"] = str(self.pool_usdc)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TokenInfo:
        return cls(
            symbol=d["symbol"],
            name=d["name"],
            decimals=int(d["decimals"]),
            address=Web3.to_checksum_address(d["address"]),
            feed=Web3.to_checksum_address(d["feed"]),
            feed_decimals=int(d["feed_decimals"]),
            pair=Web3.to_checksum_address(d["pair"]),
            weight_bps=int(d["weight_bps"]),
            initial_price_usd=Decimal(d["initial_price_usd"]),
            pool_usdc=Decimal(d["pool_usdc"]),
        )


@dataclass
class Deployment:
    """Everything the app needs to find the devnet contracts again (saved as JSON).

    ``addresses`` keys: ``USDC``, ``WETH9``, ``UniswapV2Factory``, ``UniswapV2Router02``,
    ``Multicall3``, ``DevMarketSeeder``, ``IndexVault``, ``IndexLens``.
    ``roles`` keys: ``deployer``, ``owner``, ``operator``, ``guardian``, ``fee_recipient``.
    ``tokens`` are in the vault's constituent order.
    """

    chain_id: int
    block_number: int
    addresses: dict[str, str]
    roles: dict[str, str]
    tokens: list[TokenInfo]
    deploy_seconds: float = 0.0
    params: dict[str, str] = field(default_factory=dict)

    @property
    def vault(self) -> str:
        return self.addresses["IndexVault"]

    @property
    def timelock(self) -> str | None:
        """The vault's owner, OpenZeppelin's ``TimelockController`` (v2 deployments)."""
        return self.addresses.get("TimelockController")

    @property
    def lens(self) -> str:
        return self.addresses["IndexLens"]

    @property
    def usdc(self) -> str:
        return self.addresses["USDC"]

    @property
    def router(self) -> str:
        return self.addresses["UniswapV2Router02"]

    @property
    def multicall(self) -> str:
        return self.addresses["Multicall3"]

    def token(self, symbol: str) -> TokenInfo:
        """The constituent with this symbol (case-insensitive)."""
        want = symbol.upper()
        for t in self.tokens:
            if t.symbol.upper() == want:
                return t
        raise DevnetError(f"The devnet has no constituent {symbol!r}.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "block_number": self.block_number,
            "addresses": dict(sorted(self.addresses.items())),
            "roles": dict(sorted(self.roles.items())),
            "tokens": [t.to_dict() for t in self.tokens],
            "deploy_seconds": self.deploy_seconds,
            "params": dict(sorted(self.params.items())),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Deployment:
        return cls(
            chain_id=int(d["chain_id"]),
            block_number=int(d["block_number"]),
            addresses={k: Web3.to_checksum_address(v) for k, v in d["addresses"].items()},
            roles={k: Web3.to_checksum_address(v) for k, v in d["roles"].items()},
            tokens=[TokenInfo.from_dict(t) for t in d["tokens"]],
            deploy_seconds=float(d.get("deploy_seconds", 0.0)),
            params={k: str(v) for k, v in d.get("params", {}).items()},
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise DevnetError(
                "The saved devnet deployment is unreadable; deploy the devnet again."
            ) from exc

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            text = path.read_text()
        except OSError as exc:
            raise DevnetError(f"No devnet deployment found at {path}; deploy it first.") from exc
        return cls.from_json(text)


def deployment_path(paths: AppPaths) -> Path:
    """Where the app keeps the devnet's :class:`Deployment` (beside the node record)."""
    return paths.devnet_dir / "deployment.json"


# ----------------------------------------------------------------------- helpers


def to_units(amount: Decimal, decimals: int) -> int:
    """Exact base units of a Decimal amount; refuses amounts finer than ``decimals``."""
    scaled = Decimal(amount).scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {decimals} decimals")
    return int(scaled)


def feed_decimals_for(price_usd: Decimal) -> int:
    """8 decimals like Chainlink USD feeds; 18 for sub-cent prices so they keep precision."""
    return FEED_DECIMALS if price_usd >= Decimal("0.01") else FEED_DECIMALS_SMALL


def feed_answer(price_usd: Decimal, decimals: int) -> int:
    """The feed's integer answer for a USD price (half-even rounding); must be positive."""
    answer = int(Decimal(price_usd).scaleb(decimals).to_integral_value(ROUND_HALF_EVEN))
    if answer <= 0:
        raise ValueError(f"price {price_usd} is too small for a {decimals}-decimal feed")
    return answer


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


class TxBatch:
    """Sends transactions from Anvil's unlocked accounts without per-transaction round trips.

    Nonces are counted locally from the pending count, gas limits are given explicitly, and
    receipts are collected later, so a batch costs one HTTP request per transaction.
    """

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._nonces: dict[str, int] = {}
        self.sent: list[tuple[str, bytes]] = []

    def nonce(self, sender: str) -> int:
        if sender not in self._nonces:
            self._nonces[sender] = self.w3.eth.get_transaction_count(sender, "pending")
        return self._nonces[sender]

    def send(
        self, label: str, sender: str, to: str | None, data: str, gas: int, value: int = 0
    ) -> bytes:
        tx: dict[str, Any] = {
            "from": sender,
            "data": data,
            "gas": hex(gas),
            "nonce": hex(self.nonce(sender)),
            "value": hex(value),
        }
        if to is not None:
            tx["to"] = to
        resp = self.w3.provider.make_request("eth_sendTransaction", [tx])  # type: ignore[arg-type]
        if "error" in resp or "result" not in resp:
            raise DevnetError(f"The devnet rejected the transaction '{label}'. See the Anvil log.")
        self._nonces[sender] += 1
        tx_hash = bytes.fromhex(str(resp["result"])[2:])
        self.sent.append((label, tx_hash))
        return tx_hash

    def wait(self, timeout: float = 120.0) -> list[Any]:
        """Receipts of everything sent since the last wait; raises if any reverted."""
        receipts = []
        deadline = time.monotonic() + timeout
        for label, tx_hash in self.sent:
            while True:
                try:
                    receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                    break
                except TransactionNotFound:
                    if time.monotonic() > deadline:
                        raise DevnetError(
                            f"The devnet did not mine '{label}' within {timeout:.0f} s."
                        ) from None
                    time.sleep(0.005)
            if receipt["status"] != 1:
                raise DevnetError(f"Devnet transaction '{label}' reverted; see the Anvil log.")
            receipts.append(receipt)
        self.sent = []
        return receipts


def _create_address(sender: str, nonce: int) -> str:
    """CREATE address of ``sender``'s transaction with ``nonce`` (RLP of [sender, nonce])."""
    sender_bytes = bytes.fromhex(sender[2:])
    if nonce == 0:
        nonce_rlp = b"\x80"
    elif nonce < 0x80:
        nonce_rlp = bytes([nonce])
    else:
        raw = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
        nonce_rlp = bytes([0x80 + len(raw)]) + raw
    payload = b"\x94" + sender_bytes + nonce_rlp
    rlp = bytes([0xC0 + len(payload)]) + payload
    return Web3.to_checksum_address(Web3.keccak(rlp)[12:])


def _deploy_data(name: str, *args: Any, libraries: dict[str, str] | None = None) -> str:
    """Creation bytecode of artifact ``name`` (its libraries linked) with ABI-encoded
    constructor ``args``."""
    art = artifacts.load(name)
    ctor = next((e for e in art.abi if e.get("type") == "constructor"), None)
    types = [i["type"] for i in ctor["inputs"]] if ctor else []
    code = artifacts.link(art.bytecode, libraries) if libraries else art.bytecode
    return code + abi_encode(types, list(args)).hex()


def timelock_calls(tx: TxBatch, proposer: str, timelock: str, target: str,
                   calls: Sequence[str], gas: int) -> None:
    """Owner calls on ``target`` through the ``TimelockController``: ``scheduleBatch`` then
    ``executeBatch`` (the devnet's min delay is 0, so both land at once; on a real chain
    the execute waits out the delay)."""
    tl = Web3().eth.contract(abi=artifacts.load("TimelockController").abi)
    targets, values = [target] * len(calls), [0] * len(calls)
    payloads = [bytes.fromhex(c[2:]) for c in calls]
    salt = Web3.keccak(b"".join(payloads) + tx.nonce(proposer).to_bytes(32, "big"))
    tx.send("timelock schedule", proposer, timelock,
            tl.encode_abi("scheduleBatch", [targets, values, payloads, b"\x00" * 32, salt, 0]),
            200_000 + 30_000 * len(calls) + sum(len(p) for p in payloads) * 40)
    tx.send("timelock execute", proposer, timelock,
            tl.encode_abi("executeBatch", [targets, values, payloads, b"\x00" * 32, salt]),
            gas + sum(len(p) for p in payloads) * 40)


def contract(w3: Web3, deployment: Deployment, name: str) -> Contract:
    """A web3 contract object for a deployed contract by its ``addresses`` key
    (``"USDC"`` uses the DevUSDC ABI)."""
    abi_name = {"USDC": "DevUSDC"}.get(name, name)
    return w3.eth.contract(address=deployment.addresses[name], abi=artifacts.load(abi_name).abi)


def token_contract(w3: Web3, deployment: Deployment, symbol: str) -> Contract:
    """The DevToken contract of a constituent."""
    return w3.eth.contract(
        address=deployment.token(symbol).address, abi=artifacts.load("DevToken").abi
    )


def _roles(w3: Web3) -> dict[str, str]:
    accounts = w3.eth.accounts
    if len(accounts) < 4:
        raise DevnetError(
            "The node does not expose Anvil's unlocked default accounts; the devnet deployer "
            "needs Anvil started with its default mnemonic."
        )
    deployer, owner, operator, guardian = (Web3.to_checksum_address(a) for a in accounts[:4])
    return {
        "deployer": deployer,
        "owner": owner,
        "operator": operator,
        "guardian": guardian,
        "fee_recipient": owner,
    }


def _pool_usdc(spec: ConstituentSpec, depth: Decimal, floor: Decimal) -> int:
    share = (depth * spec.weight_bps / 10_000).quantize(Decimal(1), rounding=ROUND_DOWN)
    return to_units(max(share, floor), USDC_DECIMALS)


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
    deployer, owner, operator = roles["deployer"], roles["owner"], roles["operator"]
    chain_id = w3.eth.chain_id
    gas_limit = int(w3.eth.get_block("latest")["gasLimit"])
    tx = TxBatch(w3)

    # 1. Core contracts, addresses known in advance from the deployer's nonces.
    n0 = tx.nonce(deployer)
    usdc, weth, factory, router, multicall, seeder, lens, book, timelock, vault = (
        _create_address(deployer, n0 + i) for i in range(10)
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
    tx.send("IndexLens", deployer, None, _deploy_data("IndexLens"), 5_000_000)
    tx.send("IndexBook", deployer, None, _deploy_data("IndexBook"), 6_000_000)
    tx.send(
        "TimelockController",
        deployer,
        None,
        _deploy_data("TimelockController", 0, [owner], [owner], ZERO_ADDRESS),
        3_000_000,
    )
    tx.send(
        "IndexVault",
        deployer,
        None,
        _deploy_data(
            "IndexVault",
            usdc,
            router,
            VAULT_NAME,
            VAULT_SYMBOL,
            timelock,
            operator,
            roles["guardian"],
            roles["fee_recipient"],
            buy_fee_bps,
            sell_fee_bps,
            libraries={BOOK_LIBRARY: book},
        ),
        12_000_000,
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

    # 3. The vault: constituents and the devnet's limits (owner, through the timelock),
    #    then weights and a first NAV refresh (operator).
    vault_c = w3.eth.contract(address=vault, abi=artifacts.load("IndexVault").abi)
    token_addrs = [Web3.to_checksum_address(t) for t, _, _ in created]
    feed_addrs = [Web3.to_checksum_address(f) for _, f, _ in created]
    n = len(constituents)
    limits = (
        DEVNET_REBALANCE_SLIPPAGE_BPS,
        DEVNET_LOSS_BUDGET_BPS,
        0,  # rebalance cooldown: the devnet operator trades in several batches at once
        DEVNET_MAX_DEVIATION_BPS,
        min_request_age,
        strike_interval,
    )
    timelock_calls(
        tx,
        owner,
        timelock,
        vault,
        [
            vault_c.encode_abi("addConstituents", [token_addrs, feed_addrs, [heartbeat] * n]),
            vault_c.encode_abi("setLimits", [limits]),
        ],
        500_000 + 200_000 * n,
    )
    tx.wait()
    weights = [c.weight_bps for c in constituents]
    tx.send(
        "setTargetWeights",
        operator,
        vault,
        vault_c.encode_abi("setTargetWeights", [weights]),
        200_000 + 30_000 * n,
    )
    tx.send("updateNav", operator, vault, vault_c.encode_abi("updateNav", []), 300_000 + 60_000 * n)
    last = tx.wait()[-1]

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
        block_number=int(last["blockNumber"]),
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


# ------------------------------------------------------------------ faucet, prices


def fund(w3: Web3, deployment: Deployment, address: str, eth: Decimal, usdc: Decimal) -> None:
    """Faucet: send ``eth`` ETH and mint ``usdc`` USDC to ``address`` (from account 0)."""
    to = Web3.to_checksum_address(address)
    deployer = deployment.roles["deployer"]
    tx = TxBatch(w3)
    if eth > 0:
        tx.send("faucet ETH", deployer, to, "0x", 21_000, value=to_units(eth, 18))
    if usdc > 0:
        usdc_c = contract(w3, deployment, "USDC")
        tx.send(
            "faucet USDC",
            deployer,
            usdc_c.address,
            usdc_c.encode_abi("mint", [to, to_units(usdc, USDC_DECIMALS)]),
            100_000,
        )
    tx.wait()


def _reserves(w3: Web3, t: TokenInfo, usdc: str) -> tuple[int, int, bool]:
    """(token reserve, USDC reserve, token is token0) of a constituent's pool."""
    pair = w3.eth.contract(address=t.pair, abi=artifacts.load("UniswapV2Pair").abi)
    r0, r1, _ = pair.functions.getReserves().call()
    token_is_0 = int(t.address, 16) < int(usdc, 16)
    return (r0, r1, True) if token_is_0 else (r1, r0, False)


def pool_price(w3: Web3, deployment: Deployment, symbol: str) -> Decimal:
    """USD per whole token implied by the pool's reserves (spot, before fees)."""
    t = deployment.token(symbol)
    rt, ru, _ = _reserves(w3, t, deployment.usdc)
    return (Decimal(ru).scaleb(-USDC_DECIMALS) / Decimal(rt).scaleb(-t.decimals)).normalize()


def _amount_out(amount_in: int, r_in: int, r_out: int) -> int:
    """Uniswap V2's getAmountOut (0.3% fee), exactly as the pair checks it."""
    fee_in = amount_in * 997
    return fee_in * r_out // (r_in * 1000 + fee_in)


def _arbitrage_input(rt: int, ru: int, target: Fraction) -> tuple[bool, int]:
    """(pay USDC?, smallest input) that trades the pool to at least/most ``target``
    (USDC units per token unit). Returns input 0 when the pool is already there."""
    current = Fraction(ru, rt)
    if current == target:
        return True, 0
    usdc_in = target > current

    def reached(x: int) -> bool:
        if usdc_in:
            out = _amount_out(x, ru, rt)
            return out < rt and Fraction(ru + x, rt - out) >= target
        out = _amount_out(x, rt, ru)
        return out < ru and Fraction(ru - out, rt + x) <= target

    r_in = ru if usdc_in else rt
    hi = max(1, r_in // 1000)
    while not reached(hi):
        hi *= 2
        if hi > MAX_RESERVE:
            raise ValueError("target price is out of the pool's reach")
    lo = 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return usdc_in, hi


def set_prices(
    w3: Web3,
    deployment: Deployment,
    prices: Mapping[str, Decimal],
    *,
    refresh_nav: bool = False,
) -> dict[str, Decimal]:
    """Write new USD prices into the feeds and trade each pool to its new price.

    The arbitrage is a real Uniswap V2 swap: account 0 mints the input straight into the
    pair and calls ``swap`` for the exact ``getAmountOut``. All transactions go out back to
    back and are awaited once. With ``refresh_nav`` the operator then refreshes the vault's
    NAV cache. Returns each pool's new spot price (USD per token). The whole batch is
    mined as one block (automine paused), which keeps a 100-token move near one second.
    """
    tokens = [deployment.token(sym) for sym in prices]
    reserves = _all_reserves(w3, deployment, tokens)
    tx = TxBatch(w3)
    spots: dict[str, Decimal] = {}
    _automine(w3, False)
    try:
        _queue_price_moves(tx, deployment, prices, tokens, reserves, spots)
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        _automine(w3, True)
    tx.wait()
    if refresh_nav:
        refresh(w3, deployment)
    return spots


def _automine(w3: Web3, on: bool) -> None:
    w3.provider.make_request("evm_setAutomine", [on])  # type: ignore[arg-type]


def _queue_price_moves(tx: TxBatch, deployment: Deployment, prices: Mapping[str, Decimal],
                       tokens: Sequence[TokenInfo], reserves: list[tuple[int, int, bool]],
                       spots: dict[str, Decimal]) -> None:
    """Queue each feed update and pool arbitrage; ``spots`` gets the new pool prices."""
    deployer = deployment.roles["deployer"]
    usdc_addr = deployment.usdc
    for (symbol, price), t, (rt, ru, token_is_0) in zip(prices.items(), tokens, reserves,
                                                         strict=True):
        answer = feed_answer(Decimal(price), t.feed_decimals)
        tx.send(f"price {t.symbol}", deployer, t.feed,
                _call_data(_SEL_SET_PRICE, ["int256"], [answer]), 150_000)
        target = Fraction(answer * 10**USDC_DECIMALS, 10**t.feed_decimals * 10**t.decimals)
        usdc_in, amount = _arbitrage_input(rt, ru, target)
        out = 0
        if amount:
            out = _amount_out(amount, ru, rt) if usdc_in else _amount_out(amount, rt, ru)
        # A pool already at the price (within one unit) needs no trade: a swap with zero
        # output would revert in the pair.
        if out:
            if usdc_in:
                minted_token, outs = usdc_addr, ((out, 0) if token_is_0 else (0, out))
                rt, ru = rt - out, ru + amount
            else:
                minted_token, outs = t.address, ((0, out) if token_is_0 else (out, 0))
                rt, ru = rt + amount, ru - out
            tx.send(f"arb {t.symbol} in", deployer, minted_token,
                    _call_data(_SEL_MINT, ["address", "uint256"], [t.pair, amount]), 100_000)
            tx.send(f"arb {t.symbol} swap", deployer, t.pair,
                    _call_data(_SEL_SWAP, ["uint256", "uint256", "address", "bytes"],
                               [outs[0], outs[1], deployer, b""]), 200_000)
        spots[symbol] = (Decimal(ru).scaleb(-USDC_DECIMALS)
                         / Decimal(rt).scaleb(-t.decimals)).normalize()


_SEL_SET_PRICE = Web3.keccak(text="setPrice(int256)")[:4]
_SEL_MINT = Web3.keccak(text="mint(address,uint256)")[:4]
_SEL_SWAP = Web3.keccak(text="swap(uint256,uint256,address,bytes)")[:4]
_SEL_RESERVES = Web3.keccak(text="getReserves()")[:4]
_SEL_AGGREGATE3 = Web3.keccak(text="aggregate3((address,bool,bytes)[])")[:4]


def _call_data(selector: bytes, types: list[str], args: list[Any]) -> str:
    return "0x" + (selector + abi_encode(types, args)).hex()


def _all_reserves(w3: Web3, deployment: Deployment,
                  tokens: Sequence[TokenInfo]) -> list[tuple[int, int, bool]]:
    """Every pool's reserves in one ``eth_call`` through Multicall3."""
    from eth_abi import decode as abi_decode

    calls = [(t.pair, False, _SEL_RESERVES) for t in tokens]
    data = _call_data(_SEL_AGGREGATE3, ["(address,bool,bytes)[]"], [calls])
    raw = w3.eth.call({"to": deployment.multicall, "data": data})  # type: ignore[typeddict-item]
    (results,) = abi_decode(["(bool,bytes)[]"], bytes(raw))
    out = []
    for t, (ok, ret) in zip(tokens, results, strict=True):
        if not ok:
            raise DevnetError(f"Reading the {t.symbol} pool failed.")
        r0, r1, _ = abi_decode(["uint112", "uint112", "uint32"], ret)
        token_is_0 = int(t.address, 16) < int(deployment.usdc, 16)
        out.append((r0, r1, True) if token_is_0 else (r1, r0, False))
    return out


def set_price(
    w3: Web3,
    deployment: Deployment,
    symbol: str,
    new_price_usd: Decimal,
    *,
    refresh_nav: bool = False,
) -> Decimal:
    """:func:`set_prices` for one constituent; returns the pool's new spot price."""
    return set_prices(w3, deployment, {symbol: new_price_usd}, refresh_nav=refresh_nav)[symbol]


def refresh(w3: Web3, deployment: Deployment) -> None:
    """The keeper's job: the operator refreshes the vault's NAV cache from the feeds."""
    vault_c = contract(w3, deployment, "IndexVault")
    tx = TxBatch(w3)
    n = len(deployment.tokens)
    tx.send(
        "updateNav",
        deployment.roles["operator"],
        vault_c.address,
        vault_c.encode_abi("updateNav", []),
        300_000 + 60_000 * n,
    )
    tx.wait()


#: Requests one keeper strike settles at most (a strike of 100 constituents + 50 requests
#: stays far below the block gas limit).
STRIKE_BATCH = 50


def strike(w3: Web3, deployment: Deployment, *, not_before: int = 0,
           max_requests: int = STRIKE_BATCH, timeout_s: float = 30.0) -> Any:
    """The devnet keeper's NAV strike: refresh every price and settle the eligible requests.

    ``not_before`` is a chain time the strike must not precede (a request's cut-off): the
    devnet follows the wall clock, so this waits until the latest block is that old, at
    most ``timeout_s``. Returns the strike's receipt."""
    vault_c = contract(w3, deployment, "IndexVault")
    end = time.monotonic() + timeout_s
    while not_before and time.monotonic() < end:
        if int(w3.eth.get_block("latest")["timestamp"]) >= not_before or \
                time.time() >= not_before + 1:
            break
        time.sleep(0.1)
    tx = TxBatch(w3)
    n = len(deployment.tokens)
    tx.send("strike", deployment.roles["operator"], vault_c.address,
            vault_c.encode_abi("strike", [max_requests]),
            600_000 + 60_000 * n + 150_000 * max_requests)
    return tx.wait()[0]


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
