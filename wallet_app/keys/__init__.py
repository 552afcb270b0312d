"""Key custody: BIP-39 wallets, keystore-v3 storage in the OS keyring, signing.

The GUI and the CLI use :class:`WalletManager` and the named errors; the submodules are
the pieces it is built from:

========================  ==============================================================
``mnemonic``              BIP-39 phrases (generate, parse with named errors, seed)
``derivation``            BIP-32/44 keys on m/44'/60'/0'/0/i, addresses, hex key parsing
``keystore``              keystore-v3 encrypt/decrypt (scrypt, aes-128-ctr), payload format
``storage``               OS keyring entries and the opt-in encrypted-file fallback
``metadata``              wallets.json (names, addresses, paths; never secrets)
``password``              password policy and strength estimate
``session``               unlocked keys in memory, lock, idle timeout
``signer``                EIP-1559 transactions and EIP-712 typed data (EIP-2612 permit)
``sensitive``             wipeable secret holders with hidden reprs
``errors``                the named exceptions
========================  ==============================================================
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    AccountNotFound,
    ChainIdMismatch,
    CorruptKeystore,
    CustodyError,
    InvalidMnemonic,
    InvalidPassword,
    InvalidPrivateKey,
    InvalidTransaction,
    InvalidWalletName,
    KeyringLocked,
    KeyringUnavailable,
    NotMnemonicWallet,
    StorageError,
    UserCancelled,
    WalletExists,
    WalletLocked,
    WalletNotFound,
    WeakPassword,
)
from .metadata import AccountInfo, WalletInfo

if TYPE_CHECKING:
    from .manager import WalletManager
    from .mnemonic import RecoveryPhrase
    from .password import PasswordStrength
    from .signer import SignedTx, TypedDataSignature, permit_typed_data

#: Names loaded on first use: the manager and the signer pull in eth-account (about 0.3 s),
#: which a command that only lists wallets (``index-wallet wallet list``) never needs.
_LAZY = {
    "WalletManager": ".manager",
    "RecoveryPhrase": ".mnemonic",
    "PasswordStrength": ".password",
    "SignedTx": ".signer",
    "TypedDataSignature": ".signer",
    "permit_typed_data": ".signer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AccountInfo",
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
    "PasswordStrength",
    "RecoveryPhrase",
    "SignedTx",
    "StorageError",
    "TypedDataSignature",
    "UserCancelled",
    "WalletExists",
    "WalletInfo",
    "WalletLocked",
    "WalletManager",
    "WalletNotFound",
    "WeakPassword",
    "permit_typed_data",
]
