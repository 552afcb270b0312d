"""Chain registry: the known networks, custom RPCs and how Settings select them."""

from __future__ import annotations

import pytest
from eth_utils import is_checksum_address

from wallet_app.chain.provider import ChainClient
from wallet_app.chain.registry import (
    CHAINS,
    NETWORK_KEYS,
    chain_by_id,
    custom_chain,
    get_chain,
    resolve_chain,
)
from wallet_app.config import Settings
from wallet_app.devnet.process import DEVNET_CHAIN_ID
from wallet_app.errors import ConfigError


def test_known_chain_ids_and_usdc() -> None:
    assert get_chain("devnet").chain_id == DEVNET_CHAIN_ID == 31337
    assert get_chain("ethereum").chain_id == 1
    assert get_chain("base").chain_id == 8453
    assert get_chain("arbitrum").chain_id == 42161
    # Circle's native USDC (EIP-55 checksummed: a typo would fail here).
    assert CHAINS["ethereum"].usdc_address == "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    assert CHAINS["base"].usdc_address == "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
    assert CHAINS["arbitrum"].usdc_address == "0xaf88d065e77c8cC2239327C5EDb3A432268e5831"
    for info in CHAINS.values():
        assert info.native_symbol == "ETH" and info.native_decimals == 18
        if info.usdc_address:
            assert is_checksum_address(info.usdc_address)
    assert CHAINS["devnet"].usdc_address is None  # the devnet deploys its own
    assert set(CHAINS) | {"custom"} == set(NETWORK_KEYS)


def test_explorer_links() -> None:
    h = "0x" + "ab" * 32
    assert get_chain("ethereum").tx_url(h) == f"https://etherscan.io/tx/{h}"
    assert get_chain("base").address_url("0xabc") == "https://basescan.org/address/0xabc"
    assert get_chain("devnet").tx_url(h) is None


def test_custom_needs_url_and_chain_id() -> None:
    with pytest.raises(ConfigError, match="chain id"):
        custom_chain("https://rpc.example.org", 0)
    with pytest.raises(ConfigError, match="http"):
        custom_chain("ftp://rpc.example.org", 10)
    c = custom_chain("https://rpc.example.org", 777)
    assert c.chain_id == 777 and c.key == "custom" and c.usdc_address is None
    # A custom RPC for a known chain keeps that chain's facts.
    b = custom_chain("https://my-base-node.example", 8453)
    assert b.usdc_address == CHAINS["base"].usdc_address and b.rpc_url.startswith("https://my")
    assert chain_by_id(42161) is CHAINS["arbitrum"] and chain_by_id(5) is None


def test_resolve_from_settings() -> None:
    assert resolve_chain(Settings(network="base")).rpc_url == CHAINS["base"].rpc_url
    over = resolve_chain(Settings(network="ethereum", rpc_url="https://eth.example/v2/k"))
    assert over.chain_id == 1 and over.rpc_url == "https://eth.example/v2/k"
    with pytest.raises(ConfigError, match="chain id"):
        resolve_chain(Settings(network="ethereum", chain_id=8453))
    custom = resolve_chain(Settings(network="custom", rpc_url="http://10.0.0.2:8545",
                                    chain_id=99))
    assert custom.chain_id == 99
    with pytest.raises(ConfigError, match="Unknown network"):
        resolve_chain(Settings(network="solana"))
    client = ChainClient.from_settings(Settings(network="base"))
    assert client.chain_id == 8453 and client.host == "mainnet.base.org"  # no request made
    assert client.provider.request_count == 0
    # No devnet running in this test's home: the default port.
    assert resolve_chain(Settings(network="devnet")).rpc_url == "http://127.0.0.1:8545"
