"""The index composition: eligibility, selection and weights tied together.

:func:`compose` is the one entry point that the CLI, the GUI facade, the operator tooling
and the backtest call. Its result is a plain frozen object whose :meth:`Composition.to_json`
is canonical (sorted keys, fixed separators, Decimals as strings), so "same input, same
bytes" can be checked with a byte comparison, and the order of the input rows never
matters (every list in the output is sorted by a key made of data, never of position).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .eligibility import DenyList, Exclusion, screen
from .inputs import MarketAsset
from .rules import DEFAULT_RULES, IndexRules
from .selection import rank_eligible, select
from .weights import capped_weights, round_to_bps


def _num(x: Decimal) -> str:
    """Plain positional notation (``2030000000000``, never ``2.03E+12``) for people and
    scripts; the value is exactly the input's."""
    return format(x, "f")


@dataclass(frozen=True)
class Constituent:
    """One asset the index holds, with its target weight."""

    rank: int  # rank among eligible assets (1 = largest market cap)
    id: str
    symbol: str
    name: str
    market_cap: Decimal
    price: Decimal
    weight_bps: int
    capped: bool  # its exact weight was cut to the cap
    buffered: bool  # kept by the buffer rule although ranked below N


@dataclass(frozen=True)
class Composition:
    """Result of :func:`compose`."""

    constituents: tuple[Constituent, ...]
    excluded: tuple[Exclusion, ...]
    universe_count: int  # rows in the input
    eligible_count: int
    as_of: str | None = None
    source: str | None = None

    def weights(self) -> dict[str, int]:
        """Target weights by id, in basis points (sum 10,000 unless empty)."""
        return {c.id: c.weight_bps for c in self.constituents}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.constituents)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; Decimals become strings so no precision is lost."""
        return {
            "as_of": self.as_of,
            "source": self.source,
            "universe_count": self.universe_count,
            "eligible_count": self.eligible_count,
            "constituent_count": len(self.constituents),
            "total_weight_bps": sum(c.weight_bps for c in self.constituents),
            "constituents": [
                {"rank": c.rank, "id": c.id, "symbol": c.symbol, "name": c.name,
                 "market_cap": _num(c.market_cap), "price": _num(c.price),
                 "weight_bps": c.weight_bps, "capped": c.capped, "buffered": c.buffered}
                for c in self.constituents
            ],
            "excluded": [
                {"id": e.id, "symbol": e.symbol, "name": e.name,
                 "market_cap": None if e.market_cap is None else _num(e.market_cap),
                 "codes": list(e.codes), "reasons": list(e.reasons)}
                for e in self.excluded
            ],
        }

    def to_json(self) -> str:
        """Canonical JSON: the byte-for-byte reproducible form of the composition."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)


def compose(assets: Iterable[MarketAsset], previous: Iterable[str] | None = None, *,
            rules: IndexRules = DEFAULT_RULES, deny: DenyList | None = None,
            as_of: str | None = None, source: str | None = None,
            day: date | None = None) -> Composition:
    """Compute the Global 100 composition from a market snapshot.

    ``previous`` is the ids of the constituents currently held (buffer rule); ``deny`` is the
    deny list (the shipped one by default). Pure: no I/O beyond reading the shipped deny
    list once per process. ``day`` dates a snapshot rebuilt from history tables (tickers,
    no ids), for the deny list's dated tickers.
    """
    rows = list(assets)
    screening = screen(rows, deny=deny, rules=rules, day=day)
    ranked = rank_eligible(screening.eligible)
    chosen = select(ranked, list(previous) if previous is not None else None, rules)
    caps = {r.asset.id: r.asset.market_cap for r in chosen}
    exact = capped_weights(caps, rules.cap)  # type: ignore[arg-type]
    bps = round_to_bps(exact, caps)  # type: ignore[arg-type]
    capped = len(chosen) * rules.cap >= 1
    constituents = tuple(
        Constituent(
            rank=r.rank, id=r.asset.id, symbol=r.asset.symbol, name=r.asset.name,
            market_cap=r.asset.market_cap,  # type: ignore[arg-type]
            price=r.asset.current_price,  # type: ignore[arg-type]
            weight_bps=bps[r.asset.id],
            capped=capped and exact[r.asset.id] == rules.cap,
            buffered=r.buffered,
        )
        for r in chosen
    )
    return Composition(constituents, screening.excluded, len(rows), len(ranked), as_of, source)

