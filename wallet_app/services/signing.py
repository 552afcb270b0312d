"""What a signing path holds while it signs: :class:`SigningScope`, made only by
:meth:`Session.signing <wallet_app.services.session.Session.signing>`.

Why one object: the trade, the sell, the cancel, the in-kind exit, the claim, the transfer
and the revoke all need the same preamble (the signer refused at once when locked or
watch-only, the wallet's OS trade lock, the chain id, no unresolved transaction, the pinned
record) and the same send (journaled before broadcast by the sender, a failure told in the
user's words with what they kept). Written once here and in the session, a new signing
path cannot forget one of those steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..chain.provider import ChainClient
from ..chain.send_types import SendProgress, SendResult
from ..chain.sender import Sender, TxRequest
from ..errors import WalletError
from ..models import TxStatus
from ..trust import DeploymentRecord
from ..vault import VaultClient
from .types import TradeFailed

ProgressText = Callable[[str], None]


def relay_progress(progress: ProgressText | None, with_hash: bool = True
                   ) -> Callable[[SendProgress], None] | None:
    """The sender's progress as plain text for the GUI and the CLI; ``with_hash`` adds
    the transaction hash once it is journaled or broadcast."""
    if progress is None:
        return None

    def forward(p: SendProgress) -> None:
        shown = with_hash and p.tx_hash and p.stage in ("broadcast", "journaled")
        progress(p.message + (f" ({p.tx_hash})" if shown else ""))

    return forward


@dataclasses.dataclass(frozen=True)
class SigningScope:
    """The checked state inside :meth:`Session.signing`: valid only inside that block,
    where the wallet's OS trade lock is held (so a nonce chosen here is journaled and
    broadcast before any other signing path of this wallet can choose one)."""

    address: str
    client: ChainClient
    vault: VaultClient
    sender: Sender
    record: DeploymentRecord
    #: The session's signer (trade lock and pre-sign address check on every call).
    sign: Callable[[dict[str, Any]], bytes] = dataclasses.field(repr=False)
    timeout_s: float
    #: Called after every send: the balances may have moved (a failed transaction pays
    #: gas too), so the next read goes to the chain.
    after_send: Callable[[], None] = dataclasses.field(repr=False)

    def send(self, req: TxRequest, progress: ProgressText | None, failed: str,
             kept: str = "", *, error: type[WalletError] = TradeFailed,
             with_hash: bool = True) -> SendResult:
        """Send ``req`` through the sender (simulate, sign, journal with fsync, broadcast,
        wait) and return its confirmed result; otherwise raise ``error`` with the node's
        reason (or ``failed``) and what the user kept (``kept``)."""
        result = self.sender.send(req, self.sign, progress=relay_progress(progress, with_hash),
                                  timeout_s=self.timeout_s)
        self.after_send()
        if result.status is not TxStatus.CONFIRMED:
            raise error((result.error or failed) + kept)
        return result


__all__ = ["SigningScope", "relay_progress"]
