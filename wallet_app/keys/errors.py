"""Named exceptions of key custody.

Each error says what happened and what the person can do next, because the GUI and the CLI
show ``str(exc)`` as it is. None of them ever carries key material: messages are built from
wallet names, word positions, addresses and counts only. The one deliberate exception is
:class:`InvalidMnemonic`, which the issue asks to name the mistyped word; it sets
``sensitive = True`` so that callers know not to log its text (the CLI logs only the class
name of any error, see ``wallet_app.cli.main``).

Exit codes 10-27 belong to this package; the CLI turns each error into its code, one code
per class (``wallet_app.exit_codes``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import WalletError


class CustodyError(WalletError):
    """Base class of every key-custody error (keys, keystores, keyring, signing)."""

    exit_code = 10
    #: True when ``str(exc)`` contains something derived from user secret input.
    sensitive: bool = False


class InvalidPassword(CustodyError):
    """The password does not decrypt the keystore (the MAC check failed)."""

    exit_code = 11

    def __init__(self, what: str = "the wallet") -> None:
        super().__init__(
            f"The password for {what} is wrong. Check the keyboard layout and Caps Lock and "
            "try again; nothing was changed."
        )


class InvalidMnemonic(CustodyError):
    """A recovery phrase is malformed: unknown word, wrong length or bad checksum."""

    exit_code = 12
    sensitive = True

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        word: str | None = None,
        suggestions: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        #: 1-based position of the offending word, when one word is at fault.
        self.position = position
        #: The word as typed (not a valid BIP-39 word, so never the secret itself).
        self.word = word
        #: Closest valid words, best first.
        self.suggestions = list(suggestions)


class InvalidPrivateKey(CustodyError):
    """A private key is not 32 bytes of hex, or is outside the secp256k1 range."""

    exit_code = 13


class CorruptKeystore(CustodyError):
    """A keystore JSON is malformed, uses an unsupported scheme, or does not match."""

    exit_code = 14


class KeyringUnavailable(CustodyError):
    """No usable OS keyring backend (the Secret Service, Keychain or Credential Locker)."""

    exit_code = 15


class KeyringLocked(CustodyError):
    """The OS keyring exists but is locked and could not be unlocked."""

    exit_code = 16

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "The OS keyring is locked"
            + (f" ({detail})" if detail else "")
            + ". Unlock it (for GNOME: open 'Passwords and Keys' or log in again; on a "
            "headless machine: `gnome-keyring-daemon --unlock`) and try again; nothing was "
            "changed."
        )


class WalletLocked(CustodyError):
    """The wallet must be unlocked (with its password) before this operation."""

    exit_code = 17

    def __init__(self, name: str, reason: str = "") -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(f"Wallet '{name}' is locked{why}. Unlock it with its password first.")
        self.name = name


class WalletNotFound(CustodyError):
    """No wallet of that name is registered in this app's data dir."""

    exit_code = 18


class AccountNotFound(WalletNotFound):
    """The wallet has no account with that index."""

    exit_code = 19


class WalletExists(CustodyError):
    """A wallet with that name, or holding the same key, already exists."""

    exit_code = 20


class WeakPassword(CustodyError):
    """The new password does not meet the policy; ``reason`` says why."""

    exit_code = 21

    def __init__(self, reason: str) -> None:
        super().__init__(f"Password refused: {reason}")
        self.reason = reason


class ChainIdMismatch(CustodyError):
    """The thing to sign targets another chain than the configured network."""

    exit_code = 22

    def __init__(self, got: object, expected: int, what: str = "transaction") -> None:
        super().__init__(
            f"Refusing to sign: the {what} is for chain id {got!s}, but the configured "
            f"network is chain id {expected}. Switch network or rebuild the {what}."
        )
        self.got = got
        self.expected = expected


class InvalidTransaction(CustodyError):
    """The unsigned transaction is not a well-formed EIP-1559 (type 2) transaction."""

    exit_code = 23


class UserCancelled(CustodyError):
    """The person declined or did not confirm; nothing was changed."""

    exit_code = 24


class InvalidWalletName(CustodyError):
    """A wallet name is empty, too long, or uses characters outside the allowed set."""

    exit_code = 25


class NotMnemonicWallet(CustodyError):
    """The operation needs a recovery phrase but the wallet was imported from a key."""

    exit_code = 26

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Wallet '{name}' was imported from a private key and has no recovery phrase; "
            "back it up by exporting a keystore file instead."
        )


class StorageError(CustodyError):
    """wallets.json or a fallback keystore file cannot be read or written."""

    exit_code = 27


__all__ = [
    "AccountNotFound",
    "ChainIdMismatch",
    "CorruptKeystore",
    "CustodyError",
    "InvalidMnemonic",
    "InvalidPassword",
    "InvalidPrivateKey",
    "InvalidTransaction",
    "InvalidWalletName",
    "KeyringLocked",
    "KeyringUnavailable",
    "NotMnemonicWallet",
    "UserCancelled",
    "WalletExists",
    "WalletLocked",
    "StorageError",
    "WalletNotFound",
    "WeakPassword",
]
