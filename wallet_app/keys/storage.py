"""Where encrypted keystores live: the OS keyring, or (opt-in) a private file.

Both stores hold the same thing, a keystore-v3 JSON string (already encrypted with the
user's password, see :mod:`.keystore`), under an *entry id* that wallets.json records.
The keyring is reached through the ``keyring`` package under the service name
``global100-wallet`` (one entry per wallet; the entry's user name is the entry id).

The file fallback exists for machines without a usable keyring (servers, minimal
desktops): it is used only when the person opted in (``allow_file_keystore``), writes
``<data_dir>/keystores/<entry>.json`` atomically with mode 0600, and is never chosen
silently when a keyring is merely locked.

Every write is read back and compared before it counts as done, because some backends
(an empty "chainer") accept a write and store nothing.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from .errors import KeyringLocked, KeyringUnavailable
from .fileio import atomic_write_text, ensure_private_dir, remove_file

log = logging.getLogger(__name__)

SERVICE = "global100-wallet"
KIND_KEYRING = "keyring"
KIND_FILE = "file"

T = TypeVar("T")


class SecretStore(Protocol):
    """A place that holds encrypted keystore strings by entry id."""

    kind: str

    def read(self, entry: str) -> str | None: ...

    def write(self, entry: str, blob: str) -> None: ...

    def delete(self, entry: str) -> None: ...


def backend_name(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def is_usable(backend: KeyringBackend) -> bool:
    """False for the 'fail' and 'null' backends and a chainer with nothing to chain."""
    try:
        return float(backend.priority) > 0
    except Exception:  # a backend whose viability check itself fails
        return False


def unavailable_message(backend: KeyringBackend | None, settings_file: Path | None,
                        data_dir: Path | None, detail: str = "") -> str:
    """An actionable explanation: which backend is missing and how to get one."""
    chosen = backend_name(backend) if backend is not None else "none"
    if sys.platform.startswith("linux"):
        missing = "the Secret Service (GNOME Keyring or KWallet over D-Bus)"
        how = ("install and start one, e.g. `sudo apt install gnome-keyring` and log in to "
               "a desktop session; on a headless machine run the app under "
               "`dbus-run-session` after `gnome-keyring-daemon --unlock --components=secrets`")
    elif sys.platform == "darwin":
        missing = "the macOS Keychain"
        how = "allow this app to use the login keychain (Keychain Access) and try again"
    elif sys.platform.startswith("win"):
        missing = "Windows Credential Locker"
        how = "check that the Credential Manager service is running and try again"
    else:
        missing = "an OS keyring"
        how = "install a backend supported by the Python 'keyring' package"
    fallback = "set allow_file_keystore = true in the settings file"
    if settings_file is not None:
        fallback += f" ({settings_file})"
    where = f" in {data_dir / 'keystores'}" if data_dir is not None else ""
    extra = f" ({detail})" if detail else ""
    return (
        f"No usable OS keyring: {missing} is not available (keyring backend chosen: "
        f"{chosen}){extra}. To fix: {how}. Or opt in to the encrypted-file fallback: "
        f"{fallback}; the password-encrypted keystore is then kept in a private file{where}."
        " Nothing was saved."
    )


class KeyringStore:
    """Entries in the OS keyring (service ``global100-wallet``)."""

    kind = KIND_KEYRING

    def __init__(self, backend: KeyringBackend | None = None,
                 settings_file: Path | None = None, data_dir: Path | None = None) -> None:
        self._backend = backend
        self._settings_file = settings_file
        self._data_dir = data_dir

    @property
    def backend(self) -> KeyringBackend:
        """The explicit backend, else whatever ``keyring`` selects now."""
        return self._backend if self._backend is not None else keyring.get_keyring()

    def check_usable(self) -> None:
        """Raise :class:`KeyringUnavailable` when the selected backend cannot store."""
        backend = self.backend
        if not is_usable(backend):
            raise KeyringUnavailable(
                unavailable_message(backend, self._settings_file, self._data_dir))

    def _call(self, op: str, fn: Callable[[], T]) -> T:
        self.check_usable()
        try:
            return fn()
        except keyring.errors.KeyringLocked:
            raise KeyringLocked() from None
        except (keyring.errors.NoKeyringError, keyring.errors.InitError) as exc:
            raise KeyringUnavailable(unavailable_message(
                self.backend, self._settings_file, self._data_dir,
                f"{op} failed: {type(exc).__name__}")) from None
        except Exception as exc:  # D-Bus and backend errors of every kind
            log.warning("keyring %s failed: %s", op, type(exc).__name__)
            raise KeyringUnavailable(unavailable_message(
                self.backend, self._settings_file, self._data_dir,
                f"{op} failed: {type(exc).__name__}")) from None

    def read(self, entry: str) -> str | None:
        return self._call("read", lambda: self.backend.get_password(SERVICE, entry))

    def write(self, entry: str, blob: str) -> None:
        self._call("write", lambda: self.backend.set_password(SERVICE, entry, blob))
        if self.read(entry) != blob:
            with contextlib.suppress(Exception):
                self.delete(entry)
            raise KeyringUnavailable(
                f"The OS keyring ({backend_name(self.backend)}) accepted the entry but gave "
                "something else back when it was read; it does not store secrets reliably. "
                "Nothing was saved. Use another keyring, or opt in to the encrypted-file "
                "fallback (allow_file_keystore = true in the settings file).")

    def delete(self, entry: str) -> None:
        def _delete() -> None:
            # Already gone is fine: deleting is idempotent.
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                self.backend.delete_password(SERVICE, entry)
        self._call("delete", _delete)


class FileStore:
    """Fallback: ``<data_dir>/keystores/<entry>.json``, mode 0600, atomic writes."""

    kind = KIND_FILE

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, entry: str) -> Path:
        if "/" in entry or "\\" in entry or entry.startswith(".") or "\0" in entry:
            raise ValueError("unsafe keystore entry id")
        return self.folder / f"{entry}.json"

    def read(self, entry: str) -> str | None:
        try:
            return self.path(entry).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write(self, entry: str, blob: str) -> None:
        ensure_private_dir(self.folder)
        atomic_write_text(self.path(entry), blob)
        if self.read(entry) != blob:
            raise OSError(f"read-back of {self.path(entry)} did not match")

    def delete(self, entry: str) -> None:
        remove_file(self.path(entry))
