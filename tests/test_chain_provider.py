"""The counting provider and ChainClient against a real Anvil and a flaky local proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from tests.test_chain_support import FlakyProxy, anvil_account, devnet_client
from wallet_app.chain.errors import (
    BroadcastUncertain,
    InsufficientFundsForGas,
    NonceConflict,
    RateLimited,
    ReplacementUnderpriced,
    RpcError,
    RpcUnavailable,
    WrongNetwork,
    map_node_error,
)
from wallet_app.chain.provider import ChainClient, CountingProvider
from wallet_app.chain.registry import ChainInfo
from wallet_app.devnet import process


@pytest.fixture
def flaky(anvil_node: process.NodeInfo) -> Iterator[type[FlakyProxy]]:
    made: list[FlakyProxy] = []

    def make(script: list[int | str]) -> FlakyProxy:
        p = FlakyProxy(anvil_node.rpc_url, script)
        made.append(p)
        return p

    yield make  # type: ignore[misc]
    for p in made:
        p.close()


def test_counts_every_request_and_call(anvil_node: process.NodeInfo) -> None:
    client = devnet_client(anvil_node.rpc_url)
    p = client.provider
    client.connect()
    assert p.request_count == 1 and p.method_counts["eth_chainId"] == 1
    with p.measure() as window:
        client.block_number()
        client.get_balance(anvil_account(0).address)
        batch = p.make_batch_request([("eth_blockNumber", []), ("eth_chainId", []),
                                      ("eth_gasPrice", [])])
    assert [("result" in r) for r in batch] == [True, True, True]  # type: ignore[union-attr]
    assert window.requests == 3  # two single calls + one batch round trip
    assert window.calls == 5
    assert window.sends == 0
    assert window.by_method["eth_blockNumber"] == 2
    assert p.request_count == 4
    p.reset_counts()
    assert p.request_count == 0 and p.call_count == 0


def test_web3_contract_reads_cost_one_request_each(anvil_node: process.NodeInfo) -> None:
    """The validation middleware (an extra eth_chainId per eth_call) is removed."""
    client = devnet_client(anvil_node.rpc_url)
    w3: Web3 = client.w3
    with client.provider.measure() as window:
        w3.eth.call({"to": anvil_account(1).address, "data": "0x"})
        w3.eth.get_balance(anvil_account(1).address)
    assert window.requests == 2, window.by_method


def test_chain_id_checked_on_connect(anvil_node: process.NodeInfo) -> None:
    client = devnet_client(anvil_node.rpc_url, chain_id=8453)
    with pytest.raises(WrongNetwork) as exc:
        client.connect()
    msg = str(exc.value)
    assert "chain 31337" in msg and "chain 8453" in msg and "Settings" in msg
    assert exc.value.expected == 8453 and exc.value.actual == 31337
    assert devnet_client(anvil_node.rpc_url).connect().verified_chain_id == 31337


def test_closed_port_is_rpc_unavailable_with_plain_message() -> None:
    port = process.free_port()
    url = f"http://127.0.0.1:{port}/v2/SECRET-API-KEY?token=abc"
    sleeps: list[float] = []
    client = ChainClient(ChainInfo("custom", "x", 1, url),
                         CountingProvider(url, retries=2, sleep=sleeps.append, timeout=1))
    with pytest.raises(RpcUnavailable) as exc:
        client.connect()
    msg = str(exc.value)
    assert msg.startswith(f"Cannot reach the network at 127.0.0.1:{port}; check your "
                          "connection or the RPC URL in Settings.")
    assert "SECRET" not in msg and "token" not in msg  # no path/query/API key
    assert client.provider.request_count == 3  # read: 1 + 2 retries
    assert len(sleeps) == 2 and sleeps[0] <= sleeps[1] * 2  # backoff between attempts


def test_reads_retry_transient_http_errors(flaky: type[FlakyProxy]) -> None:
    proxy = flaky([503, 502])
    sleeps: list[float] = []
    p = CountingProvider(proxy.url, retries=3, sleep=sleeps.append)
    client = ChainClient(ChainInfo("devnet", "d", 31337, proxy.url), p)
    assert client.check_chain_id() == 31337
    assert proxy.hits == 3 and p.request_count == 3 and p.call_count == 1
    assert len(sleeps) == 2


def test_rate_limit_exhausted_is_named(flaky: type[FlakyProxy]) -> None:
    proxy = flaky([429, 429])
    p = CountingProvider(proxy.url, retries=1, sleep=lambda s: None)
    with pytest.raises(RateLimited, match="limiting requests"):
        ChainClient(ChainInfo("devnet", "d", 31337, proxy.url), p).block_number()
    assert proxy.hits == 2


def test_sends_are_never_retried(flaky: type[FlakyProxy]) -> None:
    proxy = flaky([503])
    p = CountingProvider(proxy.url, retries=5, sleep=lambda s: None)
    client = ChainClient(ChainInfo("devnet", "d", 31337, proxy.url), p)
    with pytest.raises(BroadcastUncertain):
        client.send_raw_transaction(b"\x02\xf8")
    assert proxy.hits == 1 and p.send_count == 1 and p.request_count == 1


def test_read_timeout_retried_then_unavailable(flaky: type[FlakyProxy]) -> None:
    proxy = flaky(["sleep", "sleep"])
    p = CountingProvider(proxy.url, retries=1, timeout=0.2, sleep=lambda s: None)
    with pytest.raises(RpcUnavailable, match="no answer in time"):
        ChainClient(ChainInfo("devnet", "d", 31337, proxy.url), p).block_number()
    assert p.request_count == 2
    # A timeout during a send is "maybe delivered", never retried.
    proxy2 = flaky(["sleep"])
    p2 = CountingProvider(proxy2.url, retries=3, timeout=0.2, sleep=lambda s: None)
    with pytest.raises(BroadcastUncertain):
        ChainClient(ChainInfo("devnet", "d", 31337, proxy2.url), p2).send_raw_transaction(b"\x02")
    assert p2.request_count == 1


def test_node_error_text_is_never_shown(anvil_node: process.NodeInfo) -> None:
    client = devnet_client(anvil_node.rpc_url)
    with pytest.raises(RpcError) as exc:
        client.rpc("eth_sendRawTransaction", "0x02f8")  # node: "Failed to decode..."
    assert "decode" not in str(exc.value).lower()
    assert "refused the request" in str(exc.value)


@pytest.mark.parametrize(("node_text", "expected"), [
    ("insufficient funds for gas * price + value: have 1 want 2", InsufficientFundsForGas),
    ("Insufficient funds for gas * price + value", InsufficientFundsForGas),
    ("nonce too low: next nonce 5, tx nonce 3", NonceConflict),
    ("replacement transaction underpriced", ReplacementUnderpriced),
    ("<script>alert(1)</script> something odd", RpcError),
])
def test_known_node_messages_map_to_our_text(node_text: str, expected: type) -> None:
    exc = map_node_error(node_text, -32000, method="eth_sendRawTransaction", host="h")
    assert isinstance(exc, expected)
    assert node_text not in str(exc) and "<script>" not in str(exc)
