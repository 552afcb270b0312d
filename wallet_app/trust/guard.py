"""The pre-sign address check: every address that ends up in a transaction or in EIP-712
typed data is the pinned deployment's or the user's own, or nothing is signed.

How it decides, generically (so a new vault ABI only brings new policies):

* a transaction's ``to`` must be a pinned contract that has a :class:`CallPolicy`, or the
  user's own address with no data and no value (a cancel), or (a plain ETH transfer, no
  data) exactly the recipient the user confirmed in the preview;
* a token transfer (``transfer`` of the pinned USDC or of the G100 share token) is signed
  only when its ``to`` argument is exactly the recipient the user confirmed, and a revoke
  (``approve(spender, 0)``) only for exactly the spender the user chose to revoke. The
  confirmed address is an explicit argument (:class:`Confirmed`) from the preview the user
  saw, never something read from an RPC answer; the token's own address still comes from
  the deployment record;
* its calldata is decoded with that contract's ABI; only the policy's functions are
  signable, and no ETH value is sent to a contract;
* every ``address`` argument is checked by its name: ``receiver``, ``owner``, ``controller``,
  ``to``, ``account`` must be the user; ``spender`` must be the role the policy names
  (the vault); an argument the policy lists in ``verified_args`` (``claimInKind``'s
  ``token``: owed tokens need not be pinned) must pass the verifier the guard was given for
  it (none given: refused); any other address must be pinned;
* typed data: the domain's ``chainId`` must be the record's and its ``verifyingContract`` a
  pinned contract with a typed-data policy; the message's address fields follow the same
  name rules.

A refusal is :class:`SigningRefused` naming the field; it is raised before the key is
touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_abi_to_4byte_selector, is_address, to_checksum_address

from ..errors import WalletError
from .record import DeploymentRecord

#: Argument names (lower case) that must be the user's own address.
SELF_NAMES = frozenset({"receiver", "owner", "controller", "to", "account", "from"})
#: Argument names that must be a pinned contract named by the policy's ``spender_role``.
SPENDER_NAMES = frozenset({"spender"})


class SigningRefused(WalletError):
    """The pre-sign check found an address that is neither pinned nor the user's own."""

    exit_code = 52

    def __init__(self, where: str, field_name: str, got: str, expected: str) -> None:
        self.where, self.field, self.got, self.expected = where, field_name, got, expected
        super().__init__(
            f"Refused to sign: the {where}'s {field_name} is {got}, but it must be "
            f"{expected}. It does not match this chain's deployment record, so nothing was "
            "signed or sent. The node you are connected to may be hostile: check the RPC "
            "URL in Settings.")


@dataclass(frozen=True)
class CallPolicy:
    """What may be signed for one pinned contract role."""

    abi: Sequence[Mapping[str, Any]]
    functions: frozenset[str]
    #: The role a ``spender`` argument (or typed-data field) must be.
    spender_role: str = "vault"
    #: EIP-712 primary types this contract may verify (e.g. ``Permit`` for USDC).
    typed_data: frozenset[str] = field(default_factory=frozenset)
    #: ERC-20 functions signable only with an explicit user confirmation (see
    #: :class:`Confirmed`): ``transfer`` to the confirmed recipient, ``approve`` of 0 to the
    #: spender being revoked.
    token_functions: frozenset[str] = field(default_factory=frozenset)
    #: ``(function, argument)`` pairs whose address is checked by a verifier passed to the
    #: guard instead of the pinned rule (with no verifier for it, the call is refused).
    verified_args: frozenset[tuple[str, str]] = field(default_factory=frozenset)


#: A verifier of one address argument: True when it may be signed.
ArgVerifier = Callable[[str], bool]


@dataclass(frozen=True)
class Confirmed:
    """What the user confirmed in the preview they saw, handed to the check explicitly.

    ``recipient``: the address a transfer (ETH or a pinned token) may pay;
    ``revoke_spender``: the spender whose allowance an ``approve(spender, 0)`` may reset.
    """

    recipient: str | None = None
    revoke_spender: str | None = None

    @classmethod
    def from_journal(cls, meta: Mapping[str, Any] | None) -> Confirmed | None:
        """What the user confirmed for a journaled transfer or revoke (written by this
        wallet when they confirmed it), so a speed-up re-signs for the same address."""
        meta = meta or {}
        r, sp = meta.get("recipient"), meta.get("revoke_spender")
        if not r and not sp:
            return None
        return cls(recipient=str(r) if r else None, revoke_spender=str(sp) if sp else None)


def _checksum_or_none(value: str | None) -> str | None:
    return to_checksum_address(value) if value and is_address(value) else None


def _types_of(inputs: Iterable[Mapping[str, Any]]) -> list[str]:
    out = []
    for i in inputs:
        t = i["type"]
        if t.startswith("tuple"):
            t = "(" + ",".join(_types_of(i["components"])) + ")" + t[5:]
        out.append(t)
    return out


class AddressGuard:
    """Checks transactions and typed data against a record and the user's address."""

    def __init__(self, record: DeploymentRecord, owner: str,
                 policies: Mapping[str, CallPolicy],
                 verifiers: Mapping[tuple[str, str], ArgVerifier] | None = None) -> None:
        self.record = record
        self.owner = to_checksum_address(owner)
        self.policies = dict(policies)
        self.verifiers = dict(verifiers or {})
        self._selectors: dict[str, dict[bytes, Mapping[str, Any]]] = {}
        for role, pol in self.policies.items():
            sel = {}
            names = pol.functions | pol.token_functions
            for item in pol.abi:
                if item.get("type") == "function" and item["name"] in names:
                    sel[bytes(function_abi_to_4byte_selector(item))] = item
            self._selectors[role] = sel

    # ------------------------------------------------------------------ transactions

    def check_transaction(self, tx: Mapping[str, Any],
                          confirmed: Confirmed | None = None) -> str:
        """Refuse unless every address in ``tx`` is pinned, the user's, or exactly the
        address the user ``confirmed``; returns the role of the recipient ("self" for a
        transfer to the user, "recipient" for ETH paid to the confirmed recipient)."""
        to = tx.get("to")
        if not to:
            raise SigningRefused("transaction", "recipient (to)", "empty (contract "
                                 "creation)", "a pinned contract")
        to = to_checksum_address(to)
        data = tx.get("data") or b""
        if isinstance(data, str):
            data = bytes.fromhex(data[2:] if data.startswith("0x") else data)
        value = int(tx.get("value") or 0)
        if to == self.owner:
            if data or value:
                raise SigningRefused("transaction", "data", "a call to your own address",
                                     "empty (only a plain cancel goes to your address)")
            return "self"
        role = self.record.role_of(to)
        want = _checksum_or_none(confirmed.recipient if confirmed else None)
        if role is None and want is not None and to == want:
            if data:
                raise SigningRefused("transaction", "data", "a contract call to the "
                                     "recipient", "empty (only a plain ETH transfer is "
                                     "signed for a recipient you confirmed)")
            return "recipient"
        if role is None or role not in self.policies:
            raise SigningRefused("transaction", "recipient (to)", to,
                                 "one of the pinned contracts ("
                                 + ", ".join(f"{r} {self.record.roles()[r]}"
                                             for r in self.policies) + ")")
        if value:
            raise SigningRefused("transaction", "value", f"{value} wei",
                                 "0 (the index contracts never take ETH)")
        fn = self._selectors[role].get(bytes(data[:4]))
        if fn is None:
            raise SigningRefused("transaction", "function", "0x" + bytes(data[:4]).hex(),
                                 f"one of {', '.join(sorted(self.policies[role].functions))}"
                                 f" on the {role}")
        try:
            args = abi_decode(_types_of(fn["inputs"]), bytes(data[4:]))
        except Exception:  # noqa: BLE001 - undecodable calldata is refused, not trusted
            raise SigningRefused("transaction", "data", "undecodable calldata",
                                 f"a valid {fn['name']} call") from None
        policy = self.policies[role]
        if fn["name"] in policy.token_functions or (
                fn["name"] == "approve" and confirmed is not None
                and confirmed.revoke_spender):
            self._check_token_call(role, fn["name"], args, confirmed)
            return role
        self._check_args(f"{fn['name']} call", fn["inputs"], args, policy, fn["name"])
        return role

    def _check_token_call(self, role: str, name: str, args: Sequence[Any],
                          confirmed: Confirmed | None) -> None:
        """``transfer(to, amount)`` to the confirmed recipient; ``approve(spender, 0)`` of
        the confirmed spender. Anything else of these functions is refused."""
        where = f"{name} call on the {role}"
        if name == "transfer":
            want = _checksum_or_none(confirmed.recipient if confirmed else None)
            got = to_checksum_address(args[0])
            if want is None:
                raise SigningRefused(where, "to", got, "a recipient you confirmed in the "
                                                       "preview")
            if got != want:
                raise SigningRefused(where, "to", got, f"the recipient you confirmed {want}")
            return
        if name == "approve":
            want = _checksum_or_none(confirmed.revoke_spender if confirmed else None)
            got = to_checksum_address(args[0])
            if want is None or got != want:
                raise SigningRefused(where, "spender", got,
                                     f"the spender you chose to revoke ({want})" if want
                                     else "the pinned vault")
            if int(args[1]) != 0:
                raise SigningRefused(where, "amount", str(int(args[1])),
                                     "0 (a revoke grants nothing)")
            return
        raise SigningRefused("transaction", "function", name, "a function this wallet signs")

    def _check_args(self, where: str, inputs: Sequence[Mapping[str, Any]],
                    values: Sequence[Any], policy: CallPolicy, fn_name: str = "") -> None:
        for spec, value in zip(inputs, values, strict=True):
            t = spec["type"]
            if t.startswith("tuple"):
                items = value if t.endswith("]") else [value]
                for item in items:
                    self._check_args(where, spec["components"], item, policy, fn_name)
            elif t.startswith("address"):
                for a in (value if t.endswith("]") else [value]):
                    self.check_address(where, spec.get("name") or "address", a, policy,
                                       fn_name)

    def check_address(self, where: str, name: str, value: Any, policy: CallPolicy,
                      fn_name: str = "") -> None:
        """One named address field: the user's own, the policy's spender, a verified
        argument that passes its verifier, or pinned."""
        if not isinstance(value, str) or not is_address(value):
            raise SigningRefused(where, name, repr(value)[:48], "an address")
        a = to_checksum_address(value)
        key = name.lower().lstrip("_")
        if (fn_name, name) in policy.verified_args:
            verify = self.verifiers.get((fn_name, name))
            try:
                ok = verify is not None and bool(verify(a))
            except Exception:  # noqa: BLE001 - a verifier that cannot decide refuses
                ok = False
            if not ok:
                raise SigningRefused(where, name, a, "a token the pinned vault owes you "
                                     "(an InKindOwed credit for your address, still unclaimed)")
            return
        if key in SELF_NAMES:
            if a != self.owner:
                raise SigningRefused(where, name, a, f"your own address {self.owner}")
        elif key in SPENDER_NAMES:
            want = self.record.roles().get(policy.spender_role)
            if a != want:
                raise SigningRefused(where, name, a, f"the pinned {policy.spender_role} "
                                                     f"{want}")
        elif self.record.role_of(a) is None and a != self.owner:
            raise SigningRefused(where, name, a, "a pinned contract or your own address")

    # ------------------------------------------------------------------ typed data

    def check_typed_data(self, typed: Mapping[str, Any]) -> str:
        """Refuse unless the EIP-712 domain and message addresses are pinned/the user's."""
        domain = typed.get("domain") or {}
        primary = str(typed.get("primaryType", ""))
        where = f"{primary or 'typed data'} signature"
        chain_id = domain.get("chainId")
        if int(chain_id or 0) != self.record.chain_id:
            raise SigningRefused(where, "domain chainId", str(chain_id),
                                 f"{self.record.chain_id}")
        vc = domain.get("verifyingContract")
        role = self.record.role_of(vc) if vc else None
        policy = self.policies.get(role) if role else None
        if policy is None or primary not in policy.typed_data:
            allowed = [f"{r} {self.record.roles()[r]}" for r, p in self.policies.items()
                       if primary in p.typed_data]
            raise SigningRefused(where, "verifying contract", str(vc),
                                 " or ".join(allowed) or "a pinned contract")
        types = typed.get("types") or {}
        message = typed.get("message") or {}
        for spec in types.get(primary, []):
            if spec.get("type") == "address":
                self.check_address(where, spec["name"], message.get(spec["name"]), policy)
        return role or ""
