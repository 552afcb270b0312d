"""The networks the wallet knows, and how the user's settings select one.

Why a registry: the chain id is the one fact that must never be wrong (it is checked on
connect and before every signature, EIP-155), and the per-chain facts the screens need -
the native currency, the block explorer, the USDC contract - belong next to it rather than
scattered through the UI. Addresses are stored checksummed (EIP-55) so a typo in this file
fails the tests instead of sending money to the wrong contract.

USDC addresses are Circle's native USDC on each chain (Ethereum, Base, Arbitrum One),
cross-checked against public token lists; the devnet's USDC is whatever the devnet deploys,
so it is read from the deployment record by the integrator, not from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from eth_utils import is_checksum_address

from ..config import Settings
from ..errors import ConfigError
from ..paths import AppPaths

DEVNET_CHAIN_ID = 31337  # same value as wallet_app.devnet.process.DEVNET_CHAIN_ID
DEVNET_DEFAULT_RPC = "http://127.0.0.1:8545"


@dataclass(frozen=True)
class ChainInfo:
    """Static facts about one network. ``rpc_url`` is the default, overridable in Settings."""

    key: str  # registry key: "devnet" | "ethereum" | "base" | "arbitrum" | "custom"
    name: str  # shown to the user
    chain_id: int
    rpc_url: str
    native_symbol: str = "ETH"
    native_decimals: int = 18
    explorer_url: str = ""  # no trailing slash; "" when there is none (devnet)
    usdc_address: str | None = None  # checksummed; None when unknown (devnet, custom)
    usdc_decimals: int = 6
    is_devnet: bool = False
    #: Typical seconds between blocks: a hint for receipt polling intervals.
    block_time_s: float = 12.0
    #: An OP-stack chain: every transaction also pays an L1 data fee, priced by the
    #: GasPriceOracle predeploy (see :mod:`wallet_app.chain.l1fee`).
    op_stack: bool = False

    def tx_url(self, tx_hash: str) -> str | None:
        """Link to a transaction on the block explorer, or None without an explorer."""
        return f"{self.explorer_url}/tx/{tx_hash}" if self.explorer_url else None

    def address_url(self, address: str) -> str | None:
        """Link to an address on the block explorer, or None without an explorer."""
        return f"{self.explorer_url}/address/{address}" if self.explorer_url else None


CHAINS: dict[str, ChainInfo] = {
    "devnet": ChainInfo(
        key="devnet",
        name="Local devnet (Anvil)",
        chain_id=DEVNET_CHAIN_ID,
        rpc_url=DEVNET_DEFAULT_RPC,
        is_devnet=True,
        block_time_s=1.0,
    ),
    "ethereum": ChainInfo(
        key="ethereum",
        name="Ethereum",
        chain_id=1,
        rpc_url="https://ethereum-rpc.publicnode.com",
        explorer_url="https://etherscan.io",
        usdc_address="0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        block_time_s=12.0,
    ),
    "base": ChainInfo(
        key="base",
        name="Base",
        chain_id=8453,
        rpc_url="https://mainnet.base.org",
        explorer_url="https://basescan.org",
        usdc_address="0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        block_time_s=2.0,
        op_stack=True,
    ),
    "arbitrum": ChainInfo(
        key="arbitrum",
        name="Arbitrum One",
        chain_id=42161,
        rpc_url="https://arb1.arbitrum.io/rpc",
        explorer_url="https://arbiscan.io",
        usdc_address="0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
        block_time_s=0.25,
    ),
}

#: Keys the Settings screen offers, in display order.
NETWORK_KEYS: tuple[str, ...] = ("devnet", "ethereum", "base", "arbitrum", "custom")


def get_chain(key: str) -> ChainInfo:
    """The registry entry for a named network (not "custom": use :func:`custom_chain`)."""
    try:
        return CHAINS[key]
    except KeyError:
        raise ConfigError(
            f"Unknown network {key!r}. Choose one of {', '.join(NETWORK_KEYS)} in Settings."
        ) from None


def chain_by_id(chain_id: int) -> ChainInfo | None:
    """The named network with this chain id, if the registry knows it."""
    for info in CHAINS.values():
        if info.chain_id == chain_id:
            return info
    return None


def custom_chain(rpc_url: str, chain_id: int, name: str = "") -> ChainInfo:
    """A user-supplied RPC with the chain id the user expects it to serve.

    The expected chain id is mandatory: it is what protects a signature from being valid
    on a chain the user did not mean (a custom URL could point anywhere). If the id is one
    the registry knows, that entry's explorer and USDC address are kept.
    """
    if not rpc_url or not rpc_url.startswith(("http://", "https://")):
        raise ConfigError(
            "A custom network needs an RPC URL starting with http:// or https:// (Settings)."
        )
    if chain_id <= 0:
        raise ConfigError(
            "A custom network needs the chain id you expect it to serve (Settings > "
            "chain id), so that the wallet can refuse to sign for another chain."
        )
    known = chain_by_id(chain_id)
    if known is not None:
        return replace(known, key="custom", name=name or f"{known.name} (custom RPC)",
                       rpc_url=rpc_url)
    return ChainInfo(key="custom", name=name or f"Custom network (chain {chain_id})",
                     chain_id=chain_id, rpc_url=rpc_url, block_time_s=2.0)


def resolve_chain(settings: Settings, paths: AppPaths | None = None) -> ChainInfo:
    """The network the settings select, with the RPC URL to use.

    For the devnet without an explicit URL the running node's record is read (its port
    is chosen at start), falling back to the default port. For a named network a non-empty
    ``settings.rpc_url`` overrides the public default; if the user also set ``chain_id`` it
    must match the registry (otherwise the settings are contradictory).
    """
    if settings.network == "custom":
        return custom_chain(settings.rpc_url, settings.chain_id)
    info = get_chain(settings.network)
    if settings.chain_id and settings.chain_id != info.chain_id:
        raise ConfigError(
            f"Settings say network {info.name} (chain {info.chain_id}) but chain id "
            f"{settings.chain_id}. Choose 'custom' for another chain, or clear the chain id."
        )
    if settings.rpc_url:
        return replace(info, rpc_url=settings.rpc_url)
    if info.is_devnet:
        url = _running_devnet_url(paths)
        if url:
            return replace(info, rpc_url=url)
    return info


def _running_devnet_url(paths: AppPaths | None) -> str | None:
    """The RPC URL of the devnet recorded in the data dir, if one is running."""
    from ..devnet import process  # local import: the devnet module is optional at runtime

    node = process.status(paths)
    return node.rpc_url if node else None


def _check_registry() -> None:
    """Guard against typos in the table above (runs at import; cheap)."""
    for info in CHAINS.values():
        if info.usdc_address is not None and not is_checksum_address(info.usdc_address):
            raise AssertionError(f"registry: USDC address of {info.key} is not checksummed")


_check_registry()

__all__ = [
    "CHAINS",
    "DEVNET_CHAIN_ID",
    "NETWORK_KEYS",
    "ChainInfo",
    "chain_by_id",
    "custom_chain",
    "get_chain",
    "resolve_chain",
]
