"""Wallets and accounts: create, import, select, unlock and lock, the backup check.

Thin over :class:`wallet_app.keys.WalletManager` (which owns the secrets); what this adds is
the notion of the *active* wallet, stored in the settings, that every other service acts for.
"""

from __future__ import annotations

from ..config import save_settings
from ..keys import RecoveryPhrase, WalletInfo
from ..keys.backup import BackupCheck
from .session import Session
from .types import PasswordVerdict


class WalletsService:
    """The wallets this user keeps in the OS keyring, and which one is active."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def wallets(self) -> list[WalletInfo]:
        return self.s.keys.list()

    def select_wallet(self, name: str) -> None:
        self.s.keys.get(name)  # raises the named error for an unknown wallet
        self.s.settings.active_wallet = name
        save_settings(self.s.settings, self.s.paths)
        self.s.book.set_active_watch(None)  # a keyed wallet is looked at now, not a watched one

    def password_verdict(self, password: str, name: str = "") -> PasswordVerdict:
        st = self.s.keys.password_strength(password, name)
        return PasswordVerdict(st.acceptable, st.score, st.reason or "", st.label)

    def _adopt(self, info: WalletInfo) -> WalletInfo:
        self.select_wallet(info.name)
        return info

    def create_wallet(self, name: str, password: str,
                      words: int = 24) -> tuple[WalletInfo, RecoveryPhrase]:
        info, phrase = self.s.keys.create(name, password, words=words, unlock=True)
        return self._adopt(info), phrase

    def backup_challenge(self, name: str, k: int = 3) -> list[int]:
        return self.s.keys.backup_challenge(name, k)

    def verify_backup(self, name: str, answers: dict[int, str], password: str) -> BackupCheck:
        return self.s.keys.verify_backup(name, answers, password)

    def import_mnemonic(self, name: str, phrase: str, password: str,
                        passphrase: str = "") -> WalletInfo:
        return self._adopt(self.s.keys.import_mnemonic(name, phrase, password, passphrase,
                                                       unlock=True))

    def import_private_key(self, name: str, hex_key: str, password: str) -> WalletInfo:
        return self._adopt(self.s.keys.import_private_key(name, hex_key, password,
                                                           unlock=True))

    def import_keystore(self, name: str, keystore_json: str, keystore_password: str,
                        new_password: str) -> WalletInfo:
        return self._adopt(self.s.keys.import_keystore(name, keystore_json, keystore_password,
                                                       new_password, unlock=True))

    def unlock(self, password: str) -> None:
        self.s.keys.unlock(self.s.active_name(), password)

    def lock(self) -> None:
        self.s.keys.lock()

    def is_unlocked(self) -> bool:
        w = self.s.active_wallet()
        return bool(w and self.s.keys.is_unlocked(w.name))

    def touch(self) -> None:
        """User activity: restarts the idle-lock timer."""
        self.s.keys.touch()

    @property
    def lock_timeout_seconds(self) -> int:
        return int(self.s.settings.lock_timeout_minutes) * 60
