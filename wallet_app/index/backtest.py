"""Backtest: the index's NAV through history under the full methodology.

Each daily close, in this order:

1. holdings are marked to that day's close (a missing price keeps the last known one);
2. the regime is read at that close (section 5);
3. on the first day, on a flip, or on a weekly rebalance close (the close dated Sunday,
   final at Monday 00:00 UTC, section 6) the portfolio is traded: Bear sells everything to
   USDC; Bull composes the index from that day's data (:func:`~.composition.compose`, with
   the previous composition for the buffer rule) and trades towards it with
   :func:`~.rebalance.plan_rebalance` (10 bp drift and 10 USDC floors). Weekly rebalances do
   nothing while Bear: the money is already in USDC;
4. NAV = USDC + sum(quantity x close).

The investor pays the buy fee (0.25%) on the way in and the sell fee (0.25%) on the way
out (section 7); ``trade_cost_bps`` optionally charges each traded leg (DEX fee and
slippage; 0 by default, so the figures isolate the methodology).

Universe on a day: assets with both a market cap (per-asset table) and a close (price
table), ids = lowercased tickers (the tables have no ids). The 1M USD liquidity floor is
off by default in backtests: the volume column of a candle file is one venue's volume (in
base units), not the market-wide 24h volume the rule is about, and applying it to a single
venue makes assets blink in and out of the index (on the data in ``../shared`` it nearly
triples turnover). ``apply_volume_floor=True`` applies it to volume x close anyway.
Without a price table, market caps stand in for prices (an asset's return is its market
cap's return, which ignores supply changes).

Money (quantities, cash, NAV, fees) is ``Decimal`` at 40 digits. The *statistics* use
floats where a square root or a fractional power is needed (annualised volatility, CAGR):
they are descriptive numbers, never money, and Python floats are IEEE-754 on every
platform. Max drawdown, total return and turnover are ``Decimal``.

Choices: the backtest starts on the first day the regime is defined (day 200 of the
series) or at ``config.start`` if later, so the regime and no-regime variants cover the same
days; volatility is the sample standard deviation of daily NAV returns times sqrt(365)
(crypto trades every day); turnover is the sum over trades of (buys + sells) / 2 / NAV,
also given per year.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Context, Decimal, localcontext
from typing import Any

from ..models import Regime
from .composition import compose
from .eligibility import DenyList, default_deny_list
from .history import AssetDay, PriceDay
from .inputs import MarketAsset
from .rebalance import plan_rebalance
from .regime import Flip, compute_regime, series_from_table
from .rules import BPS, DEFAULT_RULES, IndexRules
from .schedule import is_rebalance_close

_CTX = Context(prec=40)


@dataclass(frozen=True)
class BacktestConfig:
    """Parameters of a backtest run."""

    initial_usdc: Decimal = Decimal(10_000)
    trade_cost_bps: int = 0
    use_regime: bool = True
    apply_volume_floor: bool = False
    start: date | None = None
    end: date | None = None
    rules: IndexRules = DEFAULT_RULES


@dataclass(frozen=True)
class NavPoint:
    day: date
    nav: Decimal
    state: Regime
    invested: Decimal  # value held in tokens (not USDC)
    holdings: int  # number of assets held


@dataclass(frozen=True)
class BacktestResult:
    points: tuple[NavPoint, ...]
    flips: tuple[Flip, ...]
    rebalances: int
    trades: int
    initial_usdc: Decimal
    final_nav: Decimal  # before the exit fee
    final_value: Decimal  # after the exit fee
    total_return: Decimal
    cagr: float
    volatility: float
    max_drawdown: Decimal
    turnover: Decimal
    turnover_per_year: Decimal
    fees_usdc: Decimal
    trade_costs_usdc: Decimal
    price_source: str
    use_regime: bool
    config: BacktestConfig = field(repr=False, default_factory=BacktestConfig)

    @property
    def start(self) -> date | None:
        return self.points[0].day if self.points else None

    @property
    def end(self) -> date | None:
        return self.points[-1].day if self.points else None

    def summary(self) -> dict[str, Any]:
        cents = Decimal("0.01")
        pct = Decimal("0.0001")
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "days": len(self.points),
            "use_regime": self.use_regime,
            "volume_floor": self.config.apply_volume_floor,
            "price_source": self.price_source,
            "initial_usdc": str(self.initial_usdc),
            "final_nav": str(self.final_nav.quantize(cents)),
            "final_value_after_exit_fee": str(self.final_value.quantize(cents)),
            "total_return": str(self.total_return.quantize(pct)),
            "cagr": round(self.cagr, 6),
            "volatility_annualised": round(self.volatility, 6),
            "max_drawdown": str(self.max_drawdown.quantize(pct)),
            "turnover": str(self.turnover.quantize(pct)),
            "turnover_per_year": str(self.turnover_per_year.quantize(pct)),
            "rebalances": self.rebalances,
            "trades": self.trades,
            "regime_switches": len(self.flips),
            "fees_usdc": str(self.fees_usdc.quantize(cents)),
            "trade_costs_usdc": str(self.trade_costs_usdc.quantize(cents)),
            "buy_fee_bps": self.config.rules.buy_fee_bps,
            "sell_fee_bps": self.config.rules.sell_fee_bps,
            "trade_cost_bps": self.config.trade_cost_bps,
        }

    def to_dict(self) -> dict[str, Any]:
        cents = Decimal("0.01")
        return {
            "summary": self.summary(),
            "flips": [{"date": f.day.isoformat(), "from": f.from_state.value,
                       "to": f.to_state.value} for f in self.flips],
            "nav": [[p.day.isoformat(), str(p.nav.quantize(cents)), p.state.value]
                    for p in self.points],
        }


def _universe(day_caps: dict[str, Decimal], day_px: dict[str, tuple[Decimal, Decimal | None]]
              ) -> list[MarketAsset]:
    out = []
    for sym, cap in day_caps.items():
        px = day_px.get(sym)
        if px is None:
            continue
        out.append(MarketAsset(id=sym.lower(), symbol=sym, name=sym, current_price=px[0],
                               market_cap=cap, total_volume=px[1]))
    return out


def run_backtest(caps: Sequence[AssetDay], prices: Sequence[PriceDay] | None = None,
                 config: BacktestConfig | None = None, deny: DenyList | None = None
                 ) -> BacktestResult:
    """Simulate the index over a per-asset market-cap table (and optional closes)."""
    config = config or BacktestConfig()
    rules = config.rules
    deny = deny if deny is not None else default_deny_list()
    regime = compute_regime(series_from_table(caps, deny), rules)

    caps_by_day: dict[date, dict[str, Decimal]] = {}
    for r in caps:
        caps_by_day.setdefault(r.day, {})[r.symbol] = r.market_cap
    px_by_day: dict[date, dict[str, tuple[Decimal, Decimal | None]]] = {}
    if prices is not None:
        for p in prices:
            px_by_day.setdefault(p.day, {})[p.symbol] = (p.close, p.volume_usd)
        source = "close prices"
    else:
        for d, day in caps_by_day.items():
            px_by_day[d] = {s: (m, None) for s, m in day.items()}
        source = "market caps (no price table)"
    floor_on = config.apply_volume_floor and prices is not None
    compose_rules = rules if floor_on else replace(rules, min_volume_usd=None)

    first = regime.points[0].day if regime.points else None
    if first is None and not config.use_regime and caps_by_day:
        first = min(caps_by_day)  # no signal needed when the regime switch is off
    days = [d for d in sorted(caps_by_day)
            if first is not None and d >= first
            and (config.start is None or d >= config.start)
            and (config.end is None or d <= config.end)]

    fee_in = config.initial_usdc * rules.buy_fee_bps / BPS
    cash = config.initial_usdc - fee_in
    cost_rate = Decimal(config.trade_cost_bps) / BPS
    qty: dict[str, Decimal] = {}
    last_px: dict[str, Decimal] = {}
    prev_ids: tuple[str, ...] | None = None
    state: Regime | None = None
    points: list[NavPoint] = []
    rebalances = trades = 0
    turnover = trade_costs = Decimal(0)

    with localcontext(_CTX):
        for d in days:
            for sym, (px, _vol) in px_by_day.get(d, {}).items():
                last_px[sym.lower()] = px
            st = regime.state_on(d) if config.use_regime else Regime.BULL
            if st is None:
                continue
            values = {k: q * last_px[k] for k, q in qty.items() if q > 0}
            nav_before = cash + sum(values.values(), Decimal(0))
            due = state is None or st is not state or (
                st is Regime.BULL and is_rebalance_close(d))
            state = st
            if due:
                targets: dict[str, int] = {}
                if st is Regime.BULL:
                    universe = _universe(caps_by_day.get(d, {}), px_by_day.get(d, {}))
                    comp = compose(universe, prev_ids, rules=compose_rules, deny=deny, day=d)
                    targets, prev_ids = comp.weights(), comp.ids
                plan = plan_rebalance(values, cash, targets, st, rules=rules)
                for leg in plan.sells:
                    px = last_px[leg.asset_id]
                    if leg.full_exit:
                        proceeds = qty[leg.asset_id] * px
                        qty[leg.asset_id] = Decimal(0)
                    else:
                        proceeds = leg.usdc
                        qty[leg.asset_id] -= leg.usdc / px
                    cost = proceeds * cost_rate
                    cash += proceeds - cost
                    trade_costs += cost
                # Sell-side trading costs leave a little less cash than the plan assumed:
                # scale the buys to the cash there is, never below zero.
                wanted = sum((leg.usdc for leg in plan.buys), Decimal(0))
                fund = min(Decimal(1), cash / wanted) if wanted > 0 else Decimal(1)
                for leg in plan.buys:
                    px = last_px[leg.asset_id]
                    spend = leg.usdc * fund
                    cost = spend * cost_rate
                    qty[leg.asset_id] = qty.get(leg.asset_id, Decimal(0)) + (spend - cost) / px
                    cash -= spend
                    trade_costs += cost
                cash = max(cash, Decimal(0))  # clears a last-digit rounding residue
                if plan.legs:
                    rebalances += 1
                    trades += len(plan.legs)
                    if nav_before > 0:
                        turnover += plan.turnover_usdc / 2 / nav_before
                qty = {k: q for k, q in qty.items() if q > 0}
            invested = sum((q * last_px[k] for k, q in qty.items()), Decimal(0))
            points.append(NavPoint(d, cash + invested, st, invested, len(qty)))

        final_nav = points[-1].nav if points else cash
        fee_out = final_nav * rules.sell_fee_bps / BPS
        final_value = final_nav - fee_out
        total_return = final_value / config.initial_usdc - 1
        peak = Decimal(0)
        mdd = Decimal(0)
        for p in points:
            peak = max(peak, p.nav)
            if peak > 0:
                mdd = max(mdd, 1 - p.nav / peak)
        span_days = (points[-1].day - points[0].day).days if len(points) > 1 else 0
        years = Decimal(span_days) / 365 if span_days else Decimal(0)
        turnover_year = turnover / years if years else Decimal(0)

    navs = [float(p.nav) for p in points]
    rets = [b / a - 1 for a, b in zip(navs, navs[1:], strict=False) if a > 0]
    vol = statistics.stdev(rets) * math.sqrt(365) if len(rets) > 1 else 0.0
    growth = float(final_value / config.initial_usdc)
    cagr = growth ** (365 / span_days) - 1 if span_days and growth > 0 else 0.0
    flips = tuple(f for f in regime.flips if days and days[0] < f.day <= days[-1]) \
        if config.use_regime else ()
    return BacktestResult(
        points=tuple(points), flips=flips, rebalances=rebalances, trades=trades,
        initial_usdc=config.initial_usdc, final_nav=final_nav, final_value=final_value,
        total_return=total_return, cagr=cagr, volatility=vol, max_drawdown=mdd,
        turnover=turnover, turnover_per_year=turnover_year, fees_usdc=fee_in + fee_out,
        trade_costs_usdc=trade_costs, price_source=source, use_regime=config.use_regime,
        config=config,
    )
