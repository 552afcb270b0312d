"""Where a wallet's encrypted secret is written and how it is read back and decrypted:
the OS keyring or the opted-in encrypted-file fallback, keystore-v3 decryption and the
account keys derived from it (kept out of ``wallet_app/keys/manager.py``).

A mixin of :class:`~wallet_app.keys.manager.WalletManager` (it uses the manager's
registry, stores and settings). Plaintext only ever leaves here in wipeable form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from . import keystore
from .derivation import (
    address_of,
    derive_account_key,
)
from .errors import (
    CorruptKeystore,
    KeyringUnavailable,
    StorageError,
    WalletNotFound,
)
from .metadata import (
    KIND_MNEMONIC,
    WalletRecord,
)
from .mnemonic import RecoveryPhrase
from .sensitive import SecretBytes, wipe
from .storage import KIND_FILE, KIND_KEYRING, SecretStore

#: The manager's logger: these messages are the manager's.
log = logging.getLogger("wallet_app.keys.manager")


@dataclass
class _Decrypted:
    """What a keystore held, in wipeable form (exactly one of phrase/key is set)."""

    phrase: RecoveryPhrase | None = None
    key: SecretBytes | None = None

    def wipe(self) -> None:
        if self.phrase is not None:
            self.phrase.wipe()
        if self.key is not None:
            self.key.wipe()

    def __repr__(self) -> str:
        return "<_Decrypted hidden>"


class EncryptedSecrets:
    """Writing, reading and decrypting the encrypted secret of each wallet."""

    def _store(self, kind: str) -> SecretStore:
        if kind == KIND_FILE:
            return self._files
        return self._keyring

    def _write_new_secret(self, entry: str, blob: str) -> str:
        """Write to the keyring, or to the file fallback if allowed and no keyring works."""
        try:
            self._keyring.write(entry, blob)
            return KIND_KEYRING
        except KeyringUnavailable:
            if not self.settings.allow_file_keystore:
                raise
        log.warning("no usable OS keyring; using the encrypted-file fallback (opted in)")
        self._write_file(entry, blob)
        return KIND_FILE

    def _write_file(self, entry: str, blob: str) -> None:
        try:
            self._files.write(entry, blob)
        except OSError as exc:
            raise StorageError(
                f"Cannot write the encrypted keystore file in {self._files.folder} "
                f"({exc.strerror or exc}); nothing was saved. Check disk space and "
                "permissions.") from None

    def _write_secret(self, kind: str, entry: str, blob: str) -> None:
        if kind == KIND_FILE:
            self._write_file(entry, blob)
        else:
            self._keyring.write(entry, blob)

    def _delete_quietly(self, kind: str, entry: str) -> None:
        try:
            self._store(kind).delete(entry)
        except Exception as exc:  # best effort during a rollback; the entry is encrypted
            log.warning("could not remove keystore entry %s (%s)", entry, type(exc).__name__)

    def _record(self, name: str) -> WalletRecord:
        for r in self._registry.load():
            if r.name == name:
                return r
        raise WalletNotFound(
            f"There is no wallet named '{name}'. Known wallets: "
            f"{', '.join(r.name for r in self._registry.load()) or 'none'}.")

    def _load_doc(self, record: WalletRecord) -> dict[str, Any]:
        where = "the OS keyring" if record.info.storage == KIND_KEYRING else \
            f"{self._files.folder}"
        try:
            blob = self._store(record.info.storage).read(record.entry)
        except OSError as exc:
            raise StorageError(f"Cannot read the keystore of '{record.name}' from {where} "
                               f"({exc.strerror or exc}).") from None
        if blob is None:
            raise CorruptKeystore(
                f"The encrypted key of wallet '{record.name}' is missing from {where} "
                f"(entry '{record.entry}'). It was removed outside the app: delete the "
                "wallet here and import it again from its recovery phrase or key.")
        try:
            return keystore.parse(blob)
        except CorruptKeystore as exc:
            raise CorruptKeystore(
                f"The encrypted key of wallet '{record.name}' in {where} is damaged ({exc}) "
                "Import the wallet again from its recovery phrase or key.") from None

    def _decrypt_plain(self, record: WalletRecord,
                       password: str) -> tuple[dict[str, Any], bytearray]:
        """Load and decrypt a wallet's keystore: (document, plaintext to wipe)."""
        doc = self._load_doc(record)
        kind = keystore.extension(doc).get("kind")
        if kind != record.info.kind:
            raise CorruptKeystore(
                f"The keystore stored for '{record.name}' is of kind {kind!r}, not "
                f"{record.info.kind!r}; the keyring entry was replaced. Re-import the wallet.")
        return doc, keystore.decrypt(doc, password, what=f"wallet '{record.name}'")

    def _interpret(self, record: WalletRecord, plain: bytearray) -> _Decrypted:
        """Turn a decrypted payload into a phrase or key and check it fits the metadata."""
        out = _Decrypted()
        try:
            if record.info.kind == KIND_MNEMONIC:
                entropy, passphrase = keystore.decode_mnemonic_payload(plain)
                out.phrase = RecoveryPhrase(entropy, passphrase)
                wipe(entropy)
                seed = out.phrase.seed()
                try:
                    first = derive_account_key(seed, 0)
                finally:
                    seed.wipe()
                address = address_of(first)
                first.wipe()
            else:
                if len(plain) != 32:
                    raise CorruptKeystore(f"The keystore of '{record.name}' does not hold a "
                                          "32-byte key.")
                out.key = SecretBytes(plain)
                address = address_of(out.key)
            if address != record.info.accounts[0].address:
                raise CorruptKeystore(
                    f"The key stored for '{record.name}' belongs to {address}, not to the "
                    f"wallet's first account {record.info.accounts[0].address}. The keyring "
                    "entry was replaced outside the app; re-import the wallet.")
        except BaseException:
            out.wipe()
            raise
        return out

    def _decrypt(self, record: WalletRecord, password: str) -> _Decrypted:
        """Decrypt a wallet's keystore and check that it matches the metadata."""
        _, plain = self._decrypt_plain(record, password)
        try:
            return self._interpret(record, plain)
        finally:
            wipe(plain)

    def _account_keys(self, record: WalletRecord, secret: _Decrypted,
                      indices: list[int]) -> dict[int, SecretBytes]:
        if secret.key is not None:
            return {0: SecretBytes(secret.key.view())}
        assert secret.phrase is not None
        seed = secret.phrase.seed()
        try:
            return {i: derive_account_key(seed, i) for i in indices}
        finally:
            seed.wipe()
