"""The devnet's market calendar: which replay day the market is on, and how far into it.

The chain itself runs on real time (its block timestamps follow the wall clock; nothing
warps them). The *market* runs on an accelerated calendar: a "market day" of the replay
lasts ``day_s`` seconds of wall time (the demo speed), split into ``steps`` price steps, so
that prices move smoothly and a weekly rebalance or a regime switch comes every few minutes.
Market days are the replay's dates (the methodology's daily closes and Mondays); every
time a person sees is the chain's.

The state lives in ``<devnet_dir>/market.json`` (seed, anchor date, current day index and
step, each constituent's anchor market cap, the demo speed and when the current market
day began in chain time), so that any process (the GUI, the CLI, a test) sees the same
market. The replay itself is recomputed from the seed: it is deterministic, so only the
position needs storing.
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
    #: Price steps into the current market day (0 .. steps-1): prices are interpolated
    #: between this day's close and the next one's.
    step: int = 0
    steps: int = 1
    #: Demo speed: wall-clock seconds per market day (0: the market is not running).
    day_s: float = 0.0
    #: Chain time (POSIX seconds) at which the current market day began (0: unknown).
    day_started: int = 0
    #: The replay's bench: assets ranked just below the top 100 at the anchor (symbol ->
    #: anchor market cap, price, name), priced by the same replay but not deployed, so that
    #: they can rise into the index (and members fall out): devnet reconstitution.
    bench_caps: dict[str, str] = field(default_factory=dict)
    bench_prices: dict[str, str] = field(default_factory=dict)
    bench_names: dict[str, str] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.paths().days[self.day_index]

    def paths(self) -> PricePaths:
        start = tuple(sorted((s, p) for s, p in self.start_prices.items()))
        if self.history_csv:
            return _history(self.history_csv, self.seed, self.anchor_day, start)
        return _paths(self.seed, self.anchor_day, start)

    def bench_paths(self) -> PricePaths | None:
        """The bench's prices, on the same market factor and days as the members'."""
        if not self.bench_prices:
            return None
        start = tuple(sorted((s, p) for s, p in self.bench_prices.items()))
        if self.history_csv:
            return _history(self.history_csv, self.seed, self.anchor_day, start)
        return _paths(self.seed, self.anchor_day, start)

    def all_prices(self, k: int | None = None, *, live: bool = False) -> dict[str, Decimal]:
        """Members' and bench's prices on day ``k`` (``live``: the current step's)."""
        out = self.live_prices() if live else self.prices(k)
        bench = self.bench_paths()
        if bench is not None:
            day = self.day_index if k is None else k
            today = bench.on(day)
            if live and self.step > 0 and self.steps > 1 and day + 1 < len(bench.days):
                nxt, f = bench.on(day + 1), Decimal(self.step) / Decimal(self.steps)
                today = {s: (v + (nxt[s] - v) * f).normalize() for s, v in today.items()}
            out = {**today, **out}
        return out

    def prices(self, k: int | None = None) -> dict[str, Decimal]:
        """The replay's close prices on day ``k`` (default: the current market day)."""
        return self.paths().on(self.day_index if k is None else k)

    def live_prices(self) -> dict[str, Decimal]:
        """The prices now: this day's close moved ``step / steps`` of the way to the next
        day's (linear, exact Decimal), so a market day's move arrives in small steps."""
        p = self.paths()
        today = p.on(self.day_index)
        if self.step <= 0 or self.steps <= 1 or self.day_index + 1 >= len(p.days):
            return today
        nxt = p.on(self.day_index + 1)
        f = Decimal(self.step) / Decimal(self.steps)
        return {s: (v + (nxt[s] - v) * f).normalize() for s, v in today.items()}

    def next_market_monday(self, now: int) -> int | None:
        """Chain time of the next Monday close on the market calendar (None when the
        market is not running): where the demo's next weekly rebalance falls."""
        if self.day_s <= 0:
            return None
        p = self.paths()
        started = self.day_started or now
        for ahead in range(1, 8):
            k = self.day_index + ahead
            if k < len(p.days) and p.days[k].weekday() == 0:
                return int(started + ahead * self.day_s)
        return None

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
