"""The devnet's simulated market clock: which replay day the chain is on.

The state lives in ``<devnet_dir>/market.json`` (seed, anchor date, current day index and
each constituent's anchor market cap), so that any process (the GUI, the CLI, a test) sees
the same simulated day and the same gauge. The replay itself is recomputed from the seed:
it is deterministic, so only the position needs storing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from ..index.regime import MarketPoint, RegimeResult, compute_regime
from .replay import PricePaths, historical_paths, load_closes, synthetic_paths

DAYS_BEFORE = 420
DAYS_AFTER = 1100


@dataclass
class MarketClock:
    seed: int
    anchor_day: str  # ISO date of the snapshot the devnet was deployed at
    day_index: int  # index into the replay; starts at the anchor
    caps: dict[str, str]  # symbol -> anchor market cap (USD, Decimal text)
    start_prices: dict[str, str] = field(default_factory=dict)
    #: "" for the seeded synthetic market, else the path of a daily OHLCV file
    #: (``date,symbol,base,open,high,low,close,volume``) whose closes drive the replay.
    history_csv: str = ""

    @property
    def today(self) -> date:
        return self.paths().days[self.day_index]

    def paths(self) -> PricePaths:
        start = tuple(sorted((s, p) for s, p in self.start_prices.items()))
        if self.history_csv:
            return _history(self.history_csv, self.seed, self.anchor_day, start)
        return _paths(self.seed, self.anchor_day, start)

    def prices(self, k: int | None = None) -> dict[str, Decimal]:
        return self.paths().on(self.day_index if k is None else k)

    def market_series(self, upto: int | None = None) -> list[MarketPoint]:
        p = self.paths()
        caps = {s: Decimal(v) for s, v in self.caps.items()}
        series = p.market_series(caps)
        end = (self.day_index if upto is None else upto) + 1
        return [MarketPoint(d, v) for d, v in zip(p.days[:end], series[:end], strict=True)]

    def regime(self, upto: int | None = None) -> RegimeResult:
        """The signal up to a day (cached: the GUI asks on every refresh, the day rarely
        changes, and the 200-day average over 400+ days costs tens of milliseconds)."""
        end = self.day_index if upto is None else upto
        return _regime(self.seed, self.anchor_day, self.history_csv,
                       tuple(sorted(self.caps.items())),
                       tuple(sorted(self.start_prices.items())), end)

    def change(self, symbol: str, days: int) -> Decimal | None:
        """Price change of ``symbol`` over the last ``days`` replay days (a fraction)."""
        series = self.paths().prices.get(symbol)
        if not series or self.day_index - days < 0:
            return None
        old, new = series[self.day_index - days], series[self.day_index]
        return (new / old - 1) if old else None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> MarketClock | None:
        if not path.is_file():
            return None
        try:
            return cls(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            return None

    @classmethod
    def new(cls, seed: int, anchor: date, caps: dict[str, Decimal],
            prices: dict[str, Decimal], history_csv: Path | None = None) -> MarketClock:
        clock = cls(seed=seed, anchor_day=anchor.isoformat(), day_index=DAYS_BEFORE,
                    caps={s: str(v) for s, v in caps.items()},
                    start_prices={s: str(v) for s, v in prices.items()},
                    history_csv=str(history_csv) if history_csv else "")
        if history_csv:
            # Real history: the devnet starts DAYS_BEFORE days into the file (so that the
            # 200-day signal is defined) and replays what followed, day by day.
            clock.day_index = clock.paths().anchor_index
            clock.anchor_day = clock.paths().days[clock.day_index].isoformat()
        return clock


@lru_cache(maxsize=8)
def _regime(seed: int, anchor_day: str, history_csv: str, caps: tuple[tuple[str, str], ...],
            start: tuple[tuple[str, str], ...], end: int) -> RegimeResult:
    clock = MarketClock(seed, anchor_day, end, dict(caps), dict(start), history_csv)
    return compute_regime(clock.market_series(end))


@lru_cache(maxsize=2)
def _history(csv_path: str, seed: int, anchor_day: str,
             start: tuple[tuple[str, str], ...]) -> PricePaths:
    closes = load_closes(Path(csv_path))
    days = sorted({d for series in closes.values() for d in series})
    first, last = days[0], days[-1]
    anchor = first + timedelta(days=DAYS_BEFORE)
    return historical_paths({s: Decimal(p) for s, p in start}, closes, first, last, anchor,
                            seed=seed)


@lru_cache(maxsize=4)
def _paths(seed: int, anchor_day: str, start: tuple[tuple[str, str], ...]) -> PricePaths:
    return synthetic_paths({s: Decimal(p) for s, p in start}, days_before=DAYS_BEFORE,
                           days_after=DAYS_AFTER, seed=seed,
                           anchor_day=date.fromisoformat(anchor_day))
