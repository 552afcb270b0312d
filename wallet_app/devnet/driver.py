"""The devnet's market in motion: a simulated day per tick.

Each tick moves the chain clock one day forward, writes the replay's prices into the feeds
and trades every pool to them, refreshes the vault's NAV, then runs the methodology at
the daily close: a regime flip triggers an out-of-cycle switch at once, and every Monday
the operator reweights and rebalances. This is what makes NAV, the gauge and the regime
change on the devnet; the operator key is the devnet's own.
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

DAY = 86_400


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

    def tick(self, progress: Callable[[str], None] | None = None) -> TickReport:
        """Advance one simulated day (see the module docstring)."""
        with self.hold:
            clock = self._clock()
            if clock.day_index + 1 >= len(clock.paths().days):
                raise RuntimeError("the price replay has reached its end")
            clock.day_index += 1
            day = clock.today
            # The keeper strikes on every tick: requests past their cut-off settle at NAV.
            self.operator.strike()
            self.w3.provider.make_request("evm_increaseTime", [DAY])  # type: ignore[arg-type]
            set_prices(self.w3, self.deployment, clock.prices(), refresh_nav=True)
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

    def start(self, interval_s: float, on_tick: Callable[[TickReport], None] | None = None
              ) -> None:
        """Tick every ``interval_s`` seconds on a daemon thread until :meth:`stop`."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    rep = self.tick()
                except Exception:  # noqa: BLE001 - the demo market must not kill the app
                    log.exception("devnet market tick failed")
                    continue
                if on_tick:
                    on_tick(rep)

        self._thread = threading.Thread(target=run, name="devnet-market", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
