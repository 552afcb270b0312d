"""The exact transactions of a deployment, computed before anything is sent.

From a :class:`~.config.DeployConfig`, the deployer's address and its next nonce, the plan
names every transaction: ``to`` (``None`` for a creation), calldata and what it does in
words. Each step ``i`` is sent with nonce ``start_nonce + i``, so every address is known in
advance (CREATE addresses) and a step can never land twice. Nothing here talks to a node.

Order (the Foundry script ``contracts/script/DeployIndex.s.sol`` follows it, so the same
deployer and nonce give the same addresses and code hashes):

1. ``IndexBook`` (the vault's library, through the deterministic CREATE2 factory with salt
   0, exactly as ``forge script`` deploys linked libraries: one address on every chain),
   ``IndexLens``, OpenZeppelin's ``TimelockController``
   (delay 0, the deployer its only proposer and executor, no admin: it administers
   itself) and ``IndexVault`` (owner: the timelock; operator: the deployer, for now).
2. Setup through the timelock, scheduled and executed at once while its delay is 0:
   ``addConstituents`` (25 per batch), ``setLimits`` (keeper cadence, cut-off, operator
   limits) and the optional L2 sequencer feed.
3. As the interim operator: ``setTargetWeights`` (when the config has weights) and a
   first ``updateNav`` (every feed read on chain once).
4. The hand-over, one timelock batch: the vault's operator and keeper become the config's,
   the config's proposers/cancellers and executors get their roles, the deployer's are
   revoked, and ``updateDelay`` sets the real delay (48 h by default) as its last call.
   After it the deployer holds nothing; every later owner change waits for the delay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import Web3

from ..devnet import artifacts
from .bytecode import (
    BOOK_LIBRARY,
    CREATE2_FACTORY,
    ZERO_ADDRESS,
    create2_address,
    create_address,
    deploy_data,
)
from .config import DeployConfig

#: Constituents added per timelock batch (one addConstituents call, ~130k gas each).
ADD_PER_BATCH = 25
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(text="EXECUTOR_ROLE")
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")
#: IndexVault.Role enum values.
ROLE_OPERATOR, ROLE_KEEPER = 0, 1


@dataclass(frozen=True)
class Step:
    """One transaction of the plan."""

    index: int
    label: str
    what: str
    to: str | None
    data: str
    creates: str | None = None
    #: A safe gas limit without an estimate (the devnet's pipelined deploy uses it).
    gas_hint: int = 0


@dataclass(frozen=True)
class Plan:
    """All steps plus the addresses they create."""

    deployer: str
    start_nonce: int
    steps: tuple[Step, ...]
    book: str
    lens: str
    timelock: str
    vault: str

    def nonce(self, step: Step) -> int:
        return self.start_nonce + step.index


def _contract(name: str, address: str | None = None) -> Any:
    abi = artifacts.load(name).abi
    return Web3().eth.contract(address=address, abi=abi) if address else \
        Web3().eth.contract(abi=abi)


def limits_tuple(cfg: DeployConfig) -> tuple[int, ...]:
    """``IndexVault.Limits`` in field order."""
    lim = cfg.limits
    return (lim["max_rebalance_slippage_bps"], lim["loss_budget_bps"],
            lim["rebalance_cooldown"], lim["max_price_deviation_bps"],
            cfg.min_request_age, cfg.strike_interval)


def batch_salt(digest: str, index: int) -> bytes:
    """Deterministic salt of a timelock batch: a re-signed step carries the same bytes."""
    return keccak(bytes.fromhex(digest) + index.to_bytes(32, "big"))


def _batch(steps: list[Step], tl: Any, label: str, what: str,
           calls: Sequence[tuple[str, str]], salt: bytes, gas: int) -> None:
    """A schedule step and an execute step of one timelock batch (delay 0 at that time)."""
    targets = [t for t, _ in calls]
    payloads = [bytes.fromhex(c[2:]) for _, c in calls]
    values = [0] * len(calls)
    zero = b"\x00" * 32
    size = sum(len(p) for p in payloads) * 40
    steps.append(Step(len(steps), f"schedule {label}", f"timelock: schedule {what}",
                      tl.address, tl.encode_abi("scheduleBatch",
                                                [targets, values, payloads, zero, salt, 0]),
                      gas_hint=200_000 + 30_000 * len(calls) + size))
    steps.append(Step(len(steps), f"execute {label}", f"timelock: execute {what}",
                      tl.address, tl.encode_abi("executeBatch",
                                                [targets, values, payloads, zero, salt]),
                      gas_hint=gas + size))


def book_address() -> str:
    """Where the CREATE2 factory puts IndexBook (the same on every chain)."""
    return create2_address(deploy_data("IndexBook"))


def build_plan(cfg: DeployConfig, deployer: str, start_nonce: int, *,
               book_exists: bool = False) -> Plan:
    """Every transaction of the deployment (see the module docstring). ``book_exists``:
    the library is already at its CREATE2 address (step 1 then only uses its nonce)."""
    deployer = to_checksum_address(deployer)
    book = book_address()
    _, lens, timelock, vault = (create_address(deployer, start_nonce + i) for i in range(4))
    digest = cfg.digest()
    init = deploy_data("IndexBook")
    first = (Step(0, "IndexBook exists", f"IndexBook is already at {book}: a 0-ETH transfer "
                  "to self keeps the nonces of the plan", deployer, "0x")
             if book_exists else
             Step(0, "create IndexBook", "deploy the vault's library IndexBook through the "
                  "CREATE2 factory (as forge does)", CREATE2_FACTORY,
                  "0x" + "00" * 32 + init.removeprefix("0x"), book, 4_000_000))
    steps: list[Step] = [
        first,
        Step(1, "create IndexLens", "deploy IndexLens (the wallet's one-call reader)", None,
             deploy_data("IndexLens"), lens, 5_000_000),
        Step(2, "create TimelockController",
             "deploy the TimelockController (delay 0 during setup, deployer as proposer)",
             None, deploy_data("TimelockController", 0, [deployer], [deployer], ZERO_ADDRESS),
             timelock, 3_000_000),
        Step(3, "create IndexVault",
             f"deploy IndexVault \"{cfg.name}\" ({cfg.symbol}) over USDC {cfg.usdc}, owner "
             f"the timelock, fees {cfg.buy_fee_bps}/{cfg.sell_fee_bps} bps", None,
             deploy_data("IndexVault", cfg.usdc, cfg.router, cfg.name, cfg.symbol, timelock,
                         deployer, cfg.guardian, cfg.fee_recipient, cfg.buy_fee_bps,
                         cfg.sell_fee_bps, libraries={BOOK_LIBRARY: book}), vault, 8_000_000),
    ]
    v = _contract("IndexVault", vault)
    tl = _contract("TimelockController", timelock)
    cons = list(cfg.constituents)
    for b, start in enumerate(range(0, len(cons), ADD_PER_BATCH)):
        chunk = cons[start:start + ADD_PER_BATCH]
        calls = [(vault, v.encode_abi("addConstituents", [
            [c.token for c in chunk], [c.feed for c in chunk], [c.heartbeat for c in chunk]]))]
        what = f"add constituents {chunk[0].symbol}..{chunk[-1].symbol} ({len(chunk)})"
        if b == 0:
            calls.append((vault, v.encode_abi("setLimits", [limits_tuple(cfg)])))
            what += (f", limits (strike every {cfg.strike_interval} s, cut-off "
                     f"{cfg.min_request_age} s)")
            if cfg.sequencer_feed:
                calls.append((vault, v.encode_abi("setSequencerFeed",
                                                  [cfg.sequencer_feed, cfg.sequencer_grace])))
                what += ", sequencer feed"
        _batch(steps, tl, f"setup {b + 1}", what, calls, batch_salt(digest, len(steps)),
               400_000 + 200_000 * len(chunk))
    weights = cfg.weights
    if weights is not None:
        steps.append(Step(len(steps), "setTargetWeights",
                          f"vault: set the {len(weights)} target weights (interim operator)",
                          vault, v.encode_abi("setTargetWeights", [weights]),
                          gas_hint=200_000 + 30_000 * len(weights)))
    steps.append(Step(len(steps), "updateNav", "vault: first NAV refresh from every feed",
                      vault, v.encode_abi("updateNav", []),
                      gas_hint=300_000 + 60_000 * len(cons)))
    calls = [(vault, v.encode_abi("setRole", [ROLE_OPERATOR, cfg.operator])),
             (vault, v.encode_abi("setRole", [ROLE_KEEPER, cfg.keeper_address]))]
    for p in cfg.proposers:
        calls += [(timelock, tl.encode_abi("grantRole", [PROPOSER_ROLE, p])),
                  (timelock, tl.encode_abi("grantRole", [CANCELLER_ROLE, p]))]
    for e in cfg.executors:
        calls.append((timelock, tl.encode_abi("grantRole", [EXECUTOR_ROLE, e])))
    if deployer not in cfg.proposers:
        calls += [(timelock, tl.encode_abi("revokeRole", [PROPOSER_ROLE, deployer])),
                  (timelock, tl.encode_abi("revokeRole", [CANCELLER_ROLE, deployer]))]
    if deployer not in cfg.executors:
        calls.append((timelock, tl.encode_abi("revokeRole", [EXECUTOR_ROLE, deployer])))
    if cfg.delay:
        calls.append((timelock, tl.encode_abi("updateDelay", [cfg.delay])))
    _batch(steps, tl, "hand-over",
           f"hand over: operator {cfg.operator}, keeper {cfg.keeper_address}, "
           f"{len(cfg.proposers)} proposer(s), {len(cfg.executors)} executor(s), "
           f"deployer's roles revoked, delay {cfg.delay} s", calls,
           batch_salt(digest, len(steps)), 300_000 + 60_000 * len(calls))
    return Plan(deployer, start_nonce, tuple(steps), book, lens, timelock, vault)
