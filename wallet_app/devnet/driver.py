"""The devnet's market in motion, on real time.

The chain's clock is the wall clock: nothing here warps block time. The market runs on
an accelerated calendar instead (:mod:`.market_clock`): a market day of the replay lasts
``day_s`` seconds of wall time and arrives in ``steps`` price steps. Each step writes the
interpolated prices into the feeds, trades every pool to them and refreshes the vault's
NAV. At the end of a market day (its daily close) the methodology runs: a regime flip
triggers an out-of-cycle switch at once, and every market-calendar Monday the operator
reweights and rebalances. The keeper strikes whenever a request is waiting (every price
step, at each daily close and on its own poll) and keeps the NAV cache fresh on real time
(within the vault's strike interval) even when the market is paused. The operator key is the
devnet's own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from web3 import Web3

from ..chain.provider import ChainClient
from ..chain.registry import get_chain
from ..models import Regime
from ..operator import Operator, RebalanceReport
from ..paths import AppPaths
from ..vault import VaultClient
from .deploy import Deployment, set_prices
from .embedded import clock_path
from .market_clock import MarketClock

log = logging.getLogger(__name__)

#: Default demo speed: one market day every 30 s of wall time, in 6 price steps (one
#: every 5 s): a weekly rebalance every 3.5 minutes, and a step's move small enough that
#: a preview refreshed during the day stays within a buy's default slippage.
DAY_S = 30.0
STEPS = 6
#: When the market is paused, the keeper still looks at the NAV cache this often.
KEEPER_POLL_S = 30.0


@dataclass(frozen=True)
class TickReport:
    day: str
    day_index: int
    regime: Regime
    score: str
    flipped: bool
    rebalanced: RebalanceReport | None


class MarketDriver:
    """Advances the devnet market; safe to call from one thread at a time (a lock)."""

    def __init__(self, paths: AppPaths, rpc_url: str, deployment: Deployment,
                 hold: threading.Lock | None = None) -> None:
        self.paths = paths
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
        self.deployment = deployment
        chain = get_chain("devnet")
        client = ChainClient(type(chain)(**{**chain.__dict__, "rpc_url": rpc_url}))
        self.vault = VaultClient(client, deployment.vault, deployment.lens)
        self.operator = Operator(self.w3, deployment, self.vault)
        #: Held during a tick; the wallet holds it while a trade is signed and sent, so
        #: that the market never jumps a day between a quote's check and its transaction.
        self.hold = hold or threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _clock(self) -> MarketClock:
        clock = MarketClock.load(clock_path(self.paths))
        if clock is None:
            raise RuntimeError("the devnet has no market clock; run `index-wallet devnet up`")
        return clock

    def _now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def tick(self, progress: Callable[[str], None] | None = None) -> TickReport:
        """Close the current market day now: prices move to the next day's close, then the
        methodology runs (see the module docstring). Block time is not touched."""
        with self.hold:
            clock = self._clock()
            return self._close_day(clock, progress)

    def step(self, progress: Callable[[str], None] | None = None) -> TickReport | None:
        """One price step into the market day; the last step closes the day (and returns
        its report, else None)."""
        with self.hold:
            clock = self._clock()
            if clock.step + 1 >= max(1, clock.steps):
                return self._close_day(clock, progress)
            clock.step += 1
            set_prices(self.w3, self.deployment, clock.live_prices(), refresh_nav=True)
            self.operator.strike_if_due()  # the keeper strikes on every step
            clock.save(clock_path(self.paths))
            return None

    def _close_day(self, clock: MarketClock, progress: Callable[[str], None] | None
                   ) -> TickReport:
        if clock.day_index + 1 >= len(clock.paths().days):
            raise RuntimeError("the price replay has reached its end")
        clock.day_index += 1
        clock.step = 0
        clock.day_started = self._now()
        day = clock.today
        set_prices(self.w3, self.deployment, clock.prices(), refresh_nav=True)
        self.operator.strike_if_due()  # requests settle at the day's close NAV
        result = clock.regime()
        latest = result.latest
        assert latest is not None
        snap = self.vault.snapshot()
        flipped = latest.gauge.state is not snap.regime
        report = None
        if flipped:
            if progress:
                progress(f"{day}: regime flips to {latest.gauge.state.value}")
            report = self.operator.switch_regime(latest.gauge.state, progress=progress)
        elif day.weekday() == 0:
            if progress:
                progress(f"{day}: Monday rebalance")
            caps = {s: Decimal(v) for s, v in clock.caps.items()}
            anchor = clock.prices(clock.paths().anchor_index)
            targets = self.operator.targets_from_prices(clock.prices(), caps, anchor)
            changed = self.operator.set_targets(targets)
            report = self.operator.rebalance(progress=progress)
            report.targets_changed = changed
        clock.save(clock_path(self.paths))
        return TickReport(day.isoformat(), clock.day_index, latest.gauge.state,
                          f"{latest.gauge.score:.1f}", flipped, report)

    def keep_nav_fresh(self) -> bool:
        """The keeper: strike if a request waits, else refresh the NAV cache once it is
        half as old as the strike interval, in chain time (= real time). Returns True when
        it struck or refreshed."""
        with self.hold:
            if self.operator.strike_if_due():
                return True
            age, max_age = self.operator.nav_age(self._now())
            if age < max_age // 2:
                return False
            self.operator.refresh_nav()
            return True

    def set_speed(self, day_s: float, steps: int = STEPS) -> None:
        """Record the demo speed in the market file (the UI states it; 0 = paused)."""
        with self.hold:
            clock = self._clock()
            clock.day_s, clock.steps = float(day_s), max(1, int(steps))
            clock.step = min(clock.step, clock.steps - 1)
            if day_s > 0:
                clock.day_started = self._now() - int(clock.step * day_s / clock.steps)
            clock.save(clock_path(self.paths))

    def start(self, day_s: float = DAY_S, on_tick: Callable[[TickReport], None] | None = None,
              steps: int = STEPS) -> None:
        """Run the market at ``day_s`` wall seconds per market day (``steps`` price steps
        each) on a daemon thread until :meth:`stop`; ``day_s`` 0 runs the keeper alone."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self.set_speed(day_s, steps)
        period = day_s / max(1, steps) if day_s > 0 else KEEPER_POLL_S

        def run() -> None:
            while not self._stop.wait(period):
                try:
                    rep = self.step() if day_s > 0 else None
                    if day_s <= 0:
                        self.keep_nav_fresh()
                except Exception:  # noqa: BLE001 - the demo market must not kill the app
                    log.exception("devnet market step failed")
                    continue
                if on_tick and rep is not None:
                    on_tick(rep)

        self._thread = threading.Thread(target=run, name="devnet-market", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
            self._thread = None
            try:
                self.set_speed(0)  # the market file says "paused" once nobody drives it
            except Exception:  # noqa: BLE001 - the node may already be gone at shutdown
                log.debug("could not record the paused market", exc_info=True)
