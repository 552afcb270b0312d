"""Signing: EIP-1559 transactions and EIP-712 typed data, after a chain-id check.

Signing lives here and only here. Each function takes the key of an unlocked account and
refuses before touching the key when the thing to sign names another chain than the one
the app is configured for (EIP-155 replay protection only helps if we sign for the right
chain in the first place). After signing, the signature is recovered and compared with
the expected sender, so a corrupted key or a library bug can never produce a transaction
from an unexpected address.

Only type-2 (EIP-1559) transactions are accepted: the app never builds legacy ones, so a
``gasPrice`` or another type in a request means something upstream is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import is_address, is_checksum_address, to_checksum_address

from .errors import ChainIdMismatch, InvalidTransaction
from .sensitive import SecretBytes

_TX_REQUIRED = ("chainId", "nonce", "gas", "maxFeePerGas", "maxPriorityFeePerGas")
_TX_ALLOWED = frozenset(_TX_REQUIRED + ("type", "to", "value", "data", "accessList", "from"))
_INT_FIELDS = ("nonce", "gas", "maxFeePerGas", "maxPriorityFeePerGas", "value")


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction ready to journal and broadcast."""

    raw: bytes
    tx_hash: bytes
    sender: str
    nonce: int
    chain_id: int


@dataclass(frozen=True)
class TypedDataSignature:
    """An EIP-712 signature: (v, r, s) for contract calls and the 65-byte form."""

    v: int
    r: int
    s: int
    signature: bytes
    digest: bytes
    signer: str

    @property
    def r_bytes(self) -> bytes:
        return self.r.to_bytes(32, "big")

    @property
    def s_bytes(self) -> bytes:
        return self.s.to_bytes(32, "big")


def _check_expected(expected_chain_id: int) -> None:
    if not isinstance(expected_chain_id, int) or isinstance(expected_chain_id, bool) \
            or expected_chain_id <= 0:
        raise InvalidTransaction(
            "The configured network has no valid chain id; connect to the network first.")


def _as_chain_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            return None
    return None


def _check_address(value: Any, field: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InvalidTransaction(f"The transaction's '{field}' is not an address.")
    if value != value.lower() and not is_checksum_address(value):
        raise InvalidTransaction(
            f"The transaction's '{field}' address has a wrong EIP-55 checksum (a typo?); "
            "refusing to sign.")
    return to_checksum_address(value)


def prepare_transaction(tx: dict[str, Any], expected_chain_id: int, sender: str) -> dict[str, Any]:
    """Validate an unsigned EIP-1559 transaction and return a clean copy to sign."""
    _check_expected(expected_chain_id)
    if not isinstance(tx, dict):
        raise InvalidTransaction("The transaction to sign must be a dict of fields.")
    if "chainId" not in tx:
        raise InvalidTransaction("The transaction has no chainId; refusing to sign it.")
    got = tx["chainId"]
    if not isinstance(got, int) or isinstance(got, bool) or got != expected_chain_id:
        raise ChainIdMismatch(got, expected_chain_id)
    if "gasPrice" in tx:
        raise InvalidTransaction(
            "Legacy transactions (gasPrice) are not signed; build an EIP-1559 transaction "
            "with maxFeePerGas and maxPriorityFeePerGas.")
    if tx.get("type", 2) not in (2, "0x2", "0x02"):
        raise InvalidTransaction(
            f"Only EIP-1559 (type 2) transactions are signed, not type {tx.get('type')!r}.")
    unknown = sorted(set(tx) - _TX_ALLOWED)
    if unknown:
        raise InvalidTransaction(f"Unexpected transaction field(s): {', '.join(unknown)}.")
    missing = [f for f in _TX_REQUIRED if f not in tx]
    if missing:
        raise InvalidTransaction(f"The transaction lacks {', '.join(missing)}.")
    out: dict[str, Any] = {"type": 2, "chainId": got}
    for f in _INT_FIELDS:
        v = tx.get(f, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InvalidTransaction(f"The transaction's '{f}' must be a non-negative integer.")
        out[f] = v
    if out["gas"] == 0:
        raise InvalidTransaction("The transaction's gas limit is zero.")
    if out["maxPriorityFeePerGas"] > out["maxFeePerGas"]:
        raise InvalidTransaction("maxPriorityFeePerGas is above maxFeePerGas.")
    if "from" in tx and _check_address(tx["from"], "from") != sender:
        raise InvalidTransaction(
            f"The transaction's 'from' ({tx['from']}) is not the signing account ({sender}).")
    data = tx.get("data", b"")
    if isinstance(data, str):
        try:
            data = bytes.fromhex(data.removeprefix("0x"))
        except ValueError:
            raise InvalidTransaction("The transaction's data is not hex.") from None
    if not isinstance(data, bytes | bytearray):
        raise InvalidTransaction("The transaction's data must be bytes or hex.")
    out["data"] = bytes(data)
    to = tx.get("to")
    if to in (None, "", b""):
        if not out["data"]:
            raise InvalidTransaction("A transaction without 'to' must carry contract code.")
    else:
        out["to"] = _check_address(to, "to")
    if "accessList" in tx:
        out["accessList"] = tx["accessList"]
    return out


def sign_transaction(key: SecretBytes, sender: str, tx: dict[str, Any],
                     expected_chain_id: int) -> SignedTx:
    """Sign an EIP-1559 transaction for ``expected_chain_id`` and verify the sender."""
    clean = prepare_transaction(tx, expected_chain_id, sender)
    signed = Account.sign_transaction(clean, key.reveal())
    raw = bytes(signed.raw_transaction)
    recovered = Account.recover_transaction(raw)
    if recovered != sender:
        raise InvalidTransaction(
            "The signature does not recover to the account's address; the stored key does "
            "not match this account. Nothing was sent; re-import the wallet.")
    return SignedTx(raw, bytes(signed.hash), sender, clean["nonce"], clean["chainId"])


def check_typed_data(typed_data: dict[str, Any], expected_chain_id: int) -> None:
    """Refuse typed data whose domain does not bind it to the configured chain."""
    _check_expected(expected_chain_id)
    if not isinstance(typed_data, dict) or not isinstance(typed_data.get("domain"), dict):
        raise InvalidTransaction("EIP-712 data must be a dict with a 'domain'.")
    domain = typed_data["domain"]
    if "chainId" not in domain:
        raise InvalidTransaction(
            "The EIP-712 domain has no chainId, so the signature could be replayed on "
            "another chain; refusing to sign.")
    got = _as_chain_id(domain["chainId"])
    if got != expected_chain_id:
        raise ChainIdMismatch(domain["chainId"], expected_chain_id, "signature request")
    types = typed_data.get("types")
    if not isinstance(types, dict) or "primaryType" not in typed_data:
        raise InvalidTransaction("EIP-712 data needs 'types' and 'primaryType'.")
    declared = types.get("EIP712Domain")
    if declared is not None and not any(
            isinstance(f, dict) and f.get("name") == "chainId" for f in declared):
        raise InvalidTransaction(
            "The EIP-712 domain type does not include chainId (the value would not be "
            "signed); refusing to sign.")


def sign_typed_data(key: SecretBytes, sender: str, typed_data: dict[str, Any],
                    expected_chain_id: int) -> TypedDataSignature:
    """Sign EIP-712 typed data (e.g. an EIP-2612 permit) after the chain-id check."""
    check_typed_data(typed_data, expected_chain_id)
    try:
        signable = encode_typed_data(full_message=typed_data)
    except Exception as exc:
        raise InvalidTransaction(
            f"The EIP-712 data is malformed ({type(exc).__name__}); refusing to sign.") from None
    signed = Account.sign_message(signable, key.reveal())
    signature = bytes(signed.signature)
    if Account.recover_message(signable, signature=signature) != sender:
        raise InvalidTransaction("The signature does not recover to the account's address.")
    return TypedDataSignature(signed.v, signed.r, signed.s, signature,
                              bytes(signed.message_hash), sender)


PERMIT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def permit_typed_data(*, token_name: str, version: str, chain_id: int,
                      verifying_contract: str, owner: str, spender: str, value: int,
                      nonce: int, deadline: int) -> dict[str, Any]:
    """The EIP-2612 ``Permit`` typed data for a token (USDC uses version "2").

    ``token_name`` and ``version`` must be the token's own EIP-712 domain values (read
    them from the token, e.g. ``name()`` and ``version()`` / ``eip712Domain()``), else the
    signature will not verify on chain.
    """
    for label, v in (("value", value), ("nonce", nonce), ("deadline", deadline),
                     ("chain_id", chain_id)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise InvalidTransaction(f"permit {label} must be a non-negative integer")
    return {
        "types": {k: [dict(f) for f in fs] for k, fs in PERMIT_TYPES.items()},
        "primaryType": "Permit",
        "domain": {
            "name": token_name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(verifying_contract),
        },
        "message": {
            "owner": to_checksum_address(owner),
            "spender": to_checksum_address(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }
