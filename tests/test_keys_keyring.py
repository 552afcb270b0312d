"""WalletManager against the real OS keyring (GNOME Keyring's Secret Service over D-Bus).

Every test uses unique wallet names and removes the keyring entries it created. Failure
cases assert that nothing was written: neither the data dir nor the keyring changed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from eth_account import Account
from keyring.backend import KeyringBackend

from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import (
    ANVIL_ADDRESSES,
    ANVIL_KEY0,
    ANVIL_MNEMONIC,
    PASSWORD,
    PASSWORD2,
    TrackingManager,
    keyring_entries,
    purge_keyring,
    tree_snapshot,
    unique_name,
)
from wallet_app.config import Settings
from wallet_app.keys import (
    CorruptKeystore,
    InvalidMnemonic,
    InvalidPassword,
    InvalidPrivateKey,
    InvalidWalletName,
    KeyringLocked,
    KeyringUnavailable,
    NotMnemonicWallet,
    StorageError,
    UserCancelled,
    WalletExists,
    WalletLocked,
    WalletManager,
    WalletNotFound,
    WeakPassword,
)
from wallet_app.keys import keystore as ks
from wallet_app.keys.storage import SERVICE
from wallet_app.paths import AppPaths

pytestmark = pytest.mark.keyring

CHAIN = 31337


def tx_for(to: str, nonce: int = 0, chain_id: int = CHAIN) -> dict[str, Any]:
    return {"type": 2, "chainId": chain_id, "nonce": nonce, "gas": 21000,
            "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9, "to": to, "value": 1}


# ---------------------------------------------------------------- life cycle

def test_create_store_unlock_sign_lock(kr_manager: TrackingManager, app_home: AppPaths,
                                       secret_service: KeyringBackend) -> None:
    name = unique_name("create")
    info, phrase = kr_manager.create(name, PASSWORD, accounts=2)
    assert info.kind == "mnemonic" and info.storage == "keyring" and info.word_count == 24
    assert [a.path for a in info.accounts] == ["m/44'/60'/0'/0/0", "m/44'/60'/0'/0/1"]
    assert len(phrase.words) == 24 and "hidden" in repr(phrase)

    # One keyring entry, a keystore v3 with the extension; no plaintext in it.
    entries = keyring_entries(secret_service, name)
    assert list(entries) == [f"{name}#1"]
    doc = json.loads(entries[f"{name}#1"])
    assert doc["version"] == 3 and doc[ks.EXTENSION]["kind"] == "mnemonic"
    assert doc["address"] == info.addresses[0].lower()[2:]
    assert phrase.words[0] not in entries[f"{name}#1"].split('"')

    # Metadata only in wallets.json.
    meta = app_home.wallets_file.read_text()
    assert name in meta and info.addresses[1] in meta
    assert " ".join(phrase.words) not in meta
    assert oct(app_home.wallets_file.stat().st_mode & 0o777) == "0o600"
    assert [w.name for w in kr_manager.list()] == [name]

    # Locked until unlocked; a wrong password changes nothing.
    assert not kr_manager.is_unlocked(name)
    with pytest.raises(WalletLocked):
        kr_manager.sign_transaction(name, 0, tx_for(info.addresses[1]), CHAIN)
    with pytest.raises(InvalidPassword):
        kr_manager.unlock(name, PASSWORD2)
    assert not kr_manager.is_unlocked(name)

    kr_manager.unlock(name, PASSWORD)
    assert kr_manager.is_unlocked(name)
    for i in (0, 1):
        raw = kr_manager.sign_transaction(name, i, tx_for(info.addresses[0]), CHAIN)
        assert Account.recover_transaction(raw) == info.addresses[i]

    kr_manager.lock(name)
    assert not kr_manager.is_unlocked(name)
    with pytest.raises(WalletLocked):
        kr_manager.sign_transaction(name, 0, tx_for(info.addresses[1]), CHAIN)


def test_a_second_manager_sees_the_wallet(kr_manager: TrackingManager,
                                          app_home: AppPaths) -> None:
    """A restart (new process, new manager) reads the keyring and wallets.json again."""
    name = unique_name("restart")
    info, _ = kr_manager.create(name, PASSWORD, words=12)
    other = WalletManager(app_home, Settings())
    assert other.get(name) == info
    other.unlock(name, PASSWORD)
    assert other.is_unlocked(name) and not kr_manager.is_unlocked(name)
    other.close()


def test_import_mnemonic_gives_anvil_accounts(kr_manager: TrackingManager) -> None:
    name = unique_name("anvil")
    info = kr_manager.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD, accounts=3, unlock=True)
    assert info.addresses == ANVIL_ADDRESSES[:3]
    assert info.word_count == 12
    assert kr_manager.is_unlocked(name)
    raw = kr_manager.sign_transaction(name, 2, tx_for(ANVIL_ADDRESSES[0]), CHAIN)
    assert Account.recover_transaction(raw) == ANVIL_ADDRESSES[2]


def test_same_key_twice_is_refused_by_name(kr_manager: TrackingManager, app_home: AppPaths,
                                           secret_service: KeyringBackend) -> None:
    first = unique_name("dup")
    kr_manager.import_mnemonic(first, ANVIL_MNEMONIC, PASSWORD)
    second = unique_name("dup")
    before = tree_snapshot(app_home.data_dir)
    with pytest.raises(WalletExists, match=first):
        kr_manager.import_private_key(second, ANVIL_KEY0, PASSWORD)
    with pytest.raises(WalletExists, match="already exists"):
        kr_manager.import_private_key(first.upper(), ANVIL_KEY0, PASSWORD)
    assert tree_snapshot(app_home.data_dir) == before
    assert keyring_entries(secret_service, second) == {}


def test_private_key_wallet(kr_manager: TrackingManager) -> None:
    name = unique_name("pk")
    info = kr_manager.import_private_key(name, ANVIL_KEY0, PASSWORD)
    assert info.kind == "private_key" and info.addresses == [ANVIL_ADDRESSES[0]]
    assert info.accounts[0].path is None and info.word_count is None
    with pytest.raises(NotMnemonicWallet):
        kr_manager.reveal_mnemonic(name, PASSWORD)
    with pytest.raises(NotMnemonicWallet):
        kr_manager.add_account(name, PASSWORD)
    with pytest.raises(NotMnemonicWallet):
        kr_manager.backup_challenge(name)
    exported = kr_manager.export_keystore(name, PASSWORD)
    assert "0x" + bytes(Account.decrypt(exported, PASSWORD)).hex() == ANVIL_KEY0
    assert ks.EXTENSION not in json.loads(exported)


def test_reveal_requires_the_password_every_time(kr_manager: TrackingManager) -> None:
    name = unique_name("reveal")
    _, phrase = kr_manager.create(name, PASSWORD, words=12, passphrase="extra words")
    kr_manager.unlock(name, PASSWORD)
    with pytest.raises(InvalidPassword):
        kr_manager.reveal_mnemonic(name, PASSWORD2)
    shown = kr_manager.reveal_mnemonic(name, PASSWORD)
    assert shown == phrase and shown.words == phrase.words
    assert shown.passphrase == "extra words"
    shown.wipe()
    kr_manager.lock()
    assert kr_manager.reveal_mnemonic(name, PASSWORD).words == phrase.words


def test_export_keystore_per_account(kr_manager: TrackingManager) -> None:
    name = unique_name("export")
    info = kr_manager.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD, accounts=2)
    out = kr_manager.export_keystore(name, PASSWORD, account_index=1)
    assert Account.from_key(Account.decrypt(out, PASSWORD)).address == info.addresses[1]
    other = kr_manager.export_keystore(name, PASSWORD, 0, export_password=PASSWORD2)
    assert Account.from_key(Account.decrypt(other, PASSWORD2)).address == info.addresses[0]
    with pytest.raises(InvalidPassword):
        kr_manager.export_keystore(name, PASSWORD2)
    with pytest.raises(WeakPassword):
        kr_manager.export_keystore(name, PASSWORD, export_password="short")
    from wallet_app.keys import AccountNotFound

    with pytest.raises(AccountNotFound):
        kr_manager.export_keystore(name, PASSWORD, account_index=5)


def test_add_account(kr_manager: TrackingManager) -> None:
    name = unique_name("add")
    kr_manager.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD, unlock=True)
    with pytest.raises(InvalidPassword):
        kr_manager.add_account(name, PASSWORD2)
    address = kr_manager.add_account(name, PASSWORD)
    assert address == ANVIL_ADDRESSES[1]
    info = kr_manager.get(name)
    assert info.addresses == ANVIL_ADDRESSES[:2] and info.accounts[1].path == "m/44'/60'/0'/0/1"
    raw = kr_manager.sign_transaction(name, 1, tx_for(ANVIL_ADDRESSES[0]), CHAIN)
    assert Account.recover_transaction(raw) == ANVIL_ADDRESSES[1]


# ---------------------------------------------------------------- change password

def test_change_password(kr_manager: TrackingManager, secret_service: KeyringBackend) -> None:
    name = unique_name("chpw")
    kr_manager.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD)
    with pytest.raises(InvalidPassword):
        kr_manager.change_password(name, PASSWORD2, PASSWORD)
    with pytest.raises(WeakPassword):
        kr_manager.change_password(name, PASSWORD, "password123")
    assert list(keyring_entries(secret_service, name)) == [f"{name}#1"]
    kr_manager.change_password(name, PASSWORD, PASSWORD2)
    assert list(keyring_entries(secret_service, name)) == [f"{name}#2"]
    with pytest.raises(InvalidPassword):
        kr_manager.unlock(name, PASSWORD)
    kr_manager.unlock(name, PASSWORD2)
    kr_manager.change_password(name, PASSWORD2, PASSWORD)
    assert list(keyring_entries(secret_service, name)) == [f"{name}#3"]
    assert kr_manager.is_unlocked(name)  # the keys did not change


@pytest.mark.parametrize("failure", ["save", "read_back"])
def test_change_password_is_atomic(kr_manager: TrackingManager, app_home: AppPaths,
                                   secret_service: KeyringBackend,
                                   monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    """A failure after the new entry is written leaves the old password working."""
    name = unique_name("atomic")
    kr_manager.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD)
    before_files = tree_snapshot(app_home.data_dir)
    before_keyring = keyring_entries(secret_service, name)

    if failure == "save":
        def broken_save(records: object) -> None:
            raise StorageError("disk full (simulated)")
        monkeypatch.setattr(kr_manager._registry, "save", broken_save)
    else:
        real_read = kr_manager._keyring.read

        def corrupting_read(entry: str) -> str | None:
            value = real_read(entry)
            if entry.endswith("#2") and value:
                doc = json.loads(value)
                doc["crypto"]["ciphertext"] = "00" + doc["crypto"]["ciphertext"][2:]
                return json.dumps(doc)
            return value
        monkeypatch.setattr(kr_manager._keyring, "read", corrupting_read)

    with pytest.raises((StorageError, InvalidPassword, KeyringUnavailable)):
        kr_manager.change_password(name, PASSWORD, PASSWORD2)
    monkeypatch.undo()
    assert tree_snapshot(app_home.data_dir) == before_files
    assert keyring_entries(secret_service, name) == before_keyring
    kr_manager.unlock(name, PASSWORD)


# ---------------------------------------------------------------- delete, backup, idle

def test_delete_needs_the_name(kr_manager: TrackingManager,
                               secret_service: KeyringBackend) -> None:
    name = unique_name("del")
    kr_manager.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD, unlock=True)
    with pytest.raises(UserCancelled, match="type its name exactly"):
        kr_manager.delete(name, "yes")
    assert kr_manager.get(name) and keyring_entries(secret_service, name)
    kr_manager.delete(name, name)
    assert not kr_manager.is_unlocked(name)
    assert kr_manager.list() == []
    assert keyring_entries(secret_service, name) == {}
    with pytest.raises(WalletNotFound):
        kr_manager.unlock(name, PASSWORD)


def test_backup_check(kr_manager: TrackingManager) -> None:
    name = unique_name("backup")
    _, phrase = kr_manager.create(name, PASSWORD)
    words = phrase.words
    positions = kr_manager.backup_challenge(name, k=3, rng=random.Random(7))
    assert positions == sorted(set(positions)) and len(positions) == 3
    assert all(1 <= p <= 24 for p in positions)
    assert positions == kr_manager.backup_challenge(name, k=3, rng=random.Random(7))
    right = {p: words[p - 1] for p in positions}
    assert kr_manager.get(name).needs_backup_check
    wrong = dict(right)
    wrong[positions[1]] = "zoo" if words[positions[1] - 1] != "zoo" else "abandon"
    failed = kr_manager.verify_backup(name, wrong, PASSWORD)
    assert not failed and failed.wrong == (positions[1],) and failed.positions == tuple(positions)
    assert f"word #{positions[1]} does not match" in failed.message()
    assert wrong[positions[1]] not in failed.message()
    assert kr_manager.get(name).needs_backup_check  # a failed check changes nothing
    assert kr_manager.verify_backup(name, right, PASSWORD)
    assert not kr_manager.get(name).needs_backup_check  # a pass is recorded
    assert kr_manager.verify_backup(name, {p: f"  {w.upper()} " for p, w in right.items()},
                                    PASSWORD)
    assert not kr_manager.verify_backup(name, wrong, PASSWORD)
    assert kr_manager.verify_backup(name, {25: "zoo"}, PASSWORD).wrong == (25,)
    assert not kr_manager.verify_backup(name, {}, PASSWORD)
    with pytest.raises(InvalidPassword):
        kr_manager.verify_backup(name, right, PASSWORD2)
    with pytest.raises(ValueError):
        kr_manager.backup_challenge(name, k=25)


def test_idle_timeout_locks(app_home: AppPaths, secret_service: KeyringBackend) -> None:
    now = [1000.0]
    mgr = TrackingManager(app_home, Settings(lock_timeout_minutes=1), clock=lambda: now[0])
    events: list[tuple[str, str]] = []
    mgr.on_lock(lambda n, why: events.append((n, why)))
    name = unique_name("idle")
    try:
        mgr.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD)
        mgr.unlock(name, PASSWORD)
        now[0] += 50
        assert mgr.is_unlocked(name)  # reading state is not activity...
        now[0] += 50
        assert not mgr.is_unlocked(name)  # ...so 100 s after unlock it is locked
        assert events == [(name, "idle")]

        mgr.unlock(name, PASSWORD)
        for _ in range(5):  # activity keeps it open
            now[0] += 50
            mgr.touch()
        mgr.sign_transaction(name, 0, tx_for(ANVIL_ADDRESSES[1]), CHAIN)
        now[0] += 61
        with pytest.raises(WalletLocked, match="idle timeout"):
            mgr.sign_transaction(name, 0, tx_for(ANVIL_ADDRESSES[1]), CHAIN)

        mgr.unlock(name, PASSWORD)
        mgr.settings.lock_timeout_minutes = 5  # a changed setting applies at once
        now[0] += 120
        assert mgr.is_unlocked(name)
        now[0] += 200
        assert mgr.check_idle() == [name]
    finally:
        mgr.close()
        purge_keyring(secret_service, mgr.created)


# ---------------------------------------------------------------- bad input writes nothing

BAD_KEYSTORE = '{"version": 3, "crypto": {"cipher": "aes-128-ctr"'


@pytest.mark.parametrize(("label", "call", "error", "fragment"), [
    ("misspelled", lambda m, n: m.import_mnemonic(n, ANVIL_MNEMONIC.replace("junk", "junc"),
                                                  PASSWORD), InvalidMnemonic, "Word 12"),
    ("truncated", lambda m, n: m.import_mnemonic(n, "test " * 11, PASSWORD),
     InvalidMnemonic, "11 words"),
    ("checksum", lambda m, n: m.import_mnemonic(n, "test " * 12, PASSWORD),
     InvalidMnemonic, "checksum"),
    ("non-hex key", lambda m, n: m.import_private_key(n, "0x" + "xy" * 32, PASSWORD),
     InvalidPrivateKey, "0-9 and a-f"),
    ("short key", lambda m, n: m.import_private_key(n, ANVIL_KEY0[:-2], PASSWORD),
     InvalidPrivateKey, "has 62"),
    ("corrupt keystore", lambda m, n: m.import_keystore(n, BAD_KEYSTORE, "x", PASSWORD),
     CorruptKeystore, "not valid JSON"),
    ("keystore password", lambda m, n: m.import_keystore(
        n, json.dumps(Account.encrypt(ANVIL_KEY0, "right-one", iterations=1024)),
        "wrong-one", PASSWORD), InvalidPassword, "keystore file"),
    ("weak password", lambda m, n: m.create(n, "password1234"), WeakPassword, "common"),
    ("bad name", lambda m, n: m.create("../" + n, PASSWORD), InvalidWalletName, "1 to 64"),
    ("twelve+1 words", lambda m, n: m.create(n, PASSWORD, words=13), ValueError, "12 or 24"),
])
def test_bad_input_writes_nothing(kr_manager: TrackingManager, app_home: AppPaths,
                                  secret_service: KeyringBackend, label: str,
                                  call: Callable[[WalletManager, str], object],
                                  error: type[Exception], fragment: str) -> None:
    existing = unique_name("keep")
    kr_manager.import_private_key(existing, "0x" + "11" * 32, PASSWORD)
    files = tree_snapshot(app_home.data_dir)
    kept = keyring_entries(secret_service, existing)
    name = unique_name("bad")
    with pytest.raises(error) as ei:
        call(kr_manager, name)
    assert fragment in str(ei.value)
    assert "test test" not in str(ei.value) and ANVIL_KEY0[2:] not in str(ei.value)
    assert tree_snapshot(app_home.data_dir) == files
    assert keyring_entries(secret_service, name) == {}
    assert keyring_entries(secret_service, existing) == kept


def test_entry_removed_outside_the_app(kr_manager: TrackingManager,
                                       secret_service: KeyringBackend) -> None:
    name = unique_name("gone")
    kr_manager.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD)
    secret_service.delete_password(SERVICE, f"{name}#1")
    with pytest.raises(CorruptKeystore, match="missing from the OS keyring") as ei:
        kr_manager.unlock(name, PASSWORD)
    assert "import it again" in str(ei.value)
    kr_manager.delete(name, name)  # still possible to clean up
    assert kr_manager.list() == []


def test_entry_replaced_outside_the_app(kr_manager: TrackingManager,
                                        secret_service: KeyringBackend) -> None:
    a, b = unique_name("a"), unique_name("b")
    kr_manager.import_mnemonic(a, ANVIL_MNEMONIC, PASSWORD)
    kr_manager.create(b, PASSWORD)
    secret_service.set_password(SERVICE, f"{a}#1",
                                secret_service.get_password(SERVICE, f"{b}#1"))
    with pytest.raises(CorruptKeystore, match="belongs to"):
        kr_manager.unlock(a, PASSWORD)
    secret_service.set_password(SERVICE, f"{a}#1", "{not json")
    with pytest.raises(CorruptKeystore, match="damaged"):
        kr_manager.unlock(a, PASSWORD)


# ---------------------------------------------------------------- a locked keyring

@contextmanager
def private_collection() -> Iterator[tuple[Any, Callable[[], None], Callable[[], None]]]:
    """A real, separate Secret Service collection we can lock and unlock (GNOME Keyring's
    master-password interface), so the login keyring of the test run is never locked."""
    import secretstorage
    from jeepney import DBusAddress, new_method_call
    from keyring.backends import SecretService

    conn = secretstorage.dbus_init()
    svc = DBusAddress("/org/freedesktop/secrets", bus_name="org.freedesktop.secrets",
                      interface="org.freedesktop.Secret.Service")
    internal = svc.with_interface("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
    session = conn.send_and_get_reply(
        new_method_call(svc, "OpenSession", "sv", ("plain", ("s", "")))).body[1]
    master = (session, b"", b"collection-pw", "text/plain")
    label = unique_name("g100-locked")
    reply = conn.send_and_get_reply(new_method_call(
        internal, "CreateWithMasterPassword", "a{sv}(oayays)",
        ({"org.freedesktop.Secret.Collection.Label": ("s", label)}, master)))
    path = reply.body[0]
    backend = SecretService.Keyring()
    backend.preferred_collection = path
    collection = secretstorage.Collection(conn, path)

    def lock() -> None:
        collection.lock()
        assert collection.is_locked()

    def unlock() -> None:
        conn.send_and_get_reply(new_method_call(
            internal, "UnlockWithMasterPassword", "o(oayays)", (path, master)))
        assert not collection.is_locked()

    try:
        yield backend, lock, unlock
    finally:
        unlock()
        conn.send_and_get_reply(new_method_call(
            DBusAddress(path, bus_name="org.freedesktop.secrets",
                        interface="org.freedesktop.Secret.Collection"), "Delete"))
        conn.close()


@pytest.mark.parametrize("allow_file", [False, True])
def test_locked_keyring(app_home: AppPaths, secret_service: KeyringBackend,
                        allow_file: bool) -> None:
    with private_collection() as (backend, lock, unlock):
        mgr = WalletManager(app_home, Settings(allow_file_keystore=allow_file),
                            keyring_backend=backend)
        kept = unique_name("kept")
        mgr.import_mnemonic(kept, ANVIL_MNEMONIC, PASSWORD)
        files = tree_snapshot(app_home.data_dir)
        lock()
        name = unique_name("locked")
        with pytest.raises(KeyringLocked) as ei:
            mgr.create(name, PASSWORD)
        assert "Unlock it" in str(ei.value) and "nothing was changed" in str(ei.value)
        with pytest.raises(KeyringLocked):
            mgr.unlock(kept, PASSWORD)
        with pytest.raises(KeyringLocked):
            mgr.change_password(kept, PASSWORD, PASSWORD2)
        with pytest.raises(KeyringLocked):
            mgr.delete(kept, kept)
        assert tree_snapshot(app_home.data_dir) == files  # no silent file fallback
        unlock()
        assert keyring_entries(backend, name) == {}
        mgr.unlock(kept, PASSWORD)
        assert mgr.is_unlocked(kept)
        mgr.delete(kept, kept)
        mgr.close()
