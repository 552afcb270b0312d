"""Approvals: every allowance this wallet has granted on the pinned tokens, and revoke.

Why: an allowance lets another contract move the user's tokens without asking again; an
unlimited one to a contract that is later compromised empties the balance. The wallet
itself only ever approves exact amounts to the pinned vault (usually none at all: buys use
a permit), but the same key may have been used elsewhere, so the list covers every
spender that the pinned tokens' ``Approval`` events name for this owner (USDC and the G100
share token, addresses from the deployment record, events from its deployment block),
each with its *current* ``allowance`` read from the token itself (the events only say who
to ask). The spender's label is its role in the deployment record, else "unknown
contract"/"unknown address".

A revoke is one transaction, ``approve(spender, 0)``, under the trade lock, journaled and
recoverable like a trade; the pre-sign check allows exactly the spender chosen
(:class:`~wallet_app.trust.Confirmed`) and only the amount 0. It is verified from the
pinned token's ``Approval`` event (this owner, this spender, 0) and the allowance read
afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from eth_utils import keccak, to_checksum_address

from ..chain.sender import TxRequest
from ..trust.guard import Confirmed
from ..vault import SHARE_DECIMALS, to_decimal
from .pending import PendingService
from .session import Session
from .transfer_types import Approval, NothingToRevoke, TransferResult
from .transfers import _int, topic_address
from .types import InvalidAmount

APPROVAL_TOPIC = "0x" + keccak(text="Approval(address,address,uint256)").hex()
#: At or above this an allowance is shown as unlimited (2**256-1 and its usual cousins:
#: no token has a supply anywhere near 2**128 base units).
UNLIMITED_FROM = 2 ** 128
_ROLE_LABELS = {"vault": "the index vault", "lens": "the index lens",
                "usdc": "the USDC token", "timelock": "the index timelock"}
#: Blocks per eth_getLogs request (public nodes cap the range).
LOG_WINDOW = 50_000


class ApprovalsService:
    """List and revoke the active wallet's allowances on the pinned tokens."""

    def __init__(self, session: Session, pending: PendingService) -> None:
        self.s = session
        self.pending = pending

    def tokens(self) -> list[tuple[str, str, int]]:
        """(symbol, pinned address, decimals) of the tokens whose approvals are listed."""
        rec = self.s.require_record()
        return [("USDC", rec.usdc, 6), ("G100", rec.vault, SHARE_DECIMALS)]

    def _token(self, which: str) -> tuple[str, str, int]:
        for sym, addr, dec in self.tokens():
            if which.lower() in (sym.lower(), addr.lower()):
                return sym, addr, dec
        raise InvalidAmount(f"{which!r} is not a token this wallet lists approvals for "
                            "(USDC or G100).")

    def _allowance(self, token: str, owner: str, spender: str,
                   block: int | str = "latest") -> int:
        _, vault, _ = self.s.need()
        c = self.s.client.w3.eth.contract(address=token,  # type: ignore[union-attr]
                                          abi=vault.usdc_abi)
        return int(c.functions.allowance(owner, spender).call(block_identifier=block))

    def _label(self, spender: str) -> tuple[str, bool]:
        rec = self.s.require_record()
        role = rec.role_of(spender)
        if role is not None:
            return _ROLE_LABELS.get(role, f"the index {role}"), True
        client, _, _ = self.s.need()
        code = client.rpc("eth_getCode", spender, "latest")
        return ("unknown contract" if code not in ("0x", "", None) else "unknown address"), \
            False

    def _approval_logs(self, token: str, owner: str) -> list[dict[str, Any]]:
        client, _, _ = self.s.need()
        start = self.s.require_record().deployment_block
        end = client.block_number()
        out: list[dict[str, Any]] = []
        while start <= end:
            stop = min(end, start + LOG_WINDOW - 1)
            out.extend(client.rpc("eth_getLogs", {
                "address": token, "fromBlock": hex(start), "toBlock": hex(stop),
                "topics": [APPROVAL_TOPIC, topic_address(owner)]}) or [])
            start = stop + 1
        return out

    def list(self, include_zero: bool = False) -> list[Approval]:
        """Every spender of this owner on the pinned tokens with the current allowance
        (by default only those still above zero)."""
        owner = self.s.require_address()
        out = []
        for sym, token, dec in self.tokens():
            seen: dict[str, tuple[int, int]] = {}
            for lg in self._approval_logs(token, owner):
                if to_checksum_address(lg["address"]) != token or len(lg["topics"]) < 3:
                    continue
                spender = to_checksum_address("0x" + str(lg["topics"][2])[-40:])
                n, _ = seen.get(spender, (0, 0))
                seen[spender] = (n + 1, _int(lg["blockNumber"]))
            for spender, (n, last) in seen.items():
                value = self._allowance(token, owner, spender)
                if value == 0 and not include_zero:
                    continue
                label, known = self._label(spender)
                out.append(Approval(token=token, symbol=sym, spender=spender, label=label,
                                    allowance=to_decimal(value, dec), allowance_base=value,
                                    unlimited=value >= UNLIMITED_FROM, last_block=last,
                                    known=known, events=n))
        out.sort(key=lambda a: (not a.unlimited, a.symbol, a.spender))
        return out

    def revoke(self, token: str, spender: str,
               progress: Callable[[str], None] | None = None) -> TransferResult:
        """``approve(spender, 0)`` on the pinned ``token`` ("USDC", "G100" or its
        address), verified from the token's Approval event and the allowance after."""
        self.s.require_address()  # no wallet: say so before the token is looked up
        sym, token_addr, _ = self._token(token)
        try:
            spender = to_checksum_address(spender)
        except ValueError:
            raise InvalidAmount(f"{spender!r} is not an address.") from None
        with self.s.signing(self.pending.require_resolved,
                            Confirmed(revoke_spender=spender)) as scope:
            owner, vault = scope.address, scope.vault
            if self._allowance(token_addr, owner, spender) == 0:
                raise NothingToRevoke(f"{spender} has no {sym} allowance from this wallet: "
                                      "there is nothing to revoke.")
            c = scope.client.w3.eth.contract(address=token_addr, abi=vault.usdc_abi)
            data = vault._data(c.functions.approve(spender, 0))
            label, _ = self._label(spender)
            result = scope.send(TxRequest(
                sender=owner, to=token_addr, data=data, kind="revoke",
                summary=f"Revoke the {sym} allowance of {spender} ({label})",
                meta={"revoke_spender": spender, "token": token_addr, "symbol": sym}),
                progress, "The revoke failed on-chain.", " The allowance is unchanged.")
            ok, note = self.verify(result.tx_hash)
            self.s.journal.update_meta(result.tx_hash,
                                       outcome="verified" if ok else "unverified",
                                       outcome_note=note or None)
            return TransferResult("revoke", result.tx_hash, result.status, sym.lower(),
                                  Decimal(0), spender, result.block_number,
                                  to_decimal(result.fee_paid_wei or 0, 18), ok, note,
                                  "revoked" if ok else "unverified")

    def verify(self, tx_hash: str) -> tuple[bool, str]:
        """The pinned token's ``Approval(owner, spender, 0)`` in the receipt, and the
        allowance read from the token at that block is 0."""
        client, _, _ = self.s.need()
        entry = self.s.journal.entry(tx_hash)
        receipt = client.get_receipt(tx_hash)
        if entry is None or not receipt or _int(receipt.get("status", 0)) != 1:
            return False, "the receipt does not show a successful transaction"
        token = to_checksum_address(entry.meta["token"])
        spender = to_checksum_address(entry.meta["revoke_spender"])
        owner = to_checksum_address(entry.sender)
        events = [lg for lg in receipt.get("logs", [])
                  if to_checksum_address(lg["address"]) == token and len(lg["topics"]) == 3
                  and str(lg["topics"][0]).lower() == APPROVAL_TOPIC
                  and str(lg["topics"][1]).lower() == topic_address(owner)
                  and str(lg["topics"][2]).lower() == topic_address(spender)]
        if len(events) != 1 or _int(events[0]["data"]) != 0:
            return False, "the pinned token shows no Approval of 0 for this spender"
        block = _int(receipt["blockNumber"])
        if self._allowance(token, owner, spender, block) != 0:
            return False, "the allowance read from the token is not 0 after the revoke"
        return True, ""


__all__ = ["ApprovalsService"]
