"""SAMPLE DATA for screenshots, benchmarks and GUI tests. Never real data.

Builds a plausible 100-constituent TM Global 100 state deterministically (a fixed seed),
so screenshots and tests are reproducible without a node or a network. The symbols and
names are well-known public asset names; every number (market caps, prices, balances,
changes, NAV history) is synthetic: a Zipf-like cap curve, the methodology's 25% cap and
largest-remainder rounding to basis points, and a seeded random walk. Nothing here is a
market snapshot and nothing in the app may read it as one.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from wallet_app.models import Gauge, Holding, IndexState, Regime

# (symbol, name) pairs: well-known non-stable, non-wrapped assets, in a plausible order.
_ASSETS: tuple[tuple[str, str], ...] = (
    ("BTC", "Bitcoin"), ("ETH", "Ethereum"), ("XRP", "XRP"), ("BNB", "BNB"),
    ("SOL", "Solana"), ("TRX", "TRON"), ("DOGE", "Dogecoin"), ("ADA", "Cardano"),
    ("HYPE", "Hyperliquid"), ("LINK", "Chainlink"), ("BCH", "Bitcoin Cash"),
    ("XLM", "Stellar"), ("ZEC", "Zcash"), ("LTC", "Litecoin"), ("XMR", "Monero"),
    ("AVAX", "Avalanche"), ("HBAR", "Hedera"), ("SUI", "Sui"), ("SHIB", "Shiba Inu"),
    ("TON", "Toncoin"), ("DOT", "Polkadot"), ("UNI", "Uniswap"), ("CRO", "Cronos"),
    ("MNT", "Mantle"), ("TAO", "Bittensor"), ("AAVE", "Aave"), ("NEAR", "NEAR Protocol"),
    ("ENA", "Ethena"), ("ICP", "Internet Computer"), ("ETC", "Ethereum Classic"),
    ("PEPE", "Pepe"), ("APT", "Aptos"), ("ONDO", "Ondo"), ("POL", "Polygon"),
    ("WLD", "Worldcoin"), ("ARB", "Arbitrum"), ("ALGO", "Algorand"), ("KAS", "Kaspa"),
    ("ATOM", "Cosmos Hub"), ("FIL", "Filecoin"), ("VET", "VeChain"), ("RENDER", "Render"),
    ("SEI", "Sei"), ("QNT", "Quant"), ("JUP", "Jupiter"), ("BONK", "Bonk"),
    ("OP", "Optimism"), ("FET", "Artificial Superintelligence Alliance"),
    ("TIA", "Celestia"), ("IMX", "Immutable"), ("INJ", "Injective"), ("STX", "Stacks"),
    ("XDC", "XDC Network"), ("GRT", "The Graph"), ("FLR", "Flare"),
    ("PENGU", "Pudgy Penguins"), ("CRV", "Curve DAO"), ("LDO", "Lido DAO"),
    ("IP", "Story"), ("KAIA", "Kaia"), ("PYTH", "Pyth Network"), ("CAKE", "PancakeSwap"),
    ("SAND", "The Sandbox"), ("THETA", "Theta Network"), ("GALA", "Gala"),
    ("JASMY", "JasmyCoin"), ("FLOKI", "Floki"), ("IOTA", "IOTA"), ("XTZ", "Tezos"),
    ("ENS", "Ethereum Name Service"), ("MANA", "Decentraland"), ("PENDLE", "Pendle"),
    ("RAY", "Raydium"), ("HNT", "Helium"), ("WIF", "dogwifhat"), ("NEO", "Neo"),
    ("EGLD", "MultiversX"), ("CFX", "Conflux"), ("AXS", "Axie Infinity"), ("CHZ", "Chiliz"),
    ("ZK", "ZKsync"), ("STRK", "Starknet"), ("AR", "Arweave"), ("BTT", "BitTorrent"),
    ("MINA", "Mina"), ("COMP", "Compound"), ("SNX", "Synthetix"), ("RUNE", "THORChain"),
    ("KAVA", "Kava"), ("DYDX", "dYdX"), ("APE", "ApeCoin"), ("1INCH", "1inch"),
    ("ZRO", "LayerZero"), ("EIGEN", "EigenLayer"), ("MORPHO", "Morpho"), ("W", "Wormhole"),
    ("JTO", "Jito"), ("GNO", "Gnosis"), ("TWT", "Trust Wallet Token"),
    ("BAT", "Basic Attention Token"),
)
assert len(_ASSETS) == 100  # noqa: S101 - a broken sample list should fail loudly

SAMPLE_AS_OF = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
SAMPLE_NEXT_REBALANCE = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # the next Monday
_CAP = Decimal("0.25")


def _weights_bps(caps: list[Decimal]) -> list[int]:
    """Methodology section 4 in miniature: cap at 25%, largest remainder to 10,000 bp."""
    capped: set[int] = set()
    total = sum(caps)
    w = [c / total for c in caps]
    while True:
        over = {i for i, x in enumerate(w) if i not in capped and x > _CAP}
        if not over:
            break
        capped |= over
        free = sum(c for i, c in enumerate(caps) if i not in capped)
        rest = 1 - _CAP * len(capped)
        w = [_CAP if i in capped else c / free * rest for i, c in enumerate(caps)]
    raw = [x * 10_000 for x in w]
    floors = [int(x) for x in raw]
    short = 10_000 - sum(floors)
    by_rem = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), -caps[i], i))
    for i in by_rem[:short]:
        floors[i] += 1
    for i, b in enumerate(floors):
        if b == 0:
            floors[i] = 1
            floors[max(range(len(floors)), key=lambda j: floors[j])] -= 1
    return floors


# Rough round-number prices for a few famous assets so screenshots look plausible; the
# rest are drawn at random. Illustrative only.
_ROUGH_PRICES = {
    "BTC": "96421.37", "ETH": "3412.85", "XRP": "2.214", "BNB": "912.40", "SOL": "152.31",
    "TRX": "0.2917", "DOGE": "0.1702", "ADA": "0.5123", "LINK": "15.42", "SHIB": "0.00001021",
    "PEPE": "0.000006412", "BONK": "0.00001377", "FLOKI": "0.00007012", "BTT": "0.0000006301",
}


def _d(value: float, places: int) -> Decimal:
    """Sample numbers are generated with floats and frozen to Decimal right here."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places))


def sample_holdings(seed: int = 100, total_value: Decimal = Decimal("2458317.42")) -> list[Holding]:
    """100 synthetic constituents: target weights capped at 25%, current weights drifted."""
    rng = random.Random(seed)
    caps = sorted(
        (_d(2.1e12 / (rank**1.6) * rng.uniform(0.85, 1.15), 0) for rank in range(1, 101)),
        reverse=True,
    )
    targets = _weights_bps(caps)
    # Current weights: targets drifted by the week's moves, renormalised to 10,000 bp.
    drifted = [max(1, round(t * rng.uniform(0.93, 1.07))) for t in targets]
    scale = Decimal(10_000) / sum(drifted)
    current = [max(1, int(Decimal(x) * scale)) for x in drifted]
    current[0] += 10_000 - sum(current)
    holdings = []
    for i, ((symbol, name), target, weight) in enumerate(
        zip(_ASSETS, targets, current, strict=True)
    ):
        price = Decimal(_ROUGH_PRICES.get(symbol, "0")) or _d(10 ** rng.uniform(-1.3, 2.5), 10)
        price = price.quantize(Decimal(1).scaleb(-max(2, 4 - 1 - price.adjusted())))
        value = (total_value * weight / 10_000).quantize(Decimal("0.01"))
        decimals = (18, 8, 6)[i % 3]
        balance = (value / price).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
        change = _d(max(-0.18, min(0.18, rng.gauss(0.006, 0.04))), 4)
        holdings.append(
            Holding(
                symbol=symbol,
                name=name,
                token=f"0x{rng.getrandbits(160):040x}",
                decimals=decimals,
                balance=balance,
                price_usd=price,
                value_usd=value,
                target_bps=target,
                weight_bps=weight,
                change_24h=change,
            )
        )
    return holdings


def sample_gauge(score: Decimal = Decimal("71.9")) -> Gauge:
    """A gauge reading; the band follows METHODOLOGY section 5 (boundary -> higher band)."""
    rho = (score - 50) / 250
    bands = ((80, "Strong bull"), (60, "Bull"), (40, "Neutral"), (20, "Bear"), (0, "Strong bear"))
    band = next(name for low, name in bands if score >= low)
    return Gauge(rho=rho, score=score, band=band, state=Regime.BULL if score >= 50 else Regime.BEAR)


def sample_state(regime: Regime = Regime.BULL, seed: int = 100) -> IndexState:
    """A full IndexState: Bull holds the 100 sample constituents, Bear one USDC line."""
    total = Decimal("2458317.42")
    nav = Decimal("1.283471")
    if regime is Regime.BULL:
        holdings = sample_holdings(seed, total)
        gauge = sample_gauge(Decimal("71.9"))
        cash = Decimal("12480.55")
        change_24h, change_7d = Decimal("0.0231"), Decimal("-0.0412")
    else:
        holdings = [
            Holding(
                symbol="USDC", name="USD Coin (cash)", token="", decimals=6, balance=total,
                price_usd=Decimal("1"), value_usd=total, target_bps=10_000, weight_bps=10_000,
                change_24h=Decimal("0"),
            )
        ]
        gauge = sample_gauge(Decimal("27.4"))
        cash = total
        change_24h, change_7d = Decimal("0.0001"), Decimal("-0.0003")
    return IndexState(
        name="TM Global 100",
        share_symbol="G100",
        vault="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        nav_per_share=nav,
        total_supply=(total / nav).quantize(Decimal("0.000001")),
        total_value_usd=total,
        cash_usdc=cash,
        holdings=holdings,
        regime=regime,
        gauge=gauge,
        buy_fee_bps=25,
        sell_fee_bps=25,
        max_fee_bps=100,
        fee_recipient="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        paused=False,
        block_number=1_204_331,
        as_of=SAMPLE_AS_OF - timedelta(minutes=2),
        change_24h=change_24h,
        change_7d=change_7d,
        next_rebalance=SAMPLE_NEXT_REBALANCE,
    )


def sample_nav_history(
    days: int = 730, end: datetime = SAMPLE_AS_OF, end_nav: Decimal = Decimal("1.283471"),
    seed: int = 7,
) -> list[tuple[datetime, Decimal]]:
    """Daily NAV per share (UTC midnight) ending at ``end_nav``: a seeded random walk with
    a regime-like drift, rescaled so the last point is exactly ``end_nav``."""
    rng = random.Random(seed)
    level = 1.0
    raw = []
    for i in range(days):
        drift = 0.0015 if (i // 120) % 3 != 2 else -0.0012
        level *= 1.0 + rng.gauss(drift, 0.022)
        raw.append(level)
    factor = float(end_nav) / raw[-1]
    start = end.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    out = [(start + timedelta(days=i), _d(v * factor, 6)) for i, v in enumerate(raw)]
    out[-1] = (out[-1][0], end_nav)
    return out


def sample_regime_and_performance(seed: int = 7, days: int = 1100) -> tuple[object, object]:
    """A SAMPLE regime history and performance table from a seeded synthetic market.

    The market is a random walk with alternating bull and bear drifts; the regime and the
    figures are computed by the real engine (``wallet_app.index``) on it, so the sample has
    the shapes of real output (flips, bands, backtest before the vault's first day).
    """
    from datetime import date

    from wallet_app.index.performance import performance_report, splice
    from wallet_app.index.regime import MarketPoint, RegimeHistory, compute_regime

    rng = random.Random(seed)
    start = date(2023, 11, 25)
    level, market, btc = 1.0, [], []
    b = 1.0
    drift = 0.003
    for k in range(days):
        if k % 170 == 0:
            drift = -drift
        r = drift + rng.gauss(0, 0.03)
        level *= 1 + r
        b *= 1 + 0.8 * r + rng.gauss(0, 0.015)
        market.append((start + timedelta(days=k), Decimal(repr(round(level, 8))) * 10**12))
        btc.append((start + timedelta(days=k), Decimal(repr(round(b * 40_000, 2)))))
    result = compute_regime([MarketPoint(d, v) for d, v in market])
    history = RegimeHistory.from_result(result, "SAMPLE DATA (synthetic market)")
    states = {p.day: p.state for p in result.points}
    nav, without = Decimal(1), []
    index = []
    prev = None
    for d, v in market:
        if d not in states:
            prev = v
            continue
        if prev is not None and states[d] is Regime.BULL:
            nav = nav * v / prev
        index.append((d, nav))
        without.append((d, v / market[0][1]))
        prev = v
    live_from = index[-140][0]
    live = [(d, v / index[-140][1]) for d, v in index[-140:]]
    joined, live_start = splice(index, live)
    report = performance_report(joined, live_start=live_start, benchmarks={
        "BTC": [(d, v) for d, v in btc if d >= joined[0][0]],
        "Top 100, always invested": without})
    assert live_start == live_from
    return history, report
