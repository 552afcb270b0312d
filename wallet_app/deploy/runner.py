"""Run a deployment plan: a dry run on a throw-away fork, or for real, signed locally.

**Dry run** (:func:`dry_run`): the plan runs on an Anvil fork of the target RPC (started
here, on loopback, stopped after), as the deployer's address impersonated *on the fork
only*; each step's ``eth_estimateGas`` is taken there in order, so the later steps (which
need the earlier contracts) get real figures too. Nothing is signed and the target node
sees only reads: its nonce for the deployer does not move.

**Deploy** (:func:`deploy`): step ``i`` carries nonce ``start + i``. For each step the gas
is estimated on the target node (after the previous step mined), the transaction signed
by :mod:`.signers`, written to the :class:`~.journal.DeployJournal` (fsync) and only then
broadcast; then its receipt is awaited. A rerun after a crash reads the journal: mined
steps are skipped, a journaled step is looked up by hash and re-broadcast as the same
bytes if the node does not have it, and a step never signed is signed only if the node's
nonce is exactly the planned one (anything else means the key was used elsewhere, and the
deploy stops rather than shift every address). At the end the on-chain state is checked
(owner, delay, roles, constituents) and the deployment record is written.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.exceptions import TransactionNotFound

from ..errors import WalletError
from ..trust.record import DeploymentRecord, record_from_chain
from .bytecode import CREATE2_FACTORY
from .config import DeployConfig
from .journal import DeployJournal
from .plan import EXECUTOR_ROLE, PROPOSER_ROLE, Plan, Step, book_address, build_plan
from .signers import TxSigner

log = logging.getLogger(__name__)

#: Gas limit = estimate x this (Anvil and geth estimates are exact; state may move a bit).
GAS_MARGIN = 1.25
Progress = Callable[[str], None]


class DeployError(WalletError):
    """A deploy step could not be sent or reverted, or the chain contradicts the journal."""

    exit_code = 141


@dataclass
class StepRun:
    """What became of one step."""

    step: Step
    gas: int  # the estimate (dry run) or the gas used (deploy)
    tx_hash: str | None = None
    block: int | None = None
    resumed: bool = False  # mined in an earlier run


@dataclass
class DeployRun:
    """The outcome of :func:`dry_run` (``record`` None) or :func:`deploy`."""

    plan: Plan
    steps: list[StepRun]
    chain_id: int
    seconds: float
    record: DeploymentRecord | None = None
    base_fee: int = 0
    balance: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_gas(self) -> int:
        return sum(s.gas for s in self.steps)


def _call(w3: Web3, to: str, sig: str, types: list[str], out: list[str],
          args: list[Any] | None = None) -> Any:
    from eth_abi import encode

    data = keccak(text=sig)[:4] + encode(types, args or [])
    raw = w3.eth.call({"to": to_checksum_address(to),  # type: ignore[typeddict-item]
                       "data": "0x" + data.hex()})
    return tuple(to_checksum_address(v) if t == "address" else v
                 for t, v in zip(out, abi_decode(out, bytes(raw)), strict=True))


def _batch(w3: Web3, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """Raw JSON-RPC results of ``calls`` in one HTTP batch (in order); None per error."""
    resp = w3.provider.make_batch_request(calls)  # type: ignore[attr-defined]
    if not isinstance(resp, list):
        raise DeployError("The node refused a JSON-RPC batch of read-only checks.")
    by_id = {r.get("id"): r for r in resp}
    ordered = [by_id.get(i) for i in sorted(by_id)] if len(by_id) == len(resp) else resp
    return [r.get("result") if isinstance(r, dict) else None for r in ordered]


def preflight(w3: Web3, cfg: DeployConfig) -> list[str]:
    """Read-only checks before a plan is run: the chain, USDC, the router and each
    constituent's token, feed and pool (one JSON-RPC batch for all constituents). Returns
    notes; raises on what would revert."""
    chain_id = int(w3.eth.chain_id)
    cfg.check_chain(chain_id)
    for what, addr in (("USDC", cfg.usdc), ("router", cfg.router),
                       ("CREATE2 factory", CREATE2_FACTORY)):
        if not w3.eth.get_code(addr):
            raise DeployError(f"No contract at the config's {what} {addr} on chain {chain_id}.")
    (factory,) = _call(w3, cfg.router, "factory()", [], ["address"])
    from eth_abi import encode

    sel_round = "0x" + keccak(text="latestRoundData()")[:4].hex()
    sel_pair = keccak(text="getPair(address,address)")[:4]
    calls: list[tuple[str, list[Any]]] = []
    for c in cfg.constituents:
        calls += [("eth_getCode", [c.token, "latest"]),
                  ("eth_call", [{"to": c.feed, "data": sel_round}, "latest"]),
                  ("eth_call", [{"to": factory, "data": "0x" + (sel_pair + encode(
                      ["address", "address"], [c.token, cfg.usdc])).hex()}, "latest"])]
    results = _batch(w3, calls)
    notes = []
    now = int(w3.eth.get_block("latest")["timestamp"])
    for i, c in enumerate(cfg.constituents):
        code, round_raw, pair_raw = results[3 * i:3 * i + 3]
        if not code or code == "0x":
            raise DeployError(f"{c.symbol}: no contract at its token {c.token}.")
        try:
            _rid, answer, _s, updated, _a = abi_decode(
                ["uint80", "int256", "uint256", "uint256", "uint80"], bytes.fromhex(round_raw[2:]))
        except Exception as exc:  # noqa: BLE001 - any failure: not a working feed
            raise DeployError(f"{c.symbol}: its feed {c.feed} does not answer "
                              "latestRoundData().") from exc
        if answer <= 0:
            raise DeployError(f"{c.symbol}: its feed answers a non-positive price.")
        if now - updated > c.heartbeat:
            notes.append(f"{c.symbol}: its feed is {now - updated} s old (heartbeat "
                         f"{c.heartbeat} s); the first NAV refresh would revert.")
        pair = to_checksum_address(abi_decode(["address"], bytes.fromhex(
            (pair_raw or "0x" + "00" * 32)[2:]))[0])
        if int(pair, 16) == 0:
            raise DeployError(f"{c.symbol}: the router's factory has no {c.symbol}/USDC pool.")
        if c.pair and c.pair != pair:
            raise DeployError(f"{c.symbol}: route.pair {c.pair} is not the router's "
                              f"{c.symbol}/USDC pool ({pair}).")
    return notes


def _tx(plan: Plan, step: Step) -> dict[str, Any]:
    tx: dict[str, Any] = {"from": plan.deployer, "data": step.data, "value": 0}
    if step.to is not None:
        tx["to"] = step.to
    return tx


def _wait(w3: Web3, tx_hash: str, timeout: float) -> Any:
    end = time.monotonic() + timeout
    pause = 0.005  # Anvil mines at once; a real chain takes seconds: back off to 1 s
    while True:
        try:
            return w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            if time.monotonic() > end:
                raise DeployError(f"Transaction {tx_hash} was not mined within {timeout:.0f} s; "
                                  "run the same deploy command again to resume.") from None
            time.sleep(pause)
            pause = min(1.0, pause * 2)


def _estimate(w3: Web3, plan: Plan, step: Step) -> int:
    try:
        return int(w3.eth.estimate_gas(_tx(plan, step)))  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - a revert in the estimate: stop before signing
        raise DeployError(f"Step {step.index + 1} ({step.label}) would revert: "
                          f"{type(exc).__name__}. Nothing was signed for it.") from exc


# ------------------------------------------------------------------------ dry run


@contextlib.contextmanager
def _fork(rpc_url: str, timeout: float = 30.0) -> Any:
    """An Anvil fork of ``rpc_url`` on a free loopback port, stopped on exit."""
    from ..devnet.process import _kill_group, free_port
    from ..toolchain import find_tool

    port = free_port()
    proc = subprocess.Popen(
        [str(find_tool("anvil")), "--fork-url", rpc_url, "--host", "127.0.0.1",
         "--port", str(port), "--auto-impersonate", "--silent", "--no-storage-caching"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True)
    try:
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}",
                                    request_kwargs={"timeout": 120}))
        end = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise DeployError(f"The dry run's Anvil fork of {rpc_url} exited at start.")
            with contextlib.suppress(Exception):
                w3.eth.chain_id  # noqa: B018 - a probe
                break
            if time.monotonic() > end:
                raise DeployError(f"The dry run's fork of {rpc_url} did not start.")
            time.sleep(0.05)
        yield w3
    finally:
        _kill_group(proc.pid)


def dry_run(w3: Web3, rpc_url: str, cfg: DeployConfig, deployer: str,
            progress: Progress | None = None) -> DeployRun:
    """The plan with a gas estimate per step, from a fork; signs nothing."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    deployer = to_checksum_address(deployer)
    notes = preflight(w3, cfg)
    start = int(w3.eth.get_transaction_count(deployer, "pending"))
    plan = build_plan(cfg, deployer, start, book_exists=bool(w3.eth.get_code(book_address())))
    balance = int(w3.eth.get_balance(deployer))
    base_fee = int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
    runs: list[StepRun] = []
    say(f"Simulating {len(plan.steps)} transactions on a fork of {rpc_url}")
    with _fork(rpc_url) as fw3:
        fw3.provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                                  [deployer, hex(10**24)])
        for step in plan.steps:
            gas = _estimate(fw3, plan, step)
            tx = _tx(plan, step) | {"gas": int(gas * GAS_MARGIN),
                                    "nonce": plan.nonce(step)}
            h = fw3.eth.send_transaction(tx)  # type: ignore[arg-type]  # the fork only
            if int(_wait(fw3, h.hex() if isinstance(h, bytes) else h, 120)["status"]) != 1:
                raise DeployError(f"Step {step.index + 1} ({step.label}) reverted on the fork.")
            runs.append(StepRun(step, gas))
    return DeployRun(plan, runs, int(w3.eth.chain_id), time.perf_counter() - t0,
                     base_fee=base_fee, balance=balance, notes=notes)


# ------------------------------------------------------------------------- deploy


def _fees(w3: Web3) -> tuple[int, int]:
    base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
    try:
        tip = int(w3.eth.max_priority_fee)
    except Exception:  # noqa: BLE001 - nodes without eth_maxPriorityFeePerGas
        tip = 10**9
    return 2 * base + tip, tip


def _sign_step(w3: Web3, plan: Plan, step: Step, signer: TxSigner, journal: DeployJournal,
               chain_id: int, *, gas: int | None, fees: tuple[int, int] | None,
               check_nonce: bool = True) -> str:
    """Sign one new step, journal it, broadcast it; returns its hash. ``gas``/``fees``
    None: estimated now on the node (after the previous step mined)."""
    nonce = plan.nonce(step)
    have = int(w3.eth.get_transaction_count(plan.deployer, "pending")) if check_nonce \
        else nonce
    if have != nonce:
        raise DeployError(
            f"The deployer's next nonce is {have}, but step {step.index + 1} was planned at "
            f"nonce {nonce}: the key was used outside this deploy. Nothing was signed; "
            "the planned addresses no longer hold. Inspect the journal "
            f"{journal.path}.")
    gas = gas or int(_estimate(w3, plan, step) * GAS_MARGIN)
    max_fee, tip = fees or _fees(w3)
    tx = {"chainId": chain_id, "nonce": nonce, "gas": gas, "maxFeePerGas": max_fee,
          "maxPriorityFeePerGas": tip, "value": 0, "data": step.data, "type": 2}
    if step.to is not None:
        tx["to"] = step.to
    signed = signer.sign(tx, chain_id)
    tx_hash = "0x" + signed.tx_hash.hex()
    journal.signed(step.index, step.label, nonce, tx_hash, signed.raw)
    w3.eth.send_raw_transaction(signed.raw)
    return tx_hash


def _resume_step(w3: Web3, plan: Plan, step: Step, entry: dict[str, Any],
                 timeout: float) -> Any:
    """A step journaled in an earlier run: its receipt, re-broadcasting the same bytes."""
    tx_hash = entry["hash"]
    with contextlib.suppress(TransactionNotFound):
        return w3.eth.get_transaction_receipt(tx_hash)
    if int(w3.eth.get_transaction_count(plan.deployer, "latest")) > plan.nonce(step):
        raise DeployError(
            f"Step {step.index + 1}'s nonce {plan.nonce(step)} was used by a transaction that "
            f"is not the journaled {tx_hash}: the key was used elsewhere. Stopped.")
    try:
        w3.eth.send_raw_transaction(bytes.fromhex(entry["raw"][2:]))
    except Exception as exc:  # noqa: BLE001 - the node's words are not shown, only judged
        text = str(exc).lower()
        if not any(k in text for k in ("already known", "already imported", "known transaction")):
            raise DeployError(
                f"The node refused step {step.index + 1}'s journaled transaction {tx_hash} "
                "when it was sent again (its fee may now be below the base fee). Nothing new "
                "was signed; run the deploy again later, or inspect the journal.") from None
    return _wait(w3, tx_hash, timeout)


def deploy(w3: Web3, cfg: DeployConfig, signer: TxSigner, journal_path: Path, *,
           progress: Progress | None = None, receipt_timeout: float = 600.0,
           label: str | None = None, pipeline: bool = False,
           check: bool = True, durable: bool = True) -> DeployRun:
    """Deploy (or resume deploying) ``cfg`` with ``signer``; returns the record.

    ``pipeline`` (the devnet): every step signed with its plan's gas hint and broadcast
    back to back, receipts awaited at the end -- one round trip per step instead of an
    estimate and a wait each; journaled and resumable the same way."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    chain_id = int(w3.eth.chain_id)
    deployer = to_checksum_address(signer.address)
    notes = preflight(w3, cfg) if check and not Path(journal_path).is_file() else []
    latest = int(w3.eth.get_transaction_count(deployer, "latest"))
    journal = DeployJournal.open(journal_path, digest=cfg.digest(), chain_id=chain_id,
                                 deployer=deployer, start_nonce=latest, durable=durable)
    pending = int(w3.eth.get_transaction_count(deployer, "pending"))
    if not journal.data["steps"] and pending != journal.start_nonce:
        if pending > latest:
            raise DeployError(f"{deployer} has pending transactions; let them settle first.")
        raise DeployError(
            f"The journal {journal_path} plans this deploy from nonce {journal.start_nonce}, "
            f"but the deployer's next nonce is {latest}: the key was used outside this "
            "deploy. Nothing was signed; move the journal away to plan afresh.")
    if "book_exists" not in journal.data:
        journal.data["book_exists"] = bool(w3.eth.get_code(book_address()))
        journal.save()
    plan = build_plan(cfg, deployer, journal.start_nonce,
                      book_exists=journal.data["book_exists"])
    runs: list[StepRun] = []
    sent: list[tuple[Step, str]] = []  # pipelined: broadcast, receipts awaited at the end
    fees = _fees(w3) if pipeline else None

    def settle(step: Step, receipt: Any) -> None:
        if int(receipt["status"]) != 1:
            raise DeployError(f"Step {step.index + 1} ({step.label}) reverted in block "
                              f"{receipt['blockNumber']}; the deploy stopped there.")
        if step.to is None and step.creates and \
                to_checksum_address(receipt["contractAddress"]) != step.creates:
            raise DeployError(f"Step {step.index + 1} created {receipt['contractAddress']}, "
                              f"not the planned {step.creates}.")
        journal.mined(step.index, int(receipt["blockNumber"]), int(receipt["gasUsed"]))
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        runs.append(StepRun(step, int(receipt["gasUsed"]), tx_hash, int(receipt["blockNumber"])))
        say(f"[{step.index + 1}/{len(plan.steps)}] {step.what}: "
            f"{int(receipt['gasUsed']):,} gas")

    for step in plan.steps:
        entry = journal.step(step.index)
        if entry and entry.get("mined"):
            runs.append(StepRun(step, int(entry["gas_used"]), entry["hash"],
                                int(entry["block"]), resumed=True))
            say(f"[{step.index + 1}/{len(plan.steps)}] {step.what}: done earlier")
            continue
        if entry:
            say(f"[{step.index + 1}/{len(plan.steps)}] resuming {entry['hash']}")
            settle(step, _resume_step(w3, plan, step, entry, receipt_timeout))
        elif pipeline:
            sent.append((step, _sign_step(w3, plan, step, signer, journal, chain_id,
                                          gas=step.gas_hint, fees=fees,
                                          check_nonce=not sent)))
        else:
            tx_hash = _sign_step(w3, plan, step, signer, journal, chain_id, gas=None,
                                 fees=None)
            settle(step, _wait(w3, tx_hash, receipt_timeout))
    for step, tx_hash in sent:
        settle(step, _wait(w3, tx_hash, receipt_timeout))
    runs.sort(key=lambda r: r.step.index)
    verify_deployed(w3, cfg, plan)
    record = record_from_chain(
        w3, chain_id=chain_id, vault=plan.vault, lens=plan.lens, usdc=cfg.usdc,
        deployment_block=runs[0].block or 0, timelock=plan.timelock,
        label=label if label is not None else cfg.label, abi="v2")
    journal.finished(record.to_dict())
    return DeployRun(plan, runs, chain_id, time.perf_counter() - t0, record=record,
                     notes=notes)


def verify_deployed(w3: Web3, cfg: DeployConfig, plan: Plan) -> None:
    """The end state, read back: the vault's owner and roles, the timelock's delay and
    roles (the deployer's revoked), the constituent count."""
    def one(to: str, sig: str, types: list[str], out: str, args: list[Any] | None = None) -> Any:
        return _call(w3, to, sig, types, [out], args)[0]

    checks = [
        ("vault owner", to_checksum_address(one(plan.vault, "owner()", [], "address")),
         plan.timelock),
        ("vault operator", to_checksum_address(one(plan.vault, "operator()", [], "address")),
         cfg.operator),
        ("vault keeper", to_checksum_address(one(plan.vault, "keeper()", [], "address")),
         cfg.keeper_address),
        ("constituents", one(plan.vault, "constituentCount()", [], "uint256"),
         len(cfg.constituents)),
        ("timelock delay", one(plan.timelock, "getMinDelay()", [], "uint256"), cfg.delay),
    ]
    has = "hasRole(bytes32,address)"
    for p in cfg.proposers:
        checks.append((f"proposer {p}", one(plan.timelock, has, ["bytes32", "address"], "bool",
                                            [PROPOSER_ROLE, p]), True))
    for e in cfg.executors:
        checks.append((f"executor {e}", one(plan.timelock, has, ["bytes32", "address"], "bool",
                                            [EXECUTOR_ROLE, e]), True))
    d = plan.deployer
    checks.append(("deployer's proposer role", one(plan.timelock, has, ["bytes32", "address"],
                                                    "bool", [PROPOSER_ROLE, d]),
                   d in cfg.proposers))
    for what, got, want in checks:
        if got != want:
            raise DeployError(f"After the deploy the {what} is {got}, not {want}.")
