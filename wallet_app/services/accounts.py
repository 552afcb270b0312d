"""Accounts of one recovery phrase, watch-only wallets, and who the app acts for now.

A wallet made from a recovery phrase holds accounts at m/44'/60'/0'/0/i (the key manager
derives them; keys stay in the OS keyring). This service adds what a person needs around
them: a name per account, the active one (every screen and every signature is for it),
addresses watched without a key, and the list of every address the person knows by name
(:meth:`AccountsService.known_addresses`) that the send screen's address-poisoning check
compares a recipient against.

Names and the active account live in the address book (:mod:`wallet_app.book.store`),
never in wallets.json, so naming an account cannot damage custody.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..book.addresses import parse_address
from ..book.errors import AccountNotFound, NoAccounts
from ..book.store import WatchWallet, clean_label
from ..keys import WalletInfo
from ..keys.metadata import KIND_MNEMONIC
from .session import Session

#: Why a watch-only wallet cannot do what a button offers (tooltip and text).
WATCH_ONLY_REASON = ("Watch-only wallet: this app has no key for this address, so it cannot "
                     "sign. Switch to one of your own accounts to do this.")


@dataclass(frozen=True)
class AccountRow:
    """One account of a keyed wallet as the Accounts screen and the CLI list it."""

    wallet: str
    index: int  # BIP-44 index i of m/44'/60'/0'/0/i
    label: str
    address: str
    path: str | None
    active: bool


@dataclass(frozen=True)
class Identity:
    """Who the app acts for now: an account of a keyed wallet, or a watched address.

    ``can_sign`` is False for a watch-only wallet and ``reason`` says why, for every
    button that would sign (tooltip and text)."""

    kind: str  # "account" | "watch"
    wallet: str  # the keyed wallet's name, or the watched wallet's label
    label: str  # the account's name (or the watched wallet's label)
    address: str
    index: int | None
    can_sign: bool
    reason: str = ""

    @property
    def name(self) -> str:
        """The wallet's name (a WalletInfo's attribute, for the screens that show it)."""
        return self.wallet

    @property
    def title(self) -> str:
        """What the header shows: ``Main \u00b7 Savings`` or ``Cold storage (watch-only)``."""
        if self.kind == "watch":
            return f"{self.label} (watch-only)"
        return f"{self.wallet} \u00b7 {self.label}"


def default_label(index: int) -> str:
    return f"Account {index + 1}"


class AccountsService:
    """Accounts, the active one, and watch-only wallets (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # ------------------------------------------------------------------ accounts

    def _wallet(self, name: str | None) -> WalletInfo:
        if name:
            return self.s.keys.get(name)
        w = self.s.active_wallet()
        if w is None:
            for cand in self.s.keys.list():
                if cand.name == self.s.settings.active_wallet:
                    return cand
            wallets = self.s.keys.list()
            if not wallets:
                raise NoAccounts("There is no wallet yet: create or import one first.")
            return wallets[0]
        return w

    def accounts(self, wallet: str | None = None) -> list[AccountRow]:
        """The accounts of ``wallet`` (default: the active or last keyed wallet)."""
        w = self._wallet(wallet)
        labels = self.s.book.account_labels(w.name)
        watching = self.s.active_watch() is not None
        active_wallet = self.s.active_wallet()
        active = self.s.active_account_index(w)
        return [AccountRow(w.name, a.index, labels.get(a.index, default_label(a.index)),
                           a.address, a.path,
                           not watching and active_wallet is not None
                           and active_wallet.name == w.name and a.index == active)
                for a in w.accounts]

    def add_account(self, password: str, label: str = "", wallet: str | None = None
                    ) -> AccountRow:
        """Derive the next account (m/44'/60'/0'/0/n) of a phrase wallet; its key joins the
        OS keyring's wallet (nothing new is stored there: the phrase derives it)."""
        w = self._wallet(wallet)
        if w.kind != KIND_MNEMONIC:
            raise NoAccounts(
                f"\u201c{w.name}\u201d was imported from a single private key or keystore, "
                "so it has exactly one account. More accounts need a wallet made from a "
                "recovery phrase.")
        if label:
            label = clean_label(label, "An account's name")
        self.s.keys.add_account(w.name, password)
        w = self.s.keys.get(w.name)
        index = w.accounts[-1].index
        if label:
            self.s.book.set_account_label(w.name, index, label)
        return next(r for r in self.accounts(w.name) if r.index == index)

    def _row(self, key: str | int, wallet: str | None) -> AccountRow:
        rows = self.accounts(wallet)
        text = str(key).strip()
        for r in rows:
            if r.label.casefold() == text.casefold() or r.address.lower() == text.lower():
                return r
        if text.isdigit():  # "2" is the person's second account (index 1)
            for r in rows:
                if r.index == int(text) - 1:
                    return r
        raise AccountNotFound(
            f"\u201c{rows[0].wallet}\u201d has no account \u201c{text}\u201d. Its accounts: "
            + ", ".join(f"{r.index + 1} {r.label}" for r in rows) + ".")

    def rename_account(self, key: str | int, label: str, wallet: str | None = None
                       ) -> AccountRow:
        """Name an account (by its number 1.., its current name or its address)."""
        row = self._row(key, wallet)
        self.s.book.set_account_label(row.wallet, row.index, label)
        return next(r for r in self.accounts(row.wallet) if r.index == row.index)

    def switch_account(self, key: str | int, wallet: str | None = None) -> AccountRow:
        """Make an account active (it signs and every screen shows it)."""
        row = self._row(key, wallet)
        if self.s.settings.active_wallet != row.wallet:
            from ..config import save_settings

            self.s.settings.active_wallet = row.wallet
            save_settings(self.s.settings, self.s.paths)
        self.s.book.set_active_account(row.wallet, row.index)
        self.s.forget_snapshot()
        return next(r for r in self.accounts(row.wallet) if r.index == row.index)

    # ------------------------------------------------------------------ watch-only

    def watched(self) -> list[WatchWallet]:
        return self.s.book.watched()

    def add_watch(self, label: str, address: str) -> WatchWallet:
        """Watch an address without a key (refused for an address you already own)."""
        addr = parse_address(address)
        for w in self.s.keys.list():
            for a in w.accounts:
                if a.address.lower() == addr.lower():
                    from ..book.errors import ContactExists

                    raise ContactExists(f"{addr} is your own account {a.index + 1} of "
                                        f"\u201c{w.name}\u201d: switch to it instead of "
                                        "watching it.")
        return self.s.book.add_watch(label, addr)

    def remove_watch(self, key: str) -> WatchWallet:
        return self.s.book.remove_watch(key)

    def switch_watch(self, key: str) -> WatchWallet:
        """Look at a watched address: every screen shows it, nothing can sign."""
        w = self.s.book.set_active_watch(key)
        self.s.forget_snapshot()
        assert w is not None
        return w

    # ------------------------------------------------------------------ who is active

    def identity(self) -> Identity | None:
        """The active account or watched wallet (None: no wallet at all)."""
        watch = self.s.active_watch()
        if watch is not None:
            return Identity("watch", watch.label, watch.label, watch.address, None, False,
                            WATCH_ONLY_REASON)
        w = self.s.active_wallet()
        if w is None or not w.accounts:
            return None
        index = self.s.active_account_index(w)
        label = self.s.book.account_labels(w.name).get(index, default_label(index))
        address = next(a.address for a in w.accounts if a.index == index)
        return Identity("account", w.name, label, address, index, True)

    def known_addresses(self) -> list[tuple[str, str]]:
        """Every address the person knows by name, as ``(label, checksummed address)``:
        contacts, then each account of each keyed wallet (``"Main \u00b7 Account 2"``),
        then watched wallets. The send screen compares a recipient against these (the
        address-poisoning check: same first and last hex characters, another address)."""
        out = [(c.label, c.address) for c in self.s.book.contacts()]
        for w in self.s.keys.list():
            labels = self.s.book.account_labels(w.name)
            for a in w.accounts:
                out.append((f"{w.name} \u00b7 {labels.get(a.index, default_label(a.index))}",
                            a.address))
        out.extend((f"{w.label} (watch-only)", w.address) for w in self.s.book.watched())
        return out

    def address_labels(self) -> dict[str, str]:
        """Lower-case address -> the name to show beside it (own accounts win over
        contacts of the same address)."""
        # Later entries win: an own account or a watched wallet over a contact's name.
        return {address.lower(): label for label, address in self.known_addresses()}
