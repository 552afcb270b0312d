"""The pinned timelock's operations, decoded once into sentences for the owner and the depositor.

The vault's owner is OpenZeppelin's ``TimelockController``: every owner change (a feed,
a constituent, the fees, the limits, a role, the delay itself) is first *scheduled*, is
visible on chain for the delay, and only then can be *executed*. That delay is the
depositor's protection, so the owner's CLI (``index-wallet governance list``) and the
depositor's view (the Index page notice, the buy preview, ``index-wallet index changes``)
must say the same thing about the same operation. This module is the one place that
knows how:

* :func:`decode_call` / :func:`describe_call` -- one scheduled call, decoded against the
  ABI of the contract it targets (the pinned vault or the pinned timelock, from the
  shipped artifacts) and said in words ("BTC's price feed changes"). A call to any other
  target, or a selector neither ABI has, is reported as unrecognised with its selector:
  an unknown call is never guessed.
* :class:`TimelockLog` -- the timelock's ``CallScheduled`` / ``CallSalt`` /
  ``CallExecuted`` / ``Cancelled`` events, read incrementally (only new blocks, plus
  :data:`REORG_DEPTH` again so that a reorganised event is seen), in chunks of
  :data:`LOG_CHUNK` blocks.
* :func:`list_operations` -- every operation as a :class:`TimelockOperation` with its
  calls in words, its state (``pending``, ``ready``, ``done``, ``cancelled``; an open one
  confirmed by the timelock's ``getTimestamp``) and its time of effect, all in chain time.
* The owner's calldata: :func:`operation_id`, :func:`schedule_data`, :func:`execute_data`
  and builders for the usual changes (signed elsewhere).

Addresses come from the pinned record (the timelock and the vault); the node's answers are
only read, never used as addresses. Token symbols are display names from ``names`` (the
pinned vault's lens snapshot), failing that the short address. No Qt, no web3 object: an
``rpc(method, *params)`` callable (``ChainClient.rpc``) is all it needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from .chain.simulate import abi_type
from .errors import WalletError

Rpc = Callable[..., Any]

EV_SCHEDULED = "0x" + keccak(
    text="CallScheduled(bytes32,uint256,address,uint256,bytes,bytes32,uint256)").hex()
EV_EXECUTED = "0x" + keccak(text="CallExecuted(bytes32,uint256,address,uint256,bytes)").hex()
EV_SALT = "0x" + keccak(text="CallSalt(bytes32,bytes32)").hex()
EV_CANCELLED = "0x" + keccak(text="Cancelled(bytes32)").hex()
ZERO32 = "0x" + "00" * 32
#: ``getTimestamp`` of an executed operation (OpenZeppelin's ``_DONE_TIMESTAMP``).
DONE_TIMESTAMP = 1
#: Blocks per ``eth_getLogs`` call (public nodes cap the range).
LOG_CHUNK = 50_000
#: Blocks read again on every refresh, so that a reorganised Cancelled/Executed is seen.
REORG_DEPTH = 64
ROLE_NAMES = {0: "operator", 1: "keeper", 2: "guardian", 3: "fee recipient"}
TIMELOCK_ROLES = {keccak(text=n): n.removesuffix("_ROLE").lower() for n in
                  ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE")}


# ------------------------------------------------------------------ calls in words


@cache
def _functions(contract: str) -> dict[bytes, tuple[str, tuple[tuple[str, str], ...]]]:
    """selector -> (name, ((argument name, type), ...)) of a shipped artifact's ABI."""
    from .devnet import artifacts

    out = {}
    for f in artifacts.load(contract).abi:
        if f.get("type") == "function":
            args = tuple((str(i["name"]), abi_type(i)) for i in f["inputs"])
            out[keccak(text=f"{f['name']}({','.join(t for _, t in args)})")[:4]] = (
                str(f["name"]), args)
    return out


_CONTRACTS = {"vault": "IndexVault", "timelock": "TimelockController"}


def calldata(name: str, *args: Any) -> bytes:
    """ABI calldata of a vault (or, failing that, timelock) function by its name."""
    for contract in _CONTRACTS.values():
        for sel, (fn, params) in _functions(contract).items():
            if fn == name:
                return sel + abi_encode([t for _, t in params], list(args))
    raise KeyError(name)


@dataclass(frozen=True)
class OperationCall:
    """One call of an operation: what is signed (target, value, data) and what it means."""

    target: str
    value: int
    data: bytes
    sentence: str  # what it changes, in words (the same for the owner and the depositor)
    function: str = ""  # the decoded function's name, "" when not recognised
    args: Mapping[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        """The exact decoded call (``setFeed(token=0x…, feed=0x…, heartbeat=3600)``)."""
        if not self.function:
            return f"selector 0x{bytes(self.data[:4]).hex()} to {self.target}"
        return f"{self.function}({', '.join(f'{k}={_plain(v)}' for k, v in self.args.items())})"


def _plain(v: Any) -> str:
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_plain(x) for x in v) + "]"
    if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
        return to_checksum_address(v)
    return str(v)


def decode_call(target: str, data: bytes, *, vault: str, timelock: str, value: int = 0
                ) -> tuple[str | None, str, dict[str, Any] | None]:
    """(where, function, named args) of a call: ``where`` is "vault"/"timelock" for a
    pinned target (else None); ``function`` "" for a selector that target's ABI lacks;
    args None when the selector is known but its arguments do not decode."""
    target = to_checksum_address(target)
    where = "vault" if target == to_checksum_address(vault) else \
        "timelock" if target == to_checksum_address(timelock) else None
    found = _functions(_CONTRACTS[where]).get(bytes(data[:4])) if where else None
    if found is None:
        return where, "", {}
    fn, params = found
    try:
        values = abi_decode([t for _, t in params], bytes(data[4:]))
    except Exception:  # noqa: BLE001 - undecodable arguments: said so, never guessed
        return where, fn, None
    return where, fn, {n or f"arg{i}": v for i, ((n, _), v) in enumerate(zip(params, values,
                                                                             strict=True))}


def _duration(seconds: int) -> str:
    if seconds % 86_400 == 0 and seconds >= 86_400:
        return f"{seconds // 86_400} d"
    if seconds % 3_600 == 0 and seconds >= 3_600:
        return f"{seconds // 3_600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def _pct(bps: int) -> str:
    return f"{Decimal(int(bps)) / 100:.2f}%"


def describe_vault_call(function: str, args: Mapping[str, Any],
                        symbols: Mapping[str, str]) -> str:
    """A vault owner call in a depositor's words (``symbols``: token address -> symbol)."""
    symbols = {to_checksum_address(k): v for k, v in symbols.items()}

    def sym(addr: Any) -> str:
        try:
            a = to_checksum_address(addr)
        except (TypeError, ValueError):
            return str(addr)
        return symbols.get(a, f"the token {a[:10]}…")

    if function == "setFeed":
        return f"{sym(args['token'])}'s price feed changes"
    if function == "addConstituents":
        names = [sym(t) for t in args["tokens"]]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        return f"{shown} {'joins' if len(names) == 1 else 'join'} the index"
    if function == "removeConstituent":
        return f"{sym(args['token'])} leaves the index"
    if function == "writeOffConstituent":
        return f"{sym(args['token'])} is written off (removed at zero value)"
    if function == "setFees":
        return (f"the fees change to {_pct(args['newBuyFeeBps'])} on buys and "
                f"{_pct(args['newSellFeeBps'])} on sells")
    if function == "setRole":
        role = ROLE_NAMES.get(int(args["role"]), f"role {int(args['role'])}")
        return f"the {role} changes to {to_checksum_address(args['account'])}"
    if function == "setLimits":
        return "the operator's trading limits change"
    if function == "setSequencerFeed":
        return "the L2 sequencer feed changes"
    if function in ("transferOwnership", "acceptOwnership"):
        return "the vault's owner changes"
    if function in ("pause", "unpause"):
        return f"the vault is {function}d"
    if function == "updateNav":
        return "the NAV is refreshed"
    return f"the vault's {function} is called"


def _describe_timelock_call(function: str, args: Mapping[str, Any]) -> str:
    if function == "updateDelay":
        return f"the timelock's delay changes to {_duration(int(args['newDelay']))}"
    if function in ("grantRole", "revokeRole"):
        role = TIMELOCK_ROLES.get(bytes(args["role"]), "0x" + bytes(args["role"]).hex()[:8])
        verb = "becomes" if function == "grantRole" else "is no longer"
        return f"{to_checksum_address(args['account'])} {verb} a timelock {role}"
    return f"the timelock's {function} is called"


def describe_call(target: str, data: bytes, *, vault: str, timelock: str,
                  names: Mapping[str, str] | None = None, value: int = 0) -> str:
    """One scheduled call as a sentence (see :func:`decoded_call`)."""
    return decoded_call(target, data, vault=vault, timelock=timelock, names=names,
                        value=value).sentence


def decoded_call(target: str, data: bytes, *, vault: str, timelock: str,
                 names: Mapping[str, str] | None = None, value: int = 0) -> OperationCall:
    """One scheduled call, decoded and said in words; an unknown call is never guessed."""
    target = to_checksum_address(target)
    where, fn, args = decode_call(target, data, vault=vault, timelock=timelock)
    if not fn:
        text = (f"unrecognised call {bytes(data[:4]).hex() or '(none)'} to "
                f"{'the ' + where if where else target}")
        return OperationCall(target, value, bytes(data),
                             text + (f" with {value} wei" if value else ""))
    if args is None:
        return OperationCall(target, value, bytes(data),
                             f"{fn} on the {where} with undecodable arguments")
    text = describe_vault_call(fn, args, names or {}) if where == "vault" else \
        _describe_timelock_call(fn, args)
    if value:
        text += f" (sending {value} wei)"
    return OperationCall(target, value, bytes(data), text, fn, args)


def time_left_text(seconds: int) -> str:
    """A countdown in the largest unit that keeps it honest (rounded up, never early)."""
    if seconds <= 0:
        return "now (ready to execute)"
    if seconds < 3600:
        return f"in {max(1, -(-seconds // 60))} min"
    if seconds < 72 * 3600:
        return f"in {-(-seconds // 3600)} h"
    return f"in {-(-seconds // 86_400)} days"


# ------------------------------------------------------------------ operations


@dataclass(frozen=True)
class TimelockOperation:
    """One timelock operation and where it stands at ``now`` (chain time of the read)."""

    id: str
    calls: tuple[OperationCall, ...]
    predecessor: str
    salt: str
    delay: int
    scheduled_block: int
    scheduled_at: int
    ready_at: int  # the time of effect: it can be executed from then on
    state: str  # "pending" | "ready" | "done" | "cancelled"
    executed_at: int | None = None
    now: int | None = None  # the chain time the state was read at

    @property
    def summary(self) -> str:
        """What changes, in one sentence without the time (repeated calls said once)."""
        return "; ".join(dict.fromkeys(c.sentence for c in self.calls))

    @property
    def sentence(self) -> str:
        return self.summary

    @property
    def seconds_left(self) -> int:
        return max(0, self.ready_at - int(self.now or 0))

    def when(self, now: int | None = None) -> str:
        """``in 31 h`` / ``now (ready to execute)`` / ``executed`` / ``cancelled``, at chain
        time ``now`` (default: the time it was read at)."""
        if self.state in ("pending", "ready"):
            at = self.now if now is None else now
            return time_left_text(self.ready_at - int(at or 0))
        return {"done": "executed", "cancelled": "cancelled"}[self.state]


class TimelockLog:
    """The events of one pinned timelock, read incrementally: each :meth:`read` asks the
    node only for the blocks after the last read (plus :data:`REORG_DEPTH` again)."""

    def __init__(self, timelock: str, first_block: int) -> None:
        self.timelock = to_checksum_address(timelock)
        self.first_block = first_block
        self._events: list[tuple[int, int, str, str, bytes]] = []
        self._times: dict[int, int] = {}
        self._scanned = first_block - 1
        self._lock = threading.Lock()

    def read(self, rpc: Rpc, latest: int) -> list[tuple[int, int, str, str, bytes]]:
        """(block, log index, topic, operation id, topics[2] + data) up to ``latest``."""
        with self._lock:
            start = max(self.first_block, min(self._scanned, latest) - REORG_DEPTH + 1)
            fresh = []
            lo = start
            while lo <= latest:
                hi = min(latest, lo + LOG_CHUNK - 1)
                for lg in rpc("eth_getLogs", {"address": self.timelock, "fromBlock": hex(lo),
                                              "toBlock": hex(hi),
                                              "topics": [[EV_SCHEDULED, EV_EXECUTED,
                                                          EV_SALT, EV_CANCELLED]]}):
                    if lg.get("removed"):
                        continue
                    extra = bytes.fromhex(lg["topics"][2][2:]) if len(lg["topics"]) > 2 else b""
                    fresh.append((int(lg["blockNumber"], 16), int(lg["logIndex"], 16),
                                  lg["topics"][0], lg["topics"][1],
                                  extra + bytes.fromhex(lg["data"][2:])))
                lo = hi + 1
            self._events = [e for e in self._events if e[0] < start] + sorted(fresh)
            self._times = {b: t for b, t in self._times.items() if b < start}
            self._scanned = latest
            return list(self._events)

    def block_time(self, rpc: Rpc, block: int) -> int:
        with self._lock:
            if block not in self._times:
                self._times[block] = int(rpc("eth_getBlockByNumber", hex(block),
                                             False)["timestamp"], 16)
            return self._times[block]


def _timestamp(rpc: Rpc, timelock: str, op_id: str, block: int) -> int:
    """The timelock's own ``getTimestamp(id)`` at ``block`` (0 unset, 1 done)."""
    data = keccak(text="getTimestamp(bytes32)")[:4] + bytes.fromhex(op_id[2:])
    return int(rpc("eth_call", {"to": timelock, "data": "0x" + data.hex()}, hex(block)), 16)


def list_operations(rpc: Rpc, timelock: str, *, vault: str, from_block: int = 0,
                    now: int | None = None, names: Mapping[str, str] | None = None,
                    log: TimelockLog | None = None) -> list[TimelockOperation]:
    """Every operation of the pinned ``timelock`` since ``from_block``, oldest first.

    ``log`` keeps the events between calls (pass the same one to read only new blocks).
    ``now`` decides pending vs ready (default: the time of the block read up to). An
    operation the events leave open is confirmed by the timelock's ``getTimestamp`` at that
    block, so that its state and time of effect are the contract's, not our arithmetic.
    """
    timelock = to_checksum_address(timelock)
    log = log or TimelockLog(timelock, from_block)
    head = rpc("eth_getBlockByNumber", "latest", False)
    latest = int(head["number"], 16)
    now = int(head["timestamp"], 16) if now is None else now
    sched: dict[str, dict[str, Any]] = {}
    salts: dict[str, str] = {}
    executed: dict[str, int] = {}
    cancelled: set[str] = set()
    for block, _i, topic, op_id, body in log.read(rpc, latest):
        if topic == EV_SCHEDULED:
            target, value, data, pred, delay = abi_decode(
                ["address", "uint256", "bytes", "bytes32", "uint256"], body[32:])
            entry = sched.setdefault(op_id, {"calls": {}, "block": block,
                                             "pred": "0x" + pred.hex(), "delay": int(delay)})
            entry["calls"][int.from_bytes(body[:32], "big")] = (target, int(value), bytes(data))
        elif topic == EV_SALT:
            salts[op_id] = "0x" + body[:32].hex()
        elif topic == EV_EXECUTED:
            executed[op_id] = block
        elif topic == EV_CANCELLED:
            cancelled.add(op_id)
    ops = []
    for op_id, e in sched.items():
        at = log.block_time(rpc, e["block"])
        ready_at, done_at = at + e["delay"], None
        if op_id in executed:
            state, done_at = "done", log.block_time(rpc, executed[op_id])
        elif op_id in cancelled:
            state = "cancelled"
        else:
            ts = _timestamp(rpc, timelock, op_id, latest)
            if ts > DONE_TIMESTAMP:
                ready_at = ts
                state = "ready" if now >= ready_at else "pending"
            else:  # the events and the contract disagree: the contract wins
                state = "done" if ts == DONE_TIMESTAMP else "cancelled"
        calls = tuple(decoded_call(t, d, vault=vault, timelock=timelock, names=names, value=v)
                      for _i, (t, v, d) in sorted(e["calls"].items()))
        ops.append(TimelockOperation(op_id, calls, e["pred"], salts.get(op_id, ZERO32),
                                     e["delay"], e["block"], at, ready_at, state, done_at,
                                     now))
    return sorted(ops, key=lambda o: (o.scheduled_block, o.id))


# ------------------------------------------------------------------ owner's side


def operation_id(calls: Sequence[tuple[str, int, bytes]], predecessor: str, salt: str) -> str:
    """The timelock's id of an operation (``hashOperation`` for one call, else
    ``hashOperationBatch``), as :func:`schedule_data` schedules it."""
    pred, s = bytes.fromhex(predecessor[2:]), bytes.fromhex(salt[2:])
    if len(calls) == 1:
        t, v, d = calls[0]
        enc = abi_encode(["address", "uint256", "bytes", "bytes32", "bytes32"],
                         [t, v, d, pred, s])
    else:
        enc = abi_encode(["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
                         [[c[0] for c in calls], [c[1] for c in calls], [c[2] for c in calls],
                          pred, s])
    return "0x" + keccak(enc).hex()


def schedule_data(calls: Sequence[tuple[str, int, bytes]], salt: str, delay: int,
                  predecessor: str = ZERO32) -> bytes:
    """Calldata of ``schedule`` (one call) or ``scheduleBatch`` on the timelock."""
    pred, s = bytes.fromhex(predecessor[2:]), bytes.fromhex(salt[2:])
    if len(calls) == 1:
        t, v, d = calls[0]
        return keccak(text="schedule(address,uint256,bytes,bytes32,bytes32,uint256)")[:4] + \
            abi_encode(["address", "uint256", "bytes", "bytes32", "bytes32", "uint256"],
                       [t, v, d, pred, s, delay])
    return keccak(text="scheduleBatch(address[],uint256[],bytes[],bytes32,bytes32,uint256)")[
        :4] + abi_encode(["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32", "uint256"],
                         [[c[0] for c in calls], [c[1] for c in calls],
                          [c[2] for c in calls], pred, s, delay])


def execute_data(op: TimelockOperation) -> bytes:
    """Calldata of ``execute``/``executeBatch`` for a listed operation."""
    pred, s = bytes.fromhex(op.predecessor[2:]), bytes.fromhex(op.salt[2:])
    if len(op.calls) == 1:
        c = op.calls[0]
        return keccak(text="execute(address,uint256,bytes,bytes32,bytes32)")[:4] + abi_encode(
            ["address", "uint256", "bytes", "bytes32", "bytes32"],
            [c.target, c.value, c.data, pred, s])
    return keccak(text="executeBatch(address[],uint256[],bytes[],bytes32,bytes32)")[:4] + \
        abi_encode(["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
                   [[c.target for c in op.calls], [c.value for c in op.calls],
                    [c.data for c in op.calls], pred, s])


def set_feed(vault: str, token: str, feed: str, heartbeat: int) -> tuple[str, int, bytes]:
    return (vault, 0, calldata("setFeed", token, feed, heartbeat))


def add_constituent(vault: str, token: str, feed: str, heartbeat: int
                    ) -> tuple[str, int, bytes]:
    return (vault, 0, calldata("addConstituents", [token], [feed], [heartbeat]))


def remove_constituent(vault: str, token: str) -> tuple[str, int, bytes]:
    return (vault, 0, calldata("removeConstituent", token))


def set_fees(vault: str, buy_bps: int, sell_bps: int) -> tuple[str, int, bytes]:
    return (vault, 0, calldata("setFees", buy_bps, sell_bps))


class GovernanceUsage(WalletError):
    """A governance command with wrong arguments."""

    exit_code = 143
