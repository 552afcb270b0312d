"""The Global 100 index engine (METHODOLOGY.md v1), pure Python, no I/O beyond files.

Public API::

    compose(assets, previous=None, *, rules, deny)  -> Composition       # sections 2-4
    screen(assets, *, deny, rules)                  -> Screening          # section 2
    capped_weights(caps, cap) / round_to_bps(w, caps) / weights_bps(caps) # section 4
    series_from_table(rows) / series_from_totals(rows) / load_market_series(path)
    compute_regime(series, rules)                   -> RegimeResult       # section 5
    make_gauge(rho, state) / gauge_score(rho) / gauge_band(score)
    next_rebalance(now) / previous_rebalance(now)                         # section 6
    plan_rebalance(values, cash, targets, regime)   -> RebalancePlan      # section 6
    run_backtest(caps, prices, config)              -> BacktestResult

Every function is deterministic: the same input gives the same output, byte for byte,
whatever the order of the input rows. Money and weights are ``Decimal``/``Fraction``.
"""

from .backtest import BacktestConfig, BacktestResult, NavPoint, run_backtest
from .composition import Composition, Constituent, compose
from .eligibility import (
    DenyEntry,
    DenyList,
    Exclusion,
    Screening,
    default_deny_list,
    is_excluded_category,
    screen,
)
from .errors import IndexDataError
from .history import AssetDay, PriceDay, read_asset_table, read_price_table, read_total_series
from .inputs import MarketAsset, loads_exact, parse_asset, parse_assets
from .rebalance import RebalancePlan, SkippedLeg, TradeLeg, plan_rebalance
from .regime import (
    Flip,
    MarketPoint,
    RegimeHistory,
    RegimePoint,
    RegimeResult,
    compute_regime,
    gauge_band,
    gauge_score,
    load_market_series,
    make_gauge,
    regime_from_csv,
    series_from_table,
    series_from_totals,
)
from .rules import BPS, DEFAULT_RULES, IndexRules
from .schedule import close_time, is_rebalance_time, next_rebalance, previous_rebalance
from .selection import RankedAsset, rank_eligible, select
from .weights import capped_weights, round_to_bps, weights_bps

__all__ = [
    "BPS", "DEFAULT_RULES", "AssetDay", "BacktestConfig", "BacktestResult", "Composition",
    "Constituent", "DenyEntry", "DenyList", "Exclusion", "Flip", "IndexDataError", "IndexRules",
    "MarketAsset", "MarketPoint", "NavPoint", "PriceDay", "RankedAsset", "RebalancePlan",
    "RegimeHistory", "RegimePoint", "RegimeResult", "Screening", "SkippedLeg", "TradeLeg",
    "capped_weights",
    "close_time", "compose", "compute_regime", "default_deny_list", "gauge_band",
    "gauge_score", "is_excluded_category", "is_rebalance_time", "load_market_series",
    "loads_exact", "make_gauge", "next_rebalance", "parse_asset", "parse_assets",
    "plan_rebalance", "previous_rebalance", "rank_eligible", "read_asset_table",
    "read_price_table", "read_total_series", "regime_from_csv", "round_to_bps", "run_backtest",
    "screen", "select", "series_from_table", "series_from_totals", "weights_bps",
]
