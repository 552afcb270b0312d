"""The ``Signer`` interface: what every signing path of the wallet talks to.

Why an interface: today the key is in the OS keyring (:class:`KeyringSigner`), but a
hardware signer (a device that holds the key and shows what it signs) must be able to
take its place without touching the trade, permit, transfer or revoke code. Those paths
therefore never call the key manager directly: the session hands them a :class:`Signer`
for the active account, and the pre-sign address check (:mod:`wallet_app.trust.guard`)
runs *before* the signer is asked, whatever the implementation.

A signer knows its ``address`` and signs two things:

* ``sign_transaction(tx)``: an unsigned EIP-1559 transaction dict -> :class:`SignedTx`
  (raw bytes, hash, sender, nonce, chain id);
* ``sign_typed_data(domain, types, message)``: EIP-712 typed data -> a
  :class:`TypedDataSignature` (v, r, s and the 65-byte form).

Each implementation refuses another chain than the one it was made for (EIP-155 / the
domain's ``chainId``) before touching its key, and verifies the signature recovers to
its address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from .signer import SignedTx, TypedDataSignature


@runtime_checkable
class Signer(Protocol):
    """One account that can sign (see the module docstring)."""

    @property
    def address(self) -> str:
        """The checksummed address whose key signs."""
        ...

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        """Sign an unsigned EIP-1559 transaction for this signer's chain."""
        ...

    def sign_typed_data(self, domain: Mapping[str, Any],
                        types: Mapping[str, Sequence[Mapping[str, str]]],
                        message: Mapping[str, Any]) -> TypedDataSignature:
        """Sign EIP-712 typed data whose domain names this signer's chain."""
        ...


def primary_type(types: Mapping[str, Sequence[Mapping[str, str]]]) -> str:
    """The EIP-712 primary type: the one struct no other struct refers to (besides the
    domain). Ambiguous type sets are refused rather than guessed."""
    structs = [t for t in types if t != "EIP712Domain"]
    referenced = {f["type"].rstrip("[]0123456789") for t in structs for f in types[t]}
    roots = [t for t in structs if t not in referenced]
    if len(roots) != 1:
        raise ValueError("The EIP-712 types do not name exactly one primary type.")
    return roots[0]


class KeyringSigner:
    """The first :class:`Signer`: a key kept encrypted in the OS keyring, unlocked in
    memory by :class:`~wallet_app.keys.manager.WalletManager`."""

    def __init__(self, keys: Any, wallet_name: str, account_index: int, address: str,
                 chain_id: int) -> None:
        self._keys = keys
        self.wallet_name = wallet_name
        self.account_index = int(account_index)
        self._address = address
        self.chain_id = int(chain_id)

    @property
    def address(self) -> str:
        return self._address

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        return self._keys.sign_transaction_full(self.wallet_name, self.account_index, tx,
                                                self.chain_id)

    def sign_typed_data(self, domain: Mapping[str, Any],
                        types: Mapping[str, Sequence[Mapping[str, str]]],
                        message: Mapping[str, Any]) -> TypedDataSignature:
        typed = {"types": {k: [dict(f) for f in v] for k, v in types.items()},
                 "primaryType": primary_type(types), "domain": dict(domain),
                 "message": dict(message)}
        return self._keys.sign_typed_data(self.wallet_name, self.account_index, typed,
                                          self.chain_id)

    def __repr__(self) -> str:
        return f"<KeyringSigner {self.wallet_name!r} #{self.account_index} {self._address}>"


__all__ = ["KeyringSigner", "Signer", "primary_type"]
