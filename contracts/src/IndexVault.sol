// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IAggregatorV3} from "./interfaces/IAggregatorV3.sol";
import {IUniswapV2Router02} from "./interfaces/IUniswapV2.sol";
import {IndexBook} from "./IndexBook.sol";

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
contract IndexVault is ERC4626, Ownable2Step, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using SafeCast for uint256;
    using IndexBook for IndexBook.Book;

    // ------------------------------------------------------------------ types

    /// @notice The market regime: Bull holds the constituents, Bear holds 100% USDC.
    enum Regime {
        Bull,
        Bear
    }

    /// @notice Why a request was refunded at a strike.
    enum RefundReason {
        BelowMinimum,
        DeadlinePassed
    }

    /// @notice A pending buy or sell request (two storage slots, reused between strikes).
    /// @param owner Who made it; receives the shares, the USDC or the refund.
    /// @param requestedAt Block timestamp of the request (its cut-off is this + `minRequestAge`).
    /// @param deadline Latest strike timestamp the owner accepts; later strikes refund it.
    /// @param status 1 = pending; 0 once cancelled (the slots are cleared). Settled requests are
    ///        behind the queue head.
    /// @param amount USDC paid in (buy, fee included) or shares escrowed (sell).
    /// @param minOut Fewest shares (buy) or least USDC after the fee (sell) accepted.
    struct Request {
        address owner;
        uint40 requestedAt;
        uint40 deadline;
        uint8 status;
        uint128 amount;
        uint128 minOut;
    }

    /// @dev A FIFO queue in one slot. Request `seq` lives at slot index `seq - baseSeq`; pending
    ///      sequence numbers are `[baseSeq + head, nextSeq)`. When a strike drains the queue the
    ///      indices restart at 0, so the next requests rewrite warm, non-zero slots. `minAge`
    ///      is the cut-off ({minRequestAge}), kept in both queues' slots so that a cancel, which
    ///      reads its queue anyway, pays no extra storage read for it.
    struct Queue {
        uint40 nextSeq;
        uint40 baseSeq;
        uint32 head;
        uint112 pending;
        uint32 minAge;
    }

    /// @dev The rebalance guard in one slot.
    struct OperatorLimits {
        uint128 lossUsed;
        uint40 lossUpdatedAt;
        uint40 lastRebalanceAt;
        uint32 cooldown;
        uint16 lossBudgetBps;
    }

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

    /// @dev Working state of one strike (memory, to keep the stack small).
    struct StrikeCtx {
        uint256 navAssets;
        uint256 navSupply;
        uint256 buyFeeBps;
        uint256 sellFeeBps;
        uint256 left;
        uint256 cashLeft;
        uint256 fees;
        uint256 burn;
        uint256 settled;
        uint256 refunded;
        uint256 minAge;
    }

    // -------------------------------------------------------------- constants

    /// @notice Basis-point denominator.
    uint256 public constant BPS = 10_000;
    /// @notice Immutable maximum of the buy fee: 1%.
    uint16 public constant MAX_BUY_FEE_BPS = 100;
    /// @notice Immutable maximum of the sell fee: 1%.
    uint16 public constant MAX_SELL_FEE_BPS = 100;
    /// @notice Upper bound of the per-leg rebalance slippage: 10%.
    uint16 public constant MAX_SLIPPAGE_BPS = 1_000;
    /// @notice Upper bound of the operator's rolling daily loss budget: 2% of NAV.
    uint16 public constant MAX_LOSS_BUDGET_BPS = 200;
    /// @notice Upper bound of the price deviation a refresh may accept: 50%.
    uint16 public constant MAX_DEVIATION_LIMIT_BPS = 5_000;
    /// @notice Upper bound of the timing parameters (cut-off, cooldown, strike interval, grace).
    uint32 public constant MAX_TIMING = 1 days;
    /// @notice Longest deadline a request may carry, counted from the request.
    uint256 public constant MAX_REQUEST_TTL = 30 days;
    /// @notice The window over which the loss budget refills.
    uint256 public constant LOSS_WINDOW = 1 days;
    /// @dev Share decimals = USDC decimals + 12 = 18; defeats the donation/inflation attack.
    uint8 private constant DECIMALS_OFFSET = 12;
    uint8 private constant PENDING = 1;

    // -------------------------------------------------------------- immutables

    /// @notice The Uniswap V2 Router02 every swap goes through.
    IUniswapV2Router02 public immutable router;
    /// @dev 10 ** (18 - USDC decimals): converts `token * price18 / 10**tokenDecimals` to USDC units.
    uint256 private immutable _priceToAssetScale;
    /// @dev Rebalance legs worth less than this (USDC units, 0.001 USDC) revert.
    uint256 private immutable _dustValue;
    /// @dev A constituent worth at most this (1 USDC) at its cached price may be removed.
    uint256 private immutable _removalDust;

    // ----------------------------------------------------------------- storage

    /// @notice Buy fee in basis points of the USDC paid.
    uint16 public buyFeeBps;
    /// @notice Sell fee in basis points of the USDC value redeemed.
    uint16 public sellFeeBps;
    /// @notice Largest per-constituent price move a refresh accepts against the cached price (bps).
    uint16 public maxPriceDeviationBps;
    /// @notice Current regime.
    Regime public regime;

    /// @notice Receives the buy and sell fees in USDC.
    address public feeRecipient;
    /// @notice Per-leg slippage cap of a {rebalance} (bps against oracle value).
    uint16 public maxRebalanceSlippageBps;
    /// @notice The keeper's advertised strike cadence in seconds (informs wallets; not enforced).
    uint32 public strikeInterval;

    /// @notice Executes rebalances, sets target weights and the regime.
    address public operator;
    /// @notice Timestamp of the last {strike}.
    uint64 public lastStrikeAt;
    /// @notice Number of strikes so far (the id of the last one).
    uint32 public strikeCount;

    /// @notice Calls {strike}.
    address public keeper;
    /// @notice May pause and unpause.
    address public guardian;
    /// @notice L2 sequencer-uptime feed (Chainlink format: 0 = up); zero address = none.
    address public sequencerFeed;
    /// @notice Seconds after the sequencer comes back before prices are trusted again.
    uint32 public sequencerGracePeriod;

    OperatorLimits private _limits;
    Queue private _buyQueue;
    Queue private _sellQueue;
    mapping(uint256 slot => Request) private _buys;
    mapping(uint256 slot => Request) private _sells;

    /// @dev USDC owed to accounts whose transfer failed (a blacklisted address), in total.
    uint256 private _claimableTotal;
    mapping(address account => uint256) private _claimable;
    /// @dev Constituents, the oracle cache and in-kind amounts owed ({IndexBook}).
    IndexBook.Book private _book;

    // ------------------------------------------------------------------ events

    /// @notice A buy request was queued; `id` is even (`id >> 1` is its sequence number).
    event BuyRequested(uint256 indexed id, address indexed owner, uint256 assets, uint256 minSharesOut, uint256 deadline);
    /// @notice A sell request was queued; `id` is odd. The shares are escrowed in the vault.
    event SellRequested(uint256 indexed id, address indexed owner, uint256 shares, uint256 minUsdcOut, uint256 deadline);
    /// @notice A request was cancelled by its owner; its USDC or shares went back.
    event RequestCancelled(uint256 indexed id, address indexed owner, uint256 amount);
    /// @notice A buy request settled at strike `strikeId`: `shares` minted to `owner`.
    event BuySettled(
        uint256 indexed id, address indexed owner, uint256 indexed strikeId, uint256 assets, uint256 fee, uint256 shares
    );
    /// @notice A sell request settled at strike `strikeId`: `usdcOut` paid to `owner`.
    event SellSettled(
        uint256 indexed id, address indexed owner, uint256 indexed strikeId, uint256 shares, uint256 fee, uint256 usdcOut
    );
    /// @notice A request was refunded at strike `strikeId` (USDC for a buy, shares for a sell).
    event RequestRefunded(
        uint256 indexed id, address indexed owner, uint256 indexed strikeId, uint256 amount, RefundReason reason
    );
    /// @notice A NAV strike: every price refreshed, eligible requests settled at this NAV.
    event Struck(
        uint256 indexed strikeId,
        uint256 totalAssets,
        uint256 totalSupply,
        uint256 settled,
        uint256 refunded,
        uint256 buysPending,
        uint256 sellsPending
    );
    /// @notice A synchronous trade paid a fee in USDC.
    event FeeCharged(address indexed payer, address indexed recipient, uint256 amount, bool onBuy);
    /// @notice The fees of every request settled at strike `strikeId`, paid once (each request's
    ///         own fee is in its settlement event).
    event StrikeFeesPaid(uint256 indexed strikeId, address indexed recipient, uint256 amount);
    /// @notice A USDC payment failed and is kept for `account` to {claimUsdc}.
    event UsdcClaimable(address indexed account, uint256 amount);
    /// @notice Owed USDC was claimed.
    event UsdcClaimed(address indexed account, uint256 amount);
    /// @notice Owed in-kind tokens were claimed.
    event InKindClaimed(address indexed account, address indexed token, uint256 amount);
    /// @notice Shares were redeemed for a pro-rata slice of cash and every holding.
    event RedeemedInKind(
        address indexed caller,
        address indexed receiver,
        uint256 shares,
        uint256 usdcOut,
        address[] tokens,
        uint256[] amounts
    );
    /// @notice A rebalance batch completed; values in USDC units at oracle prices.
    event Rebalanced(
        address indexed operator, uint256 legs, uint256 valueIn, uint256 valueOut, uint256 lossUsed, uint256 lossBudget
    );
    /// @notice Every price was refreshed (deviation-checked).
    event NavUpdated(uint256 holdingsValue, uint256 cash, uint256 totalSupply, uint256 timestamp);
    // The book's events and errors, declared again so that they are part of this contract's
    // ABI: {IndexBook} runs in the vault's context, so they are logged by (and revert from) the vault.

    /// @notice One rebalance swap (amounts measured as balance changes).
    event SwapExecuted(
        address indexed tokenIn, address indexed tokenOut, uint256 amountIn, uint256 amountOut, uint256 minAmountOut
    );
    /// @notice An in-kind transfer of `token` failed; the amount is kept for {claimInKind}.
    event InKindOwed(address indexed account, address indexed token, uint256 amount);
    /// @notice A constituent was added.
    event ConstituentAdded(address indexed token, address indexed feed, uint32 heartbeat, uint8 decimals);
    /// @notice A constituent was removed; `balance` and `cachedValue` are what it still held.
    event ConstituentRemoved(address indexed token, uint256 balance, uint256 cachedValue, bool writtenOff);
    /// @notice A constituent's feed or heartbeat changed.
    event FeedSet(address indexed token, address indexed feed, uint32 heartbeat);

    /// @notice See {IndexBook}.
    error StalePrice(address token, uint256 updatedAt);
    /// @notice See {IndexBook}.
    error InvalidPrice(address token, int256 answer);
    /// @notice See {IndexBook}.
    error PriceUnavailable(address token);
    /// @notice See {IndexBook}: a refresh outside the band freezes trading.
    error PriceDeviationTooLarge(address token, uint256 cachedPrice, uint256 newPrice);
    /// @notice See {IndexBook}.
    error SlippageExceeded(address tokenIn, uint256 amountOut, uint256 minAmountOut);
    /// @notice See {IndexBook}.
    error UnknownConstituent(address token);
    /// @notice See {IndexBook}.
    error DuplicateConstituent(address token);
    /// @notice See {IndexBook}.
    error TooManyConstituents();
    /// @notice See {IndexBook}.
    error ConstituentNotEmpty(address token);
    /// @notice See {IndexBook}.
    error LegTooSmall(address token, uint256 value);
    /// @notice See {IndexBook}.
    error ExceedsHoldings(address token, uint256 amountIn, uint256 held);
    /// @notice See {IndexBook}.
    error BuyLegInBear();
    /// @notice See {IndexBook}.
    error UnsupportedFeedDecimals(uint8 decimals);
    /// @notice See {IndexBook}.
    error ZeroAddressArg();
    /// @notice See {IndexBook}.
    error ZeroAmountArg();
    /// @notice See {IndexBook}.
    error InsufficientFreeCash(uint256 needed, uint256 cash);

    /// @notice The regime changed.
    event RegimeChanged(Regime previous, Regime current);
    /// @notice Fees changed.
    event FeesSet(uint16 buyFeeBps, uint16 sellFeeBps);
    /// @notice A role changed hands (also emitted for each role at deployment).
    event RoleSet(Role indexed role, address indexed previous, address indexed current);
    /// @notice The limits changed (also emitted at deployment).
    event LimitsSet(Limits limits);
    /// @notice The sequencer-uptime feed changed (zero address: none).
    event SequencerFeedSet(address indexed feed, uint32 gracePeriod);
    /// @notice Target weights were set (in constituent order).
    event TargetWeightsSet(address[] tokens, uint16[] weightsBps);

    // ------------------------------------------------------------------ errors

    /// @notice The caller lacks the role the function needs.
    error Unauthorized(address caller);
    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice An amount argument (or what it buys) was zero.
    error ZeroAmount();
    /// @notice `block.timestamp` is past the deadline (or the deadline is too far out).
    error InvalidDeadline(uint256 deadline, uint256 nowTs);
    /// @notice The id is not a pending request (settled, cancelled or never made).
    error RequestNotPending(uint256 id);
    /// @notice Only the request's owner may cancel it.
    error NotRequestOwner(uint256 id, address caller);
    /// @notice Past its cut-off a request can be cancelled only after its deadline.
    error CancelClosed(uint256 id, uint256 cutoff, uint256 deadline);
    /// @notice Nothing to claim.
    error NothingToClaim();
    /// @notice The L2 sequencer is down, or came back less than the grace period ago.
    error SequencerDown(uint256 startedAt);
    /// @notice A rebalance inside the cooldown of the previous one.
    error RebalanceCooldown(uint256 nextAllowedAt);
    /// @notice A rebalance would lose more against the oracle than the rolling budget has left.
    error LossBudgetExceeded(uint256 loss, uint256 remaining);
    /// @notice A fee above its immutable maximum was requested.
    error FeeTooHigh(uint256 feeBps, uint256 maxBps);
    /// @notice A limit outside its allowed range was requested.
    error LimitOutOfRange(uint256 value, uint256 maxValue);
    /// @notice Array arguments differ in length.
    error LengthMismatch();
    /// @notice Target weights do not sum to 10,000 bps.
    error WeightsSumInvalid(uint256 sum);
    /// @notice More USDC is needed than the free cash (pending buys are not spendable).
    error InsufficientCash(uint256 needed, uint256 cash);
    /// @notice The owner is a timelock and is never renounced.
    error RenounceDisabled();

    // --------------------------------------------------------------- modifiers

    modifier only(address role) {
        if (msg.sender != role) revert Unauthorized(msg.sender);
        _;
    }

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
    ) ERC20(name_, symbol_) ERC4626(usdc_) Ownable(owner_) {
        if (
            address(usdc_) == address(0) || address(router_) == address(0) || operator_ == address(0)
                || guardian_ == address(0) || feeRecipient_ == address(0)
        ) revert ZeroAddress();
        router = router_;
        uint8 assetDecimals = IERC20Metadata(address(usdc_)).decimals();
        _priceToAssetScale = 10 ** (18 - assetDecimals);
        _dustValue = 10 ** assetDecimals / 1000;
        _removalDust = 10 ** assetDecimals;
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

    // ======================================================== ERC-4626 views

    /// @notice Free USDC cash plus the cached holdings value. Never reverts.
    function totalAssets() public view override returns (uint256) {
        return _cash() + _book.holdingsValue;
    }

    /// @notice Free USDC: the vault's balance less pending buys and USDC owed to claimants.
    function cash() external view returns (uint256) {
        return _cash();
    }

    /// @notice The cached value of all holdings (USDC units).
    function holdingsValue() external view returns (uint256) {
        return _book.holdingsValue;
    }

    /// @notice Timestamp of the last full price refresh ({strike} or {updateNav}).
    function navUpdatedAt() external view returns (uint64) {
        return _book.navUpdatedAt;
    }

    /// @notice Whether NAV is exact (no holdings value), so the synchronous ERC-4626 paths are open.
    function instantOpen() public view returns (bool) {
        return _book.holdingsValue == 0;
    }

    /// @notice Unlimited while NAV is exact and not paused, else 0 (use {requestBuy}).
    function maxDeposit(address) public view override returns (uint256) {
        return (paused() || !instantOpen()) ? 0 : type(uint256).max;
    }

    /// @notice Unlimited while NAV is exact and not paused, else 0 (use {requestBuy}).
    function maxMint(address) public view override returns (uint256) {
        return (paused() || !instantOpen()) ? 0 : type(uint256).max;
    }

    /// @notice Shares `owner` can redeem synchronously: 0 unless NAV is exact, then bounded
    ///         by the owner's balance and the free cash.
    function maxRedeem(address owner) public view override returns (uint256) {
        if (!instantOpen()) return 0;
        uint256 fromCash = _convertToShares(_cash(), Math.Rounding.Floor);
        uint256 bal = balanceOf(owner);
        return bal < fromCash ? bal : fromCash;
    }

    /// @notice USDC `owner` can withdraw synchronously (after the fee): 0 unless NAV is exact.
    function maxWithdraw(address owner) public view override returns (uint256) {
        return previewRedeem(maxRedeem(owner));
    }

    /// @notice Shares for `assets` USDC paid, after the buy fee, at the cached NAV (exact while
    ///         {instantOpen}; otherwise an estimate of what a request would get).
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        return _convertToShares(assets - _feeOn(assets, buyFeeBps), Math.Rounding.Floor);
    }

    /// @notice USDC to pay (fee included) to mint exactly `shares` at the cached NAV.
    function previewMint(uint256 shares) public view override returns (uint256) {
        return _grossUp(_convertToAssets(shares, Math.Rounding.Ceil), buyFeeBps);
    }

    /// @notice Shares burned to receive exactly `assets` USDC after the sell fee, at the cached NAV.
    function previewWithdraw(uint256 assets) public view override returns (uint256) {
        return _convertToShares(_grossUp(assets, sellFeeBps), Math.Rounding.Ceil);
    }

    /// @notice USDC received for `shares` after the sell fee, at the cached NAV.
    function previewRedeem(uint256 shares) public view override returns (uint256) {
        uint256 gross = _convertToAssets(shares, Math.Rounding.Floor);
        return gross - _feeOn(gross, sellFeeBps);
    }

    // ============================================= synchronous paths (exact NAV only)

    /// @dev OpenZeppelin's `deposit`/`mint` (bounded by {maxDeposit}/{maxMint}: 0 unless NAV is
    ///      exact and not paused) land here: pull the USDC, forward the buy fee, mint.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares)
        internal
        override
        nonReentrant
    {
        _collect(assets, _feeOn(assets, buyFeeBps));
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    /// @dev OpenZeppelin's `withdraw`/`redeem` (bounded by {maxWithdraw}/{maxRedeem}: 0 unless NAV
    ///      is exact, then by the free cash) land here: burn, pay `assets`, forward the sell fee.
    function _withdraw(address, address receiver, address owner, uint256 assets, uint256 shares)
        internal
        override
        nonReentrant
    {
        _payFromCash(receiver, owner, shares, assets, _grossUp(assets, sellFeeBps) - assets);
    }

    // ================================================================ requests

    /// @notice Requests a buy with `assets` USDC (fee included), settled at the next strike
    ///         after the cut-off. The USDC is pulled now; the shares are minted to the caller at
    ///         the strike, or the USDC is refunded if fewer than `minSharesOut` shares would be
    ///         minted or the strike comes after `deadline`.
    /// @return id The request id (even).
    function requestBuy(uint256 assets, uint256 minSharesOut, uint256 deadline)
        external
        nonReentrant
        returns (uint256 id)
    {
        id = _requestBuy(assets, minSharesOut, deadline);
    }

    /// @notice {requestBuy} with an EIP-2612 permit of USDC for `assets` to this vault, signed
    ///         with the same `deadline`: one signature, one transaction. A permit that fails
    ///         (e.g. front-run and already used) is ignored when the allowance suffices.
    /// @return id The request id (even).
    function requestBuyWithPermit(
        uint256 assets,
        uint256 minSharesOut,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (uint256 id) {
        try IERC20Permit(asset()).permit(msg.sender, address(this), assets, deadline, v, r, s) {} catch {}
        id = _requestBuy(assets, minSharesOut, deadline);
    }

    /// @notice Requests a sell of `shares`, settled at the next strike after the cut-off. The
    ///         shares are escrowed in the vault now; the USDC (after fee) is paid to the caller at
    ///         the strike, or the shares come back if less than `minUsdcOut` would be paid or the
    ///         strike comes after `deadline`. Any size costs the same gas: the seller never swaps.
    ///         Accepted while paused (it waits for the strike).
    /// @return id The request id (odd).
    function requestSell(uint256 shares, uint256 minUsdcOut, uint256 deadline)
        external
        nonReentrant
        returns (uint256 id)
    {
        if (shares == 0) revert ZeroAmount();
        _checkDeadline(deadline);
        _transfer(msg.sender, address(this), shares);
        uint256 seq = _enqueue(_sellQueue, _sells, shares, minUsdcOut, deadline);
        id = (seq << 1) | 1;
        emit SellRequested(id, msg.sender, shares, minUsdcOut, deadline);
    }

    /// @notice Cancels a pending request and returns its USDC or shares to the owner. Allowed
    ///         before the request's cut-off (`requestedAt + minRequestAge`) and after its
    ///         deadline; in between it is committed to the next strike.
    ///         The request's two storage slots are cleared (the EIP-3529 refunds pay for most
    ///         of the cancel's own bookkeeping); a later request that lands on the cleared
    ///         queue slot writes it afresh.
    function cancel(uint256 id) external nonReentrant {
        bool isSell = id & 1 == 1;
        Queue storage q = isSell ? _sellQueue : _buyQueue;
        mapping(uint256 => Request) storage reqs = isSell ? _sells : _buys;
        Request storage r = _pendingAt(q, reqs, id);
        if (r.owner != msg.sender) revert NotRequestOwner(id, msg.sender);
        uint256 cutoff = uint256(r.requestedAt) + q.minAge;
        if (block.timestamp >= cutoff && block.timestamp <= r.deadline) revert CancelClosed(id, cutoff, r.deadline);
        uint256 amount = r.amount;
        delete reqs[(id >> 1) - q.baseSeq];
        // casting is safe because amount is part of the queue's pending total, a uint112
        // forge-lint: disable-next-line(unsafe-typecast)
        q.pending -= uint112(amount);
        emit RequestCancelled(id, msg.sender, amount);
        if (isSell) _transfer(address(this), msg.sender, amount);
        else _payUsdc(msg.sender, amount);
    }

    /// @notice Pays the caller the USDC kept for them after a failed transfer.
    function claimUsdc() external nonReentrant {
        uint256 amount = _claimable[msg.sender];
        if (amount == 0) revert NothingToClaim();
        _claimable[msg.sender] = 0;
        _claimableTotal -= amount;
        emit UsdcClaimed(msg.sender, amount);
        IERC20(asset()).safeTransfer(msg.sender, amount);
    }

    /// @notice Sends the caller the `token` an in-kind exit could not deliver.
    function claimInKind(address token) external nonReentrant {
        uint256 amount = _book.owed[msg.sender][token];
        if (amount == 0) revert NothingToClaim();
        _book.owed[msg.sender][token] = 0;
        _book.owedTotal[token] -= amount;
        emit InKindClaimed(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ================================================================ strike

    /// @notice The NAV strike (keeper only): refreshes every price (sequencer- and
    ///         deviation-checked; any failure reverts, which freezes trading), computes NAV once
    ///         and settles up to `maxRequests` requests at it, buys first (their USDC then pays
    ///         sells), in queue order. Only requests past their cut-off are eligible. A sell that
    ///         the free cash cannot pay stays queued (with everything behind it) until the
    ///         operator raises cash; it is then priced at a later strike.
    /// @return settled Requests settled.
    /// @return refunded Requests refunded.
    function strike(uint256 maxRequests)
        external
        only(keeper)
        nonReentrant
        whenNotPaused
        returns (uint256 settled, uint256 refunded)
    {
        uint256 holdings = _refreshAll();
        StrikeCtx memory ctx;
        uint256 cashBefore = _cash();
        ctx.navAssets = cashBefore + holdings + 1;
        ctx.navSupply = totalSupply() + 10 ** DECIMALS_OFFSET;
        ctx.buyFeeBps = buyFeeBps;
        ctx.sellFeeBps = sellFeeBps;
        ctx.left = maxRequests;
        ctx.cashLeft = cashBefore;
        ctx.minAge = _buyQueue.minAge;
        uint256 strikeId = ++strikeCount;
        lastStrikeAt = uint64(block.timestamp);

        _settleQueue(ctx, strikeId, false);
        _settleQueue(ctx, strikeId, true);
        if (ctx.burn != 0) _burn(address(this), ctx.burn);
        if (ctx.fees != 0) {
            address recipient = feeRecipient;
            emit StrikeFeesPaid(strikeId, recipient, ctx.fees);
            _payUsdc(recipient, ctx.fees);
        }
        settled = ctx.settled;
        refunded = ctx.refunded;
        emit Struck(
            strikeId,
            ctx.navAssets - 1,
            ctx.navSupply - 10 ** DECIMALS_OFFSET,
            settled,
            refunded,
            _queued(_buyQueue),
            _queued(_sellQueue)
        );
    }

    // =============================================================== in kind

    /// @notice Burns the caller's `shares` for the same fraction of the free cash and of every
    ///         holding, sent to `receiver`. Reads no price: works paused, with stale or missing
    ///         feeds. A token whose transfer fails is kept for `receiver` ({claimInKind}) instead
    ///         of reverting. Charges no fee (it is the exit of last resort). Every amount rounds
    ///         down, and no constituent's cached value drops by more than its pro-rata share
    ///         (rounded down), so the NAV per share of the remaining holders never falls.
    /// @return usdcOut USDC sent (or kept claimable).
    /// @return amounts Amount of each constituent, in {getConstituents} order.
    function redeemInKind(uint256 shares, address receiver)
        external
        nonReentrant
        returns (uint256 usdcOut, uint256[] memory amounts)
    {
        if (shares == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        // The fraction taken is `shares / (supply + virtual shares)`, the denominator of
        // {convertToAssets}, rounded down: pro rata on the bare supply would hand the exit the
        // virtual shares' slice and lower the NAV per share of those who stay.
        uint256 supply = totalSupply() + 10 ** DECIMALS_OFFSET;
        usdcOut = _cash().mulDiv(shares, supply);
        _burn(msg.sender, shares);

        address[] memory tokens;
        (tokens, amounts) = _book.payInKind(shares, supply, receiver, _priceToAssetScale);
        emit RedeemedInKind(msg.sender, receiver, shares, usdcOut, tokens, amounts);
        if (usdcOut != 0) _payUsdc(receiver, usdcOut);
    }

    // ============================================================ NAV refresh

    /// @notice Re-reads every feed and balance and rewrites the holdings cache, with the same
    ///         sequencer and deviation checks as a strike (for everyone: no caller is trusted
    ///         to skip them). Settles nothing.
    /// @return holdings The new holdings value (USDC units).
    function updateNav() external nonReentrant returns (uint256 holdings) {
        holdings = _refreshAll();
    }

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

    // ================================================================== views

    /// @notice Cut-off: a request is settled only by a strike at least this many seconds later
    ///         (and never in its own second); it can be cancelled only before then.
    function minRequestAge() external view returns (uint32) {
        return _buyQueue.minAge;
    }

    /// @notice Number of constituents.
    function constituentCount() external view returns (uint256) {
        return _book.list.length;
    }

    /// @notice All constituents as stored (cached prices and values included).
    function getConstituents() external view returns (IndexBook.Constituent[] memory) {
        return _book.list;
    }

    /// @notice The state of one queue: next sequence number, slot base, head slot, and the
    ///         total pending (USDC for buys, shares for sells). Pending ids are
    ///         `(seq << 1) | isSell` for `seq` in `[baseSeq + head, nextSeq)`.
    function queueState(bool isSell)
        external
        view
        returns (uint256 nextSeq, uint256 baseSeq, uint256 head, uint256 pending)
    {
        Queue memory q = isSell ? _sellQueue : _buyQueue;
        return (q.nextSeq, q.baseSeq, q.head, q.pending);
    }

    /// @notice A request by id, and whether it is still pending (settled, refunded and
    ///         cancelled ones are not; their outcome is in the events).
    function requestOf(uint256 id) external view returns (Request memory r, bool pending) {
        bool isSell = id & 1 == 1;
        Queue memory q = isSell ? _sellQueue : _buyQueue;
        uint256 seq = id >> 1;
        if (seq < uint256(q.baseSeq) + q.head || seq >= q.nextSeq) return (r, false);
        r = (isSell ? _sells : _buys)[seq - q.baseSeq];
        pending = r.status == PENDING;
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

    /// @notice USDC kept for `account` after a failed transfer.
    function claimableUsdc(address account) external view returns (uint256) {
        return _claimable[account];
    }

    /// @notice All of `token` the vault keeps for in-kind claimants (not part of the NAV).
    function owedTotal(address token) external view returns (uint256) {
        return _book.owedTotal[token];
    }

    /// @notice `token` kept for `account` after a failed in-kind transfer.
    function owedInKind(address account, address token) external view returns (uint256) {
        return _book.owed[account][token];
    }

    // ============================================================== internals

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    /// @dev Free USDC: balance less pending buys and claimable USDC (saturating: never reverts).
    function _cash() private view returns (uint256) {
        uint256 bal = IERC20(asset()).balanceOf(address(this));
        uint256 reserved = uint256(_buyQueue.pending) + _claimableTotal;
        return bal > reserved ? bal - reserved : 0;
    }

    function _queued(Queue storage q) private view returns (uint256) {
        return uint256(q.nextSeq) - q.baseSeq - q.head;
    }

    function _requireGuardianOrOwner() private view {
        if (msg.sender != guardian && msg.sender != owner()) revert Unauthorized(msg.sender);
    }

    function _nonZero(address a) private pure {
        if (a == address(0)) revert ZeroAddress();
    }

    function _inRange(uint256 value, uint256 maxValue) private pure {
        if (value > maxValue) revert LimitOutOfRange(value, maxValue);
    }

    function _checkDeadline(uint256 deadline) private view {
        if (deadline < block.timestamp || deadline > block.timestamp + MAX_REQUEST_TTL) {
            revert InvalidDeadline(deadline, block.timestamp);
        }
    }

    /// @dev Fee charged on a gross USDC amount, rounded up (in the vault's favour).
    function _feeOn(uint256 gross, uint256 feeBps) private pure returns (uint256) {
        return gross.mulDiv(feeBps, BPS, Math.Rounding.Ceil);
    }

    /// @dev Smallest gross amount whose net (after `feeBps`) is at least `net`.
    function _grossUp(uint256 net, uint256 feeBps) private pure returns (uint256) {
        return net.mulDiv(BPS, BPS - feeBps, Math.Rounding.Ceil);
    }

    function _requestBuy(uint256 assets, uint256 minSharesOut, uint256 deadline) private returns (uint256 id) {
        _requireNotPaused();
        if (assets == 0) revert ZeroAmount();
        _checkDeadline(deadline);
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets);
        uint256 seq = _enqueue(_buyQueue, _buys, assets, minSharesOut, deadline);
        id = seq << 1;
        emit BuyRequested(id, msg.sender, assets, minSharesOut, deadline);
    }

    function _enqueue(
        Queue storage qs,
        mapping(uint256 => Request) storage reqs,
        uint256 amount,
        uint256 minOut,
        uint256 deadline
    ) private returns (uint256 seq) {
        Queue memory q = qs;
        seq = q.nextSeq;
        reqs[seq - q.baseSeq] = Request({
            owner: msg.sender,
            requestedAt: uint40(block.timestamp),
            // casting to 'uint40' is safe because _checkDeadline bounded it by now + 30 days
            // forge-lint: disable-next-line(unsafe-typecast)
            deadline: uint40(deadline),
            status: PENDING,
            amount: amount.toUint128(),
            minOut: minOut.toUint128()
        });
        // casting is safe because the sequence number grows by one per request (2^40, a trillion requests, are out of reach)
        // forge-lint: disable-next-line(unsafe-typecast)
        q.nextSeq = uint40(seq + 1);
        q.pending = (uint256(q.pending) + amount).toUint112();
        qs.nextSeq = q.nextSeq;
        qs.pending = q.pending;
    }

    function _pendingAt(Queue storage q, mapping(uint256 => Request) storage reqs, uint256 id)
        private
        view
        returns (Request storage r)
    {
        uint256 seq = id >> 1;
        uint256 base = q.baseSeq;
        if (seq < base + q.head || seq >= q.nextSeq) revert RequestNotPending(id);
        r = reqs[seq - base];
        if (r.status != PENDING) revert RequestNotPending(id);
    }

    /// @dev Settles one queue from its head: stops at the first request before its cut-off,
    ///      when the request budget is spent, or (sells) at the first one the cash cannot pay.
    function _settleQueue(StrikeCtx memory ctx, uint256 strikeId, bool isSell) private {
        Queue storage qs = isSell ? _sellQueue : _buyQueue;
        mapping(uint256 => Request) storage reqs = isSell ? _sells : _buys;
        Queue memory q = qs;
        uint256 slot = q.head;
        uint256 end = uint256(q.nextSeq) - q.baseSeq;
        uint256 done;
        while (slot < end && ctx.left != 0) {
            Request memory r = reqs[slot];
            if (r.status == PENDING) {
                uint256 reqAt = r.requestedAt;
                if (reqAt + ctx.minAge > block.timestamp || reqAt == block.timestamp) break;
                uint256 id = ((uint256(q.baseSeq) + slot) << 1) | (isSell ? 1 : 0);
                if (isSell) {
                    if (!_settleSell(ctx, strikeId, id, r)) break;
                } else {
                    _settleBuy(ctx, strikeId, id, r);
                }
                done += r.amount;
            }
            --ctx.left;
            ++slot;
        }
        if (slot == end) {
            qs.baseSeq = q.nextSeq;
            qs.head = 0;
        } else {
            // casting is safe because slot < end, a difference of two uint40 sequence numbers within one drained span
            // forge-lint: disable-next-line(unsafe-typecast)
            qs.head = uint32(slot);
        }
        // casting is safe because done sums stored uint128 amounts, at most the queue's pending total
        // forge-lint: disable-next-line(unsafe-typecast)
        if (done != 0) qs.pending = q.pending - uint112(done);
    }

    function _settleBuy(StrikeCtx memory ctx, uint256 strikeId, uint256 id, Request memory r) private {
        uint256 amount = r.amount;
        RefundReason reason = RefundReason.DeadlinePassed;
        if (block.timestamp <= r.deadline) {
            uint256 fee = _feeOn(amount, ctx.buyFeeBps);
            uint256 shares = (amount - fee).mulDiv(ctx.navSupply, ctx.navAssets);
            if (shares != 0 && shares >= r.minOut) {
                ctx.fees += fee;
                ctx.cashLeft += amount - fee;
                ++ctx.settled;
                _mint(r.owner, shares);
                emit BuySettled(id, r.owner, strikeId, amount, fee, shares);
                return;
            }
            reason = RefundReason.BelowMinimum;
        }
        ++ctx.refunded;
        emit RequestRefunded(id, r.owner, strikeId, amount, reason);
        _payUsdc(r.owner, amount);
    }

    /// @dev Returns false (and changes nothing) when the free cash cannot pay this sell.
    function _settleSell(StrikeCtx memory ctx, uint256 strikeId, uint256 id, Request memory r)
        private
        returns (bool)
    {
        uint256 shares = r.amount;
        RefundReason reason = RefundReason.DeadlinePassed;
        if (block.timestamp <= r.deadline) {
            uint256 gross = shares.mulDiv(ctx.navAssets, ctx.navSupply);
            uint256 fee = _feeOn(gross, ctx.sellFeeBps);
            uint256 out = gross - fee;
            if (out != 0 && out >= r.minOut) {
                if (gross > ctx.cashLeft) return false;
                ctx.cashLeft -= gross;
                ctx.fees += fee;
                ctx.burn += shares;
                ++ctx.settled;
                emit SellSettled(id, r.owner, strikeId, shares, fee, out);
                _payUsdc(r.owner, out);
                return true;
            }
            reason = RefundReason.BelowMinimum;
        }
        ++ctx.refunded;
        emit RequestRefunded(id, r.owner, strikeId, shares, reason);
        _transfer(address(this), r.owner, shares);
        return true;
    }

    /// @dev Pays USDC; if the transfer fails (e.g. a blacklisted address) the amount is kept
    ///      for `to` to {claimUsdc}, so one account can never block a strike or an exit.
    function _payUsdc(address to, uint256 amount) private {
        if (!IERC20(asset()).trySafeTransfer(to, amount)) {
            _claimable[to] += amount;
            _claimableTotal += amount;
            emit UsdcClaimable(to, amount);
        }
    }

    /// @dev Pulls `assets` USDC from the caller and forwards `fee` of it to the fee recipient.
    function _collect(uint256 assets, uint256 fee) private {
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets);
        if (fee != 0) {
            address recipient = feeRecipient;
            _payUsdc(recipient, fee);
            emit FeeCharged(msg.sender, recipient, fee, true);
        }
    }

    function _payFromCash(address receiver, address owner, uint256 shares, uint256 assets, uint256 fee) private {
        _nonZero(receiver);
        uint256 available = _cash();
        if (assets + fee > available) revert InsufficientCash(assets + fee, available);
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        _burn(owner, shares);
        _payUsdc(receiver, assets);
        if (fee != 0) {
            address recipient = feeRecipient;
            _payUsdc(recipient, fee);
            emit FeeCharged(owner, recipient, fee, false);
        }
        emit Withdraw(msg.sender, receiver, owner, assets, shares);
    }

    /// @dev Refreshes every price (sequencer- and deviation-checked) and balance; returns holdings.
    function _refreshAll() private returns (uint256 holdings) {
        _requireSequencerUp();
        holdings = _book.refreshAll(maxPriceDeviationBps, _priceToAssetScale);
        emit NavUpdated(holdings, _cash(), totalSupply(), block.timestamp);
    }

    /// @dev The loss used after the linear refill since the last rebalance.
    function _refilled(OperatorLimits memory lim, uint256 budget) private view returns (uint256) {
        uint256 refill = (block.timestamp - lim.lossUpdatedAt).mulDiv(budget, LOSS_WINDOW);
        return lim.lossUsed > refill ? lim.lossUsed - refill : 0;
    }

    /// @dev Reverts unless the sequencer (if configured) is up and past its grace period.
    function _requireSequencerUp() private view {
        address feed = sequencerFeed;
        if (feed == address(0)) return;
        try IAggregatorV3(feed).latestRoundData() returns (uint80, int256 answer, uint256 startedAt, uint256, uint80) {
            if (
                answer != 0 || startedAt == 0 || startedAt > block.timestamp
                    || block.timestamp - startedAt <= sequencerGracePeriod
            ) {
                revert SequencerDown(startedAt);
            }
        } catch {
            revert SequencerDown(0);
        }
    }

    function _setLimits(Limits memory l) private {
        maxRebalanceSlippageBps = l.maxRebalanceSlippageBps;
        _limits.lossBudgetBps = l.lossBudgetBps;
        _limits.cooldown = l.rebalanceCooldown;
        maxPriceDeviationBps = l.maxPriceDeviationBps;
        _buyQueue.minAge = l.minRequestAge;
        _sellQueue.minAge = l.minRequestAge;
        strikeInterval = l.strikeInterval;
        emit LimitsSet(l);
    }

    function _setFees(uint16 newBuy, uint16 newSell) private {
        if (newBuy > MAX_BUY_FEE_BPS) revert FeeTooHigh(newBuy, MAX_BUY_FEE_BPS);
        if (newSell > MAX_SELL_FEE_BPS) revert FeeTooHigh(newSell, MAX_SELL_FEE_BPS);
        buyFeeBps = newBuy;
        sellFeeBps = newSell;
        emit FeesSet(newBuy, newSell);
    }
}
