"""Named exceptions of the chain client, and the mapping of node errors onto them.

Why a module of its own: every failure the chain layer can raise must reach the user as a
sentence that says what happened and what to do, and nothing else. JSON-RPC error text
comes from whatever node the user points the app at, so it is *untrusted*: it may be
misleading, enormous or hostile. :func:`map_node_error` therefore recognises the handful of
well-known node messages (geth, Erigon, Nethermind, Besu, Reth, Anvil spellings) by pattern,
returns our own exception with our own words, and logs the raw text at DEBUG level only.

Exit codes 58-69 and 71-89 belong to this package (70 is the CLI's internal error); the CLI
returns ``exc.exit_code``. Every class has its own code (``wallet_app.exit_codes``).
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from urllib.parse import urlsplit

from ..errors import WalletError

log = logging.getLogger(__name__)

WEI_PER_ETH = Decimal(10) ** 18


def host_of(url: str) -> str:
    """The host[:port] of an RPC URL, without credentials, path or query.

    RPC URLs often embed an API key in the path or query (``/v2/<key>``); only the host is
    safe to show in a message or a log line.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the configured RPC"
    host = parts.hostname or ""
    if not host:
        return "the configured RPC"
    return f"{host}:{parts.port}" if parts.port else host


def _eth(wei: int) -> str:
    """Format wei as ETH for a message (exact, trailing zeros trimmed)."""
    value = (Decimal(wei) / WEI_PER_ETH).normalize()
    return f"{value:f}"


class ChainError(WalletError):
    """Base of every chain-client error; the message is safe to show as it is."""

    exit_code = 60


class RpcUnavailable(ChainError):
    """The RPC endpoint cannot be reached, timed out, or does not speak JSON-RPC."""

    exit_code = 64

    def __init__(self, host: str, detail: str = "") -> None:
        self.host = host
        msg = (
            f"Cannot reach the network at {host}; check your connection or the RPC URL "
            "in Settings."
        )
        if detail:
            msg = f"{msg} ({detail})"
        super().__init__(msg)


class BroadcastUncertain(RpcUnavailable):
    """The node may or may not have received a signed transaction (timeout mid-send).

    The signed bytes are in the journal; :meth:`Sender.reconcile` re-checks by hash and, if
    the node never got them, re-broadcasts the *same* bytes (same hash, same nonce), which
    cannot create a second transaction.
    """

    exit_code = 81

    def __init__(self, host: str, tx_hash: str) -> None:
        self.tx_hash = tx_hash
        what = f"transaction {tx_hash}" if tx_hash else "the transaction"
        ChainError.__init__(
            self,
            f"The network at {host} did not confirm that it received {what}. It is "
            "saved and will be checked again (and re-sent unchanged if needed), so it "
            "cannot be sent twice. Check your connection.",
        )
        self.host = host


class RpcError(ChainError):
    """The node refused a request for a reason we do not recognise."""

    exit_code = 61

    def __init__(self, method: str = "", host: str = "") -> None:
        self.method = method
        where = f" at {host}" if host else ""
        super().__init__(
            f"The network node{where} refused the request"
            f"{f' ({method})' if method else ''}. Try again in a moment; if it keeps "
            "failing, check the RPC URL in Settings or choose another provider."
        )


class RateLimited(RpcUnavailable):
    """The RPC provider is throttling us (HTTP 429 or a JSON-RPC limit error)."""

    exit_code = 65

    def __init__(self, host: str) -> None:
        self.host = host
        ChainError.__init__(
            self,
            f"The RPC provider at {host} is limiting requests. Wait a minute and try "
            "again, or set a different RPC URL in Settings.",
        )


class WrongNetwork(ChainError):
    """The node serves a different chain than the one the wallet is configured for."""

    exit_code = 66

    def __init__(self, expected: int, actual: int, host: str = "", network: str = "") -> None:
        self.expected = expected
        self.actual = actual
        name = f"{network} " if network else ""
        where = f"The RPC at {host}" if host else "The RPC"
        super().__init__(
            f"{where} is on chain {actual}, but this wallet is set to {name}"
            f"(chain {expected}). Nothing was signed. Change the network or the RPC URL "
            "in Settings."
        )


#: The brief's other name for the same failure.
ChainIdMismatch = WrongNetwork


class TransactionReverted(ChainError):
    """The transaction would revert (simulation) or did revert (receipt status 0).

    ``reason`` is our plain sentence; ``error_name`` the decoded Solidity error name (for
    callers that want to branch, e.g. on ``"SlippageExceeded"``); ``data`` the raw revert
    bytes, kept for logs and tests, never shown.
    """

    exit_code = 67

    def __init__(
        self,
        reason: str,
        *,
        error_name: str | None = None,
        data: bytes = b"",
        simulated: bool = True,
    ) -> None:
        self.reason = reason
        self.error_name = error_name
        self.data = data
        self.simulated = simulated
        if simulated:
            msg = f"The transaction would fail: {reason} Nothing was signed or sent."
        else:
            msg = f"The transaction failed on-chain: {reason} Only the gas fee was spent."
        super().__init__(msg)


class InsufficientFundsForGas(ChainError):
    """The account cannot pay value + gas limit x max fee per gas."""

    exit_code = 68

    def __init__(self, needed_wei: int | None = None, balance_wei: int | None = None,
                 symbol: str = "ETH") -> None:
        self.needed_wei = needed_wei
        self.balance_wei = balance_wei
        if needed_wei is not None and balance_wei is not None:
            detail = (
                f" It needs up to {_eth(needed_wei)} {symbol} (amount plus maximum gas fee) "
                f"and the account holds {_eth(balance_wei)} {symbol}."
            )
        else:
            detail = ""
        super().__init__(
            f"Not enough {symbol} to pay for this transaction's gas.{detail} Add {symbol} "
            "to this address, or choose a lower fee preset."
        )


class NonceConflict(ChainError):
    """The nonce is already used (mined) or another transaction holds it."""

    exit_code = 69

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "Another transaction from this account already used this position in the "
            "queue (nonce). The wallet will refresh its pending list; check the "
            f"transactions log and try again.{f' ({detail})' if detail else ''}"
        )


class NonceGap(ChainError):
    """The nonce is ahead of the account's next one (an earlier transaction is missing)."""

    exit_code = 71

    def __init__(self) -> None:
        super().__init__(
            "An earlier transaction from this account is missing from the network, so "
            "this one cannot be processed yet. Open the pending transactions and re-send "
            "or cancel the earlier one."
        )


class ReplacementUnderpriced(ChainError):
    """A same-nonce replacement did not raise both fees enough for the node."""

    exit_code = 72

    def __init__(self) -> None:
        super().__init__(
            "The network refused the replacement because its fee is not high enough "
            "over the pending transaction. Try speeding up again with the aggressive "
            "preset."
        )


class FeeTooLow(ChainError):
    """The maximum fee is below the current base fee or the node's minimum."""

    exit_code = 73

    def __init__(self) -> None:
        super().__init__(
            "The network refused the transaction because its fee is below the current "
            "minimum. Refresh the fee estimate and try again (or choose the market or "
            "aggressive preset)."
        )


class FeeTooHigh(ChainError):
    """The node's safety cap on total fee was exceeded."""

    exit_code = 74

    def __init__(self) -> None:
        super().__init__(
            "The network node refused the transaction because its total fee is above "
            "the node's safety cap. Choose a lower fee preset."
        )


class GasLimitError(ChainError):
    """Gas limit below the intrinsic cost or above the block gas limit."""

    exit_code = 75

    def __init__(self) -> None:
        super().__init__(
            "The network refused the transaction's gas limit (too low for the work, or "
            "above the block limit). Refresh the estimate and try again."
        )


class AlreadyKnown(ChainError):
    """The node already has this exact transaction (same hash): not an error for us."""

    exit_code = 63

    def __init__(self) -> None:
        super().__init__("The network already has this transaction.")


class TransactionDropped(ChainError):
    """The transaction left the mempool and its nonce was used by another one."""

    exit_code = 76

    def __init__(self, tx_hash: str) -> None:
        self.tx_hash = tx_hash
        super().__init__(
            f"Transaction {tx_hash} was dropped by the network and will not be mined; "
            "nothing was spent by it. You can start the action again."
        )


class ReceiptTimeout(ChainError):
    """No receipt within the wait; the transaction is still pending (not an error on-chain)."""

    exit_code = 77

    def __init__(self, tx_hash: str, seconds: float) -> None:
        self.tx_hash = tx_hash
        super().__init__(
            f"Transaction {tx_hash} is still waiting to be included after "
            f"{seconds:.0f} s. It stays in the transactions log; you can speed it up or "
            "cancel it there."
        )


class TransactionNotFound(ChainError):
    """The journal has no transaction with this hash on this chain."""

    exit_code = 78

    def __init__(self, tx_hash: str) -> None:
        self.tx_hash = tx_hash
        super().__init__(
            f"No transaction {tx_hash} was sent by this wallet on this network."
        )


class NotReplaceable(ChainError):
    """Speed-up or cancel of a transaction that is no longer pending."""

    exit_code = 79

    def __init__(self, tx_hash: str, status: str) -> None:
        self.tx_hash = tx_hash
        self.status = status
        super().__init__(
            f"Transaction {tx_hash} is already {status}, so it can no longer be sped up "
            "or cancelled."
        )


class SignerMismatch(ChainError):
    """The signer returned bytes that are not the transaction we asked it to sign."""

    exit_code = 80

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The signed transaction does not match the one prepared ({what}). Nothing "
            "was sent. Unlock the right wallet and try again."
        )


# --------------------------------------------------------------------------- mapping

_PATTERNS: list[tuple[re.Pattern[str], type[ChainError]]] = [
    (re.compile(r"already known|known transaction|already imported|alreadyknown"
                r"|transaction already exists", re.I), AlreadyKnown),
    (re.compile(r"replacement (transaction )?underpriced|replacementunderpriced"
                r"|replacement fee too low|underpriced replacement", re.I),
     ReplacementUnderpriced),
    (re.compile(r"insufficient funds|insufficient balance|not enough funds"
                r"|lackoffundforgaslimit|insufficientfunds", re.I), InsufficientFundsForGas),
    (re.compile(r"nonce too low|nonce has already been used|oldnonce|nonce is too low"
                r"|invalid nonce.*lower", re.I), NonceConflict),
    (re.compile(r"nonce too high|noncegap|nonce gap", re.I), NonceGap),
    (re.compile(r"fee ?cap.*(less|lower|below).*base ?fee|max fee per gas less than"
                r"|transaction underpriced|gas price too low|feetoolow|underpriced"
                r"|maxfeepergas.*base", re.I), FeeTooLow),
    (re.compile(r"exceeds the configured cap|fee cap exceeded|tx fee .* exceeds", re.I),
     FeeTooHigh),
    (re.compile(r"intrinsic gas too low|exceeds block gas limit|gas limit reached"
                r"|gas too low|out of gas|intrinsicgas", re.I), GasLimitError),
]

_RATE_LIMIT = re.compile(r"rate ?limit|too many requests|request limit|exceeded .* limit"
                         r"|capacity exceeded", re.I)


def map_node_error(
    message: str,
    code: int | None = None,
    *,
    method: str = "",
    host: str = "",
) -> ChainError:
    """Turn a JSON-RPC error into one of our exceptions with our own message.

    The raw text goes to the DEBUG log only (it can be useful to a developer reading the
    log, and is never shown). Revert errors are *not* handled here: they carry revert data
    that :mod:`wallet_app.chain.simulate` decodes.
    """
    text = str(message or "")[:2000]
    log.debug("node error on %s (code %s): %r", method or "?", code, text)
    for pattern, cls in _PATTERNS:
        if pattern.search(text):
            return cls()
    if code in (429, -32005) or _RATE_LIMIT.search(text):
        return RateLimited(host or "the RPC provider")
    return RpcError(method, host)


__all__ = [
    "AlreadyKnown",
    "BroadcastUncertain",
    "ChainError",
    "ChainIdMismatch",
    "FeeTooHigh",
    "FeeTooLow",
    "GasLimitError",
    "InsufficientFundsForGas",
    "NonceConflict",
    "NonceGap",
    "NotReplaceable",
    "RateLimited",
    "ReceiptTimeout",
    "ReplacementUnderpriced",
    "RpcError",
    "RpcUnavailable",
    "SignerMismatch",
    "TransactionDropped",
    "TransactionNotFound",
    "TransactionReverted",
    "WrongNetwork",
    "host_of",
    "map_node_error",
]


class DeadlinePassed(ChainError):
    """Signed bytes whose deadline has passed: they are never broadcast."""

    exit_code = 58

    def __init__(self, tx_hash: str) -> None:
        self.tx_hash = tx_hash
        super().__init__(
            f"Transaction {tx_hash[:10]}… is past its deadline, so it is not sent: mined now "
            "it could only fail. Cancel it (a replacement at the same nonce) or leave it, "
            "then request a fresh quote.")


class GasEstimateRose(ChainError):
    """The gas estimate at signing time is well above the one the user confirmed."""

    exit_code = 59

    def __init__(self, quoted: int, now: int) -> None:
        self.quoted, self.now = quoted, now
        super().__init__(
            f"The network's gas estimate rose from {quoted:,} to {now:,} since your quote, "
            "so nothing was signed. Review a fresh quote (if this repeats, the node may be "
            "misreporting gas: check the RPC URL in Settings).")
