"""Receive: the active address, its QR code and the EIP-681 USDC payment link.

The link's USDC address and chain id are the pinned deployment record's (the trust rule:
addresses come from the record, never from a node's answer). Without a connection the
address and its QR code still show; the link says why it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..book.receive import QrMatrix, qr_matrix, to_base_units, usdc_payment_link
from ..errors import WalletError
from .session import Session
from .types import USDC_DECIMALS, NoWallet


@dataclass(frozen=True)
class ReceiveInfo:
    """What the Receive dialog and ``index-wallet receive`` show."""

    address: str
    label: str  # "Main · Account 1", or the watched wallet's label
    chain_id: int | None
    chain_name: str
    usdc: str | None  # the pinned USDC contract
    link: str | None  # EIP-681 ``ethereum:<usdc>@<chain>/transfer?address=<me>``
    amount_usdc: Decimal | None
    amount_base_units: int | None
    link_note: str  # why there is no link, or what it asks for
    qr_address: QrMatrix  # the code of the plain address
    qr_link: QrMatrix | None  # the code of the payment link


class ReceiveService:
    def __init__(self, session: Session, label_of: object) -> None:
        self.s = session
        self._label_of = label_of  # () -> str: the active identity's title

    def receive_info(self, amount_usdc: Decimal | None = None) -> ReceiveInfo:
        addr = self.s.active_address()
        if addr is None:
            raise NoWallet()
        base = None
        if amount_usdc is not None:
            if not isinstance(amount_usdc, Decimal) or amount_usdc <= 0:
                raise WalletError("The amount to ask for must be a positive number of USDC.")
            try:
                base = to_base_units(amount_usdc, USDC_DECIMALS)
            except ValueError:
                raise WalletError(f"USDC has {USDC_DECIMALS} decimal places: "
                                  f"{amount_usdc} has more.") from None
        chain_id, chain_name, usdc, link, note = None, "", None, None, ""
        try:
            record = self.s.require_record()
            assert self.s.chain is not None
            chain_id, chain_name, usdc = record.chain_id, self.s.chain.name, record.usdc
            link = usdc_payment_link(usdc, chain_id, addr, base)
            note = (f"Asks for {amount_usdc.normalize():f} USDC" if base and amount_usdc else
                    "Asks for USDC (the sender chooses the amount)") + \
                f" on {chain_name} (chain {chain_id}), to this address."
        except WalletError as exc:
            note = f"No payment link: {exc}"
        return ReceiveInfo(addr, str(self._label_of()), chain_id, chain_name, usdc, link,
                           amount_usdc if base else None, base, note, qr_matrix(addr),
                           qr_matrix(link) if link else None)
