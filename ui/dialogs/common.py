"""What the dialogs share: amount parsing, turning errors into advice, the outer frame, a
progress list.

Amounts: whatever the user types is parsed into a ``Decimal`` with the token's decimals
(USDC 6, G100 shares 18) and refused with a sentence when it cannot be an amount. Floats
never appear: ``Decimal("0.1")`` is exactly one tenth, ``float("0.1")`` is not, and a
wallet that rounds a user's amount behind their back is a wallet that loses trust.

Errors: the core raises :class:`wallet_app.errors.WalletError` subclasses whose ``str()``
already says what happened and what to do. The GUI may not import the chain or keys
packages, so it recognises the few failures that need a *different button* (unlock, open
Settings, raise the slippage) by class name and a couple of attributes, and adds a short
headline; the core's message is always shown in full below it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui import formatting as fmt
from ui.pages.common import Banner, button, label, set_prop
from wallet_app.errors import WalletError

USDC_DECIMALS = 6
SHARE_DECIMALS = 18

_PLAIN = re.compile(r"^\d+(\.\d*)?$|^\.\d+$")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$")


class AmountError(ValueError):
    """The typed text is not an acceptable amount; ``str()`` says why, for the user."""


def parse_amount(
    text: str,
    decimals: int,
    symbol: str,
    *,
    maximum: Decimal | None = None,
    maximum_label: str = "your balance",
    minimum: Decimal | None = None,
) -> Decimal:
    """Parse a typed amount exactly, or raise :class:`AmountError` with the reason.

    Accepts ``1234.5``, ``1,234.50`` and ``.5``; refuses signs, exponents, letters, zero,
    more decimals than the token has, and amounts above ``maximum``.
    """
    raw = text.strip().replace(" ", "").replace("_", "")
    if not raw:
        raise AmountError(f"Enter an amount of {symbol}.")
    if raw.startswith("-"):
        raise AmountError("The amount must be positive.")
    if raw.startswith("+"):
        raw = raw[1:]
    if re.search(r"[^\d.,]", raw):
        raise AmountError(f"\u201c{text.strip()}\u201d is not a number. Type digits and "
                          "at most one decimal point, e.g. 250 or 99.5.")
    if _GROUPED.match(raw):
        raw = raw.replace(",", "")
    elif "," in raw:
        raise AmountError("Use a point for decimals (1234.56); commas may only group "
                          "thousands (1,234.56).")
    if not _PLAIN.match(raw):
        raise AmountError(f"\u201c{text.strip()}\u201d is not a number. Type digits and "
                          "at most one decimal point, e.g. 250 or 99.5.")
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        raise AmountError(f"\u201c{text.strip()}\u201d is not a number.") from None
    places = len(raw.split(".", 1)[1]) if "." in raw else 0
    if places > decimals:
        raise AmountError(f"{symbol} has {decimals} decimals; this amount has {places}. "
                          "Remove the extra digits.")
    if value == 0:
        raise AmountError("The amount must be more than zero.")
    if minimum is not None and value < minimum:
        raise AmountError(f"The minimum is {fmt.format_token_amount(minimum, symbol, decimals)}.")
    if maximum is not None and value > maximum:
        raise AmountError(f"That is more than {maximum_label} "
                          f"({fmt.format_token_amount(maximum, symbol, decimals)}).")
    return value


def parse_percent(text: str, *, maximum: Decimal = Decimal(100), places: int = 2,
                  what: str = "percentage") -> Decimal:
    """Parse ``0.5`` / ``0.5%`` as a percent (a Decimal, not a fraction) in (0, maximum]."""
    raw = text.strip().removesuffix("%").strip()
    if not raw:
        raise AmountError(f"Enter a {what}.")
    if raw.startswith("-"):
        raise AmountError(f"The {what} must be positive.")
    if not _PLAIN.match(raw):
        raise AmountError(f"\u201c{text.strip()}\u201d is not a {what}; type e.g. 0.5.")
    value = Decimal(raw)
    if "." in raw and len(raw.split(".", 1)[1]) > places:
        raise AmountError(f"Use at most {places} decimals for the {what}.")
    if value == 0:
        raise AmountError(f"The {what} must be more than zero.")
    if value > maximum:
        raise AmountError(f"The {what} can be at most {fmt.format_number(maximum, 0)}%.")
    return value


def percent_to_bps(percent: Decimal) -> int:
    """``Decimal("0.5")`` percent -> 50 basis points (exact: at most 2 decimals)."""
    return int((percent * 100).to_integral_value(rounding=ROUND_DOWN))


def shares_for_percent(balance: Decimal, percent: Decimal) -> Decimal:
    """The shares ``percent`` of a balance is, rounded down to 18 decimals; 100% is all."""
    if percent >= 100:
        return balance
    q = Decimal(1).scaleb(-SHARE_DECIMALS)
    return (balance * percent / 100).quantize(q, rounding=ROUND_DOWN)


# -- errors -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ErrorAdvice:
    """How a dialog presents a failure: headline, the core's message, the next step."""

    kind: str  # "slippage" | "funds" | "gas" | "offline" | "network" | "locked" | "password"
    #           | "reverted" | "paused" | "expired" | "amount" | "wallet" | "other" | "bug"
    title: str
    message: str
    action: str  # "retry" | "settings" | "unlock" | "edit"
    action_label: str


#: The vault's custom errors that mean "the price moved past the user's limit".
_SLIPPAGE_ERRORS = frozenset({"SlippageExceeded", "InsufficientSharesOut",
                              "InsufficientAssetsOut", "ExcessiveAssetsIn",
                              "ExcessiveSharesIn"})


def class_names(exc: BaseException) -> set[str]:
    """The names of the exception's class and its bases (the GUI may not import them)."""
    return {c.__name__ for c in type(exc).__mro__}


def is_locked_error(exc: BaseException) -> bool:
    """Signing was refused because the wallet is locked: ask for the password and retry."""
    return "WalletLocked" in class_names(exc)


def describe_error(exc: BaseException) -> ErrorAdvice:
    """Headline and next step for a failure, keeping the core's message intact."""
    names = class_names(exc)
    msg = str(exc) if isinstance(exc, WalletError) else ""
    error_name = str(getattr(exc, "error_name", "") or "")
    if "WalletLocked" in names:
        return ErrorAdvice("locked", "The wallet is locked", msg, "unlock", "Unlock")
    if "InvalidPassword" in names:
        return ErrorAdvice("password", "Wrong password", msg, "edit", "Try again")
    if "QuoteExpired" in names:
        return ErrorAdvice("expired", "The quote expired", msg, "retry", "Refresh the quote")
    if "NoWallet" in names:
        return ErrorAdvice("wallet", "No wallet yet", msg, "retry", "Try again")
    if "InvalidAmount" in names:
        return ErrorAdvice("amount", "Check the amount", msg, "edit", "Change amount")
    if "TradingClosed" in names:
        return ErrorAdvice("paused", "Trading is closed for now", msg, "retry", "Try again")
    if "NotDeployed" in names:
        return ErrorAdvice("network", "No index on this network", msg, "settings",
                           "Open Settings")
    if "WrongNetwork" in names or "ChainIdMismatch" in names:
        return ErrorAdvice("network", "Wrong network", msg, "settings", "Open Settings")
    if "RpcUnavailable" in names or "RateLimited" in names:
        return ErrorAdvice("offline", "Cannot reach the network", msg, "retry", "Try again")
    if "InsufficientFundsForGas" in names:
        return ErrorAdvice("gas", "Not enough ETH for the network fee", msg, "retry",
                           "Try again")
    if error_name in _SLIPPAGE_ERRORS or "Slippage" in error_name \
            or any("Slippage" in n for n in names):
        return ErrorAdvice(
            "slippage", "The price moved more than your slippage allows",
            msg or "Nothing was bought or sold.", "edit", "Review and retry")
    if any(n.startswith("Insufficient") for n in names) or "Insufficient" in error_name:
        return ErrorAdvice("funds", "Not enough funds", msg, "edit", "Change amount")
    if error_name == "DeadlineExpired":
        return ErrorAdvice("expired", "The quote expired", msg, "retry", "Refresh the quote")
    if error_name in ("NavStale", "StalePrice", "PriceUnavailable", "InvalidPrice"):
        return ErrorAdvice("paused", "Prices are being refreshed", msg, "retry", "Try again")
    if "Paused" in error_name or any("Paused" in n for n in names):
        return ErrorAdvice("paused", "Buying is paused", msg, "retry", "Try again")
    if "TransactionReverted" in names:
        return ErrorAdvice("reverted", "The transaction would not go through", msg, "retry",
                           "Try again")
    if isinstance(exc, WalletError):
        return ErrorAdvice("other", "That did not work", msg, "retry", "Try again")
    return ErrorAdvice(
        "bug", "Something went wrong inside the app",
        f"An unexpected {type(exc).__name__} occurred. Nothing was signed unless a "
        "transaction hash was shown. Try again; if it keeps happening, the log file has "
        "the details for a bug report.",
        "retry", "Try again")


def show_error(banner: Banner, exc: BaseException) -> None:
    """A failure in ``banner``: the headline, then the core's message in full."""
    advice = describe_error(exc)
    banner.show_message("error", advice.title, advice.message)


# -- the frame of a dialog ------------------------------------------------------------------

def dialog_column(dialog: QDialog, heading: str, *top: QWidget,
                  spacing: int = 12) -> QVBoxLayout:
    """The dialogs' outer layout (one margin for all of them): the heading, then ``top``
    (an intro line, the banner); the caller adds the rest."""
    lay = QVBoxLayout(dialog)
    lay.setContentsMargins(24, 22, 24, 20)
    lay.setSpacing(spacing)
    lay.addWidget(label(heading, "heading"))
    for widget in top:
        lay.addWidget(widget)
    return lay


def close_row(dialog: QDialog, name: str) -> QHBoxLayout:
    """A row with one right-aligned Close button (object name ``name``) that accepts."""
    close = button("Close", name=name)
    close.clicked.connect(dialog.accept)
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(close)
    return row


# -- a progress checklist -----------------------------------------------------------------

class StepList(QWidget):
    """Numbered steps (sign, broadcast, confirm) each pending, active, done or failed.

    A person waiting on a blockchain wants to know *which* wait they are in; a spinner
    alone does not say whether the transaction already left the machine.
    """

    MARKS = {"pending": "\u25cb", "active": "\u25d4", "done": "\u2713", "failed": "\u2715"}

    def __init__(self, steps: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(10)
        self._keys = [k for k, _ in steps]
        self._marks: dict[str, QLabel] = {}
        self._texts: dict[str, QLabel] = {}
        self._states: dict[str, str] = {}
        for row, (key, text) in enumerate(steps):
            mark = label(self.MARKS["pending"], "step-mark")
            mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
            mark.setFixedWidth(26)
            body = label(text, "step", wrap=True)
            for w in (mark, body):
                w.setProperty("step", "pending")
            grid.addWidget(mark, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(body, row, 1)
            self._marks[key], self._texts[key] = mark, body
            self._states[key] = "pending"
        grid.setColumnStretch(1, 1)

    def set_state(self, key: str, state: str, text: str | None = None) -> None:
        self._states[key] = state
        mark = self._marks[key]
        mark.setText(self.MARKS[state])
        set_prop(mark, "step", state)
        set_prop(self._texts[key], "step", state)
        if text is not None:
            self._texts[key].setText(text)

    def advance_to(self, key: str) -> None:
        """Mark every step before ``key`` done, ``key`` active and the rest pending (a
        second transaction, after an approval, starts the list again)."""
        seen = False
        for k in self._keys:
            if k == key:
                self.set_state(k, "active")
                seen = True
            else:
                self.set_state(k, "pending" if seen else "done")

    def fail_current(self) -> None:
        for k in self._keys:
            if self._states[k] == "active":
                self.set_state(k, "failed")
                return

    def finish(self) -> None:
        for k in self._keys:
            self.set_state(k, "done")

    def reset(self) -> None:
        for k in self._keys:
            self.set_state(k, "pending")

    def state(self, key: str) -> str:
        return self._states[key]

    def text(self, key: str) -> str:
        return self._texts[key].text()
