"""The index operator: reweighting, rebalancing and regime switches on the vault.

The operator turns the index engine's decisions (:mod:`wallet_app.index`) into vault
transactions: target weights from :func:`compose`, a trade list from
:func:`plan_rebalance`, executed with :meth:`IndexVault.rebalance` in batches small enough
for any block (sells first, so that they fund the buys). The vault itself enforces each
leg's minimum output from oracle prices and the batch's slippage budget.

On the devnet the operator key is account 2 of Anvil's public test mnemonic, never the
user's: derived locally (:mod:`wallet_app.devnet.keys`), each transaction is signed here
and sent with ``eth_sendRawTransaction`` (:class:`~wallet_app.devnet.tx_batch.TxBatch`);
the node's accounts are never asked to sign, so a node without unlocked accounts runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from web3 import Web3

from .chain.provider import RpcCallError
from .chain.simulate import revert_data_from_error
from .devnet import artifacts
from .devnet.deploy import Deployment, TxBatch
from .errors import WalletError
from .index import DEFAULT_RULES, RebalancePlan, compose, plan_rebalance
from .index.inputs import MarketAsset
from .models import Regime
from .vault import PRICE_DECIMALS, VaultClient, VaultSnapshot, to_decimal

log = logging.getLogger(__name__)

#: Legs per rebalance transaction: ~150k gas each, so a batch stays near 3M gas, far
#: below the 30M block limit of public chains.
DEFAULT_BATCH = 20
DEFAULT_SLIPPAGE_BPS = 100
MAX_UINT = 2**256 - 1
LEG_GAS = 220_000
#: A Monday rebalance deadline: a few minutes of chain time.
DEADLINE_S = 600


class OperatorError(WalletError):
    """A devnet operator action (rebalance, regime switch) would fail on-chain."""

    exit_code = 40


@dataclass
class RebalanceReport:
    regime: Regime
    legs: int = 0
    sells: int = 0
    buys: int = 0
    transactions: int = 0
    gas_used: int = 0
    turnover_usdc: Decimal = Decimal(0)
    skipped: list[str] = field(default_factory=list)
    targets_changed: bool = False


class Operator:
    """Executes the methodology on one devnet deployment."""

    def __init__(self, w3: Web3, deployment: Deployment, vault: VaultClient) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.vault = vault
        self.address = deployment.roles["operator"]
        self._contract = w3.eth.contract(address=deployment.vault,
                                         abi=artifacts.load("IndexVault").abi)

    # ------------------------------------------------------------------ targets

    def targets_from_prices(self, prices: dict[str, Decimal],
                            caps_at_anchor: dict[str, Decimal],
                            anchor_prices: dict[str, Decimal]) -> dict[str, int]:
        """Target weights from market caps moved with prices (supply held constant).

        The universe is the deployed constituents (the devnet has no other markets), so
        the buffer rule keeps all of them and the result is a reweighting.
        """
        assets = []
        for t in self.deployment.tokens:
            cap0, p0 = caps_at_anchor[t.symbol], anchor_prices[t.symbol]
            p = prices.get(t.symbol, p0)
            cap = cap0 * p / p0
            assets.append(MarketAsset(id=t.symbol.lower(), symbol=t.symbol, name=t.name,
                                      current_price=p, market_cap=cap,
                                      total_volume=max(cap / 20, Decimal(10_000_000))))
        comp = compose(assets, previous=[t.symbol.lower() for t in self.deployment.tokens])
        weights = {c.symbol: c.weight_bps for c in comp.constituents}
        return {t.symbol: weights.get(t.symbol, 0) for t in self.deployment.tokens}

    def set_targets(self, weights: dict[str, int]) -> bool:
        """Write target weights (constituent order) when they differ from the chain's."""
        snap = self.vault.snapshot()
        current = {c.symbol: c.target_bps for c in snap.constituents}
        ordered = [int(weights.get(c.symbol, 0)) for c in snap.constituents]
        if all(current[c.symbol] == w for c, w in zip(snap.constituents, ordered, strict=True)):
            return False
        tx = TxBatch(self.w3)
        tx.send("setTargetWeights", self.address, self.deployment.vault,
                self._contract.encode_abi("setTargetWeights", [ordered]),
                200_000 + 15_000 * len(ordered))
        tx.wait()
        return True

    # ------------------------------------------------------------------ execution

    def refresh_nav(self) -> None:
        tx = TxBatch(self.w3)
        tx.send("updateNav", self.address, self.deployment.vault,
                self._contract.encode_abi("updateNav", []),
                300_000 + 60_000 * len(self.deployment.tokens))
        tx.wait()

    def strike(self, *, not_before: int = 0) -> dict:
        """The keeper's NAV strike. Sells are paid from cash: when the pending sells are
        worth more than the free cash plus the pending buys, the operator first raises
        the difference by selling a pro-rata slice of every holding (a rebalance, within
        the vault's slippage and loss budget), so that the strike settles them."""
        from .devnet.deploy import strike

        snap = self.vault.snapshot()
        if snap.pending_sell_shares:
            sell_value = snap.pending_sell_shares * snap.share_price // 10**18
            buys_net = snap.pending_buy_assets * (10_000 - snap.buy_fee_bps) // 10_000
            short = sell_value - snap.cash - buys_net
            if short > 0:
                self.raise_cash(short * 103 // 100 + 10**snap.usdc_decimals, snap)
        return dict(strike(self.w3, self.deployment, not_before=not_before))

    def raise_cash(self, usdc: int, snap: VaultSnapshot | None = None,
                   slippage_bps: int = DEFAULT_SLIPPAGE_BPS) -> int:
        """Sell about ``usdc`` (base units) of holdings pro rata; returns the legs sent."""
        snap = snap or self.vault.snapshot()
        if snap.live_holdings_value <= 0:
            return 0
        frac = Decimal(min(usdc, snap.live_holdings_value)) / Decimal(snap.live_holdings_value)
        dust = 10 ** snap.usdc_decimals // 100
        legs = []
        for c in snap.constituents:
            if c.balance and c.value * frac >= dust:
                amount = min(c.balance, int((Decimal(c.balance) * frac).to_integral_value()))
                legs.append((c.token, False, amount, 0))
        report = RebalanceReport(regime=snap.regime)
        self._execute("sell", legs, slippage_bps, DEFAULT_BATCH, report, None)
        return len(legs)

    def nav_age(self, now: int) -> tuple[int, int]:
        """The NAV cache's age at chain time ``now`` and the keeper's strike interval (s):
        v2 has no NAV age limit for trading (requests are priced at a strike), the keeper
        keeps the displayed NAV fresh on the advertised strike cadence."""
        fn = self._contract.functions
        return now - int(fn.navUpdatedAt().call()), int(fn.strikeInterval().call())

    def strike_if_due(self) -> bool:
        """Strike when any request is waiting (the devnet keeper's tick); True if it did."""
        snap = self.vault.snapshot()
        if not (snap.pending_buy_assets or snap.pending_sell_shares) or snap.paused:
            return False
        self.strike()
        return True

    def set_regime(self, regime: Regime) -> bool:
        snap = self.vault.snapshot()
        if snap.regime is regime:
            return False
        tx = TxBatch(self.w3)
        tx.send("setRegime", self.address, self.deployment.vault,
                self._contract.encode_abi("setRegime", [1 if regime is Regime.BEAR else 0]),
                120_000)
        tx.wait()
        return True

    def plan(self, snap: VaultSnapshot) -> RebalancePlan:
        values = {c.symbol: to_decimal(c.value, snap.usdc_decimals)
                  for c in snap.constituents}
        targets = {c.symbol: c.target_bps for c in snap.constituents}
        prices = {c.symbol: to_decimal(c.price18, PRICE_DECIMALS) for c in snap.constituents}
        return plan_rebalance(values, to_decimal(snap.cash, snap.usdc_decimals), targets,
                              snap.regime, prices=prices)

    def rebalance(self, *, slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
                  batch_size: int = DEFAULT_BATCH,
                  progress: Callable[[str], None] | None = None) -> RebalanceReport:
        """Bring the vault to its targets (or to 100% USDC in Bear) in batches."""
        self.refresh_nav()
        snap = self.vault.snapshot()
        plan = self.plan(snap)
        report = RebalanceReport(regime=snap.regime, turnover_usdc=plan.turnover_usdc,
                                 skipped=[f"{s.asset_id}: {s.reason}" for s in plan.skipped])
        sells = self._sell_legs(plan, snap)
        self._execute("sell", sells, slippage_bps, batch_size, report, progress)
        if sells:
            # Sells land below their plan value (pool fee, price impact): plan the buys
            # again on what the vault really holds now, and never spend more than its cash.
            self.refresh_nav()
            snap = self.vault.snapshot()
            plan = self.plan(snap)
        buys = self._buy_legs(plan, snap)
        self._execute("buy", buys, slippage_bps, batch_size, report, progress)
        report.sells, report.buys = len(sells), len(buys)
        report.legs = len(sells) + len(buys)
        if report.legs:
            self.refresh_nav()
        log.info("rebalance: %s legs in %s txs", report.legs, report.transactions)
        return report

    def _sell_legs(self, plan: RebalancePlan, snap: VaultSnapshot) -> list[tuple]:
        by_symbol = {c.symbol: c for c in snap.constituents}
        legs = []
        for leg in plan.sells:
            c = by_symbol[leg.asset_id]
            if leg.full_exit:
                amount = MAX_UINT
            else:
                price = to_decimal(c.price18, PRICE_DECIMALS)
                amount = min(c.balance, int((leg.usdc / price).scaleb(c.decimals)
                                            .to_integral_value(rounding=ROUND_DOWN)))
            if amount:
                legs.append((c.token, False, amount, 0))
        return legs

    def _buy_legs(self, plan: RebalancePlan, snap: VaultSnapshot) -> list[tuple]:
        by_symbol = {c.symbol: c for c in snap.constituents}
        cash, legs = snap.cash, []
        for leg in plan.buys:
            amount = min(int(leg.usdc.scaleb(snap.usdc_decimals)), cash)
            if amount < int(DEFAULT_RULES.min_leg_usdc.scaleb(snap.usdc_decimals)):
                continue
            cash -= amount
            legs.append((by_symbol[leg.asset_id].token, True, amount, 0))
        return legs

    def _execute(self, side: str, legs: list[tuple], slippage_bps: int, batch_size: int,
                 report: RebalanceReport, progress: Callable[[str], None] | None) -> None:
        for i in range(0, len(legs), batch_size):
            batch = legs[i:i + batch_size]
            if progress:
                progress(f"Rebalance: {side} legs {i + 1}-{i + len(batch)} of {len(legs)}")
            deadline = self.w3.eth.get_block("latest")["timestamp"] + DEADLINE_S
            self._preflight(batch, slippage_bps, deadline)
            tx = TxBatch(self.w3)
            tx.send(f"rebalance {side} {i}", self.address, self.deployment.vault,
                    self._contract.encode_abi("rebalance", [batch, slippage_bps, deadline]),
                    300_000 + LEG_GAS * len(batch))
            receipt = tx.wait()[0]
            report.gas_used += int(receipt["gasUsed"])
            report.transactions += 1

    def _preflight(self, batch: list[tuple[str, bool, int, int]], slippage_bps: int,
                   deadline: int) -> None:
        """Simulate a batch first so a revert comes back as the vault's decoded reason."""
        data = self._contract.encode_abi("rebalance", [batch, slippage_bps, deadline])
        try:
            self.vault.client.rpc_raw("eth_call", {"from": self.address,
                                                   "to": self.deployment.vault,
                                                   "data": data}, "latest")
        except RpcCallError as exc:
            reason = VaultClient.revert_decoder().decode(
                revert_data_from_error(exc.data)).message
            raise OperatorError(f"The rebalance batch would revert: {reason}") from None

    def switch_regime(self, regime: Regime, *, slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
                      progress: Callable[[str], None] | None = None) -> RebalanceReport:
        """Out-of-cycle switch: Bear sells everything to USDC, Bull buys the targets back."""
        changed = self.set_regime(regime)
        if progress:
            progress(f"Regime set to {regime.value}" if changed else
                     f"Regime already {regime.value}")
        return self.rebalance(slippage_bps=slippage_bps, progress=progress)
