// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IndexBook} from "./IndexBook.sol";
import {IndexVaultPricing} from "./IndexVaultPricing.sol";

/// @title IndexVaultOperator: the operator's rebalance within a rolling loss budget, weights and regime
/// @notice {rebalance} trades against USDC through the router at most once per cooldown, each
///         leg priced from a fresh, deviation-checked feed and bounded by a slippage cap; the
///         batch's loss against the oracle is charged to a budget of `lossBudgetBps` of NAV
///         that refills linearly over {LOSS_WINDOW}. The operator also sets the target
///         weights and the regime (Bear: sell everything into USDC).
/// @dev Abstract module of {IndexVault}; the guard's slot lives in {IndexVaultStorage}.
abstract contract IndexVaultOperator is IndexVaultPricing {
    using Math for uint256;
    using SafeCast for uint256;
    using IndexBook for IndexBook.Book;

    // -------------------------------------------------------------- constants

    /// @notice Upper bound of the per-leg rebalance slippage: 10%.
    uint16 public constant MAX_SLIPPAGE_BPS = 1_000;
    /// @notice Upper bound of the operator's rolling daily loss budget: 2% of NAV.
    uint16 public constant MAX_LOSS_BUDGET_BPS = 200;
    /// @notice The window over which the loss budget refills.
    uint256 public constant LOSS_WINDOW = 1 days;

    // ----------------------------------------------------------------- events

    /// @notice A rebalance batch completed; values in USDC units at oracle prices.
    event Rebalanced(
        address indexed operator, uint256 legs, uint256 valueIn, uint256 valueOut, uint256 lossUsed, uint256 lossBudget
    );
    /// @notice The regime changed.
    event RegimeChanged(Regime previous, Regime current);
    /// @notice Target weights were set (in constituent order).
    event TargetWeightsSet(address[] tokens, uint16[] weightsBps);

    // ----------------------------------------------------------------- errors

    /// @notice A rebalance inside the cooldown of the previous one.
    error RebalanceCooldown(uint256 nextAllowedAt);
    /// @notice A rebalance would lose more against the oracle than the rolling budget has left.
    error LossBudgetExceeded(uint256 loss, uint256 remaining);
    /// @notice Array arguments differ in length.
    error LengthMismatch();
    /// @notice Target weights do not sum to 10,000 bps.
    error WeightsSumInvalid(uint256 sum);

    // The book's {IndexBook} declarations raised on this module's paths, declared again so that
    // they are part of the vault's ABI: the library runs in the vault's context, so they are
    // logged by (and revert from) the vault.

    /// @notice One rebalance swap (amounts measured as balance changes).
    event SwapExecuted(
        address indexed tokenIn, address indexed tokenOut, uint256 amountIn, uint256 amountOut, uint256 minAmountOut
    );
    /// @notice See {IndexBook}.
    error SlippageExceeded(address tokenIn, uint256 amountOut, uint256 minAmountOut);
    /// @notice See {IndexBook}.
    error LegTooSmall(address token, uint256 value);
    /// @notice See {IndexBook}.
    error ExceedsHoldings(address token, uint256 amountIn, uint256 held);
    /// @notice See {IndexBook}.
    error BuyLegInBear();
    /// @notice See {IndexBook}.
    error ZeroAmountArg();
    /// @notice See {IndexBook}.
    error InsufficientFreeCash(uint256 needed, uint256 cash);

    // ============================================================== operator

    /// @notice Executes trades against USDC through the router, at most one call per
    ///         cooldown. Each leg is priced from a fresh, deviation-checked feed; its minimum
    ///         output is the larger of the operator's `minAmountOut` and the oracle value of the
    ///         input less `slippageBps` (<= `maxRebalanceSlippageBps`). The batch's loss against
    ///         the oracle is charged to a budget of `lossBudgetBps` of NAV that refills linearly
    ///         over {LOSS_WINDOW}; a batch that would overdraw it reverts. Amounts received are
    ///         measured as balance changes (fee-on-transfer tokens are valued at what arrived).
    ///         Buy legs never spend pending buys' USDC; in the Bear regime only sells are allowed.
    /// @return valueIn Oracle value of all inputs (USDC units).
    /// @return valueOut Oracle value of all outputs (USDC units).
    function rebalance(IndexBook.Leg[] calldata legs, uint16 slippageBps, uint256 deadline)
        external
        only(operator)
        nonReentrant
        whenNotPaused
        returns (uint256 valueIn, uint256 valueOut)
    {
        if (block.timestamp > deadline) revert InvalidDeadline(deadline, block.timestamp);
        if (slippageBps > maxRebalanceSlippageBps) revert LimitOutOfRange(slippageBps, maxRebalanceSlippageBps);
        OperatorLimits memory lim = _limits;
        if (lim.lastRebalanceAt != 0 && block.timestamp < uint256(lim.lastRebalanceAt) + lim.cooldown) {
            revert RebalanceCooldown(uint256(lim.lastRebalanceAt) + lim.cooldown);
        }
        _requireSequencerUp();
        uint256 budget = totalAssets().mulDiv(lim.lossBudgetBps, BPS);
        (valueIn, valueOut) = _book.trade(
            legs,
            IndexBook.TradeEnv({
                router: router,
                usdc: asset(),
                bear: regime == Regime.Bear,
                slippageBps: slippageBps,
                freeCash: _cash(),
                maxDev: maxPriceDeviationBps,
                scale: _priceToAssetScale,
                dust: _dustValue
            })
        );
        uint256 used = _refilled(lim, budget);
        uint256 loss = valueIn > valueOut ? valueIn - valueOut : 0;
        if (used + loss > budget) revert LossBudgetExceeded(loss, used < budget ? budget - used : 0);
        used += loss;
        _limits = OperatorLimits({
            lossUsed: used.toUint128(),
            lossUpdatedAt: uint40(block.timestamp),
            lastRebalanceAt: uint40(block.timestamp),
            cooldown: lim.cooldown,
            lossBudgetBps: lim.lossBudgetBps
        });
        emit Rebalanced(msg.sender, legs.length, valueIn, valueOut, used, budget);
    }

    /// @notice Sets the target weights, in {getConstituents} order; they must sum to 10,000.
    function setTargetWeights(uint16[] calldata weightsBps) external only(operator) {
        IndexBook.Constituent[] storage list = _book.list;
        uint256 n = list.length;
        if (weightsBps.length != n) revert LengthMismatch();
        uint256 sum;
        address[] memory tokens = new address[](n);
        for (uint256 i; i < n; ++i) {
            sum += weightsBps[i];
            list[i].targetWeightBps = weightsBps[i];
            tokens[i] = list[i].token;
        }
        if (n != 0 && sum != BPS) revert WeightsSumInvalid(sum);
        emit TargetWeightsSet(tokens, weightsBps);
    }

    /// @notice Switches the regime. Bear means the target is 100% USDC: the operator then sells
    ///         the holdings with {rebalance} over as many transactions as needed.
    function setRegime(Regime newRegime) external only(operator) {
        Regime old = regime;
        regime = newRegime;
        emit RegimeChanged(old, newRegime);
    }

    /// @notice The rolling loss budget: its size now, what is used after the refill, the
    ///         cooldown and when the last rebalance ran.
    function operatorLimits()
        external
        view
        returns (uint256 budget, uint256 used, uint256 lossBudgetBps, uint256 cooldown, uint256 lastRebalanceAt)
    {
        OperatorLimits memory lim = _limits;
        budget = totalAssets().mulDiv(lim.lossBudgetBps, BPS);
        used = _refilled(lim, budget);
        return (budget, used, lim.lossBudgetBps, lim.cooldown, lim.lastRebalanceAt);
    }

    // ============================================================== internals

    /// @dev The loss used after the linear refill since the last rebalance.
    function _refilled(OperatorLimits memory lim, uint256 budget) internal view returns (uint256) {
        uint256 refill = (block.timestamp - lim.lossUpdatedAt).mulDiv(budget, LOSS_WINDOW);
        return lim.lossUsed > refill ? lim.lossUsed - refill : 0;
    }
}
