"""Shared helpers and fixtures for the tests/test_keys_*.py modules (holds no tests).

Import with ``from tests.test_keys_support import *`` so the fixtures apply in a module.

* ``fast_scrypt`` (autouse where imported): scrypt n = 2**10 through the documented,
  test-only ``G100_TEST_SCRYPT_N`` switch, so the suite stays fast; one test measures the
  production cost separately.
* ``secret_service``: the real OS keyring (Secret Service over D-Bus); fails loudly when
  the run was not started with GNOME Keyring, like ``test_keyring_backend``.
* ``kr_manager``: a WalletManager on the real keyring that removes every keyring entry its
  test created (wallet names are unique per test).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from wallet_app.config import Settings
from wallet_app.keys import WalletManager
from wallet_app.keys.storage import SERVICE
from wallet_app.paths import AppPaths
from wallet_app.toolchain import find_tool

TEST_SCRYPT_N = 2**10
PASSWORD = "Kx7#pQ2m@Lz9-test"
PASSWORD2 = "Vh4$tR8w!Nc2-other"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL_ADDRESSES = [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
]
ANVIL_KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("G100_TEST_SCRYPT_N", str(TEST_SCRYPT_N))
    return TEST_SCRYPT_N


@pytest.fixture
def secret_service() -> KeyringBackend:
    backend = keyring.get_keyring()
    assert "SecretService" in type(backend).__module__ + type(backend).__name__, (
        f"expected the Secret Service backend, got {backend!r}; run the tests through "
        "`make test` (or dbus-run-session + gnome-keyring-daemon --unlock)"
    )
    _wait_until_unlocked(backend)
    return backend


def _wait_until_unlocked(backend: KeyringBackend, seconds: float = 3.0) -> None:
    """The daemon started by the test command may still be unlocking its login keyring;
    give it a moment, then fail with a clear message (wrong unlock password?)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            backend.get_password(SERVICE, "probe-unlocked")
            return
        except keyring.errors.KeyringLocked:
            if time.monotonic() > deadline:
                pytest.fail("the login keyring stays locked: the password piped to "
                            "gnome-keyring-daemon --unlock does not open the existing "
                            "login.keyring (scripts/run-tests.sh uses 'test-keyring-password')")
            time.sleep(0.2)


def keyring_entries(backend: KeyringBackend, name: str, upto: int = 6) -> dict[str, str]:
    """The keyring entries ``<name>#1..#upto`` that exist now (id -> stored text)."""
    out = {}
    for gen in range(1, upto + 1):
        entry = f"{name}#{gen}"
        value = backend.get_password(SERVICE, entry)
        if value is not None:
            out[entry] = value
    return out


def purge_keyring(backend: KeyringBackend, names: list[str]) -> None:
    for name in names:
        for entry in keyring_entries(backend, name):
            backend.delete_password(SERVICE, entry)


class TrackingManager(WalletManager):
    """Remembers every wallet name it was asked to create, for clean-up."""

    created: list[str]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.created = []

    def _check_new(self, name: str, password: str, accounts: int) -> None:
        self.created.append(name)
        super()._check_new(name, password, accounts)


@pytest.fixture
def kr_manager(app_home: AppPaths, secret_service: KeyringBackend) -> Iterator[TrackingManager]:
    mgr = TrackingManager(app_home, Settings())
    try:
        yield mgr
    finally:
        mgr.close()
        purge_keyring(secret_service, mgr.created)


@pytest.fixture(scope="session")
def cast_bin() -> Path:
    return find_tool("cast")


def run_cast(cast: Path, *args: str, env: dict[str, str] | None = None,
             cwd: Path | None = None) -> str:
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([str(cast), *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=120)
    assert proc.returncode == 0, f"cast {args[:2]} failed: {proc.stderr[-500:]}"
    return proc.stdout.strip()


def tree_snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its content (to assert nothing changed)."""
    out = {}
    if root.exists():
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.name != ".wallets.lock":
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
