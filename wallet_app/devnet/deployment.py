"""The record of a deployed devnet market and index: what was deployed, at which
addresses, with which constituents, and where it is saved (kept out of
``wallet_app/devnet/deploy.py``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3

from ..errors import DevnetError
from ..paths import AppPaths


@dataclass(frozen=True)
class ConstituentSpec:
    """One constituent to create on the devnet.

    ``price_usd`` is the USD price of one whole token; ``weight_bps`` the target weight
    (all specs together sum to 10,000).
    """

    symbol: str
    name: str
    decimals: int
    price_usd: Decimal
    weight_bps: int


@dataclass(frozen=True)
class TokenInfo:
    """One deployed constituent: token, its feed and its USDC pool."""

    symbol: str
    name: str
    decimals: int
    address: str
    feed: str
    feed_decimals: int
    pair: str
    weight_bps: int
    initial_price_usd: Decimal
    pool_usdc: Decimal

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["initial_price_usd"] = str(self.initial_price_usd)
        d["pool_usdc"] = str(self.pool_usdc)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TokenInfo:
        return cls(
            symbol=d["symbol"],
            name=d["name"],
            decimals=int(d["decimals"]),
            address=Web3.to_checksum_address(d["address"]),
            feed=Web3.to_checksum_address(d["feed"]),
            feed_decimals=int(d["feed_decimals"]),
            pair=Web3.to_checksum_address(d["pair"]),
            weight_bps=int(d["weight_bps"]),
            initial_price_usd=Decimal(d["initial_price_usd"]),
            pool_usdc=Decimal(d["pool_usdc"]),
        )


@dataclass
class Deployment:
    """Everything the app needs to find the devnet contracts again (saved as JSON).

    ``addresses`` keys: ``USDC``, ``WETH9``, ``UniswapV2Factory``, ``UniswapV2Router02``,
    ``Multicall3``, ``DevMarketSeeder``, ``IndexVault``, ``IndexLens``.
    ``roles`` keys: ``deployer``, ``owner``, ``operator``, ``guardian``, ``fee_recipient``.
    ``tokens`` are in the vault's constituent order.
    """

    chain_id: int
    block_number: int
    addresses: dict[str, str]
    roles: dict[str, str]
    tokens: list[TokenInfo]
    deploy_seconds: float = 0.0
    params: dict[str, str] = field(default_factory=dict)

    @property
    def vault(self) -> str:
        return self.addresses["IndexVault"]

    @property
    def timelock(self) -> str | None:
        """The vault's owner, OpenZeppelin's ``TimelockController`` (v2 deployments)."""
        return self.addresses.get("TimelockController")

    @property
    def lens(self) -> str:
        return self.addresses["IndexLens"]

    @property
    def usdc(self) -> str:
        return self.addresses["USDC"]

    @property
    def router(self) -> str:
        return self.addresses["UniswapV2Router02"]

    @property
    def multicall(self) -> str:
        return self.addresses["Multicall3"]

    def token(self, symbol: str) -> TokenInfo:
        """The constituent with this symbol (case-insensitive)."""
        want = symbol.upper()
        for t in self.tokens:
            if t.symbol.upper() == want:
                return t
        raise DevnetError(f"The devnet has no constituent {symbol!r}.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "block_number": self.block_number,
            "addresses": dict(sorted(self.addresses.items())),
            "roles": dict(sorted(self.roles.items())),
            "tokens": [t.to_dict() for t in self.tokens],
            "deploy_seconds": self.deploy_seconds,
            "params": dict(sorted(self.params.items())),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Deployment:
        return cls(
            chain_id=int(d["chain_id"]),
            block_number=int(d["block_number"]),
            addresses={k: Web3.to_checksum_address(v) for k, v in d["addresses"].items()},
            roles={k: Web3.to_checksum_address(v) for k, v in d["roles"].items()},
            tokens=[TokenInfo.from_dict(t) for t in d["tokens"]],
            deploy_seconds=float(d.get("deploy_seconds", 0.0)),
            params={k: str(v) for k, v in d.get("params", {}).items()},
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise DevnetError(
                "The saved devnet deployment is unreadable; deploy the devnet again."
            ) from exc

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            text = path.read_text()
        except OSError as exc:
            raise DevnetError(f"No devnet deployment found at {path}; deploy it first.") from exc
        return cls.from_json(text)


def deployment_path(paths: AppPaths) -> Path:
    """Where the app keeps the devnet's :class:`Deployment` (beside the node record)."""
    return paths.devnet_dir / "deployment.json"
