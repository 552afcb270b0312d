"""WalletManager: the one API the GUI and the CLI use for keys.

It ties the pieces together: BIP-39/32 (:mod:`.mnemonic`, :mod:`.derivation`),
keystore-v3 encryption (:mod:`.keystore`), where keystores live (:mod:`.storage`),
wallets.json (:mod:`.metadata`), the password policy (:mod:`.password`), the unlocked
keys and idle timeout (:mod:`.session`) and signing (:mod:`.signer`).

Rules every method follows:

* validate everything cheap (name, password policy, phrase, key) before anything
  expensive or persistent, so that bad input writes nothing;
* write the encrypted secret first and wallets.json last: the metadata rewrite is the
  commit point, and a failure before it removes what was written;
* never put secret material into an exception, a log line or a repr;
* plaintext keys stay in memory only between unlock and lock (see :mod:`.session`).

Deviations from the brief's API shape, all additive: ``create``/``import_*`` take an
optional ``unlock=False`` (saves one scrypt run right after creating), ``export_keystore``
takes an optional ``export_password`` (defaults to the wallet password),
``sign_transaction_full`` returns hash/sender/nonce as well as the raw bytes, and
``keyring_backend`` can pin a ``keyring`` backend (tests, or a GUI that lets people pick).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from keyring.backend import KeyringBackend

from ..config import Settings, load_settings
from ..paths import AppPaths, app_paths
from . import backup, keystore
from .derivation import (
    MAX_ACCOUNTS,
    account_path,
    address_of,
    check_private_key,
    derive_account_key,
    parse_private_key,
)
from .encrypted_secrets import EncryptedSecrets
from .errors import (
    AccountNotFound,
    CorruptKeystore,
    InvalidPassword,
    NotMnemonicWallet,
    StorageError,
    UserCancelled,
    WalletExists,
    WalletNotFound,
)
from .metadata import (
    KIND_MNEMONIC,
    KIND_PRIVATE_KEY,
    AccountInfo,
    WalletInfo,
    WalletRecord,
    WalletRegistry,
    entry_id,
    next_entry,
    validate_name,
)
from .mnemonic import CREATE_WORD_COUNTS, RecoveryPhrase
from .password import PasswordStrength, estimate, require_acceptable
from .sensitive import SecretBytes, wipe
from .session import LockListener, Session, UnlockedWallet
from .signer import (
    SignedTx,
    TypedDataSignature,
    check_typed_data,
    permit_typed_data,
    prepare_transaction,
    sign_transaction,
    sign_typed_data,
)
from .storage import KIND_KEYRING, FileStore, KeyringStore

log = logging.getLogger(__name__)


class _Random(Protocol):
    def sample(self, population: Any, k: int) -> list[Any]: ...


class WalletManager(EncryptedSecrets):
    """Create, import, store, unlock, back up and sign with wallets.

    Writing, reading and decrypting the secrets is
    :class:`~wallet_app.keys.encrypted_secrets.EncryptedSecrets`.
    """

    def __init__(
        self,
        paths: AppPaths | None = None,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        keyring_backend: KeyringBackend | None = None,
    ) -> None:
        self.paths = paths or app_paths()
        self.settings = settings if settings is not None else load_settings(self.paths)
        self._registry = WalletRegistry(self.paths.wallets_file)
        self._keyring = KeyringStore(keyring_backend, self.paths.settings_file,
                                     self.paths.data_dir)
        self._files = FileStore(self.paths.data_dir / "keystores")
        self._session = Session(lambda: self.settings.lock_timeout_minutes * 60.0, clock)
        self._mutex = threading.RLock()

    # ------------------------------------------------------------------ queries

    def list(self) -> list[WalletInfo]:
        """All wallets (names, kinds, addresses with paths); no secret, no password."""
        self._session.check_idle()
        return [r.info for r in self._registry.load()]

    def get(self, name: str) -> WalletInfo:
        """One wallet's info, or :class:`WalletNotFound`."""
        return self._record(name).info

    def password_strength(self, password: str, name: str = "") -> PasswordStrength:
        """The estimate a password field shows while the person types."""
        return estimate(password, [name] if name else [])

    # ------------------------------------------------------------------ create / import

    def create(self, name: str, password: str, words: int = 24, passphrase: str = "",
               accounts: int = 1, *, unlock: bool = False) -> tuple[WalletInfo, RecoveryPhrase]:
        """A new BIP-39 wallet. Returns its info and the phrase to show once.

        The caller shows ``phrase.words`` and then calls ``phrase.wipe()``.
        """
        if words not in CREATE_WORD_COUNTS:
            raise ValueError(f"a new wallet has 12 or 24 words, not {words}")
        self._check_new(name, password, accounts)
        phrase = RecoveryPhrase.generate(words, passphrase)
        info = self._add_mnemonic(name, phrase, password, accounts, unlock, checked=False)
        return info, phrase

    def import_mnemonic(self, name: str, phrase: str, password: str, passphrase: str = "",
                        accounts: int = 1, *, unlock: bool = False) -> WalletInfo:
        """Import a BIP-39 phrase (checksum checked; a wrong word is named)."""
        self._check_new(name, password, accounts)
        parsed = RecoveryPhrase.from_phrase(phrase, passphrase)
        try:
            # Typed in by the person: they hold the phrase, nothing to check.
            return self._add_mnemonic(name, parsed, password, accounts, unlock, checked=True)
        finally:
            parsed.wipe()

    def import_private_key(self, name: str, hex_key: str, password: str, *,
                           unlock: bool = False) -> WalletInfo:
        """Import a raw secp256k1 private key given as hex."""
        self._check_new(name, password, 1)
        key = parse_private_key(hex_key)
        return self._add_private_key(name, key, password, unlock)

    def import_keystore(self, name: str, keystore_json: str | bytes, keystore_password: str,
                        new_password: str, *, unlock: bool = False) -> WalletInfo:
        """Import a keystore-v3 file (geth, MetaMask, cast, ...) under a new password."""
        self._check_new(name, new_password, 1)
        doc = keystore.parse(keystore_json)
        plain = keystore.decrypt(doc, keystore_password, what="the keystore file")
        try:
            if keystore.extension(doc).get("kind") == KIND_MNEMONIC:
                entropy, passphrase = keystore.decode_mnemonic_payload(plain)
                phrase = RecoveryPhrase(entropy, passphrase)
                wipe(entropy)
                try:
                    return self._add_mnemonic(name, phrase, new_password, 1, unlock,
                                              checked=False)  # a file, not the phrase
                finally:
                    phrase.wipe()
            if len(plain) != 32:
                raise CorruptKeystore(
                    f"The keystore decrypted to {len(plain)} bytes, not a 32-byte private "
                    "key; it is not an Ethereum account keystore.")
            key = SecretBytes(plain)
        finally:
            wipe(plain)
        try:
            check_private_key(key)
        except Exception:
            key.wipe()
            raise
        address = address_of(key)
        declared = doc.get("address")
        if isinstance(declared, str) and declared and \
                declared.lower().removeprefix("0x") != address.lower().removeprefix("0x"):
            key.wipe()
            raise CorruptKeystore(
                "The keystore's 'address' field does not match the key inside it; the file "
                "was altered. Nothing was imported.")
        return self._add_private_key(name, key, new_password, unlock)

    def _check_new(self, name: str, password: str, accounts: int) -> None:
        validate_name(name)
        if not isinstance(accounts, int) or not 1 <= accounts <= MAX_ACCOUNTS:
            raise ValueError(f"accounts must be between 1 and {MAX_ACCOUNTS}")
        self._check_name_free(name, self._registry.load())
        require_acceptable(password, [name])

    @staticmethod
    def _check_name_free(name: str, records: list[WalletRecord]) -> None:
        for r in records:
            if r.name.casefold() == name.casefold():
                raise WalletExists(
                    f"A wallet named '{r.name}' already exists. Choose another name, or "
                    "delete the existing wallet first.")

    @staticmethod
    def _check_addresses_free(addresses: list[str], records: list[WalletRecord]) -> None:
        wanted = {a.lower() for a in addresses}
        for r in records:
            for acc in r.info.accounts:
                if acc.address.lower() in wanted:
                    raise WalletExists(
                        f"This key is already in wallet '{r.name}' (account {acc.index}, "
                        f"{acc.address}); it was not imported twice.")

    def _add_mnemonic(self, name: str, phrase: RecoveryPhrase, password: str, accounts: int,
                      unlock: bool, *, checked: bool) -> WalletInfo:
        seed = phrase.seed()
        try:
            keys = [derive_account_key(seed, i) for i in range(accounts)]
        finally:
            seed.wipe()
        addresses = [address_of(k) for k in keys]
        payload = keystore.encode_mnemonic_payload(phrase.entropy(), phrase.passphrase)
        try:
            doc = keystore.encrypt(payload, password, address=addresses[0],
                                   kind=keystore.KIND_MNEMONIC)
        finally:
            wipe(payload)
        info = WalletInfo(
            name=name,
            kind=KIND_MNEMONIC,
            accounts=tuple(AccountInfo(i, a, account_path(i)) for i, a in enumerate(addresses)),
            created_at=datetime.now(UTC).replace(microsecond=0),
            storage=KIND_KEYRING,
            word_count=phrase.word_count,
            backup_checked=checked,
        )
        return self._commit_new(info, keystore.dumps(doc), keys, unlock)

    def _add_private_key(self, name: str, key: SecretBytes, password: str,
                         unlock: bool) -> WalletInfo:
        try:
            address = address_of(key)
            doc = keystore.encrypt(key.view(), password, address=address,
                                   kind=keystore.KIND_PRIVATE_KEY)
        except Exception:
            key.wipe()
            raise
        info = WalletInfo(
            name=name,
            kind=KIND_PRIVATE_KEY,
            accounts=(AccountInfo(0, address, None),),
            created_at=datetime.now(UTC).replace(microsecond=0),
            storage=KIND_KEYRING,
        )
        return self._commit_new(info, keystore.dumps(doc), [key], unlock)

    def _commit_new(self, info: WalletInfo, blob: str, keys: list[SecretBytes],
                    unlock: bool) -> WalletInfo:
        """Store the secret, then the metadata (the commit point); undo on failure."""
        try:
            with self._mutex, self._registry.reading() as records:
                self._check_name_free(info.name, records)
                self._check_addresses_free(info.addresses, records)
                entry = entry_id(info.name, 1)
                storage = self._write_new_secret(entry, blob)
                info = replace(info, storage=storage)
                try:
                    self._registry.save([*records, WalletRecord(info, entry)])
                except BaseException:
                    self._delete_quietly(storage, entry)
                    raise
            log.info("wallet %s added (%s, %d account(s), storage=%s)", info.name, info.kind,
                     len(info.accounts), info.storage)
            if unlock:
                self._session.put(UnlockedWallet(
                    info.name, dict(enumerate(keys)), dict(enumerate(info.addresses))))
                keys = []
            return info
        finally:
            for k in keys:
                k.wipe()

    # ------------------------------------------------------------------ accounts

    def add_account(self, name: str, password: str) -> str:
        """Derive the next account (m/44'/60'/0'/0/n) of a mnemonic wallet."""
        record = self._record(name)
        if record.info.kind != KIND_MNEMONIC:
            raise NotMnemonicWallet(name)
        index = len(record.info.accounts)
        if index >= MAX_ACCOUNTS:
            raise ValueError(f"a wallet has at most {MAX_ACCOUNTS} accounts")
        secret = self._decrypt(record, password)
        try:
            key = self._account_keys(record, secret, [index])[index]
        finally:
            secret.wipe()
        address = address_of(key)
        with self._mutex, self._registry.editing() as records:
            pos = next((i for i, r in enumerate(records) if r.name == name), None)
            if pos is None or len(records[pos].info.accounts) != index:
                key.wipe()
                raise StorageError(f"Wallet '{name}' changed while adding an account; retry.")
            accounts = (*records[pos].info.accounts, AccountInfo(index, address,
                                                                  account_path(index)))
            records[pos] = records[pos].with_accounts(accounts)
        if not self._session.add_key(name, index, key, address):
            key.wipe()
        log.info("wallet %s: account %d added", name, index)
        self._session.touch()
        return address

    # ------------------------------------------------------------------ lock state

    def unlock(self, name: str, password: str) -> None:
        """Decrypt the wallet and keep its account keys in memory until lock/idle."""
        record = self._record(name)
        secret = self._decrypt(record, password)
        try:
            indices = [a.index for a in record.info.accounts]
            keys = self._account_keys(record, secret, indices)
        finally:
            secret.wipe()
        for acc in record.info.accounts:
            if address_of(keys[acc.index]) != acc.address:
                for k in keys.values():
                    k.wipe()
                raise CorruptKeystore(
                    f"Account {acc.index} of '{name}' does not derive to {acc.address}; "
                    "wallets.json was altered. Re-import the wallet.")
        self._session.put(UnlockedWallet(
            name, keys, {a.index: a.address for a in record.info.accounts}))
        log.info("wallet %s unlocked", name)

    def lock(self, name: str | None = None) -> None:
        """Forget the plaintext keys of one wallet (or of all)."""
        self._session.lock(name, "user")

    def is_unlocked(self, name: str) -> bool:
        """Whether signing works now (checks the idle timeout; does not count as activity)."""
        return self._session.is_unlocked(name)

    def unlocked_names(self) -> list[str]:
        """Names of the wallets unlocked right now (after the idle check)."""
        return self._session.unlocked_names()

    def touch(self) -> None:
        """Record user activity (the GUI calls this on input events)."""
        self._session.touch()

    def check_idle(self) -> list[str]:
        """Lock now if idle too long (a GUI timer calls this); returns locked names."""
        return self._session.check_idle()

    def on_lock(self, callback: LockListener) -> None:
        """Be told ``(name, reason)`` when a wallet locks (to update the GUI)."""
        self._session.add_listener(callback)

    def close(self) -> None:
        """Lock everything (on application exit)."""
        self._session.lock(None, "closed")

    def __enter__(self) -> WalletManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ re-authenticated

    def reveal_mnemonic(self, name: str, password: str) -> RecoveryPhrase:
        """The recovery phrase, after checking the password again (always)."""
        record = self._record(name)
        if record.info.kind != KIND_MNEMONIC:
            raise NotMnemonicWallet(name)
        secret = self._decrypt(record, password)
        assert secret.phrase is not None
        log.info("wallet %s: recovery phrase revealed", name)
        self._session.touch()
        return secret.phrase

    def export_keystore(self, name: str, password: str, account_index: int = 0, *,
                        export_password: str | None = None) -> str:
        """A standard keystore-v3 JSON of one account's private key.

        Encrypted under the wallet password, or under ``export_password`` (which must meet
        the password policy) when given.
        """
        record = self._record(name)
        if not any(a.index == account_index for a in record.info.accounts):
            raise AccountNotFound(
                f"Wallet '{name}' has no account {account_index}; its accounts are "
                f"{[a.index for a in record.info.accounts]}.")
        if export_password is not None:
            require_acceptable(export_password, [name])
        secret = self._decrypt(record, password)
        try:
            key = self._account_keys(record, secret, [account_index])[account_index]
        finally:
            secret.wipe()
        try:
            doc = keystore.encrypt(key.view(), export_password or password,
                                   address=address_of(key))
        finally:
            key.wipe()
        log.info("wallet %s: account %d exported as keystore", name, account_index)
        self._session.touch()
        return keystore.dumps(doc)

    def change_password(self, name: str, old: str, new: str) -> None:
        """Re-encrypt under a new password, atomically.

        The new keystore goes under a new entry id, is read back and decrypted with the
        new password, and only then does wallets.json switch to it; the old entry is
        deleted last. A failure at any step leaves the old password working.
        """
        require_acceptable(new, [name])
        with self._mutex, self._registry.reading() as records:
            record = next((r for r in records if r.name == name), None)
            if record is None:
                raise WalletNotFound(f"There is no wallet named '{name}'.")
            doc, plain = self._decrypt_plain(record, old)
            try:
                self._interpret(record, plain).wipe()  # checks it matches the metadata
            except BaseException:
                wipe(plain)
                raise
            new_entry = next_entry(record)
            kind = record.info.storage
            try:
                new_doc = keystore.encrypt(plain, new, address=doc.get("address"),
                                           kind=keystore.extension(doc).get("kind"))
                blob = keystore.dumps(new_doc)
                try:
                    self._write_secret(kind, new_entry, blob)
                    back = self._store(kind).read(new_entry)
                    try:
                        check = keystore.decrypt(keystore.parse(back or ""), new)
                    except (CorruptKeystore, InvalidPassword):
                        check = bytearray()
                    same = hmac.compare_digest(bytes(check), bytes(plain))
                    wipe(check)
                    if not same:
                        raise StorageError("The re-encrypted keystore did not read back "
                                           "correctly; the old password still works.")
                    updated = [r.with_entry(new_entry) if r.name == name else r
                               for r in records]
                    self._registry.save(updated)
                except BaseException:
                    self._delete_quietly(kind, new_entry)
                    raise
            finally:
                wipe(plain)
            self._delete_quietly(kind, record.entry)
        log.info("wallet %s: password changed", name)

    def delete(self, name: str, confirm: str) -> None:
        """Remove a wallet and its keystore; ``confirm`` must equal the wallet's name."""
        if not hmac.compare_digest(confirm.encode(), name.encode()):
            raise UserCancelled(
                f"To delete a wallet, type its name exactly ('{name}') to confirm. Nothing "
                "was deleted.")
        record = self._record(name)
        self._session.lock(name, "deleted")
        with self._mutex, self._registry.editing() as records:
            self._store(record.info.storage).delete(record.entry)
            records[:] = [r for r in records if r.name != name]
        log.info("wallet %s deleted", name)

    # ------------------------------------------------------------------ backup check

    def backup_challenge(self, name: str, k: int = 3, rng: _Random | None = None) -> list[int]:
        """``k`` distinct random word positions (1-based, sorted) to ask the person for."""
        record = self._record(name)
        if record.info.kind != KIND_MNEMONIC or not record.info.word_count:
            raise NotMnemonicWallet(name)
        return backup.challenge(record.info.word_count, k, rng)  # type: ignore[arg-type]

    def verify_backup(self, name: str, answers: Mapping[int, str],
                      password: str) -> backup.BackupCheck:
        """Compare the answered words (1-based positions) with the stored phrase; says which
        positions are wrong. A pass is recorded: the wallet is no longer marked unchecked."""
        record = self._record(name)
        if record.info.kind != KIND_MNEMONIC:
            raise NotMnemonicWallet(name)
        if not answers:
            return backup.BackupCheck(False, (), ())
        secret = self._decrypt(record, password)
        try:
            assert secret.phrase is not None
            result = backup.compare(secret.phrase.words, answers)
        finally:
            secret.wipe()
        if result.ok and not record.info.backup_checked:
            with self._mutex, self._registry.editing() as records:
                records[:] = [replace(r, info=replace(r.info, backup_checked=True))
                              if r.name == name else r for r in records]
            log.info("wallet %s: backup check passed", name)
        return result

    # ------------------------------------------------------------------ signing

    def _sender(self, name: str, account_index: int) -> str:
        record = self._record(name)
        for acc in record.info.accounts:
            if acc.index == account_index:
                return acc.address
        raise AccountNotFound(f"Wallet '{name}' has no account {account_index}.")

    def sign_transaction_full(self, name: str, account_index: int, tx: dict[str, Any],
                              expected_chain_id: int) -> SignedTx:
        """Sign an EIP-1559 transaction; returns raw bytes, hash, sender and nonce."""
        sender = self._sender(name, account_index)
        prepare_transaction(tx, expected_chain_id, sender)  # refuse before touching keys
        key, address = self._session.key(name, account_index)
        signed = sign_transaction(key, address, tx, expected_chain_id)
        log.info("wallet %s: signed tx nonce=%d chain=%d from %s", name, signed.nonce,
                 signed.chain_id, signed.sender)
        self._session.touch()
        return signed

    def sign_transaction(self, name: str, account_index: int, tx: dict[str, Any],
                         expected_chain_id: int) -> bytes:
        """Sign an EIP-1559 (type 2) transaction; refuses unless chainId matches."""
        return self.sign_transaction_full(name, account_index, tx, expected_chain_id).raw

    def sign_typed_data(self, name: str, account_index: int, typed_data: dict[str, Any],
                        expected_chain_id: int) -> TypedDataSignature:
        """Sign EIP-712 data whose domain chainId must equal ``expected_chain_id``."""
        self._sender(name, account_index)
        check_typed_data(typed_data, expected_chain_id)  # refuse before touching keys
        key, address = self._session.key(name, account_index)
        sig = sign_typed_data(key, address, typed_data, expected_chain_id)
        log.info("wallet %s: signed typed data (%s)", name, typed_data.get("primaryType"))
        self._session.touch()
        return sig

    #: Builds the EIP-2612 Permit typed data for a token (see :func:`.signer.permit_typed_data`).
    permit_typed_data = staticmethod(permit_typed_data)
