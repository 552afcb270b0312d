"""The deployer's and the owner's keys: a wallet in the OS keyring or a keystore file.

A deploy or a governance call is signed here, locally, with the same signing function as
every trade (:func:`wallet_app.keys.signer.sign_transaction`: EIP-1559 only, the chain id
checked, the signature recovered and compared with the sender). Never an unlocked node
account and never ``eth_sendTransaction``. The key lives in memory only between
:meth:`open` and :meth:`close`; the address is known before (dry runs need no password).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from eth_utils import is_address, to_checksum_address

from ..keys import keystore
from ..keys.sensitive import SecretBytes
from ..keys.signer import SignedTx, sign_transaction
from .config import DeployConfigError


class TxSigner(Protocol):
    """What the deployer needs from a key."""

    address: str

    def sign(self, tx: dict[str, Any], chain_id: int) -> SignedTx: ...

    def close(self) -> None: ...


class KeystoreSigner:
    """A standard keystore-v3 file (geth, ``cast wallet``, MetaMask exports)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._doc = keystore.parse(self.path.read_bytes())
        except OSError as exc:
            raise DeployConfigError(f"Cannot read the keystore {path} "
                                    f"({type(exc).__name__}).") from None
        addr = self._doc.get("address")
        if not isinstance(addr, str) or not is_address("0x" + addr.removeprefix("0x")):
            raise DeployConfigError(f"The keystore {path} names no address.")
        self.address = to_checksum_address("0x" + addr.removeprefix("0x"))
        self._key: SecretBytes | None = None

    def open(self, password: str) -> None:
        from eth_account import Account

        plain = keystore.decrypt(self._doc, password, f"the keystore {self.path.name}")
        key = SecretBytes(plain)
        for i in range(len(plain)):
            plain[i] = 0
        if Account.from_key(key.reveal()).address != self.address:
            key.wipe()
            raise DeployConfigError(f"The keystore {self.path} does not decrypt to the "
                                    "address it names.")
        self._key = key

    def sign(self, tx: dict[str, Any], chain_id: int) -> SignedTx:
        if self._key is None:
            raise DeployConfigError("The keystore is not unlocked.")
        return sign_transaction(self._key, self.address, tx, chain_id)

    def close(self) -> None:
        if self._key is not None:
            self._key.wipe()
            self._key = None


class KeySigner:
    """A key already in memory (the devnet's own Anvil account, derived from its public
    test mnemonic; never a user's key)."""

    def __init__(self, key: SecretBytes, address: str) -> None:
        self._key, self.address = key, to_checksum_address(address)

    @classmethod
    def from_mnemonic(cls, phrase: str, index: int = 0) -> KeySigner:
        from ..keys.derivation import address_of, derive_account_key
        from ..keys.mnemonic import phrase_to_entropy, seed_from_entropy

        seed = seed_from_entropy(phrase_to_entropy(phrase))
        key = derive_account_key(seed, index)
        seed.wipe()
        return cls(key, address_of(key))

    def __repr__(self) -> str:  # the address only, never the key
        return f"KeySigner({self.address})"

    def take_key(self) -> SecretBytes:
        """Hand the key over to a holder that wipes it itself; this signer signs no more."""
        key, self._key = self._key, SecretBytes(b"")
        self._key.wipe()
        return key

    def open(self, password: str) -> None:
        """Nothing to unlock."""

    def sign(self, tx: dict[str, Any], chain_id: int) -> SignedTx:
        return sign_transaction(self._key, self.address, tx, chain_id)

    def close(self) -> None:
        self._key.wipe()


class KeyringSigner:
    """Account 0 of a wallet in the app's OS keyring (``keyring:NAME``)."""

    def __init__(self, manager: Any, name: str) -> None:
        self.manager, self.name = manager, name
        self.address = manager.get(name).accounts[0].address

    def open(self, password: str) -> None:
        self.manager.unlock(self.name, password)

    def sign(self, tx: dict[str, Any], chain_id: int) -> SignedTx:
        signed: SignedTx = self.manager.sign_transaction_full(self.name, 0, tx, chain_id)
        return signed

    def close(self) -> None:
        self.manager.lock(self.name)


def signer_from_spec(key_from: str | None, keystore_path: Path | None,
                     manager_factory: Callable[[], Any]) -> KeystoreSigner | KeyringSigner:
    """``--key-from keyring:WALLET`` or ``--keystore FILE`` (exactly one)."""
    if (key_from is None) == (keystore_path is None):
        raise DeployConfigError("Name the signing key: --key-from keyring:WALLET or "
                                "--keystore FILE (one of them).")
    if keystore_path is not None:
        return KeystoreSigner(keystore_path)
    assert key_from is not None
    kind, _, name = key_from.partition(":")
    if kind != "keyring" or not name:
        raise DeployConfigError(f"--key-from {key_from!r}: expected keyring:WALLET.")
    return KeyringSigner(manager_factory(), name)


def keystore_address(path: Path) -> str:
    """The address a keystore file names (no password needed)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return to_checksum_address("0x" + str(doc["address"]).removeprefix("0x"))
