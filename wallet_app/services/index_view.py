"""The Index screen's data: the lens snapshot turned into an :class:`IndexState`, the
vault's event log (cached in the journal), NAV history and the strategy text.

Off the devnet, the gauge, the regime history and the performance benchmarks come from
the opt-in market feed (:class:`~wallet_app.market.feed.MarketFeed`, off by default: it
contacts a third-party API); its refresh runs on its own thread, and every read here is
of what it stored on disk.

Every time here is chain time (block timestamps; on the devnet that is real time too).
The devnet's accelerated market calendar shows only as the stated demo speed and as the
real time at which its next market-calendar Monday (the demo's weekly rebalance) falls.

Everything here is read-only: no key is touched, nothing is signed.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import WalletError
from ..index import IndexDataError, RegimeHistory, next_rebalance
from ..index.nav_backtest import NavBacktest, benchmark_series, nav_backtest
from ..index.performance import PerformanceReport, daily_closes, performance_report, splice
from ..journal import CachedEvent
from ..models import Gauge, IndexEvent, IndexState
from ..vault import to_index_state
from .session import Session
from .types import EVENT_SOURCE, SNAPSHOT_REUSE_S, StrategyInfo

#: The kinds the index's transactions log shows (NAV points feed the chart instead).
LOG_KINDS = ["rebalance", "regime", "fee", "weights", "constituent", "pause", "buy", "sell",
             "redeem_in_kind", "buy_request", "sell_request", "refund", "cancel", "strike",
             "role"]


class IndexViewService:
    """What a holder sees of the index, read from the pinned lens and the vault's events."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._perf_cache: tuple[tuple[Any, ...], PerformanceReport | None] | None = None
        self._feed_obj: tuple[tuple[Any, ...], Any] | None = None

    def _clock(self) -> Any:
        if not self.s.is_devnet:
            return None
        from ..devnet.embedded import clock_path
        from ..devnet.market_clock import MarketClock

        return MarketClock.load(clock_path(self.s.paths))

    def feed(self) -> Any:
        """The market feed off the devnet (None on the devnet: its clock is the source),
        rebuilt when the market settings change."""
        if self.s.is_devnet:
            return None
        from ..market.feed import MarketFeed

        st = self.s.settings
        key = (st.market_history, st.coingecko_base_url, st.coingecko_plan,
               st.coingecko_api_key)
        if self._feed_obj is None or self._feed_obj[0] != key:
            self._feed_obj = (key, MarketFeed(st, self.s.paths))
        return self._feed_obj[1]

    def _feed_started(self) -> Any:
        """The feed, with a refresh started in the background when one is due."""
        feed = self.feed()
        if feed is not None:
            feed.kick()
        return feed

    @staticmethod
    def _gauge(clock: Any, feed: Any = None) -> Gauge | None:
        result = clock.regime() if clock is not None else \
            feed.regime() if feed is not None else None
        latest = result.latest if result is not None else None
        return latest.gauge if latest else None

    def index_state(self) -> IndexState:
        """The Index screen: one lens call (plus local files: gauge, NAV history)."""
        snap = self.s.snapshot(self.s.active_address())
        clock = self._clock()
        feed = self._feed_started() if clock is None else None
        # The feed's status before its data: a refresh that ends in between is then seen
        # as running (the GUI asks again), never as done with the old data shown.
        feed_status = feed.status() if feed is not None else None
        changes = None
        if clock is not None:
            changes = {s: c for s in clock.prices() if (c := clock.change(s, 1)) is not None}
        chain_now = datetime.fromtimestamp(snap.timestamp, UTC)
        hist = self._nav_points()
        # The tile's "1 day" is the same day the holdings table's 24h column uses: on the
        # devnet's accelerated market a market day (day_s of chain time), elsewhere 24 h.
        day = timedelta(seconds=clock.day_s) if clock is not None and clock.day_s > 0 \
            else timedelta(days=1)
        state = to_index_state(
            snap, gauge=self._gauge(clock, feed), price_changes=changes,
            change_24h=change_since(hist, snap.nav_per_share, chain_now, day),
            change_7d=change_since(hist, snap.nav_per_share, chain_now, 7 * day),
            next_rebalance=next_rebalance(chain_now))
        if feed_status is not None:
            state = dataclasses.replace(state, gauge_note=feed_status.note or None,
                                        market_refreshing=feed_status.refreshing)
        if clock is not None and clock.day_s > 0:
            # The demo's operator rebalances on market-calendar Mondays: say when that is
            # in real (chain) time, and say how fast the demo market runs.
            monday = clock.next_market_monday(snap.timestamp)
            state = dataclasses.replace(
                state, demo_speed=f"demo speed: 1 market day every {clock.day_s:g} s",
                next_rebalance=None if monday is None else datetime.fromtimestamp(monday, UTC))
        return state

    def sync_events(self) -> int:
        """Fetch new vault events into the journal's cache (one eth_getLogs)."""
        client, vault, _ = self.s.need()
        chain_id = client.chain_id
        last = self.s.journal.last_scanned_block(chain_id, EVENT_SOURCE)
        head = self.s.last_snapshot.block_number if self.s.last_snapshot \
            else client.block_number()
        start = 0 if last is None else last + 1
        if start > head:
            return 0
        events = vault.events(start, head)
        cached = [CachedEvent(e.block_number, e.tx_hash, e.log_index, e.kind, {
            "summary": e.summary, "account": e.account,
            "usdc": None if e.usdc is None else str(e.usdc),
            "shares": None if e.shares is None else str(e.shares)}, e.timestamp)
            for e in events]
        return self.s.journal.add_index_events(chain_id, EVENT_SOURCE, cached, head)

    def _sync_quietly(self) -> None:
        try:
            self.sync_events()
        except WalletError as exc:  # offline: the cached log still shows
            self.s.rpc_guard(exc)

    def _nav_points(self) -> list[tuple[datetime, Decimal]]:
        if self.s.client is None:
            return []
        rows = self.s.journal.index_events(self.s.client.chain_id, EVENT_SOURCE,
                                           kinds=["nav"], newest_first=False)
        # A NAV of 0 is not a price: v2's first refresh runs before the seed deposit, when
        # the only supply is the vault's own permanent share unit and it holds nothing.
        return [(r.timestamp, Decimal(r.payload["usdc"])) for r in rows
                if r.timestamp and r.payload.get("usdc") and Decimal(r.payload["usdc"]) > 0]

    def nav_history(self) -> list[tuple[datetime, Decimal]]:
        """NAV per share over (chain) time, from the vault's NavUpdated events, ending at
        the current NAV (the lens's live value at the head block, appended when newer)."""
        self._sync_quietly()
        points = self._nav_points()
        snap = self._live_snapshot()
        if snap is not None and snap.total_supply:
            now = datetime.fromtimestamp(snap.timestamp, UTC)
            if not points or points[-1][0] < now:
                points.append((now, snap.nav_per_share))
            elif points[-1][0] == now:
                points[-1] = (now, snap.nav_per_share)
        return points

    def _live_snapshot(self) -> Any:
        """The lens read of the last moment (the index screen's, reused for 2 s), or a
        fresh one; None offline (the chart then ends at the last cached event)."""
        if self.s.client is None:
            return None
        snap = self.s.last_snapshot
        if snap is not None and time.monotonic() - self.s.last_snapshot_at <= SNAPSHOT_REUSE_S:
            return snap
        try:
            return self.s.snapshot(self.s.active_address())
        except WalletError as exc:
            self.s.rpc_guard(exc)
            return None

    def nav_backtest(self) -> NavBacktest | None:
        """The methodology's backtest before the vault's first NAV (for 1Y and All),
        scaled to join it; None without market history or before the first NAV."""
        points = self._nav_points()
        if not points:
            self._sync_quietly()
            points = self._nav_points()
        if not points:
            return None
        return nav_backtest(points[0][0], points[0][1], self._clock())

    def index_events(self, limit: int = 200) -> list[IndexEvent]:
        """The index's transactions log: rebalances, regime switches, fee changes, trades."""
        self._sync_quietly()
        if self.s.client is None:
            return []
        rows = self.s.journal.index_events(self.s.client.chain_id, EVENT_SOURCE,
                                           kinds=LOG_KINDS, limit=limit)
        out = []
        legs = self._legs_by_tx() if any(r.kind == "rebalance" for r in rows) else {}
        for r in rows:
            p = r.payload
            summary = p.get("summary", r.kind)
            if r.kind == "rebalance" and legs.get(r.tx_hash):
                summary = f"{summary} ({legs[r.tx_hash]})"
            out.append(IndexEvent(
                block_number=r.block_number, tx_hash=r.tx_hash, log_index=r.log_index,
                kind=r.kind, summary=summary, timestamp=r.timestamp,
                account=p.get("account"),
                usdc=Decimal(p["usdc"]) if p.get("usdc") else None,
                shares=Decimal(p["shares"]) if p.get("shares") else None))
        return out

    def _legs_by_tx(self) -> dict[str, str]:
        """Each rebalance batch's legs ("sold BTC, ETH; bought SOL") from the vault's
        ``SwapExecuted`` events, by transaction; symbols from the last lens read (a token
        no longer in the index keeps its short address)."""
        assert self.s.client is not None
        rows = self.s.journal.index_events(self.s.client.chain_id, EVENT_SOURCE,
                                           kinds=["rebalance_leg"], limit=5000)
        snap = self.s.last_snapshot
        names = {} if snap is None else {c.token[:10]: c.symbol for c in snap.constituents}
        usdc = "" if snap is None else snap.usdc[:10]
        sold: dict[str, list[str]] = {}
        bought: dict[str, list[str]] = {}
        for r in rows:
            text = r.payload.get("summary", "")
            try:  # "Rebalance leg: <amount> of <tokenIn>… for <amount> of <tokenOut>… ..."
                token_in = text.split(" of ")[1].split("…")[0]
                token_out = text.split(" of ")[2].split("…")[0]
            except IndexError:
                continue
            if token_out == usdc:
                sold.setdefault(r.tx_hash, []).append(names.get(token_in, token_in))
            else:
                bought.setdefault(r.tx_hash, []).append(names.get(token_out, token_out))
        out = {}
        for tx in set(sold) | set(bought):
            parts = []
            if sold.get(tx):
                parts.append("sold " + ", ".join(sorted(sold[tx])))
            if bought.get(tx):
                parts.append("bought " + ", ".join(sorted(bought[tx])))
            out[tx] = "; ".join(parts)
        return out

    def regime_history(self) -> RegimeHistory | None:
        """The gauge's score over time, from the same engine and data source as the gauge
        (the devnet's market clock, else the market feed); None without data."""
        clock = self._clock()
        if clock is None:
            feed = self._feed_started()
            result = feed.regime() if feed is not None else None
            if result is None:
                return None
            st = feed.status()
            last = f", last close {st.last_close:%d %b %Y}" if st.last_close else ""
            return RegimeHistory.from_result(result, f"daily market caps from {st.source}"
                                                     f"{last}")
        source = ("daily closes of " + Path(clock.history_csv).name if clock.history_csv
                  else "the devnet's simulated market")
        return RegimeHistory.from_result(clock.regime(), source)

    def performance(self) -> PerformanceReport | None:
        """Performance table: the vault's NAV per share (NavUpdated events and the live
        value, by chain day), the NAV chart's own backtest before the vault's first day
        (labelled), and BTC and the same top 100 always invested from the same market data
        as that backtest. None before the vault has a NAV."""
        nav = self.nav_history()
        if not nav:
            return None
        backtest = self.nav_backtest()
        live = daily_closes(nav)
        before = daily_closes(backtest.points) if backtest is not None else []
        feed = self.feed() if self._clock() is None else None
        feed_day = feed.status().last_close if feed is not None else None
        key = (tuple(live[-1:]), len(live), backtest.source if backtest else None,
               len(before), feed is not None and feed.enabled, feed_day)
        if self._perf_cache is not None and self._perf_cache[0] == key:
            return self._perf_cache[1]
        index, live_start = splice(before, live)
        # The feed's benchmarks cover the live days too (the research data ends in 2025).
        bench = (feed.benchmarks() if feed is not None else {}) or \
            benchmark_series(nav[0][0], self._clock())
        report = performance_report(index, live_start=live_start, benchmarks=bench,
                                    source=backtest.label if backtest else "")
        self._perf_cache = (key, report)
        return report

    def strategy(self) -> StrategyInfo:
        """The methodology in words, with the thresholds the engine actually uses, the
        regime's history and the performance table."""
        from ..index.rules import DEFAULT_RULES as R

        regime = performance = None
        notes = []
        feed = self.feed() if self._clock() is None else None
        market_note = feed.status().note if feed is not None else ""
        try:
            regime = self.regime_history()
        except (WalletError, IndexDataError, OSError) as exc:
            notes.append(f"The regime history cannot be computed: {exc}")
        else:
            if regime is None:
                notes.append(market_note or "No regime history on this network: the gauge "
                             "and its history need a market data source.")
        try:
            performance = self.performance()
        except (WalletError, IndexDataError, OSError) as exc:
            notes.append(f"The performance table cannot be computed: {exc}")
        else:
            if performance is None:
                notes.append("No performance yet: the vault has published no NAV.")
        unavailable = " ".join(notes)
        return StrategyInfo(
            regime=regime, performance=performance, unavailable=unavailable,
            market_note=market_note,
            title="TM Global 100: the rules",
            paragraphs=[
                "The index holds the 100 largest crypto assets by market cap while the "
                "market regime is bullish, and 100% USDC while it is bearish.",
                "Stablecoins, wrapped and bridged copies, liquid-staking tokens, tokenized "
                "gold and funds are never eligible; neither is an asset trading under "
                "1,000,000 USD a day.",
                "Weights follow market caps, capped at 25% per asset; the excess goes to the "
                "others in proportion. Weights are whole basis points summing to 100%.",
                "The regime compares the total market cap with its 200-day average. It "
                "turns Bull after 3 daily closes 5% above the average, and Bear after 3 "
                "closes 5% below; a flip triggers an immediate switch.",
                "The index is reconstituted and reweighted every Monday 00:00 UTC. Trades "
                "under 10 bp of drift or under 10 USDC are skipped to save costs.",
            ],
            rules=[
                ("Constituents", str(R.size)),
                ("Weight cap", f"{Decimal(R.cap.numerator) / R.cap.denominator:.0%}"),
                ("Buffer (members stay while ranked)", f"<= {R.buffer_rank}"),
                ("Liquidity floor", f"{R.min_volume_usd or 0:,} USD/day"),
                ("Regime signal", f"{R.sma_days}-day SMA of total market cap"),
                ("Flip threshold", f"±{R.flip_threshold:.0%} for {R.confirm_days} closes"),
                ("Rebalance", "Weekly, Monday 00:00 UTC"),
                ("Drift / minimum trade", f"{R.drift_floor_bps} bp / {R.min_leg_usdc} USDC"),
                ("Buy / sell fee (max)", f"{Decimal(R.buy_fee_bps) / 100}% / "
                 f"{Decimal(R.sell_fee_bps) / 100}% ({Decimal(R.max_fee_bps) / 100}%)"),
            ])


def change_since(points: list[tuple[datetime, Decimal]], now_value: Decimal, now: datetime,
                 span: timedelta) -> Decimal | None:
    """NAV change over ``span`` from the NAV history (None when history is too short)."""
    cutoff = now - span
    older = [v for t, v in points if t <= cutoff]
    if not older or older[-1] == 0:
        return None
    return now_value / older[-1] - 1
