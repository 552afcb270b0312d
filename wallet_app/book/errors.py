"""Named errors of the address book, accounts and watch-only wallets (exit codes 100-109).

Every message says what happened and what to do; none carries a secret (there are none
here: addresses and labels are public).
"""

from __future__ import annotations

from ..errors import WalletError


class InvalidAddress(WalletError):
    """Not an Ethereum address, or mixed case that fails the EIP-55 checksum."""

    exit_code = 100


class ContactExists(WalletError):
    """The address or the label is already in the address book."""

    exit_code = 101


class ContactNotFound(WalletError):
    """No contact (or watched wallet) with that label or address."""

    exit_code = 102


class CsvImportError(WalletError):
    """A contacts CSV has bad rows; nothing was imported (every bad row is named)."""

    exit_code = 103


class BookStorageError(WalletError):
    """addressbook.json cannot be read or written."""

    exit_code = 104


class InvalidLabel(WalletError):
    """A label is empty, too long or has control characters."""

    exit_code = 105


class WatchOnlyCannotSign(WalletError):
    """The active wallet is watch-only: it has no key here, so nothing can be signed."""

    exit_code = 106

    def __init__(self, label: str = "") -> None:
        who = f"\u201c{label}\u201d " if label else ""
        super().__init__(
            f"The watch-only wallet {who}has no key in this app, so it cannot sign. Switch "
            "to one of your own accounts (Accounts, or `index-wallet accounts switch`) to "
            "buy, sell or send.")


class AccountNotFound(WalletError):
    """The wallet has no account with that number or label."""

    exit_code = 107


class NoAccounts(WalletError):
    """Accounts need a wallet made from a recovery phrase."""

    exit_code = 108
