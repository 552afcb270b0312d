"""JSON-RPC transport: a web3 provider that counts, times out, retries reads, never resends.

Why our own provider instead of web3's ``HTTPProvider``:

* **Counting.** The benchmark budget is "RPC requests per dashboard refresh", measured at
  the provider. Every HTTP round trip (retries included: they cost the user too) and every
  JSON-RPC call inside it is counted here, thread-safely; :meth:`CountingProvider.measure`
  gives the delta over a block of code.
* **Retries for reads only.** Transient failures (connection refused, timeouts, HTTP
  429/502/503/504, JSON-RPC "limit exceeded") of read methods are retried with capped
  exponential backoff and jitter. Anything that changes state - above all
  ``eth_sendRawTransaction`` - is sent exactly once by the provider: retrying a send is the
  sender's decision (it re-broadcasts the *same signed bytes*, never a new transaction).
* **Plain errors.** Transport failures become :class:`RpcUnavailable` naming only the host
  (RPC URLs often embed API keys in the path or query).
* **Chain id on connect.** :class:`ChainClient` checks ``eth_chainId`` against the
  configured network on connect and, through :meth:`ChainClient.check_chain_id`, before
  every signature.

web3's ``ValidationMiddleware`` is removed from the :class:`~web3.Web3` built here: it
issues an extra ``eth_chainId`` before every ``eth_call``/``eth_estimateGas``, which would
double the requests per refresh, and its only job (chain id validation) is done by
:class:`ChainClient` explicitly where it matters: before signing.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from web3 import Web3
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from ..config import Settings
from ..paths import AppPaths
from .errors import (
    BroadcastUncertain,
    ChainError,
    RateLimited,
    RpcError,
    RpcUnavailable,
    WrongNetwork,
    host_of,
    map_node_error,
)
from .registry import ChainInfo, resolve_chain

log = logging.getLogger(__name__)

#: Methods that only read state: safe to send again after a transient failure.
READ_METHODS: frozenset[str] = frozenset({
    "eth_chainId", "net_version", "web3_clientVersion", "eth_syncing",
    "eth_blockNumber", "eth_getBlockByNumber", "eth_getBlockByHash",
    "eth_getBalance", "eth_getCode", "eth_getStorageAt", "eth_getTransactionCount",
    "eth_call", "eth_estimateGas", "eth_createAccessList",
    "eth_feeHistory", "eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_blobBaseFee",
    "eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_getBlockReceipts",
    "eth_getLogs", "eth_getProof",
})

#: Methods that put a transaction on the network. Sent once; the count is kept apart.
SEND_METHODS: frozenset[str] = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})

_TRANSIENT_HTTP = frozenset({429, 502, 503, 504})
_TRANSIENT_RPC_CODES = frozenset({-32005, 429})


@dataclass
class RequestWindow:
    """Requests counted between entering and leaving :meth:`CountingProvider.measure`."""

    requests: int = 0  # HTTP round trips (a batch is one; each retry is one more)
    calls: int = 0  # JSON-RPC calls (a batch of n is n)
    sends: int = 0  # eth_sendRawTransaction / eth_sendTransaction calls
    by_method: Counter[str] = field(default_factory=Counter)


class CountingProvider(JSONBaseProvider):
    """A synchronous HTTP JSON-RPC provider for web3.py with counting and safe retries.

    ``retries`` is the number of *extra* attempts a read may get; ``timeout`` applies to
    connect and read separately (seconds). ``sleep`` is injectable so tests of the backoff
    do not have to wait.
    """

    def __init__(
        self,
        endpoint_uri: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.2,
        max_backoff_s: float = 2.0,
        headers: dict[str, str] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.endpoint_uri = endpoint_uri
        self.host = host_of(endpoint_uri)
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout))
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._requests = 0
        self._calls = 0
        self._sends = 0
        self._by_method: Counter[str] = Counter()
        self._windows: list[RequestWindow] = []
        #: Optional hook called with (method, params) just before a send goes on the wire;
        #: tests use it to check that the journal row exists before any broadcast.
        self.before_send: Callable[[str, Any], None] | None = None

    def __str__(self) -> str:
        return f"RPC connection {self.host}"

    # ------------------------------------------------------------------ counting

    @property
    def request_count(self) -> int:
        """HTTP round trips since creation or :meth:`reset_counts`."""
        return self._requests

    @property
    def call_count(self) -> int:
        """JSON-RPC calls (batch members counted one by one)."""
        return self._calls

    @property
    def send_count(self) -> int:
        """Transactions handed to the node (``eth_sendRawTransaction`` calls)."""
        return self._sends

    @property
    def method_counts(self) -> Counter[str]:
        """JSON-RPC calls per method (a copy)."""
        with self._lock:
            return Counter(self._by_method)

    def reset_counts(self) -> None:
        with self._lock:
            self._requests = self._calls = self._sends = 0
            self._by_method.clear()

    @contextlib.contextmanager
    def measure(self) -> Iterator[RequestWindow]:
        """Count the requests made inside the ``with`` block (all threads)."""
        window = RequestWindow()
        with self._lock:
            self._windows.append(window)
        try:
            yield window
        finally:
            with self._lock:
                self._windows.remove(window)

    def _count_attempt(self, methods: Sequence[str], first: bool) -> None:
        with self._lock:
            self._requests += 1
            for w in self._windows:
                w.requests += 1
            if not first:
                return  # a retry is one more round trip, not more calls
            sends = sum(1 for m in methods if m in SEND_METHODS)
            self._calls += len(methods)
            self._sends += sends
            self._by_method.update(methods)
            for w in self._windows:
                w.calls += len(methods)
                w.sends += sends
                w.by_method.update(methods)

    # ------------------------------------------------------------------ transport

    def _encode(self, method: str, params: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "method": method, "params": params or [],
                "id": next(self._ids)}

    def _backoff(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.max_backoff_s, max(0.0, retry_after))
        base = min(self.max_backoff_s, self.backoff_s * (2 ** attempt))
        return base * (0.5 + random.random() / 2)  # jitter: spread clients apart

    def _post(self, payload: Any, methods: Sequence[str]) -> Any:
        """POST one JSON body; retry transient failures when every method is a read."""
        body = json.dumps(payload, separators=(",", ":"), default=_json_default)
        retryable = all(m in READ_METHODS for m in methods)
        is_send = any(m in SEND_METHODS for m in methods)
        attempts = 1 + (self.retries if retryable else 0)
        last_detail = ""
        for attempt in range(attempts):
            self._count_attempt(methods, first=attempt == 0)
            retry_after: float | None = None
            try:
                resp = self._client.post(self.endpoint_uri, content=body, headers=self._headers)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached the server: nothing was delivered.
                log.debug("rpc connect failed to %s: %s", self.host, type(exc).__name__)
                last_detail = "connection refused or timed out"
                if attempt + 1 < attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                raise RpcUnavailable(self.host) from None
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                # The server may have received and acted on the request.
                log.debug("rpc transport error with %s: %s", self.host, type(exc).__name__)
                if is_send:
                    raise BroadcastUncertain(self.host, "") from None
                last_detail = "no answer in time"
                if attempt + 1 < attempts:
                    self._sleep(self._backoff(attempt))
                    continue
                raise RpcUnavailable(self.host, last_detail) from None
            status = resp.status_code
            if status == 200:
                try:
                    data = resp.json()
                except ValueError:
                    raise RpcUnavailable(self.host, "the answer is not JSON-RPC") from None
                if retryable and attempt + 1 < attempts and _is_transient_rpc_error(data):
                    self._sleep(self._backoff(attempt))
                    continue
                return data
            log.debug("rpc HTTP %s from %s", status, self.host)
            if is_send:
                # An HTTP error to a send is ambiguous (a proxy may have forwarded it).
                raise BroadcastUncertain(self.host, "")
            if status in _TRANSIENT_HTTP and attempt + 1 < attempts:
                with contextlib.suppress(ValueError, TypeError):
                    retry_after = float(resp.headers.get("retry-after", ""))
                self._sleep(self._backoff(attempt, retry_after))
                continue
            if status == 429:
                raise RateLimited(self.host)
            if status in (401, 403):
                raise RpcUnavailable(self.host, f"access refused, HTTP {status}: check the "
                                                "RPC URL or its API key")
            raise RpcUnavailable(self.host, f"HTTP {status}")
        raise RpcUnavailable(self.host, last_detail)  # pragma: no cover - loop always returns

    # ------------------------------------------------------------------ web3 interface

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """One JSON-RPC call (the web3 provider interface)."""
        hook = self.before_send
        if hook is not None and method in SEND_METHODS:
            hook(method, params)
        data = self._post(self._encode(method, params), [method])
        if not isinstance(data, dict):
            raise RpcUnavailable(self.host, "the answer is not JSON-RPC")
        return cast(RPCResponse, data)

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        """Many calls in one HTTP round trip (counted as one request, n calls)."""
        payload = [self._encode(m, p) for m, p in batch_requests]
        data = self._post(payload, [m for m, _ in batch_requests])
        if isinstance(data, dict):
            return cast(RPCResponse, data)  # a single error object for the whole batch
        if not isinstance(data, list):
            raise RpcUnavailable(self.host, "the answer is not JSON-RPC")
        order = {item["id"]: i for i, item in enumerate(payload)}
        return cast(list[RPCResponse],
                    sorted(data, key=lambda r: order.get(r.get("id"), len(order))))

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            resp = self.make_request(RPCEndpoint("eth_chainId"), [])
        except RpcUnavailable:
            if show_traceback:
                raise
            return False
        return "result" in resp

    def close(self) -> None:
        if self._own_client:
            self._client.close()


def _is_transient_rpc_error(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    err = data.get("error")
    if not isinstance(err, dict):
        return False
    if err.get("code") in _TRANSIENT_RPC_CODES:
        return True
    msg = str(err.get("message", "")).lower()
    return "rate limit" in msg or "too many requests" in msg


def _json_default(obj: Any) -> Any:
    if isinstance(obj, bytes | bytearray):
        return "0x" + bytes(obj).hex()
    if hasattr(obj, "hex") and callable(obj.hex):  # HexBytes and friends
        h = obj.hex()
        return h if h.startswith("0x") else "0x" + h
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


class RpcCallError(ChainError):
    """A JSON-RPC error object as the node sent it, for callers that decode it themselves.

    :meth:`ChainClient.rpc_raw` raises this (only) for node errors, so :mod:`simulate` can
    read the revert ``data``. ``str()`` is our generic sentence, never the node's text.
    """

    exit_code = 62

    def __init__(self, method: str, host: str, code: int | None, message: str,
                 data: Any) -> None:
        self.method = method
        self.host = host
        self.code = code
        self.node_message = message  # untrusted: log at debug only, never display
        self.data = data
        super().__init__(str(RpcError(method, host)))

    def mapped(self) -> ChainError:
        """Our exception for this node error (see :func:`map_node_error`)."""
        return map_node_error(self.node_message, self.code, method=self.method,
                              host=self.host)


def make_web3(provider: CountingProvider) -> Web3:
    """A Web3 instance over ``provider`` without the chain-id-per-call validation."""
    w3 = Web3(provider)
    with contextlib.suppress(ValueError, KeyError):
        w3.middleware_onion.remove("validation")
    return w3


class ChainClient:
    """One connection to one network: provider, web3, chain facts and typed RPC helpers.

    The helpers return plain ints/dicts (hex decoded where it matters) so the rest of the
    chain package does not depend on web3's formatters and every node error goes through
    our mapping.
    """

    def __init__(
        self,
        chain: ChainInfo,
        provider: CountingProvider | None = None,
        *,
        timeout: float = 10.0,
        retries: int = 3,
    ) -> None:
        self.chain = chain
        self.provider = provider or CountingProvider(chain.rpc_url, timeout=timeout,
                                                     retries=retries)
        self.host = self.provider.host
        self._w3: Web3 | None = None
        self.verified_chain_id: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings, paths: AppPaths | None = None,
                      **kwargs: Any) -> ChainClient:
        """A client for the network the settings select (not yet connected)."""
        return cls(resolve_chain(settings, paths), **kwargs)

    @property
    def w3(self) -> Web3:
        """web3 over the counting provider (for contract encoding/calls by other modules)."""
        if self._w3 is None:
            self._w3 = make_web3(self.provider)
        return self._w3

    @property
    def chain_id(self) -> int:
        """The configured (expected) chain id."""
        return self.chain.chain_id

    # ------------------------------------------------------------------ raw calls

    def rpc_raw(self, method: str, *params: Any) -> Any:
        """Call ``method``; return ``result`` or raise :class:`RpcCallError` (node error)."""
        resp = self.provider.make_request(RPCEndpoint(method), list(params))
        err = resp.get("error")
        if err is not None:
            if not isinstance(err, dict):
                err = {"message": str(err)}
            code = err.get("code")
            raise RpcCallError(method, self.host, code if isinstance(code, int) else None,
                               str(err.get("message", "")), err.get("data"))
        if "result" not in resp:
            raise RpcUnavailable(self.host, "the answer is not JSON-RPC")
        return resp["result"]

    def rpc(self, method: str, *params: Any) -> Any:
        """Call ``method``; node errors become our named exceptions."""
        try:
            return self.rpc_raw(method, *params)
        except RpcCallError as exc:
            raise exc.mapped() from None

    # ------------------------------------------------------------------ connect

    def check_chain_id(self) -> int:
        """Ask the node for its chain id now; raise :class:`WrongNetwork` if it differs.

        Deliberately not cached: the sender calls this right before every signature, so a
        node swapped behind the same URL is caught.
        """
        actual = _to_int(self.rpc("eth_chainId"))
        if actual != self.chain.chain_id:
            raise WrongNetwork(self.chain.chain_id, actual, self.host, self.chain.name)
        self.verified_chain_id = actual
        return actual

    def connect(self) -> ChainClient:
        """Verify reachability and chain id; returns self for chaining."""
        self.check_chain_id()
        return self

    def close(self) -> None:
        self.provider.close()

    # ------------------------------------------------------------------ typed helpers

    def block_number(self) -> int:
        return _to_int(self.rpc("eth_blockNumber"))

    def get_block(self, block: str | int = "latest") -> dict[str, Any] | None:
        return cast(dict[str, Any] | None,
                    self.rpc("eth_getBlockByNumber", _block_id(block), False))

    def get_balance(self, address: str, block: str | int = "latest") -> int:
        return _to_int(self.rpc("eth_getBalance", address, _block_id(block)))

    def get_transaction_count(self, address: str, block: str | int = "latest") -> int:
        return _to_int(self.rpc("eth_getTransactionCount", address, _block_id(block)))

    def get_transaction(self, tx_hash: str) -> dict[str, Any] | None:
        return cast(dict[str, Any] | None, self.rpc("eth_getTransactionByHash", tx_hash))

    def get_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return cast(dict[str, Any] | None, self.rpc("eth_getTransactionReceipt", tx_hash))

    def fee_history(self, block_count: int, newest: str | int,
                    percentiles: Sequence[float]) -> dict[str, Any]:
        return cast(dict[str, Any], self.rpc("eth_feeHistory", hex(block_count),
                                             _block_id(newest), list(percentiles)))

    def send_raw_transaction(self, raw: bytes) -> str:
        """Hand signed bytes to the node once (never retried here). Returns the hash."""
        return str(self.rpc("eth_sendRawTransaction", "0x" + raw.hex()))


def _block_id(block: str | int) -> str:
    return hex(block) if isinstance(block, int) else block


def _to_int(value: Any) -> int:
    """Decode a JSON-RPC quantity ("0x..." or int)."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16) if value.startswith(("0x", "0X")) else int(value)
    raise RpcError()


__all__ = [
    "READ_METHODS",
    "SEND_METHODS",
    "ChainClient",
    "CountingProvider",
    "RequestWindow",
    "RpcCallError",
    "make_web3",
]
