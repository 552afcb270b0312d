"""Checks on a transfer's recipient, made before anything is signed.

Why each check:

* **Checksum.** An all-lowercase address carries no checksum and is taken as typed; a
  mixed-case one must match EIP-55, because a wrong case is how a typo shows itself.
* **Pinned contracts.** Tokens sent to the token contract itself, or to the vault (whose
  share token is G100), are lost: neither contract has a way to give them back. The
  addresses come from the deployment record, never from the node.
* **Contracts.** ``eth_getCode`` at the recipient: a contract that does not expect a token
  keeps it forever, so a contract recipient needs an explicit confirmation.
* **First transfer.** This wallet never sent to the address before (from its own history):
  worth a second look at the address, not a block.
* **Look-alikes (address poisoning).** Attackers send dust from an address that starts and
  ends like one the victim used, hoping it is copied from the history. A recipient with the
  same first four and last four hex characters as a known address, but different, is
  blocked until the user has compared both side by side and confirmed.

The known addresses are any iterable of ``(label, address)`` pairs: today this wallet's
history; the contacts and the user's own accounts join through one hook
(:attr:`wallet_app.services.transfers.TransfersService.extra_known`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_utils import is_address, is_checksum_address, to_checksum_address

from ..trust.record import DeploymentRecord
from .transfer_types import (
    InvalidRecipient,
    RecipientCheck,
    RecipientRefused,
    RecipientWarning,
)

ZERO = "0x" + "00" * 20
#: EIP-7702: an account whose code is this prefix + an address delegates to that code.
DELEGATION_PREFIX = "0xef0100"

_ROLE_WORDS = {
    "vault": "the index vault (the G100 share token itself)",
    "lens": "the index's read-only lens contract",
    "usdc": "the USDC token contract itself",
    "timelock": "the index's timelock (its owner)",
}


def parse_recipient(text: str) -> str:
    """The checksummed address, or :class:`InvalidRecipient` saying what is wrong."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidRecipient("Enter the recipient's address (0x followed by 40 hex "
                               "characters).")
    if not raw.startswith(("0x", "0X")) or len(raw) != 42:
        raise InvalidRecipient(f"{raw[:48]!r} is not an address: an address is 0x followed "
                               "by 40 hex characters.")
    if not is_address(raw.lower()):
        raise InvalidRecipient("The address contains characters that are not hex "
                               "(0-9, a-f).")
    body = raw[2:]
    mixed = body != body.lower() and body != body.upper()
    if mixed and not is_checksum_address("0x" + body):
        raise InvalidRecipient(
            "The address's upper/lower-case letters do not match its EIP-55 checksum: one "
            "character is probably mistyped. Copy it again from the recipient; nothing was "
            "sent.")
    return to_checksum_address("0x" + body)


def looks_alike(a: str, b: str) -> bool:
    """Same first four and last four hex characters, but a different address."""
    x, y = a.lower(), b.lower()
    return x != y and x[2:6] == y[2:6] and x[-4:] == y[-4:]


def refuse_pinned(address: str, asset: str, record: DeploymentRecord, owner: str) -> None:
    """:class:`RecipientRefused` for the pinned contracts, zero and the user's address."""
    if address == ZERO:
        raise RecipientRefused("That is the zero address: anything sent there is burned "
                               "for good. Nothing was sent.")
    if address == to_checksum_address(owner):
        raise RecipientRefused("That is this wallet's own address: a transfer to yourself "
                               "would only cost the network fee. Nothing was sent.")
    role = record.role_of(address)
    if role is None:
        return
    what = _ROLE_WORDS.get(role, f"the index's pinned {role} contract")
    asset_word = {"usdc": "USDC", "g100": "G100", "eth": "ETH"}.get(asset, asset)
    if role == "vault":
        why = (f"{asset_word} sent to the vault is not sold or redeemed: it is stuck there "
               "for good. To turn G100 into USDC, use Sell.")
    elif role == "usdc":
        why = (f"A token contract does not pass on what is sent to it: the {asset_word} "
               "would be lost for good.")
    else:
        why = f"It cannot give back what is sent to it: the {asset_word} would be lost."
    raise RecipientRefused(f"Refused: {address} is {what} (pinned in this network's "
                           f"deployment record). {why} Nothing was sent.")


def check_recipient(text: str, asset: str, *, record: DeploymentRecord, owner: str,
                    code: Any, history: Iterable[str],
                    known: Iterable[tuple[str, str]]) -> RecipientCheck:
    """Every check of the module docstring. ``code`` is the hex ``eth_getCode`` answer at
    the recipient (asked by the caller after the address parsed), ``history`` the
    addresses this wallet sent to before, ``known`` the labelled addresses to compare."""
    address = parse_recipient(text)
    refuse_pinned(address, asset, record, owner)
    warnings: list[RecipientWarning] = []
    code_hex = code if isinstance(code, str) else "0x" + bytes(code or b"").hex()
    is_contract = code_hex not in ("", "0x", "0x0")
    if is_contract:
        delegated = code_hex.lower().startswith(DELEGATION_PREFIX)
        warnings.append(RecipientWarning(
            "contract", "The recipient is a contract",
            ("This address is an account that delegates to contract code (EIP-7702), "
             if delegated else "This address is a contract, not a personal account. ")
            + "A contract that does not expect this token keeps it for ever: send only if "
              "you know this contract accepts it (an exchange deposit contract, a safe "
              "you own).", blocking=True))
    sent_before = {a.lower() for a in history}
    first = address.lower() not in sent_before
    if first:
        warnings.append(RecipientWarning(
            "first_transfer", "First transfer to this address",
            "You have never sent anything to this address from this wallet. Check it "
            "character by character with the recipient before you send.", blocking=False))
    label = None
    similar: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, addr in known:
        if not isinstance(addr, str) or not is_address(addr):
            continue
        if addr.lower() == address.lower():
            label = label or name
        elif looks_alike(addr, address) and addr.lower() not in seen:
            seen.add(addr.lower())
            similar.append((name, to_checksum_address(addr)))
    if similar:
        warnings.append(RecipientWarning(
            "lookalike", "This address looks like one you know, but is different",
            "It starts and ends with the same characters as an address in your history or "
            "contacts, but the middle differs. Scammers create such look-alikes and send "
            "you tiny amounts from them so that you copy the wrong one from your history "
            "(address poisoning). Compare the two side by side.", blocking=True,
            similar=tuple(similar)))
    return RecipientCheck(address=address, is_contract=is_contract, first_transfer=first,
                          warnings=tuple(warnings), label=label)


__all__ = ["check_recipient", "looks_alike", "parse_recipient", "refuse_pinned"]
