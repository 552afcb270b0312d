"""Selection (METHODOLOGY section 3): which eligible assets the index holds.

Eligible assets are ranked by market cap, largest first, ties by ``id`` ascending (so the
rank is a pure function of the data, not of the row order). Without a previous composition
the top N are taken. With one, the buffer rule cuts turnover: previous constituents ranked
<= 110 stay, and the remaining seats go to the best-ranked assets not already kept.

Choices:

* Previous constituents are matched by ``id``; ids of the previous composition that are
  no longer eligible simply do not stay (they have no rank).
* If more than N previous constituents rank <= 110 (only possible when the previous
  composition was larger than N), the N best-ranked of them stay.
* With fewer than N eligible assets, all of them are held.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .inputs import MarketAsset
from .rules import DEFAULT_RULES, IndexRules


@dataclass(frozen=True)
class RankedAsset:
    """An eligible asset with its 1-based rank among eligible assets."""

    rank: int
    asset: MarketAsset
    #: True when the asset holds its seat only through the buffer rule (rank > N).
    buffered: bool = False


def rank_eligible(eligible: Sequence[MarketAsset]) -> list[RankedAsset]:
    """Rank by market cap descending, ties by id ascending (1 = largest)."""
    ordered = sorted(eligible, key=lambda a: (-a.market_cap, a.id))  # type: ignore[operator]
    return [RankedAsset(i + 1, a) for i, a in enumerate(ordered)]


def select(ranked: Sequence[RankedAsset], previous: Collection[str] | None = None,
           rules: IndexRules = DEFAULT_RULES) -> list[RankedAsset]:
    """Apply the top-N rule, or the buffer rule when a previous composition is given.

    Returns the selected assets in rank order.
    """
    n = rules.size
    if not previous:
        return list(ranked[:n])
    prev = set(previous)
    stay = [r for r in ranked if r.asset.id in prev and r.rank <= rules.buffer_rank][:n]
    stay_ids = {r.asset.id for r in stay}
    seats = n - len(stay)
    newcomers = [r for r in ranked if r.asset.id not in stay_ids][:seats]
    chosen = [RankedAsset(r.rank, r.asset, buffered=r.rank > n) for r in stay] + newcomers
    chosen.sort(key=lambda r: r.rank)
    return chosen
