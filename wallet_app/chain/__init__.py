"""Chain client: registry, provider, fees, nonces, simulation, the send pipeline.

No keys ever enter this package: signing is a callable supplied by the key-custody module.
See :mod:`.sender` for the pipeline and the reconcile rule, :mod:`.errors` for the named
exceptions (all :class:`~wallet_app.errors.WalletError`, messages safe to show).
"""

from __future__ import annotations

from .errors import (
    AlreadyKnown,
    BroadcastUncertain,
    ChainError,
    ChainIdMismatch,
    FeeTooHigh,
    FeeTooLow,
    GasLimitError,
    InsufficientFundsForGas,
    NonceConflict,
    NonceGap,
    NotReplaceable,
    RateLimited,
    ReceiptTimeout,
    ReplacementUnderpriced,
    RpcError,
    RpcUnavailable,
    SignerMismatch,
    TransactionDropped,
    TransactionNotFound,
    TransactionReverted,
    WrongNetwork,
)
from .fees import FeePolicy, FeeSuggestion, estimate_fee, fee_presets, suggest_fees
from .nonces import NonceManager
from .provider import ChainClient, CountingProvider, RequestWindow, make_web3
from .registry import CHAINS, ChainInfo, custom_chain, get_chain, resolve_chain
from .sender import (
    PreparedTx,
    ReconcileOutcome,
    Sender,
    SendProgress,
    SendResult,
    SignFn,
    TxRequest,
)
from .simulate import DecodedRevert, RevertDecoder, Simulation, simulate

__all__ = [
    "CHAINS",
    "AlreadyKnown",
    "BroadcastUncertain",
    "ChainClient",
    "ChainError",
    "ChainIdMismatch",
    "ChainInfo",
    "CountingProvider",
    "DecodedRevert",
    "FeePolicy",
    "FeeSuggestion",
    "FeeTooHigh",
    "FeeTooLow",
    "GasLimitError",
    "InsufficientFundsForGas",
    "NonceConflict",
    "NonceGap",
    "NonceManager",
    "NotReplaceable",
    "PreparedTx",
    "RateLimited",
    "ReceiptTimeout",
    "ReconcileOutcome",
    "ReplacementUnderpriced",
    "RequestWindow",
    "RevertDecoder",
    "RpcError",
    "RpcUnavailable",
    "SendProgress",
    "SendResult",
    "Sender",
    "SignFn",
    "SignerMismatch",
    "Simulation",
    "TransactionDropped",
    "TransactionNotFound",
    "TransactionReverted",
    "TxRequest",
    "WrongNetwork",
    "custom_chain",
    "estimate_fee",
    "fee_presets",
    "get_chain",
    "make_web3",
    "resolve_chain",
    "simulate",
    "suggest_fees",
]
