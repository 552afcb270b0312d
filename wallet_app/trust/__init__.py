"""The trust layer: what the wallet pins, checks before it signs, and verifies after.

* :mod:`.record`: the per-chain deployment record (addresses, code hashes, block) the
  wallet pins; never the node's answers.
* :mod:`.guard`: the pre-sign address check over transactions and EIP-712 typed data.
* :mod:`.lock`: one trading process per wallet and chain (an OS file lock).
* :mod:`.outcome`: a trade is confirmed only from the pinned vault's own events and the
  balances read afterwards.

Nothing here is specific to the v1 ABI except the policies :mod:`.guard` is given and the
event names :mod:`.outcome` looks for, so the forward-pricing vault reuses the rest.
"""

from .guard import AddressGuard, CallPolicy, Confirmed, SigningRefused
from .lock import TradeInProgress, WalletTradeLock
from .outcome import Outcome
from .record import (
    CodeHashMismatch,
    DeploymentRecord,
    DeploymentStore,
    InvalidRecord,
    NoDeploymentRecord,
    UntrustedAnswer,
    code_hash,
    verify_code,
)

__all__ = [
    "AddressGuard", "CallPolicy", "CodeHashMismatch", "Confirmed", "DeploymentRecord",
    "DeploymentStore",
    "InvalidRecord", "NoDeploymentRecord", "Outcome", "SigningRefused", "TradeInProgress",
    "UntrustedAnswer", "WalletTradeLock", "code_hash", "verify_code",
]
