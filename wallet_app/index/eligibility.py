"""Eligibility (METHODOLOGY section 2): who may be in the index at all.

An asset is screened out, with every reason that applies, when

1. one of its ``categories`` is an excluded category (stablecoins, wrapped/bridged copies,
   liquid staking and restaking, tokenized gold and assets, any ``*-stablecoins``), or it is
   on the shipped deny list ``assets/index/exclusions.json``;
2. its ``market_cap`` or ``current_price`` is missing, not a number, or <= 0;
3. its ``total_volume`` is under the liquidity floor (1,000,000 USD).

Choices where the text leaves room (documented in the README too):

* Duplicated ``id``: the copy with the larger *valid* market cap is kept (an invalid cap
  counts as smaller than any valid one); exact ties are broken on the other fields
  (volume, price, symbol, name, ...) so that the row order of the input never matters.
  Dropped copies are reported as excluded with the reason "duplicate id".
* A missing or non-numeric ``total_volume`` fails the liquidity floor: liquidity that
  cannot be shown is not assumed.
* Deny-list entries: an entry's ``symbol`` and ``aliases`` match every asset with that
  ticker (case-insensitive); its ``id`` and ``ids`` match those ids exactly (lowercased).
  Either match excludes. A ticker now shared with an eligible asset (FRAX) is listed by id,
  plus ``tickers_until`` for history tables that only have tickers.
* Category ids are compared lowercased; the category list is exactly the one of the
  methodology plus the ``-stablecoins`` suffix rule.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from ..paths import ASSETS_DIR
from .errors import IndexDataError
from .inputs import MarketAsset
from .rules import DEFAULT_RULES, IndexRules

#: The shipped deny list.
DENY_LIST_PATH = ASSETS_DIR / "index" / "exclusions.json"

#: Category ids that make an asset ineligible (METHODOLOGY 2.1).
EXCLUDED_CATEGORIES = frozenset({
    "stablecoins",
    "wrapped-tokens",
    "bridged-tokens",
    "liquid-staking-tokens",
    "liquid-restaking-tokens",
    "tokenized-gold",
    "tokenized-assets",
})

# Reason codes, stable strings that scripts can filter on.
REASON_CATEGORY = "category"
REASON_DENY_LIST = "deny-list"
REASON_BAD_MARKET_CAP = "bad-market-cap"
REASON_BAD_PRICE = "bad-price"
REASON_LOW_VOLUME = "low-volume"
REASON_DUPLICATE = "duplicate-id"


def is_excluded_category(category: str) -> bool:
    """True for the methodology's excluded categories and any ``*-stablecoins`` id."""
    c = category.strip().lower()
    return c in EXCLUDED_CATEGORIES or c.endswith("-stablecoins")


#: Kinds of deny-list entries (``kind`` in exclusions.json), the classes of section 2.1.
DENY_KINDS = frozenset({
    "usd-stablecoin", "fiat-stablecoin", "yield-bearing-dollar", "commodity-backed", "wrapped",
    "bridged", "liquid-staking", "liquid-restaking", "exchange-staked", "lending-receipt",
    "lp-token", "tokenized-fund",
})


@dataclass(frozen=True)
class DenyEntry:
    """One asset of the deny list, with every ticker and id it is known under.

    ``symbol``/``id`` are the current ones; ``aliases``/``ids`` the others it traded under
    (renamed, migrated, old tickers). ``tickers_until`` maps a ticker to the first UTC day it
    no longer meant this asset (FRAX was the Frax dollar until the governance token took the
    name); such a ticker only matches in history tables dated before that day.
    """

    symbol: str | None
    id: str | None
    reason: str
    kind: str | None = None
    aliases: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    tickers_until: tuple[tuple[str, date], ...] = ()

    @property
    def tickers(self) -> tuple[str, ...]:
        """Every ticker that always means this asset, upper case."""
        return tuple(t.upper() for t in ((self.symbol,) if self.symbol else ()) + self.aliases)

    @property
    def all_ids(self) -> tuple[str, ...]:
        return tuple(i.lower() for i in ((self.id,) if self.id else ()) + self.ids)


def _str_list(value: object, what: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise IndexDataError(f"{where}: '{what}' must be a list of non-empty strings.")
    return tuple(v.strip() for v in value)


def _tickers_until(value: object, where: str) -> tuple[tuple[str, date], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise IndexDataError(f"{where}: 'tickers_until' must map tickers to YYYY-MM-DD dates.")
    out = []
    for ticker, day in value.items():
        try:
            out.append((ticker.strip().upper(), date.fromisoformat(day)))
        except (AttributeError, TypeError, ValueError):
            raise IndexDataError(f"{where}: 'tickers_until' {ticker!r}: {day!r} is not a "
                                 "YYYY-MM-DD date.") from None
    return tuple(sorted(out))


@dataclass(frozen=True)
class DenyList:
    """The deny list, indexed for O(1) matching by ticker and by id."""

    entries: tuple[DenyEntry, ...]

    @functools.cached_property
    def _by_symbol(self) -> dict[str, DenyEntry]:
        return {t: e for e in self.entries for t in e.tickers}

    @functools.cached_property
    def _by_id(self) -> dict[str, DenyEntry]:
        return {i: e for e in self.entries for i in e.all_ids}

    @functools.cached_property
    def _dated(self) -> dict[str, tuple[date, DenyEntry]]:
        return {t: (until, e) for e in self.entries for t, until in e.tickers_until}

    def match(self, symbol: str | None = None, asset_id: str | None = None,
              day: date | None = None) -> DenyEntry | None:
        """The entry that excludes this asset, or ``None``. The id is looked up first.

        ``day`` is the date of a history row (tables that have tickers but no ids): a ticker
        that changed hands (``tickers_until``) matches only before its cut-over day.
        """
        if asset_id:
            hit = self._by_id.get(asset_id.lower())
            if hit is not None:
                return hit
        if symbol:
            sym = symbol.strip().upper()
            hit = self._by_symbol.get(sym)
            if hit is None and day is not None:
                dated = self._dated.get(sym)
                if dated is not None and day < dated[0]:
                    hit = dated[1]
            return hit
        return None

    def denies_symbol(self, symbol: str, day: date | None = None) -> bool:
        """Ticker-level match only: used for history tables, which have no ids."""
        return self.match(symbol, None, day) is not None

    @classmethod
    def from_json(cls, data: object, source: str = "deny list") -> DenyList:
        """Validate and build; every entry needs a symbol or an id, and a reason."""
        raw = data.get("entries") if isinstance(data, dict) else data
        if not isinstance(raw, list):
            raise IndexDataError(f"{source}: expected an object with an 'entries' list.")
        entries = []
        for i, e in enumerate(raw):
            if not isinstance(e, dict):
                raise IndexDataError(f"{source}: entry {i} is not an object.")
            symbol, asset_id, reason = e.get("symbol"), e.get("id"), e.get("reason")
            where = f"{source}: entry {i} ({symbol or asset_id})"
            if symbol is not None and (not isinstance(symbol, str) or not symbol.strip()):
                raise IndexDataError(f"{source}: entry {i} has an empty or non-string symbol.")
            if asset_id is not None and (not isinstance(asset_id, str) or not asset_id.strip()):
                raise IndexDataError(f"{source}: entry {i} has an empty or non-string id.")
            if symbol is None and asset_id is None:
                raise IndexDataError(f"{source}: entry {i} needs a 'symbol' or an 'id'.")
            if not isinstance(reason, str) or not reason.strip():
                raise IndexDataError(f"{where} has no reason.")
            kind = e.get("kind")
            if kind is not None and kind not in DENY_KINDS:
                raise IndexDataError(f"{where}: unknown kind {kind!r} (one of: "
                                     f"{', '.join(sorted(DENY_KINDS))}).")
            entries.append(DenyEntry(
                symbol.strip() if symbol else None, asset_id.strip() if asset_id else None,
                reason.strip(), kind, _str_list(e.get("aliases"), "aliases", where),
                _str_list(e.get("ids"), "ids", where),
                _tickers_until(e.get("tickers_until"), where)))
        return cls(tuple(entries))

    @classmethod
    def load(cls, path: Path | None = None) -> DenyList:
        """Read a deny list file (the shipped one by default)."""
        path = path or DENY_LIST_PATH
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexDataError(f"The deny list {path} is missing; reinstall the app "
                                 "or restore assets/index/exclusions.json.") from None
        except (OSError, ValueError) as exc:
            raise IndexDataError(f"The deny list {path} cannot be read ({exc}).") from None
        return cls.from_json(data, str(path))


@functools.lru_cache(maxsize=1)
def default_deny_list() -> DenyList:
    """The shipped deny list, read once per process."""
    return DenyList.load()


@dataclass(frozen=True)
class Exclusion:
    """An asset left out of the index, with every reason that applies."""

    id: str
    symbol: str
    name: str
    market_cap: Decimal | None
    codes: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Screening:
    """Result of the eligibility screen: eligible assets and excluded ones, both sorted."""

    eligible: tuple[MarketAsset, ...]
    excluded: tuple[Exclusion, ...]


def _fmt(x: Decimal | None) -> str:
    return "missing or not a number" if x is None else f"{x:,}"


def exclusion_reasons(asset: MarketAsset, deny: DenyList, rules: IndexRules = DEFAULT_RULES,
                      day: date | None = None) -> list[tuple[str, str]]:
    """All (code, text) reasons that make ``asset`` ineligible; empty when it is eligible.

    ``day`` dates a historical snapshot (see :meth:`DenyList.match`); ``None`` for a live one.
    """
    out: list[tuple[str, str]] = []
    bad_cats = [c for c in asset.categories if is_excluded_category(c)]
    if bad_cats:
        out.append((REASON_CATEGORY, "excluded category: " + ", ".join(bad_cats)))
    hit = deny.match(asset.symbol, asset.id, day)
    if hit is not None:
        out.append((REASON_DENY_LIST, f"deny list: {hit.reason}"))
    if asset.market_cap is None or asset.market_cap <= 0:
        out.append((REASON_BAD_MARKET_CAP,
                    f"market_cap is {_fmt(asset.market_cap)} (must be a number > 0)"))
    if asset.current_price is None or asset.current_price <= 0:
        out.append((REASON_BAD_PRICE,
                    f"current_price is {_fmt(asset.current_price)} (must be a number > 0)"))
    floor = rules.min_volume_usd
    if floor is not None and (asset.total_volume is None or asset.total_volume < floor):
        out.append((REASON_LOW_VOLUME,
                    f"24h volume {_fmt(asset.total_volume)} USD is under the {floor:,} USD floor"))
    return out


def _exclusion(asset: MarketAsset, reasons: list[tuple[str, str]]) -> Exclusion:
    return Exclusion(asset.id, asset.symbol, asset.name, asset.market_cap,
                     tuple(c for c, _ in reasons), tuple(t for _, t in reasons))


def _exclusion_order(e: Exclusion) -> tuple[object, ...]:
    valid = e.market_cap is not None and e.market_cap > 0
    return (0 if valid else 1, -(e.market_cap or 0) if valid else 0, e.id, e.symbol, e.codes)


def deduplicate(assets: Iterable[MarketAsset]) -> tuple[list[MarketAsset], list[Exclusion]]:
    """Keep one entry per id (the larger market cap); the others become exclusions."""
    groups: dict[str, list[MarketAsset]] = {}
    for a in assets:
        groups.setdefault(a.id, []).append(a)
    kept: list[MarketAsset] = []
    dropped: list[Exclusion] = []
    for copies in groups.values():
        copies.sort(key=MarketAsset.canonical_key, reverse=True)
        kept.append(copies[0])
        for dup in copies[1:]:
            dropped.append(_exclusion(dup, [(REASON_DUPLICATE,
                                             "duplicate id: the copy with the larger market "
                                             "cap is kept")]))
    return kept, dropped


def screen(assets: Iterable[MarketAsset], *, deny: DenyList | None = None,
           rules: IndexRules = DEFAULT_RULES, day: date | None = None) -> Screening:
    """Apply section 2 to a snapshot: deduplicate ids, then test every rule.

    ``day`` is given for a historical snapshot built from tickers (backtests, replays).
    """
    deny = deny if deny is not None else default_deny_list()
    kept, excluded = deduplicate(assets)
    eligible: list[MarketAsset] = []
    for a in kept:
        reasons = exclusion_reasons(a, deny, rules, day)
        if reasons:
            excluded.append(_exclusion(a, reasons))
        else:
            eligible.append(a)
    eligible.sort(key=lambda a: (-a.market_cap, a.id))  # type: ignore[operator]
    excluded.sort(key=_exclusion_order)
    return Screening(tuple(eligible), tuple(excluded))
