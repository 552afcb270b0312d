"""Simulate before signing, and turn revert data into a plain sentence.

Why: a transaction that would revert still costs gas once mined, so every transaction is
run with ``eth_call`` (and its gas estimated) *before* the user is asked to sign. When the
call reverts, the revert data is decoded:

* ``Error(string)`` (``require(cond, "text")``): the contract's own words, cleaned of
  control characters and shortened, unless a known phrase maps to our wording;
* ``Panic(uint256)`` (Solidity >= 0.8 checks): the panic code's meaning;
* custom errors (``error SlippageExceeded(uint256 minOut, uint256 out)``): matched by
  selector against the ABIs the caller registers, then turned into a sentence through a
  mapping of error name -> user text that callers extend (templates may use the decoded
  argument names, e.g. ``"{minOut}"``).

The node's error *message* is never shown (see :mod:`.errors`); only the revert *data*,
which comes from the contract, is decoded.
"""

from __future__ import annotations

import logging
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from .errors import ChainError, TransactionReverted
from .provider import ChainClient, RpcCallError

log = logging.getLogger(__name__)

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

#: Solidity panic codes (docs: "Panic via assert and Error via require").
PANIC_MEANINGS: dict[int, str] = {
    0x00: "a generic check inside the contract failed",
    0x01: "an internal consistency check (assert) failed",
    0x11: "a calculation overflowed or underflowed (the amount is out of range)",
    0x12: "a division or modulo by zero happened (an amount or price is zero)",
    0x21: "a value was converted to an invalid enum",
    0x22: "the contract read corrupt storage data",
    0x31: "an empty list was popped",
    0x32: "a list was read past its end",
    0x41: "the contract asked for too much memory",
    0x51: "the contract called an uninitialised function",
}

#: Errors of OpenZeppelin 5 (tokens, ERC-4626, pausable, access) that any of our contracts
#: or a token may raise: (name, [(arg name, ABI type), ...]).
_BUILTIN_ERRORS: list[tuple[str, list[tuple[str, str]]]] = [
    ("ERC20InsufficientBalance", [("sender", "address"), ("balance", "uint256"),
                                  ("needed", "uint256")]),
    ("ERC20InsufficientAllowance", [("spender", "address"), ("allowance", "uint256"),
                                    ("needed", "uint256")]),
    ("ERC20InvalidReceiver", [("receiver", "address")]),
    ("ERC20InvalidSender", [("sender", "address")]),
    ("ERC20InvalidApprover", [("approver", "address")]),
    ("ERC20InvalidSpender", [("spender", "address")]),
    ("ERC2612ExpiredSignature", [("deadline", "uint256")]),
    ("ERC2612InvalidSigner", [("signer", "address"), ("owner", "address")]),
    ("ERC4626ExceededMaxDeposit", [("receiver", "address"), ("assets", "uint256"),
                                   ("max", "uint256")]),
    ("ERC4626ExceededMaxMint", [("receiver", "address"), ("shares", "uint256"),
                                ("max", "uint256")]),
    ("ERC4626ExceededMaxWithdraw", [("owner", "address"), ("assets", "uint256"),
                                    ("max", "uint256")]),
    ("ERC4626ExceededMaxRedeem", [("owner", "address"), ("shares", "uint256"),
                                  ("max", "uint256")]),
    ("EnforcedPause", []),
    ("ExpectedPause", []),
    ("OwnableUnauthorizedAccount", [("account", "address")]),
    ("AccessControlUnauthorizedAccount", [("account", "address"), ("neededRole", "bytes32")]),
    ("SafeERC20FailedOperation", [("token", "address")]),
    ("ReentrancyGuardReentrantCall", []),
]

#: Default user text per error name. Callers add their own (the vault's errors).
DEFAULT_ERROR_MESSAGES: dict[str, str] = {
    "ERC20InsufficientBalance": "your token balance is too low for this amount.",
    "ERC20InsufficientAllowance": "the contract is not yet approved to spend this amount "
                                  "of your token; approve it first.",
    "ERC20InvalidReceiver": "the receiving address is not valid.",
    "ERC20InvalidSender": "the sending address is not valid.",
    "ERC20InvalidApprover": "the approving address is not valid.",
    "ERC20InvalidSpender": "the approved address is not valid.",
    "ERC2612ExpiredSignature": "the signed approval (permit) has expired; try again.",
    "ERC2612InvalidSigner": "the signed approval (permit) does not match this account.",
    "ERC4626ExceededMaxDeposit": "the amount is above what the vault accepts right now.",
    "ERC4626ExceededMaxMint": "the share amount is above what the vault can issue now.",
    "ERC4626ExceededMaxWithdraw": "the amount is more than you can withdraw.",
    "ERC4626ExceededMaxRedeem": "you are redeeming more shares than you hold.",
    "EnforcedPause": "this action is paused right now (in-kind redemption still works).",
    "ExpectedPause": "this action is only possible while the contract is paused.",
    "OwnableUnauthorizedAccount": "this account is not allowed to do that.",
    "AccessControlUnauthorizedAccount": "this account is not allowed to do that.",
    "SafeERC20FailedOperation": "a token transfer inside the contract failed.",
    "ReentrancyGuardReentrantCall": "the contract refused a re-entrant call.",
}

#: Known phrases of Error(string) reasons from common tokens -> our wording.
DEFAULT_STRING_MESSAGES: dict[str, str] = {
    "transfer amount exceeds balance": "your token balance is too low for this amount.",
    "transfer amount exceeds allowance": "the contract is not yet approved to spend this "
                                         "amount of your token; approve it first.",
    "insufficient allowance": "the contract is not yet approved to spend this amount of "
                              "your token; approve it first.",
    "insufficient balance": "your token balance is too low for this amount.",
    "expired": "the deadline passed before the transaction ran; try again.",
}

_MAX_REASON = 160


@dataclass(frozen=True)
class DecodedRevert:
    """What a revert meant: ``kind`` is error | panic | custom | unknown | empty."""

    kind: str
    message: str  # a plain sentence fragment, lower-case start, ends with "."
    name: str | None = None  # "Error", "Panic" or the custom error's name
    args: dict[str, Any] = field(default_factory=dict)
    data: bytes = b""


@dataclass(frozen=True)
class _ErrorDef:
    name: str
    arg_names: list[str]
    arg_types: list[str]


class _SafeFormat(string.Formatter):
    """``str.format`` that leaves unknown fields visible and forbids attribute access."""

    def get_field(self, field_name: str, args: Sequence[Any],
                  kwargs: Mapping[str, Any]) -> tuple[Any, str]:
        if "." in field_name or "[" in field_name:
            return "{" + field_name + "}", field_name
        return kwargs.get(field_name, "{" + field_name + "}"), field_name


def _clean(text: str) -> str:
    """Contract-supplied text made safe to show: printable, single line, short."""
    out = "".join(ch if unicodedata.category(ch)[0] not in "CZ" or ch == " " else " "
                  for ch in text)
    out = " ".join(out.split())
    return out if len(out) <= _MAX_REASON else out[: _MAX_REASON - 1] + "…"


def abi_type(inp: Mapping[str, Any]) -> str:
    """ABI type string, expanding tuples (``tuple(uint256,address)[]``)."""
    t = str(inp["type"])
    if t.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in inp.get("components", []))
        return f"({inner}){t[len('tuple'):]}"
    return t


class RevertDecoder:
    """Decodes revert data into :class:`DecodedRevert`; extend with ABIs and messages."""

    def __init__(
        self,
        abis: Iterable[Sequence[Mapping[str, Any]]] = (),
        messages: Mapping[str, str] | None = None,
        string_messages: Mapping[str, str] | None = None,
    ) -> None:
        self._errors: dict[bytes, _ErrorDef] = {}
        self.messages: dict[str, str] = dict(DEFAULT_ERROR_MESSAGES)
        self.string_messages: dict[str, str] = dict(DEFAULT_STRING_MESSAGES)
        for name, params in _BUILTIN_ERRORS:
            self._add(name, [n for n, _ in params], [t for _, t in params])
        for abi in abis:
            self.register_abi(abi)
        if messages:
            self.messages.update(messages)
        if string_messages:
            self.string_messages.update(string_messages)

    def _add(self, name: str, arg_names: list[str], arg_types: list[str]) -> None:
        selector = keccak(text=f"{name}({','.join(arg_types)})")[:4]
        self._errors[selector] = _ErrorDef(name, arg_names, arg_types)

    def register_abi(self, abi: Sequence[Mapping[str, Any]]) -> None:
        """Learn every ``type: error`` entry of a contract ABI."""
        for item in abi:
            if item.get("type") != "error":
                continue
            inputs = list(item.get("inputs", []))
            self._add(str(item["name"]),
                      [str(i.get("name") or f"arg{n}") for n, i in enumerate(inputs)],
                      [abi_type(i) for i in inputs])

    def register_messages(self, messages: Mapping[str, str]) -> None:
        """Add or override error name -> user text (templates may use argument names)."""
        self.messages.update(messages)

    def known_errors(self) -> dict[str, str]:
        """selector hex -> error name (for tests and diagnostics)."""
        return {"0x" + k.hex(): v.name for k, v in self._errors.items()}

    def decode(self, data: bytes | str | None) -> DecodedRevert:
        """Decode revert bytes (``0x`` hex accepted)."""
        raw = _as_bytes(data)
        if not raw:
            return DecodedRevert("empty", "the contract rejected it without giving a "
                                          "reason.", data=raw)
        selector, body = raw[:4], raw[4:]
        try:
            if selector == ERROR_SELECTOR:
                (reason,) = abi_decode(["string"], body)
                return self._from_string(str(reason), raw)
            if selector == PANIC_SELECTOR:
                (code,) = abi_decode(["uint256"], body)
                meaning = PANIC_MEANINGS.get(int(code), "the contract hit an internal error")
                return DecodedRevert("panic", f"{meaning} (panic 0x{int(code):02x}).",
                                     "Panic", {"code": int(code)}, raw)
            spec = self._errors.get(selector)
            if spec is not None:
                values = abi_decode(spec.arg_types, body) if spec.arg_types else ()
                args = dict(zip(spec.arg_names, values, strict=True))
                return DecodedRevert("custom", self._custom_message(spec.name, args),
                                     spec.name, args, raw)
        except (DecodingError, ValueError, OverflowError) as exc:
            log.debug("undecodable revert data (%s)", type(exc).__name__)
        return DecodedRevert(
            "unknown",
            f"the contract rejected it with an error this app does not know "
            f"(0x{selector.hex()}).", data=raw)

    def _from_string(self, reason: str, raw: bytes) -> DecodedRevert:
        lowered = reason.lower()
        for phrase, text in self.string_messages.items():
            if phrase in lowered:
                return DecodedRevert("error", text, "Error", {"reason": reason}, raw)
        cleaned = _clean(reason)
        msg = (f'the contract said "{cleaned}".' if cleaned
               else "the contract rejected it without giving a reason.")
        return DecodedRevert("error", msg, "Error", {"reason": reason}, raw)

    def _custom_message(self, name: str, args: Mapping[str, Any]) -> str:
        template = self.messages.get(name)
        if template is None:
            return f"the contract rejected it ({_clean(name)})."
        shown = {k: _show(v) for k, v in args.items()}
        try:
            return _SafeFormat().vformat(template, (), shown)
        except (ValueError, IndexError, KeyError):
            return template

    def reverted(self, data: bytes | str | None, *, simulated: bool = True
                 ) -> TransactionReverted:
        """The exception for this revert data."""
        d = self.decode(data)
        return TransactionReverted(_capitalise(d.message), error_name=d.name, data=d.data,
                                   simulated=simulated)


def _show(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _as_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    text = data.strip()
    if text.startswith(("0x", "0X")):
        text = text[2:]
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


def revert_data_from_error(data: Any) -> bytes | None:
    """Find revert bytes in a JSON-RPC error's ``data`` (nodes nest it differently)."""
    if isinstance(data, str):
        return _as_bytes(data) if data.startswith(("0x", "0X")) else None
    if isinstance(data, Mapping):
        for key in ("data", "result", "originalError"):
            if key in data:
                found = revert_data_from_error(data[key])
                if found is not None:
                    return found
    return None


def _is_revert(err: RpcCallError) -> bool:
    return err.code == 3 or "revert" in err.node_message.lower()


def error_from_rpc(err: RpcCallError, decoder: RevertDecoder,
                   *, simulated: bool = True) -> ChainError:
    """Our exception for a node error: a decoded revert, or the mapped node error."""
    if _is_revert(err):
        return decoder.reverted(revert_data_from_error(err.data), simulated=simulated)
    return err.mapped()


def error_from_web3(exc: Exception, decoder: RevertDecoder) -> ChainError | None:
    """Map a web3.py exception (``ContractLogicError``, ``Web3RPCError``) to ours.

    For callers that use ``client.w3`` contract objects: wrap their calls and raise what
    this returns, so no raw node text reaches the user. None when ``exc`` is not a web3
    RPC/revert error.
    """
    from web3.exceptions import ContractLogicError, Web3RPCError

    if isinstance(exc, ContractLogicError):
        return decoder.reverted(revert_data_from_error(exc.data) or b"")
    if isinstance(exc, Web3RPCError):
        resp = exc.rpc_response or {}
        err = resp.get("error") if isinstance(resp, Mapping) else None
        if isinstance(err, Mapping):
            code = err.get("code")
            rpc_err = RpcCallError("", "", code if isinstance(code, int) else None,
                                   str(err.get("message", "")), err.get("data"))
            return error_from_rpc(rpc_err, decoder)
        return ChainError("The network node refused the request. Try again in a moment.")
    return None


# --------------------------------------------------------------------------- simulation

DEFAULT_GAS_MARGIN_BPS = 2000  # +20 %: state can move between simulation and inclusion


@dataclass(frozen=True)
class Simulation:
    """The outcome of simulating one unsigned transaction."""

    return_data: bytes
    gas_expected: int  # eth_estimateGas
    gas_limit: int  # with the safety margin


def call_params(tx: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-RPC call object from our tx dict (ints -> hex quantities, bytes -> hex)."""
    out: dict[str, Any] = {}
    for key in ("from", "to"):
        if tx.get(key):
            out[key] = tx[key]
    for key in ("value", "gas", "maxFeePerGas", "maxPriorityFeePerGas"):
        if tx.get(key) is not None:
            out[key] = hex(int(tx[key]))
    data = tx.get("data") or tx.get("input") or b""
    if data:
        out["data"] = data if isinstance(data, str) else "0x" + bytes(data).hex()
    return out


def eth_call(client: ChainClient, tx: Mapping[str, Any], *, block: str | int = "latest",
             decoder: RevertDecoder | None = None) -> bytes:
    """Run ``tx`` with ``eth_call``; raise :class:`TransactionReverted` on a revert."""
    decoder = decoder or RevertDecoder()
    blk = hex(block) if isinstance(block, int) else block
    try:
        result = client.rpc_raw("eth_call", call_params(tx), blk)
    except RpcCallError as err:
        raise error_from_rpc(err, decoder) from None
    return _as_bytes(result)


def estimate_gas(client: ChainClient, tx: Mapping[str, Any], *,
                 margin_bps: int = DEFAULT_GAS_MARGIN_BPS,
                 decoder: RevertDecoder | None = None,
                 block: str | int = "latest") -> tuple[int, int]:
    """(expected gas, gas limit with margin) from ``eth_estimateGas``.

    The block is explicit because nodes differ in their default (Anvil estimates on the
    pending block, geth on latest); the simulation's call and estimate must agree.
    """
    decoder = decoder or RevertDecoder()
    params = call_params(tx)
    params.pop("gas", None)  # let the node search the full range
    blk = hex(block) if isinstance(block, int) else block
    try:
        result = client.rpc_raw("eth_estimateGas", params, blk)
    except RpcCallError as err:
        raise error_from_rpc(err, decoder) from None
    expected = int(result, 16) if isinstance(result, str) else int(result)
    limit = -(-expected * (10_000 + margin_bps) // 10_000)
    if expected == 21_000 and not params.get("data"):
        limit = expected  # a plain transfer to an account costs exactly 21000
    return expected, limit


def simulate(client: ChainClient, tx: Mapping[str, Any], *,
             decoder: RevertDecoder | None = None,
             margin_bps: int = DEFAULT_GAS_MARGIN_BPS,
             block: str | int = "latest",
             estimate: bool = True) -> Simulation:
    """``eth_call`` then ``eth_estimateGas`` (skipped when ``estimate`` is False and the
    tx carries its own ``gas``)."""
    decoder = decoder or RevertDecoder()
    returned = eth_call(client, tx, block=block, decoder=decoder)
    if estimate or not tx.get("gas"):
        expected, limit = estimate_gas(client, tx, margin_bps=margin_bps, decoder=decoder,
                                       block=block)
    else:
        expected = limit = int(tx["gas"])
    return Simulation(returned, expected, limit)


__all__ = [
    "DEFAULT_ERROR_MESSAGES",
    "DEFAULT_GAS_MARGIN_BPS",
    "DEFAULT_STRING_MESSAGES",
    "PANIC_MEANINGS",
    "DecodedRevert",
    "RevertDecoder",
    "Simulation",
    "call_params",
    "error_from_rpc",
    "error_from_web3",
    "estimate_gas",
    "eth_call",
    "revert_data_from_error",
    "simulate",
]
