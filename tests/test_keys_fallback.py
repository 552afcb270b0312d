"""No usable OS keyring: the actionable error, and the opt-in encrypted-file fallback.

These tests force ``keyring.backends.fail.Keyring`` (what ``keyring`` picks when nothing
works), an empty chainer, the null backend, or a backend that breaks at run time.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import keyring.backend
import pytest
from eth_account import Account
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from tests.test_keys_support import *  # noqa: F403 - fixtures
from tests.test_keys_support import (
    ANVIL_ADDRESSES,
    ANVIL_MNEMONIC,
    PASSWORD,
    PASSWORD2,
    tree_snapshot,
    unique_name,
)
from wallet_app.config import Settings
from wallet_app.keys import CorruptKeystore, KeyringUnavailable, WalletManager
from wallet_app.keys import keystore as ks
from wallet_app.keys.fileio import atomic_write_text
from wallet_app.paths import AppPaths

# The two fakes below are duck-typed, deliberately *not* KeyringBackend subclasses: every
# subclass registers itself with ``keyring`` and would change which backend
# ``keyring.get_keyring()`` picks for the rest of the test session.


class BrokenBackend:
    """Looks viable, then fails every call like a D-Bus error would."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown (simulated)")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown (simulated)")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown (simulated)")


class MemoryBackend:
    """A working keyring stand-in (only to show a file wallet stays in its file)."""

    priority = 1

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


def empty_chainer(monkeypatch: pytest.MonkeyPatch) -> KeyringBackend:
    monkeypatch.setattr(keyring.backend, "get_all_keyring", lambda: [])
    backend = chainer.ChainerBackend()
    assert backend.priority <= 0
    return backend


@pytest.mark.parametrize("which", ["fail", "null", "empty chainer", "broken"])
def test_unavailable_keyring_is_explained(app_home: AppPaths, which: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    backend = {"fail": fail.Keyring, "null": null.Keyring, "broken": BrokenBackend,
               "empty chainer": lambda: empty_chainer(monkeypatch)}[which]()
    mgr = WalletManager(app_home, Settings(), keyring_backend=backend)
    before = tree_snapshot(app_home.data_dir)
    with pytest.raises(KeyringUnavailable) as ei:
        mgr.import_mnemonic(unique_name("nokr"), ANVIL_MNEMONIC, PASSWORD)
    msg = str(ei.value)
    assert "Secret Service" in msg and "gnome-keyring" in msg          # what is missing, how
    assert "allow_file_keystore = true" in msg and str(app_home.settings_file) in msg
    assert type(backend).__name__ in msg or "ChainerBackend" in msg    # which backend
    assert "Nothing was saved" in msg and "test test" not in msg
    assert tree_snapshot(app_home.data_dir) == before
    assert not (app_home.data_dir / "keystores").exists()
    assert ei.value.exit_code == 15


@pytest.mark.parametrize("which", ["fail", "broken"])
def test_file_fallback_life_cycle(app_home: AppPaths, which: str) -> None:
    backend = fail.Keyring() if which == "fail" else BrokenBackend()
    mgr = WalletManager(app_home, Settings(allow_file_keystore=True), keyring_backend=backend)
    name = unique_name("file")
    info = mgr.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD, accounts=2)
    assert info.storage == "file" and info.addresses == ANVIL_ADDRESSES[:2]

    folder = app_home.data_dir / "keystores"
    path = folder / f"{name}#1.json"
    assert sorted(p.name for p in folder.iterdir()) == [path.name]  # no temp files left
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    doc = json.loads(path.read_text())
    assert doc["version"] == 3 and doc[ks.EXTENSION]["kind"] == "mnemonic"
    assert "test" not in path.read_text().replace("x-global100", "")

    mgr.unlock(name, PASSWORD)
    raw = mgr.sign_transaction(name, 1, {
        "chainId": 1, "nonce": 0, "gas": 21000, "maxFeePerGas": 10**9,
        "maxPriorityFeePerGas": 10**9, "to": ANVIL_ADDRESSES[0], "value": 0}, 1)
    assert Account.recover_transaction(raw) == ANVIL_ADDRESSES[1]

    mgr.change_password(name, PASSWORD, PASSWORD2)
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}#2.json"]
    assert stat.S_IMODE((folder / f"{name}#2.json").stat().st_mode) == 0o600
    mgr.unlock(name, PASSWORD2)
    assert mgr.reveal_mnemonic(name, PASSWORD2).phrase == ANVIL_MNEMONIC

    mgr.delete(name, name)
    assert list(folder.iterdir()) == [] and mgr.list() == []


def test_file_wallet_stays_in_its_file(app_home: AppPaths) -> None:
    """A wallet saved in the fallback keeps being read from it when a keyring appears."""
    name = unique_name("stay")
    WalletManager(app_home, Settings(allow_file_keystore=True),
                  keyring_backend=fail.Keyring()).import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD)
    memory = MemoryBackend()
    mgr = WalletManager(app_home, Settings(), keyring_backend=memory)
    mgr.unlock(name, PASSWORD)
    assert memory.items == {}
    other = unique_name("new")
    assert mgr.create(other, PASSWORD)[0].storage == "keyring"
    assert list(memory.items) == [("global100-wallet", f"{other}#1")]


def test_file_mode_is_private_whatever_the_umask(app_home: AppPaths) -> None:
    old = os.umask(0)
    try:
        mgr = WalletManager(app_home, Settings(allow_file_keystore=True),
                            keyring_backend=fail.Keyring())
        name = unique_name("umask")
        mgr.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD)
    finally:
        os.umask(old)
    for p in (app_home.wallets_file, app_home.data_dir / "keystores" / f"{name}#1.json"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "atomic" / "w.json"
    atomic_write_text(target, "old")

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["w.json"]


def test_damaged_fallback_file(app_home: AppPaths) -> None:
    mgr = WalletManager(app_home, Settings(allow_file_keystore=True),
                        keyring_backend=fail.Keyring())
    name = unique_name("dmg")
    mgr.import_mnemonic(name, ANVIL_MNEMONIC, PASSWORD)
    path = app_home.data_dir / "keystores" / f"{name}#1.json"
    path.write_text(path.read_text()[:100])
    with pytest.raises(CorruptKeystore, match="damaged"):
        mgr.unlock(name, PASSWORD)
    path.unlink()
    with pytest.raises(CorruptKeystore, match="missing"):
        mgr.unlock(name, PASSWORD)


def test_fallback_write_failure_leaves_nothing(app_home: AppPaths,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from wallet_app.keys import StorageError

    mgr = WalletManager(app_home, Settings(allow_file_keystore=True),
                        keyring_backend=fail.Keyring())
    before = tree_snapshot(app_home.data_dir)

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError, match="No space left"):
        mgr.import_mnemonic(unique_name("full"), ANVIL_MNEMONIC, PASSWORD)
    monkeypatch.undo()
    assert tree_snapshot(app_home.data_dir) == before
    assert not list((app_home.data_dir / "keystores").glob("*.json"))
