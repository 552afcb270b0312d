// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {IUniswapV2Router02} from "./interfaces/IUniswapV2.sol";
import {IndexBook} from "./IndexBook.sol";
import {IndexVaultStorage} from "./IndexVaultStorage.sol";
import {IndexVaultRequests} from "./IndexVaultRequests.sol";
import {IndexVaultOperator} from "./IndexVaultOperator.sol";
import {IndexVaultExits} from "./IndexVaultExits.sol";

/// @title IndexVault v2: the Global 100 index as a forward-priced ERC-4626 vault over USDC
/// @notice Shares ("G100") are bought and sold by **request** (ERC-7540 style): a request is
///         made before its price is known and settled by the keeper's next {strike}, which
///         re-reads every oracle price (deviation-checked), computes one NAV and settles every
///         eligible request at it. The shares or the USDC land in the requester's address in
///         the strike; a request that would settle below its minimum, or after its deadline,
///         is refunded in the strike instead. Synchronous ERC-4626 buys and sells exist only
///         while NAV is exact (no holdings: all cash, e.g. the Bear regime). {redeemInKind}
///         always works: paused or not, no oracle, and a token whose transfer fails stays
///         claimable instead of blocking the exit.
/// @dev Roles: `owner` is an OpenZeppelin `TimelockController` (every setter that can move
///      value or custody waits for its delay); `operator` rebalances within a rolling loss
///      budget and sets weights and the regime; `keeper` strikes; `guardian` pauses at once.
///      See contracts/README.md for the exact mechanics and the residual risks.
///      The code is split into abstract modules (all state in {IndexVaultStorage}):
///      {IndexVaultPricing} (NAV, oracle refresh, ERC-4626 surface), {IndexVaultRequests}
///      (requests and the strike), {IndexVaultOperator} (rebalance, loss budget, weights,
///      regime), {IndexVaultExits} (in kind, claims). This contract adds the constructor and
///      what the timelocked owner and the guardian set.
contract IndexVault is IndexVaultRequests, IndexVaultOperator, IndexVaultExits {
    using SafeERC20 for IERC20;
    using IndexBook for IndexBook.Book;

    // ------------------------------------------------------------------ types

    /// @notice The roles {setRole} can replace.
    enum Role {
        Operator,
        Keeper,
        Guardian,
        FeeRecipient
    }

    /// @notice The tunable limits (see {setLimits}).
    struct Limits {
        uint16 maxRebalanceSlippageBps;
        uint16 lossBudgetBps;
        uint32 rebalanceCooldown;
        uint16 maxPriceDeviationBps;
        uint32 minRequestAge;
        uint32 strikeInterval;
    }

    // -------------------------------------------------------------- constants

    /// @notice Immutable maximum of the buy fee: 1%.
    uint16 public constant MAX_BUY_FEE_BPS = 100;
    /// @notice Immutable maximum of the sell fee: 1%.
    uint16 public constant MAX_SELL_FEE_BPS = 100;
    /// @notice Upper bound of the timing parameters (cut-off, cooldown, strike interval, grace).
    uint32 public constant MAX_TIMING = 1 days;

    // ----------------------------------------------------------------- events

    /// @notice Fees changed.
    event FeesSet(uint16 buyFeeBps, uint16 sellFeeBps);
    /// @notice A role changed hands (also emitted for each role at deployment).
    event RoleSet(Role indexed role, address indexed previous, address indexed current);
    /// @notice The limits changed (also emitted at deployment).
    event LimitsSet(Limits limits);
    /// @notice The sequencer-uptime feed changed (zero address: none).
    event SequencerFeedSet(address indexed feed, uint32 gracePeriod);

    // ----------------------------------------------------------------- errors

    /// @notice A fee above its immutable maximum was requested.
    error FeeTooHigh(uint256 feeBps, uint256 maxBps);
    /// @notice The owner is a timelock and is never renounced.
    error RenounceDisabled();

    // The book's {IndexBook} declarations raised on this module's paths, declared again so that
    // they are part of the vault's ABI: the library runs in the vault's context, so they are
    // logged by (and revert from) the vault.

    /// @notice A constituent was added.
    event ConstituentAdded(address indexed token, address indexed feed, uint32 heartbeat, uint8 decimals);
    /// @notice A constituent was removed; `balance` and `cachedValue` are what it still held.
    event ConstituentRemoved(address indexed token, uint256 balance, uint256 cachedValue, bool writtenOff);
    /// @notice A constituent's feed or heartbeat changed.
    event FeedSet(address indexed token, address indexed feed, uint32 heartbeat);
    /// @notice See {IndexBook}.
    error UnknownConstituent(address token);
    /// @notice See {IndexBook}.
    error DuplicateConstituent(address token);
    /// @notice See {IndexBook}.
    error TooManyConstituents();
    /// @notice See {IndexBook}.
    error ConstituentNotEmpty(address token);
    /// @notice See {IndexBook}.
    error UnsupportedFeedDecimals(uint8 decimals);
    /// @notice See {IndexBook}.
    error ZeroAddressArg();

    // ------------------------------------------------------------- constructor

    /// @notice Deploys the vault. `owner_` should be a `TimelockController`; the keeper starts
    ///         as the operator. Mints one share unit to the vault itself, never redeemable, so
    ///         the escrow balance slot stays warm (flat sell-request gas).
    /// @param usdc_ The asset (USDC).
    /// @param router_ The Uniswap V2 Router02.
    /// @param name_ Share name, e.g. "TM Global 100".
    /// @param symbol_ Share symbol, e.g. "G100".
    /// @param owner_ Owner (the timelock).
    /// @param operator_ Operator (rebalances) and first keeper (strikes).
    /// @param guardian_ Guardian (pauses).
    /// @param feeRecipient_ Receives fees.
    /// @param buyFeeBps_ Initial buy fee (<= 100).
    /// @param sellFeeBps_ Initial sell fee (<= 100).
    constructor(
        IERC20 usdc_,
        IUniswapV2Router02 router_,
        string memory name_,
        string memory symbol_,
        address owner_,
        address operator_,
        address guardian_,
        address feeRecipient_,
        uint16 buyFeeBps_,
        uint16 sellFeeBps_
    )
        ERC20(name_, symbol_)
        ERC4626(usdc_)
        Ownable(owner_)
        IndexVaultStorage(usdc_, router_, operator_, guardian_, feeRecipient_)
    {
        operator = operator_;
        keeper = operator_;
        guardian = guardian_;
        feeRecipient = feeRecipient_;
        _setFees(buyFeeBps_, sellFeeBps_);
        _buyQueue = Queue({nextSeq: 1, baseSeq: 1, head: 0, pending: 0, minAge: 0});
        _sellQueue = Queue({nextSeq: 1, baseSeq: 1, head: 0, pending: 0, minAge: 0});
        _setLimits(
            Limits({
                maxRebalanceSlippageBps: 100,
                lossBudgetBps: 50,
                rebalanceCooldown: 300,
                maxPriceDeviationBps: 2_500,
                minRequestAge: 300,
                strikeInterval: 3_600
            })
        );
        _book.navUpdatedAt = uint64(block.timestamp);
        _mint(address(this), 1);
        usdc_.forceApprove(address(router_), type(uint256).max);
        emit RoleSet(Role.Operator, address(0), operator_);
        emit RoleSet(Role.Keeper, address(0), operator_);
        emit RoleSet(Role.Guardian, address(0), guardian_);
        emit RoleSet(Role.FeeRecipient, address(0), feeRecipient_);
    }

    // ======================================================== guardian / owner

    /// @notice Pauses buy requests, synchronous buys, strikes and rebalances at once (guardian
    ///         or owner). Sell requests, cancels, synchronous redeems and in-kind exits keep working.
    function pause() external {
        _requireGuardianOrOwner();
        _pause();
    }

    /// @notice Resumes (guardian or owner).
    function unpause() external {
        _requireGuardianOrOwner();
        _unpause();
    }

    /// @notice Disabled: the vault always has its timelock owner.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceDisabled();
    }

    /// @notice Sets both fees; each at most 1% (the immutable maxima).
    function setFees(uint16 newBuyFeeBps, uint16 newSellFeeBps) external onlyOwner {
        _setFees(newBuyFeeBps, newSellFeeBps);
    }

    /// @notice Replaces the holder of `role` (operator, keeper, guardian or fee recipient).
    function setRole(Role role, address account) external onlyOwner {
        _nonZero(account);
        address previous;
        if (role == Role.Operator) (previous, operator) = (operator, account);
        else if (role == Role.Keeper) (previous, keeper) = (keeper, account);
        else if (role == Role.Guardian) (previous, guardian) = (guardian, account);
        else (previous, feeRecipient) = (feeRecipient, account);
        emit RoleSet(role, previous, account);
    }

    /// @notice Sets the operator's, the oracle's and the queue's limits at once: per-leg
    ///         slippage (<= 10%), rolling daily loss budget (<= 2% of NAV), rebalance cooldown,
    ///         price deviation band (1 bp .. 50%), cut-off and advertised strike cadence (<= 1 day).
    function setLimits(Limits calldata l) external onlyOwner {
        _inRange(l.maxRebalanceSlippageBps, MAX_SLIPPAGE_BPS);
        _inRange(l.lossBudgetBps, MAX_LOSS_BUDGET_BPS);
        _inRange(l.rebalanceCooldown, MAX_TIMING);
        _inRange(l.maxPriceDeviationBps, MAX_DEVIATION_LIMIT_BPS);
        if (l.maxPriceDeviationBps == 0) revert LimitOutOfRange(0, MAX_DEVIATION_LIMIT_BPS);
        _inRange(l.minRequestAge, MAX_TIMING);
        _inRange(l.strikeInterval, MAX_TIMING);
        _setLimits(l);
    }

    /// @notice Sets the L2 sequencer-uptime feed and its grace period (zero address: no check).
    function setSequencerFeed(address feed, uint32 gracePeriod) external onlyOwner {
        _inRange(gracePeriod, MAX_TIMING);
        sequencerFeed = feed;
        sequencerGracePeriod = gracePeriod;
        emit SequencerFeedSet(feed, gracePeriod);
    }

    /// @notice Adds constituents with their feeds and heartbeats (target weight 0 until set).
    ///         Also approves the router to pull each token for swaps.
    function addConstituents(address[] calldata tokens, address[] calldata feeds, uint32[] calldata heartbeats)
        external
        onlyOwner
    {
        _book.add(tokens, feeds, heartbeats, asset(), address(router));
    }

    /// @notice Removes a constituent with no target weight whose cached value is at most dust
    ///         (1 USDC): a donated wei cannot block a removal. What is left stays in the vault,
    ///         and amounts owed to in-kind redeemers stay claimable.
    function removeConstituent(address token) external onlyOwner {
        _book.remove(token, false, _removalDust, address(router));
    }

    /// @notice Removes a constituent with no target weight whatever it is worth: the way out for a
    ///         token that can no longer be sold or priced. Its value leaves the NAV (holders could
    ///         take it in kind during the timelock's delay); owed amounts stay claimable.
    function writeOffConstituent(address token) external onlyOwner {
        _book.remove(token, true, _removalDust, address(router));
    }

    /// @notice Replaces a constituent's feed and heartbeat. The cached price stays the anchor of
    ///         the deviation check (re-anchor with {setLimits} and {updateNav} in the
    ///         same timelock batch if the new feed differs more than the band).
    function setFeed(address token, address feed, uint32 heartbeat) external onlyOwner {
        _book.setFeed(token, feed, heartbeat);
    }

    // ============================================================== internals

    function _requireGuardianOrOwner() internal view {
        if (msg.sender != guardian && msg.sender != owner()) revert Unauthorized(msg.sender);
    }

    function _inRange(uint256 value, uint256 maxValue) internal pure {
        if (value > maxValue) revert LimitOutOfRange(value, maxValue);
    }

    function _setLimits(Limits memory l) internal {
        maxRebalanceSlippageBps = l.maxRebalanceSlippageBps;
        _limits.lossBudgetBps = l.lossBudgetBps;
        _limits.cooldown = l.rebalanceCooldown;
        maxPriceDeviationBps = l.maxPriceDeviationBps;
        _buyQueue.minAge = l.minRequestAge;
        _sellQueue.minAge = l.minRequestAge;
        strikeInterval = l.strikeInterval;
        emit LimitsSet(l);
    }

    function _setFees(uint16 newBuy, uint16 newSell) internal {
        if (newBuy > MAX_BUY_FEE_BPS) revert FeeTooHigh(newBuy, MAX_BUY_FEE_BPS);
        if (newSell > MAX_SELL_FEE_BPS) revert FeeTooHigh(newSell, MAX_SELL_FEE_BPS);
        buyFeeBps = newBuy;
        sellFeeBps = newSell;
        emit FeesSet(newBuy, newSell);
    }
}
