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
from typing import Any

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
from .rebalance_record import record_close

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
        self._engine: Any = None  # the operator engine, built on first use

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
            set_prices(self.w3, self.deployment, self._deployed(clock, live=True),
                       refresh_nav=True)
            self._keeper()  # the keeper strikes on every step (when one is due)
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
        set_prices(self.w3, self.deployment, self._deployed(clock), refresh_nav=True)
        self._keeper()  # requests settle at the day's close NAV
        result = clock.regime()
        latest = result.latest
        assert latest is not None
        snap = self.vault.snapshot()
        flipped = latest.gauge.state is not snap.regime
        report = None
        # The engine reads the market from the clock file (as `operator run` does): save
        # the new day first, or it would compose from yesterday's close.
        clock.save(clock_path(self.paths))
        if flipped or day.weekday() == 0:
            # The operator service's engine (journaled, signed with its own key), on the
            # market calendar; skipped when an `operator run` process serves the devnet.
            report = self._operate(clock, latest.gauge.state if flipped else None, day,
                                   progress)
        elif self._plan_waiting():
            report = self._operate(clock, None, day, progress, resume_only=True)
        record_close(self.paths, self.vault, self.deployment, clock, report, flipped,
                     members_before=[c.symbol for c in snap.constituents])
        clock.save(clock_path(self.paths))
        return TickReport(day.isoformat(), clock.day_index, latest.gauge.state,
                          f"{latest.gauge.score:.1f}", flipped, report)

    def _deployed(self, clock: MarketClock, *, live: bool = False) -> dict[str, Decimal]:
        """The replay's prices for the tokens deployed on the devnet (members, entrants
        listed since, leavers removed but still traded in their pools)."""
        prices = clock.all_prices(live=live)
        mine = {t.symbol for t in self.deployment.tokens}
        mine |= {k.split(":", 1)[1] for k in self.deployment.params if k.startswith("market:")}
        return {s: p for s, p in prices.items() if s in mine}

    def _keeper(self) -> str | None:
        """The operator service's keeper (strike when a request's cut-off has passed,
        raising cash first for sells; NAV kept fresh), signed with the devnet keeper's key;
        nothing when an `operator run` process serves the devnet (it keeps)."""
        from ..operator_service import OperatorRunning, ServiceLock
        from .reconstitution import devnet_engine

        if self._engine is None:
            self._engine = devnet_engine(self.paths, self.w3, self.deployment, self.vault)
        lock = ServiceLock(self._engine.journal.folder)
        try:
            lock.acquire()
        except OperatorRunning:
            return None
        try:
            return self._engine.keeper_tick()
        finally:
            lock.release()

    def _plan_waiting(self) -> bool:
        """A journaled plan waits (loss budget, timelock): resumed at the next close."""
        import json

        for f in (self.paths.data_dir / "operator").glob("*/journal.json"):
            try:
                if json.loads(f.read_text()).get("plan"):
                    return True
            except (OSError, ValueError):
                continue
        return False

    def _operate(self, clock: MarketClock, flip: Regime | None, day: object,
                 progress: Callable[[str], None] | None, *,
                 resume_only: bool = False) -> RebalanceReport | None:
        from ..operator_market import DevnetSource
        from ..operator_service import OperatorRunning, ServiceLock
        from .embedded import deployment_path
        from .reconstitution import devnet_engine, sync_tokens

        engine = devnet_engine(self.paths, self.w3, self.deployment, self.vault)
        lock = ServiceLock(engine.journal.folder)
        try:
            lock.acquire()
        except OperatorRunning:
            log.info("%s: an operator service is running for the devnet; it acts", day)
            return None
        try:
            before = self._block()
            engine.resume()
            if resume_only:
                pass
            elif flip is not None:
                if progress:
                    progress(f"{day}: regime flips to {flip.value}")
                engine.switch_regime(flip)
            else:
                if progress:
                    progress(f"{day}: rebalance")
                engine.rebalance(DevnetSource(clock_path(self.paths)).snapshot())
            sync_tokens(self.deployment, self.vault, deployment_path(self.paths))
            return self._report(before)
        finally:
            lock.release()

    def operate(self, flip: Regime | None = None,
                progress: Callable[[str], None] | None = None) -> RebalanceReport | None:
        """A rebalance now (or a switch to ``flip``) through the operator engine, from the
        market of the current replay day (`index-wallet operator rebalance|regime`)."""
        with self.hold:
            clock = self._clock()
            return self._operate(clock, flip, clock.today, progress)

    def _block(self) -> int:
        return int(self.w3.eth.block_number)

    def _report(self, from_block: int) -> RebalanceReport:
        """What the engine did, from the vault's events (legs, batches, gas)."""
        from ..operator_chain_log import rebalance_summary

        s = rebalance_summary(self.w3, self.deployment.vault, from_block + 1)
        snap = self.vault.snapshot()
        rep = RebalanceReport(regime=snap.regime, legs=s["legs"], sells=s["sells"],
                              buys=s["buys"], transactions=s["transactions"],
                              gas_used=s["gas_used"])
        rep.targets_changed = s["weights_set"] > 0
        return rep

    def keep_nav_fresh(self) -> bool:
        """The keeper: strike if a request waits, else refresh the NAV cache once it is
        half as old as the strike interval, in chain time (= real time). Returns True when
        it struck or refreshed."""
        with self.hold:
            return self._keeper() is not None

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
