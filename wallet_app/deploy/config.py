"""The deployment config: what to deploy on a chain, read from TOML or JSON.

The same file drives ``index-wallet deploy`` and the Foundry script
``contracts/script/DeployIndex.s.sol`` (JSON there). Every field is checked here, before a
node is asked anything, so that a typo fails with its name instead of as a revert after
half the transactions. Addresses are checksummed; amounts are integers (basis points,
seconds). :meth:`DeployConfig.digest` is the config's identity in the deploy journal: a
resumed deploy must be the same config, byte for byte after normalisation.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from ..errors import WalletError

#: The timelock delay when the config names none: 48 hours.
DEFAULT_DELAY = 48 * 3600
#: Chains on which a zero timelock delay is accepted (Anvil, Hardhat/Ganache).
DEVNET_CHAIN_IDS = frozenset({31337, 1337})
#: The vault's constructor defaults (IndexVault.sol), kept when the config says nothing.
DEFAULT_LIMITS = {"max_rebalance_slippage_bps": 100, "loss_budget_bps": 50,
                  "rebalance_cooldown": 300, "max_price_deviation_bps": 2_500}
DEFAULT_STRIKE_INTERVAL = 3_600
DEFAULT_MIN_REQUEST_AGE = 300
MAX_CONSTITUENTS = 128


class DeployConfigError(WalletError):
    """The deployment config file is missing, unreadable or has an invalid field."""

    exit_code = 140


@dataclass(frozen=True)
class ConstituentConfig:
    """One constituent: its token, its USD price feed (Chainlink format) and heartbeat, the
    DEX it trades on (the vault swaps token <-> USDC through the config's Uniswap V2
    router; ``pair``, when given, is checked to be that router's pool) and its weight."""

    symbol: str
    token: str
    feed: str
    heartbeat: int
    weight_bps: int | None = None
    dex: str = "uniswap-v2"
    pair: str | None = None


@dataclass(frozen=True)
class DeployConfig:
    """A whole deployment (see ``contracts/script/deploy.example.json``)."""

    usdc: str
    router: str
    guardian: str
    operator: str
    fee_recipient: str
    proposers: tuple[str, ...]
    executors: tuple[str, ...]
    constituents: tuple[ConstituentConfig, ...]
    keeper: str | None = None
    label: str = ""
    chain_id: int | None = None
    name: str = "TM Global 100"
    symbol: str = "G100"
    buy_fee_bps: int = 25
    sell_fee_bps: int = 25
    delay: int = DEFAULT_DELAY
    strike_interval: int = DEFAULT_STRIKE_INTERVAL
    min_request_age: int = DEFAULT_MIN_REQUEST_AGE
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    sequencer_feed: str | None = None
    sequencer_grace: int = 3_600

    @property
    def keeper_address(self) -> str:
        return self.keeper or self.operator

    @property
    def weights(self) -> list[int] | None:
        w = [c.weight_bps for c in self.constituents]
        return None if w[0] is None else [int(x or 0) for x in w]

    def to_dict(self) -> dict[str, Any]:
        """The file's own shape (JSON), normalised: what :meth:`digest` hashes."""
        return {
            "label": self.label, "chain_id": self.chain_id, "name": self.name,
            "symbol": self.symbol, "usdc": self.usdc, "router": self.router,
            "fees": {"buy_bps": self.buy_fee_bps, "sell_bps": self.sell_fee_bps},
            "roles": {"guardian": self.guardian, "operator": self.operator,
                      "keeper": self.keeper_address, "fee_recipient": self.fee_recipient},
            "timelock": {"delay": self.delay, "proposers": list(self.proposers),
                         "executors": list(self.executors)},
            "keeper": {"strike_interval": self.strike_interval,
                       "min_request_age": self.min_request_age},
            "limits": dict(sorted(self.limits.items())),
            "sequencer": ({"feed": self.sequencer_feed, "grace_period": self.sequencer_grace}
                          if self.sequencer_feed else None),
            "constituents": [
                {k: v for k, v in asdict(c).items() if v is not None}
                | {"route": {"dex": c.dex, **({"pair": c.pair} if c.pair else {})}}
                for c in self.constituents],
        }

    def digest(self) -> str:
        canon = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()

    def check_chain(self, chain_id: int) -> None:
        """Refuse a config meant for another chain, or a zero delay outside a devnet."""
        if self.chain_id is not None and self.chain_id != chain_id:
            raise DeployConfigError(f"The config is for chain {self.chain_id}, but the node "
                                    f"is chain {chain_id}. Nothing was signed.")
        if self.delay == 0 and chain_id not in DEVNET_CHAIN_IDS:
            raise DeployConfigError(
                "A timelock delay of 0 is accepted on a devnet only (chain 31337 or 1337); "
                f"this is chain {chain_id}. Set [timelock] delay (48 h = 172800).")


# ----------------------------------------------------------------------- parsing


def _get(d: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in d:
        raise DeployConfigError(f"The deployment config lacks {what}.")
    return d[key]


def _address(value: Any, what: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise DeployConfigError(f"The deployment config's {what} is not an address: "
                                f"{value!r}.")
    a = to_checksum_address(value)
    if int(a, 16) == 0:
        raise DeployConfigError(f"The deployment config's {what} is the zero address.")
    return a


def _int(value: Any, what: str, lo: int = 0, hi: int = 2**32 - 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise DeployConfigError(f"The deployment config's {what} must be an integer in "
                                f"{lo}..{hi}, not {value!r}.")
    return value


def _section(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    s = d.get(key, {})
    if not isinstance(s, Mapping):
        raise DeployConfigError(f"The deployment config's [{key}] must be a table.")
    return s


def _constituent(i: int, c: Any) -> ConstituentConfig:
    if not isinstance(c, Mapping):
        raise DeployConfigError(f"Constituent #{i + 1} must be a table.")
    symbol = c.get("symbol")
    if not isinstance(symbol, str) or not symbol.strip():
        raise DeployConfigError(f"Constituent #{i + 1} needs a symbol.")
    what = f"constituent {symbol}"
    route = c.get("route", {})
    if not isinstance(route, Mapping):
        raise DeployConfigError(f"The {what}'s route must be a table.")
    dex = route.get("dex", "uniswap-v2")
    if dex != "uniswap-v2":
        raise DeployConfigError(f"The {what}'s route.dex {dex!r} is not supported (the vault "
                                "trades through one Uniswap V2 router: \"uniswap-v2\").")
    pair = route.get("pair")
    weight = c.get("weight_bps")
    return ConstituentConfig(
        symbol=symbol.strip(), token=_address(c.get("token"), f"{what} token"),
        feed=_address(c.get("feed"), f"{what} feed"),
        heartbeat=_int(c.get("heartbeat"), f"{what} heartbeat", 1),
        weight_bps=None if weight is None else _int(weight, f"{what} weight_bps", 0, 10_000),
        dex=dex, pair=None if pair is None else _address(pair, f"{what} route.pair"))


def _address_list(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise DeployConfigError(f"The deployment config's {what} must be a non-empty list.")
    out = tuple(_address(v, what) for v in value)
    if len(set(out)) != len(out):
        raise DeployConfigError(f"The deployment config's {what} lists an address twice.")
    return out


def config_from_dict(d: Mapping[str, Any]) -> DeployConfig:
    """Strict parse of a config document (TOML or JSON decoded)."""
    if not isinstance(d, Mapping):
        raise DeployConfigError("The deployment config must be a table of settings.")
    fees, roles = _section(d, "fees"), _section(d, "roles")
    tl, keeper, limits = _section(d, "timelock"), _section(d, "keeper"), _section(d, "limits")
    seq = d.get("sequencer") or {}
    raw_list = _get(d, "constituents", "its [[constituents]]")
    if not isinstance(raw_list, list) or not raw_list:
        raise DeployConfigError("The deployment config needs at least one constituent.")
    if len(raw_list) > MAX_CONSTITUENTS:
        raise DeployConfigError(f"The vault holds at most {MAX_CONSTITUENTS} constituents.")
    cons = tuple(_constituent(i, c) for i, c in enumerate(raw_list))
    for key in ("symbol", "token"):
        vals = [getattr(c, key).upper() for c in cons]
        if len(set(vals)) != len(vals):
            raise DeployConfigError(f"Two constituents share a {key}.")
    weights = [c.weight_bps for c in cons]
    if any(w is None for w in weights) and any(w is not None for w in weights):
        raise DeployConfigError("Give weight_bps for every constituent or for none.")
    if weights[0] is not None and sum(int(w or 0) for w in weights) != 10_000:
        raise DeployConfigError(f"The constituents' weight_bps sum to "
                                f"{sum(int(w or 0) for w in weights)}, not 10000.")
    chain_id = d.get("chain_id")
    lim = dict(DEFAULT_LIMITS)
    for k in lim:
        if k in limits:
            lim[k] = _int(limits[k], f"limits.{k}")
    unknown = sorted(set(limits) - set(lim))
    if unknown:
        raise DeployConfigError(f"Unknown [limits] field(s): {', '.join(unknown)}.")
    return DeployConfig(
        label=str(d.get("label", "")),
        chain_id=None if chain_id is None else _int(chain_id, "chain_id", 1, 2**63),
        name=str(d.get("name", "TM Global 100")), symbol=str(d.get("symbol", "G100")),
        usdc=_address(_get(d, "usdc", "the usdc address"), "usdc"),
        router=_address(_get(d, "router", "the Uniswap V2 router"), "router"),
        buy_fee_bps=_int(fees.get("buy_bps", 25), "fees.buy_bps", 0, 100),
        sell_fee_bps=_int(fees.get("sell_bps", 25), "fees.sell_bps", 0, 100),
        guardian=_address(_get(roles, "guardian", "roles.guardian"), "roles.guardian"),
        operator=_address(_get(roles, "operator", "roles.operator"), "roles.operator"),
        keeper=_address(roles["keeper"], "roles.keeper") if roles.get("keeper") else None,
        fee_recipient=_address(_get(roles, "fee_recipient", "roles.fee_recipient"),
                               "roles.fee_recipient"),
        proposers=_address_list(_get(tl, "proposers", "timelock.proposers"),
                                "timelock.proposers"),
        executors=_address_list(_get(tl, "executors", "timelock.executors"),
                                "timelock.executors"),
        delay=_int(tl.get("delay", DEFAULT_DELAY), "timelock.delay", 0, 30 * 86_400),
        strike_interval=_int(keeper.get("strike_interval", DEFAULT_STRIKE_INTERVAL),
                             "keeper.strike_interval", 0, 86_400),
        min_request_age=_int(keeper.get("min_request_age", DEFAULT_MIN_REQUEST_AGE),
                             "keeper.min_request_age", 0, 86_400),
        limits=lim,
        sequencer_feed=_address(seq["feed"], "sequencer.feed") if seq.get("feed") else None,
        sequencer_grace=_int(seq.get("grace_period", 3_600), "sequencer.grace_period",
                             0, 86_400),
        constituents=cons)


def load_config(path: Path) -> DeployConfig:
    """Read a ``.toml`` or ``.json`` config file (by suffix; JSON otherwise)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DeployConfigError(f"Cannot read the deployment config {path} "
                                f"({type(exc).__name__}).") from None
    try:
        data = tomllib.loads(text) if str(path).endswith(".toml") else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise DeployConfigError(f"The deployment config {path} does not parse: {exc}") from None
    return config_from_dict(data)
