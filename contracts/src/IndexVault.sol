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

/// @title IndexVault: the Global 100 index as an ERC-4626 vault over USDC
/// @notice Shares ("G100") are issued and redeemed at the oracle-priced NAV:
///         `totalAssets = USDC cash + holdings value`. A buy only moves USDC (it waits as cash
///         until the operator's batched {rebalance} invests it); a sell is paid from cash, and
///         past the cash on hand it liquidates the seller's pro-rata slice of every holding
///         through the Uniswap V2 router. {redeemInKind} always works: paused, stale oracle or not.
///
/// @dev **Cached holdings value (why a buy is flat in N).** Valuing 100 holdings costs 100
///      oracle reads and 100 `balanceOf` calls (~2.5M gas), far beyond a 150k-gas buy. The vault
///      therefore keeps `holdingsValue = sum(cachedValue_i)` where
///      `cachedValue_i = balance_i * cachedPrice_i` (rounded down). The cache is:
///      - refreshed for every constituent by the permissionless {updateNav} (fresh feeds only);
///      - kept exact on every balance change the vault makes itself ({rebalance}, liquidation on
///        a sell past cash, {redeemInKind}): the touched entry is recomputed, and rebalance and
///        liquidation re-price it from the fresh feed they already read.
///      Safety: buys and NAV sells require the cache to be younger than `maxNavAge`
///      (owner-set, never above {MAX_NAV_AGE_LIMIT}), else they revert with {NavStale}; in-kind
///      exits need no price and are never blocked. When `holdingsValue == 0` (all cash, e.g.
///      in the Bear regime) NAV is exact and no freshness is needed. A stale or missing feed
///      cannot be written into the cache, so it stops buys and NAV sells once the cache
///      expires: the prices behind a buy are at most `heartbeat + maxNavAge` old.
///      The residual risk is that a price moves between two refreshes: whoever trades against
///      a cache up to `maxNavAge` old trades at a price that is off by at most that move (on
///      top of the feeds' own deviation threshold). The owner bounds it by choosing `maxNavAge` so that the typical index move in
///      that time stays below the round-trip fee; a keeper refreshes at least that often, and
///      a price jump larger than `maxPriceDeviationBps` cannot be pushed into the cache by an
///      arbitrary caller (only by the operator or owner), so a sudden oracle glitch freezes NAV
///      trading instead of being arbitraged. See contracts/README.md.
///
///      Roles: `owner` (Ownable2Step: fees, recipient, constituents, feeds, limits, roles),
///      `operator` (rebalance, target weights, regime), `guardian` (pause buys; owner unpauses).
///      Fees are in basis points of the USDC amount, capped by constants of 1%.
contract IndexVault is ERC4626, Ownable2Step, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using SafeCast for uint256;

    // ------------------------------------------------------------------ types

    /// @notice The market regime: Bull holds the constituents, Bear holds 100% USDC.
    enum Regime {
        Bull,
        Bear
    }

    /// @notice One constituent as stored (three storage slots).
    /// @param token The ERC-20 held.
    /// @param targetWeightBps Target weight in basis points (set by the operator).
    /// @param decimals The token's decimals (read once when added).
    /// @param feedDecimals The feed's decimals (read once when the feed is set).
    /// @param heartbeat Maximum age of a feed answer, in seconds.
    /// @param feed The Chainlink-style USD price feed of `token`.
    /// @param cachedPrice USD per whole token, 18 decimals, as of the last refresh of this entry.
    /// @param cachedValue `balance * cachedPrice` in USDC base units, as of the last refresh.
    struct Constituent {
        address token;
        uint16 targetWeightBps;
        uint8 decimals;
        uint8 feedDecimals;
        uint32 heartbeat;
        address feed;
        uint128 cachedPrice;
        uint128 cachedValue;
    }

    /// @notice One trade of a {rebalance}.
    /// @param token The constituent traded against USDC.
    /// @param isBuy True: spend `amountIn` USDC on `token`. False: sell `amountIn` of `token`.
    /// @param amountIn Exact input; `type(uint256).max` on a sell means the whole balance.
    /// @param minAmountOut Operator's own floor; the vault also applies its oracle floor.
    struct Leg {
        address token;
        bool isBuy;
        uint256 amountIn;
        uint256 minAmountOut;
    }

    // -------------------------------------------------------------- constants

    /// @notice Basis-point denominator.
    uint256 public constant BPS = 10_000;
    /// @notice Immutable maximum of the buy fee: 1%.
    uint16 public constant MAX_BUY_FEE_BPS = 100;
    /// @notice Immutable maximum of the sell fee: 1%.
    uint16 public constant MAX_SELL_FEE_BPS = 100;
    /// @notice Upper bound of any slippage budget (rebalance or liquidation): 10%.
    uint16 public constant MAX_SLIPPAGE_BPS = 1_000;
    /// @notice Upper bound of `maxNavAge`.
    uint32 public constant MAX_NAV_AGE_LIMIT = 1 days;
    /// @notice Most constituents the vault accepts (bounds every loop).
    uint256 public constant MAX_CONSTITUENTS = 128;
    /// @dev Share decimals = USDC decimals + 12 = 18; defeats the donation/inflation attack.
    uint8 private constant DECIMALS_OFFSET = 12;

    // -------------------------------------------------------------- immutables

    /// @notice The Uniswap V2 Router02 every swap goes through.
    IUniswapV2Router02 public immutable router;
    /// @dev 10 ** (18 - USDC decimals): converts `token * price18 / 10**tokenDecimals` to USDC units.
    uint256 private immutable _priceToAssetScale;
    /// @dev Liquidation legs worth less than this (USDC units, 0.001 USDC) are skipped.
    uint256 private immutable _dustValue;

    // ----------------------------------------------------------------- storage

    /// @dev Sum of `cachedValue` over all constituents (USDC units). Packed with the next four.
    uint128 private _holdingsValue;
    /// @notice Timestamp of the last full refresh ({updateNav}).
    uint64 public navUpdatedAt;
    /// @notice Maximum age of the cache for buys and NAV sells, in seconds.
    uint32 public maxNavAge;
    /// @notice Buy fee in basis points of the USDC paid.
    uint16 public buyFeeBps;
    /// @notice Sell fee in basis points of the USDC value redeemed.
    uint16 public sellFeeBps;

    /// @notice Receives the buy and sell fees in USDC.
    address public feeRecipient;
    /// @notice Slippage budget cap of a {rebalance} (bps against oracle value).
    uint16 public maxRebalanceSlippageBps;
    /// @notice Per-leg slippage allowed when a sell past cash liquidates holdings (bps).
    uint16 public liquidationSlippageBps;
    /// @notice Largest price move an arbitrary caller of {updateNav} may write (bps; 0 = no limit).
    uint16 public maxPriceDeviationBps;
    /// @notice Current regime.
    Regime public regime;

    /// @notice Executes rebalances, sets target weights and the regime.
    address public operator;
    /// @notice May pause buys.
    address public guardian;

    Constituent[] private _constituents;
    /// @dev token => index + 1 (0 = not a constituent).
    mapping(address token => uint256) private _slotOf;

    // ------------------------------------------------------------------ events

    /// @notice A fee was paid in USDC.
    event FeeCharged(address indexed payer, address indexed recipient, uint256 amount, bool onBuy);
    /// @notice A sell went past the cash on hand and liquidated a pro-rata slice of holdings.
    event Liquidated(address indexed owner, uint256 shares, uint256 cashPart, uint256 swapProceeds);
    /// @notice Shares were redeemed for a pro-rata slice of cash and every holding.
    event RedeemedInKind(
        address indexed caller,
        address indexed receiver,
        uint256 shares,
        uint256 usdcOut,
        address[] tokens,
        uint256[] amounts
    );
    /// @notice One swap through the router (rebalance leg or liquidation leg).
    event SwapExecuted(
        address indexed tokenIn, address indexed tokenOut, uint256 amountIn, uint256 amountOut, uint256 minAmountOut
    );
    /// @notice A rebalance batch completed; values in USDC units at oracle prices.
    event Rebalanced(address indexed operator, uint256 legs, uint256 valueIn, uint256 valueOut, uint16 slippageBps);
    /// @notice The holdings cache was refreshed from the feeds.
    event NavUpdated(uint256 holdingsValue, uint256 cash, uint256 totalSupply, uint256 timestamp);
    /// @notice The regime changed.
    event RegimeChanged(Regime previous, Regime current);
    /// @notice Fees changed.
    event FeesSet(uint16 buyFeeBps, uint16 sellFeeBps);
    /// @notice The fee recipient changed.
    event FeeRecipientSet(address indexed previous, address indexed current);
    /// @notice The operator changed.
    event OperatorSet(address indexed previous, address indexed current);
    /// @notice The guardian changed.
    event GuardianSet(address indexed previous, address indexed current);
    /// @notice `maxNavAge` changed.
    event MaxNavAgeSet(uint32 maxNavAge);
    /// @notice Slippage limits changed.
    event SlippageLimitsSet(uint16 maxRebalanceSlippageBps, uint16 liquidationSlippageBps);
    /// @notice `maxPriceDeviationBps` changed.
    event MaxPriceDeviationSet(uint16 maxPriceDeviationBps);
    /// @notice A constituent was added.
    event ConstituentAdded(address indexed token, address indexed feed, uint32 heartbeat, uint8 decimals);
    /// @notice A constituent was removed.
    event ConstituentRemoved(address indexed token);
    /// @notice A constituent's feed or heartbeat changed.
    event FeedSet(address indexed token, address indexed feed, uint32 heartbeat);
    /// @notice Target weights were set (in constituent order).
    event TargetWeightsSet(address[] tokens, uint16[] weightsBps);

    // ------------------------------------------------------------------ errors

    /// @notice The caller is not the operator.
    error NotOperator(address caller);
    /// @notice The caller is neither guardian nor owner.
    error NotGuardian(address caller);
    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice An amount argument (or the shares it buys) was zero.
    error ZeroAmount();
    /// @notice `block.timestamp` is past the caller's deadline.
    error DeadlineExpired(uint256 deadline, uint256 nowTs);
    /// @notice Fewer shares than `minShares` would be minted.
    error InsufficientSharesOut(uint256 shares, uint256 minShares);
    /// @notice More USDC than `maxAssets` would be charged.
    error ExcessiveAssetsIn(uint256 assets, uint256 maxAssets);
    /// @notice Less USDC than `minAssets` would be paid.
    error InsufficientAssetsOut(uint256 assets, uint256 minAssets);
    /// @notice More shares than `maxShares` would be burned.
    error ExcessiveSharesIn(uint256 shares, uint256 maxShares);
    /// @notice The holdings cache is older than `maxNavAge`: call {updateNav} first.
    error NavStale(uint256 updatedAt, uint256 maxAge);
    /// @notice A feed answer is older than its heartbeat (or incomplete).
    error StalePrice(address token, uint256 updatedAt);
    /// @notice A feed answered zero or a negative number.
    error InvalidPrice(address token, int256 answer);
    /// @notice A feed could not be read at all.
    error PriceUnavailable(address token);
    /// @notice A non-privileged refresh would move a price more than `maxPriceDeviationBps`.
    error PriceDeviationTooLarge(address token, uint256 cachedPrice, uint256 newPrice);
    /// @notice A swap returned less than its oracle-derived minimum.
    error SlippageExceeded(address tokenIn, uint256 amountOut, uint256 minAmountOut);
    /// @notice A fee above its immutable maximum was requested.
    error FeeTooHigh(uint256 feeBps, uint256 maxBps);
    /// @notice A slippage budget above its limit was requested.
    error SlippageTooHigh(uint256 slippageBps, uint256 maxBps);
    /// @notice `maxNavAge` of zero or above {MAX_NAV_AGE_LIMIT}.
    error InvalidNavAge(uint256 maxNavAge);
    /// @notice The token is not a constituent.
    error UnknownConstituent(address token);
    /// @notice The token is already a constituent (or is USDC).
    error DuplicateConstituent(address token);
    /// @notice Adding would exceed {MAX_CONSTITUENTS}.
    error TooManyConstituents();
    /// @notice Array arguments differ in length.
    error LengthMismatch();
    /// @notice Target weights do not sum to 10,000 bps.
    error WeightsSumInvalid(uint256 sum);
    /// @notice A constituent still has a balance or a target weight and cannot be removed.
    error ConstituentNotEmpty(address token);
    /// @notice A rebalance leg is worth less than 0.001 USDC (or buys less than one token unit).
    error LegTooSmall(address token, uint256 value);
    /// @notice Buy legs are not allowed in the Bear regime (100% USDC).
    error BuyLegInBear();
    /// @notice A feed reports more than 18 decimals.
    error UnsupportedFeedDecimals(uint8 decimals);
    /// @notice Withdraw paths that pay an exact amount cannot go past the cash on hand.
    error InsufficientCash(uint256 needed, uint256 cash);

    // --------------------------------------------------------------- modifiers

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        _;
    }

    modifier beforeDeadline(uint256 deadline) {
        if (block.timestamp > deadline) revert DeadlineExpired(deadline, block.timestamp);
        _;
    }

    // ------------------------------------------------------------- constructor

    /// @notice Deploys the vault.
    /// @param usdc_ The asset (USDC).
    /// @param router_ The Uniswap V2 Router02.
    /// @param name_ Share name, e.g. "TM Global 100".
    /// @param symbol_ Share symbol, e.g. "G100".
    /// @param owner_ Owner (admin).
    /// @param operator_ Operator (rebalances).
    /// @param guardian_ Guardian (pauses buys).
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
        operator = operator_;
        guardian = guardian_;
        feeRecipient = feeRecipient_;
        _setFees(buyFeeBps_, sellFeeBps_);
        maxNavAge = 1 hours;
        maxRebalanceSlippageBps = 100;
        liquidationSlippageBps = 200;
        maxPriceDeviationBps = 2_500;
        navUpdatedAt = uint64(block.timestamp);
        usdc_.forceApprove(address(router_), type(uint256).max);
        emit OperatorSet(address(0), operator_);
        emit GuardianSet(address(0), guardian_);
        emit FeeRecipientSet(address(0), feeRecipient_);
        emit MaxNavAgeSet(1 hours);
        emit SlippageLimitsSet(100, 200);
        emit MaxPriceDeviationSet(2_500);
    }

    // ======================================================== ERC-4626 views

    /// @notice USDC cash plus the cached holdings value. Never reverts.
    function totalAssets() public view override returns (uint256) {
        return _cash() + _holdingsValue;
    }

    /// @notice USDC held by the vault.
    function cash() external view returns (uint256) {
        return _cash();
    }

    /// @notice The cached value of all holdings (USDC units).
    function holdingsValue() external view returns (uint256) {
        return _holdingsValue;
    }

    /// @notice Whether buys and NAV sells may use the cached NAV now.
    function navFresh() public view returns (bool) {
        return _holdingsValue == 0 || block.timestamp <= uint256(navUpdatedAt) + maxNavAge;
    }

    /// @notice 0 while paused or while the NAV cache is stale, else unlimited.
    function maxDeposit(address) public view override returns (uint256) {
        return (paused() || !navFresh()) ? 0 : type(uint256).max;
    }

    /// @notice 0 while paused or while the NAV cache is stale, else unlimited.
    function maxMint(address) public view override returns (uint256) {
        return (paused() || !navFresh()) ? 0 : type(uint256).max;
    }

    /// @notice Shares `owner` can redeem through the plain ERC-4626 {redeem}: bounded by the
    ///         owner's balance and by the cash on hand (the plain path never swaps).
    function maxRedeem(address owner) public view override returns (uint256) {
        if (!navFresh()) return 0;
        uint256 fromCash = _convertToShares(_cash(), Math.Rounding.Floor);
        uint256 bal = balanceOf(owner);
        return bal < fromCash ? bal : fromCash;
    }

    /// @notice Shares minted for `assets` USDC paid, after the buy fee.
    function previewDeposit(uint256 assets) public view override returns (uint256) {
        return _convertToShares(assets - _feeOn(assets, buyFeeBps), Math.Rounding.Floor);
    }

    /// @notice USDC to pay (fee included) to mint exactly `shares`.
    function previewMint(uint256 shares) public view override returns (uint256) {
        return _grossUp(_convertToAssets(shares, Math.Rounding.Ceil), buyFeeBps);
    }

    /// @notice Shares burned to receive exactly `assets` USDC after the sell fee.
    function previewWithdraw(uint256 assets) public view override returns (uint256) {
        return _convertToShares(_grossUp(assets, sellFeeBps), Math.Rounding.Ceil);
    }

    /// @notice USDC received for `shares` after the sell fee, when paid from cash.
    function previewRedeem(uint256 shares) public view override returns (uint256) {
        uint256 gross = _convertToAssets(shares, Math.Rounding.Floor);
        return gross - _feeOn(gross, sellFeeBps);
    }

    // ================================================== buys (ERC-4626 + EIP-5143)

    /// @notice Buys shares with exactly `assets` USDC (fee included), no slippage guard.
    /// @return shares Shares minted to `receiver`.
    function deposit(uint256 assets, address receiver) public override nonReentrant returns (uint256 shares) {
        shares = _buy(assets, receiver, 0);
    }

    /// @notice Buys shares with exactly `assets` USDC; reverts below `minShares` or after `deadline`.
    /// @return shares Shares minted to `receiver`.
    function deposit(uint256 assets, address receiver, uint256 minShares, uint256 deadline)
        external
        nonReentrant
        beforeDeadline(deadline)
        returns (uint256 shares)
    {
        shares = _buy(assets, receiver, minShares);
    }

    /// @notice Wallet-facing buy: `assets` USDC in, at least `minSharesOut` shares out, before `deadline`.
    /// @param assets USDC paid, fee included (base units).
    /// @param minSharesOut Fewest shares accepted.
    /// @param receiver Who gets the shares.
    /// @param deadline Latest block timestamp accepted.
    /// @return shares Shares minted.
    function buy(uint256 assets, uint256 minSharesOut, address receiver, uint256 deadline)
        external
        nonReentrant
        beforeDeadline(deadline)
        returns (uint256 shares)
    {
        shares = _buy(assets, receiver, minSharesOut);
    }

    /// @notice {buy} with an EIP-2612 permit of USDC for `assets` to this vault, signed by the
    ///         caller with the same `deadline`: one signature and one transaction. A permit that
    ///         fails (e.g. front-run and already used) is ignored when the allowance suffices.
    /// @return shares Shares minted.
    function buyWithPermit(
        uint256 assets,
        uint256 minSharesOut,
        address receiver,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant beforeDeadline(deadline) returns (uint256 shares) {
        try IERC20Permit(asset()).permit(msg.sender, address(this), assets, deadline, v, r, s) {} catch {}
        shares = _buy(assets, receiver, minSharesOut);
    }

    /// @notice Mints exactly `shares` for at most the previewed USDC, no slippage guard.
    /// @return assets USDC charged, fee included.
    function mint(uint256 shares, address receiver) public override nonReentrant returns (uint256 assets) {
        assets = _mintExact(shares, receiver, type(uint256).max);
    }

    /// @notice Mints exactly `shares`; reverts above `maxAssets` USDC or after `deadline`.
    /// @return assets USDC charged, fee included.
    function mint(uint256 shares, address receiver, uint256 maxAssets, uint256 deadline)
        external
        nonReentrant
        beforeDeadline(deadline)
        returns (uint256 assets)
    {
        assets = _mintExact(shares, receiver, maxAssets);
    }

    // ================================================= sells (ERC-4626 + EIP-5143)

    /// @notice Pays exactly `assets` USDC (after fee) from cash; no swaps.
    /// @return shares Shares burned from `owner`.
    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 shares)
    {
        shares = _withdrawExact(assets, receiver, owner, type(uint256).max);
    }

    /// @notice Pays exactly `assets` USDC from cash; reverts above `maxShares` or after `deadline`.
    /// @return shares Shares burned from `owner`.
    function withdraw(uint256 assets, address receiver, address owner, uint256 maxShares, uint256 deadline)
        external
        nonReentrant
        beforeDeadline(deadline)
        returns (uint256 shares)
    {
        shares = _withdrawExact(assets, receiver, owner, maxShares);
    }

    /// @notice Redeems `shares` for USDC from cash only (up to {maxRedeem}); no swaps.
    /// @return assets USDC paid after the fee.
    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        nonReentrant
        returns (uint256 assets)
    {
        _requireNavFresh();
        uint256 maxShares = maxRedeem(owner);
        if (shares > maxShares) revert ERC4626ExceededMaxRedeem(owner, shares, maxShares);
        assets = _sell(shares, receiver, owner, 0);
    }

    /// @notice Redeems `shares`; past the cash on hand it liquidates a pro-rata slice of each
    ///         holding. Reverts below `minAssets` USDC or after `deadline`.
    /// @return assets USDC paid after the fee.
    function redeem(uint256 shares, address receiver, address owner, uint256 minAssets, uint256 deadline)
        external
        nonReentrant
        beforeDeadline(deadline)
        returns (uint256 assets)
    {
        assets = _sell(shares, receiver, owner, minAssets);
    }

    /// @notice Wallet-facing sell of the caller's `shares`: paid from cash, past the cash it
    ///         liquidates the caller's pro-rata slice of each holding through the DEX.
    /// @param shares Shares to sell.
    /// @param minUsdcOut Least USDC accepted (after fee).
    /// @param receiver Who gets the USDC.
    /// @param deadline Latest block timestamp accepted.
    /// @return usdcOut USDC paid to `receiver`.
    function sell(uint256 shares, uint256 minUsdcOut, address receiver, uint256 deadline)
        external
        nonReentrant
        beforeDeadline(deadline)
        returns (uint256 usdcOut)
    {
        usdcOut = _sell(shares, receiver, msg.sender, minUsdcOut);
    }

    /// @notice Burns the caller's `shares` for the same fraction of the USDC cash and of every
    ///         holding, sent to `receiver`. Needs no price: works paused, with stale or missing
    ///         feeds. Charges no fee (it is the exit of last resort).
    /// @return usdcOut USDC sent.
    /// @return amounts Amount of each constituent sent, in {getConstituents} order.
    function redeemInKind(uint256 shares, address receiver)
        external
        nonReentrant
        returns (uint256 usdcOut, uint256[] memory amounts)
    {
        if (shares == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        uint256 supply = totalSupply();
        usdcOut = _cash().mulDiv(shares, supply);
        _burn(msg.sender, shares);

        uint256 n = _constituents.length;
        amounts = new uint256[](n);
        address[] memory tokens = new address[](n);
        uint256 holdings = _holdingsValue;
        for (uint256 i; i < n; ++i) {
            Constituent storage c = _constituents[i];
            address token = c.token;
            tokens[i] = token;
            uint256 bal = IERC20(token).balanceOf(address(this));
            uint256 amt = bal.mulDiv(shares, supply);
            if (amt == 0) continue;
            amounts[i] = amt;
            uint256 newValue = _valueOf(bal - amt, c.cachedPrice, c.decimals);
            holdings = holdings - c.cachedValue + newValue;
            // casting to 'uint128' is safe because newValue <= the previous cachedValue (a uint128)
            // forge-lint: disable-next-line(unsafe-typecast)
            c.cachedValue = uint128(newValue);
        }
        // casting to 'uint128' is safe because holdings only decreased from a uint128 value
        // forge-lint: disable-next-line(unsafe-typecast)
        _holdingsValue = uint128(holdings);
        emit RedeemedInKind(msg.sender, receiver, shares, usdcOut, tokens, amounts);

        for (uint256 i; i < n; ++i) {
            if (amounts[i] != 0) IERC20(tokens[i]).safeTransfer(receiver, amounts[i]);
        }
        if (usdcOut != 0) IERC20(asset()).safeTransfer(receiver, usdcOut);
    }

    // ============================================================ NAV refresh

    /// @notice Re-reads every feed and balance and rewrites the holdings cache. Anyone may call
    ///         it (a keeper does); a price move above `maxPriceDeviationBps` against the cached
    ///         price is accepted only from the operator or the owner.
    /// @return holdings The new holdings value (USDC units).
    function updateNav() external nonReentrant returns (uint256 holdings) {
        bool trusted = msg.sender == operator || msg.sender == owner();
        uint256 maxDev = maxPriceDeviationBps;
        uint256 n = _constituents.length;
        for (uint256 i; i < n; ++i) {
            Constituent storage c = _constituents[i];
            uint256 price = _freshPrice(c);
            uint256 old = c.cachedPrice;
            if (!trusted && maxDev != 0 && old != 0) {
                uint256 diff = price > old ? price - old : old - price;
                if (diff * BPS > old * maxDev) revert PriceDeviationTooLarge(c.token, old, price);
            }
            uint256 value = _valueOf(IERC20(c.token).balanceOf(address(this)), price, c.decimals);
            c.cachedPrice = price.toUint128();
            c.cachedValue = value.toUint128();
            holdings += value;
        }
        _holdingsValue = holdings.toUint128();
        navUpdatedAt = uint64(block.timestamp);
        emit NavUpdated(holdings, _cash(), totalSupply(), block.timestamp);
    }

    // ============================================================== operator

    /// @notice Executes trades against USDC through the router. Each leg's minimum output is
    ///         the larger of the operator's `minAmountOut` and the oracle value of the input less
    ///         `slippageBps`, so the batch never loses more than `slippageBps` of the value
    ///         traded against the oracle. In the Bear regime only sells are allowed (run the exit
    ///         to 100% USDC over as many calls as blocks need).
    /// @param legs The trades.
    /// @param slippageBps This batch's budget, at most `maxRebalanceSlippageBps`.
    /// @param deadline Latest block timestamp accepted.
    /// @return valueIn Oracle value of all inputs (USDC units).
    /// @return valueOut Oracle value of all outputs (USDC units).
    function rebalance(Leg[] calldata legs, uint16 slippageBps, uint256 deadline)
        external
        onlyOperator
        nonReentrant
        beforeDeadline(deadline)
        returns (uint256 valueIn, uint256 valueOut)
    {
        if (slippageBps > maxRebalanceSlippageBps) {
            revert SlippageTooHigh(slippageBps, maxRebalanceSlippageBps);
        }
        address usdc = asset();
        bool bear = regime == Regime.Bear;
        for (uint256 k; k < legs.length; ++k) {
            (uint256 vIn, uint256 vOut) = _rebalanceLeg(legs[k], usdc, bear, slippageBps);
            valueIn += vIn;
            valueOut += vOut;
        }
        emit Rebalanced(msg.sender, legs.length, valueIn, valueOut, slippageBps);
    }

    /// @notice Sets the target weights, in {getConstituents} order; they must sum to 10,000.
    function setTargetWeights(uint16[] calldata weightsBps) external onlyOperator {
        uint256 n = _constituents.length;
        if (weightsBps.length != n) revert LengthMismatch();
        uint256 sum;
        address[] memory tokens = new address[](n);
        for (uint256 i; i < n; ++i) {
            sum += weightsBps[i];
            _constituents[i].targetWeightBps = weightsBps[i];
            tokens[i] = _constituents[i].token;
        }
        if (n != 0 && sum != BPS) revert WeightsSumInvalid(sum);
        emit TargetWeightsSet(tokens, weightsBps);
    }

    /// @notice Switches the regime. Bear means the target is 100% USDC: the operator then sells
    ///         the holdings with {rebalance} over as many transactions as needed.
    function setRegime(Regime newRegime) external onlyOperator {
        Regime old = regime;
        regime = newRegime;
        emit RegimeChanged(old, newRegime);
    }

    // ======================================================== guardian / owner

    /// @notice Pauses buys (guardian or owner). Sells and in-kind exits keep working.
    function pause() external {
        if (msg.sender != guardian && msg.sender != owner()) revert NotGuardian(msg.sender);
        _pause();
    }

    /// @notice Resumes buys (owner only).
    function unpause() external onlyOwner {
        _unpause();
    }

    /// @notice Sets both fees; each at most 1% (the immutable maxima).
    function setFees(uint16 newBuyFeeBps, uint16 newSellFeeBps) external onlyOwner {
        _setFees(newBuyFeeBps, newSellFeeBps);
    }

    /// @notice Sets who receives the fees.
    function setFeeRecipient(address recipient) external onlyOwner {
        if (recipient == address(0)) revert ZeroAddress();
        emit FeeRecipientSet(feeRecipient, recipient);
        feeRecipient = recipient;
    }

    /// @notice Sets the operator.
    function setOperator(address newOperator) external onlyOwner {
        if (newOperator == address(0)) revert ZeroAddress();
        emit OperatorSet(operator, newOperator);
        operator = newOperator;
    }

    /// @notice Sets the guardian.
    function setGuardian(address newGuardian) external onlyOwner {
        if (newGuardian == address(0)) revert ZeroAddress();
        emit GuardianSet(guardian, newGuardian);
        guardian = newGuardian;
    }

    /// @notice Sets the largest cache age buys and NAV sells accept (1 s .. 1 day).
    function setMaxNavAge(uint32 newMaxNavAge) external onlyOwner {
        if (newMaxNavAge == 0 || newMaxNavAge > MAX_NAV_AGE_LIMIT) revert InvalidNavAge(newMaxNavAge);
        maxNavAge = newMaxNavAge;
        emit MaxNavAgeSet(newMaxNavAge);
    }

    /// @notice Sets the rebalance budget cap and the liquidation per-leg slippage (each <= 10%).
    function setSlippageLimits(uint16 rebalanceBps, uint16 liquidationBps) external onlyOwner {
        if (rebalanceBps > MAX_SLIPPAGE_BPS) revert SlippageTooHigh(rebalanceBps, MAX_SLIPPAGE_BPS);
        if (liquidationBps > MAX_SLIPPAGE_BPS) revert SlippageTooHigh(liquidationBps, MAX_SLIPPAGE_BPS);
        maxRebalanceSlippageBps = rebalanceBps;
        liquidationSlippageBps = liquidationBps;
        emit SlippageLimitsSet(rebalanceBps, liquidationBps);
    }

    /// @notice Sets the largest price move an arbitrary {updateNav} caller may write (0 = off).
    function setMaxPriceDeviation(uint16 bps) external onlyOwner {
        maxPriceDeviationBps = bps;
        emit MaxPriceDeviationSet(bps);
    }

    /// @notice Adds constituents with their feeds and heartbeats (target weight 0 until set).
    ///         Also approves the router to pull each token for swaps.
    function addConstituents(address[] calldata tokens, address[] calldata feeds, uint32[] calldata heartbeats)
        external
        onlyOwner
    {
        uint256 m = tokens.length;
        if (feeds.length != m || heartbeats.length != m) revert LengthMismatch();
        if (_constituents.length + m > MAX_CONSTITUENTS) revert TooManyConstituents();
        address usdc = asset();
        for (uint256 i; i < m; ++i) {
            address token = tokens[i];
            if (token == address(0) || feeds[i] == address(0)) revert ZeroAddress();
            if (token == usdc || _slotOf[token] != 0) revert DuplicateConstituent(token);
            uint8 dec = IERC20Metadata(token).decimals();
            _constituents.push(
                Constituent({
                    token: token,
                    targetWeightBps: 0,
                    decimals: dec,
                    feedDecimals: _feedDecimals(feeds[i]),
                    heartbeat: heartbeats[i],
                    feed: feeds[i],
                    cachedPrice: 0,
                    cachedValue: 0
                })
            );
            _slotOf[token] = _constituents.length;
            IERC20(token).forceApprove(address(router), type(uint256).max);
            emit ConstituentAdded(token, feeds[i], heartbeats[i], dec);
        }
    }

    /// @notice Removes a constituent whose balance and target weight are both zero.
    function removeConstituent(address token) external onlyOwner {
        uint256 slot = _slotOf[token];
        if (slot == 0) revert UnknownConstituent(token);
        Constituent storage c = _constituents[slot - 1];
        if (c.targetWeightBps != 0 || IERC20(token).balanceOf(address(this)) != 0) revert ConstituentNotEmpty(token);
        _holdingsValue -= c.cachedValue;
        uint256 last = _constituents.length - 1;
        if (slot - 1 != last) {
            Constituent memory moved = _constituents[last];
            _constituents[slot - 1] = moved;
            _slotOf[moved.token] = slot;
        }
        _constituents.pop();
        delete _slotOf[token];
        IERC20(token).forceApprove(address(router), 0);
        emit ConstituentRemoved(token);
    }

    /// @notice Replaces a constituent's feed and heartbeat.
    function setFeed(address token, address feed, uint32 heartbeat) external onlyOwner {
        uint256 slot = _slotOf[token];
        if (slot == 0) revert UnknownConstituent(token);
        if (feed == address(0)) revert ZeroAddress();
        Constituent storage c = _constituents[slot - 1];
        c.feed = feed;
        c.feedDecimals = _feedDecimals(feed);
        c.heartbeat = heartbeat;
        emit FeedSet(token, feed, heartbeat);
    }

    // ================================================================== views

    /// @notice Number of constituents.
    function constituentCount() external view returns (uint256) {
        return _constituents.length;
    }

    /// @notice All constituents as stored (cached prices and values included).
    function getConstituents() external view returns (Constituent[] memory) {
        return _constituents;
    }

    /// @notice The constituent entry of `token` (reverts if unknown).
    function constituentOf(address token) external view returns (Constituent memory) {
        uint256 slot = _slotOf[token];
        if (slot == 0) revert UnknownConstituent(token);
        return _constituents[slot - 1];
    }

    /// @notice The feed price of `token` in USD with 18 decimals, checked like a trade would
    ///         (reverts with {StalePrice}, {InvalidPrice} or {PriceUnavailable}).
    function priceOf(address token) external view returns (uint256) {
        uint256 slot = _slotOf[token];
        if (slot == 0) revert UnknownConstituent(token);
        return _freshPrice(_constituents[slot - 1]);
    }

    // ============================================================== internals

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    function _cash() private view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    function _requireNavFresh() private view {
        if (!navFresh()) revert NavStale(navUpdatedAt, maxNavAge);
    }

    /// @dev Fee charged on a gross USDC amount, rounded up (in the vault's favour).
    function _feeOn(uint256 gross, uint256 feeBps) private pure returns (uint256) {
        return gross.mulDiv(feeBps, BPS, Math.Rounding.Ceil);
    }

    /// @dev Smallest gross amount whose net (after `feeBps`) is at least `net`.
    function _grossUp(uint256 net, uint256 feeBps) private pure returns (uint256) {
        return net.mulDiv(BPS, BPS - feeBps, Math.Rounding.Ceil);
    }

    function _buy(uint256 assets, address receiver, uint256 minShares) private returns (uint256 shares) {
        _requireNotPaused();
        _requireNavFresh();
        if (assets == 0) revert ZeroAmount();
        uint256 fee = _feeOn(assets, buyFeeBps);
        shares = _convertToShares(assets - fee, Math.Rounding.Floor);
        if (shares == 0) revert ZeroAmount();
        if (shares < minShares) revert InsufficientSharesOut(shares, minShares);
        _collect(assets, fee);
        _mint(receiver, shares);
        emit Deposit(msg.sender, receiver, assets, shares);
    }

    function _mintExact(uint256 shares, address receiver, uint256 maxAssets) private returns (uint256 assets) {
        _requireNotPaused();
        _requireNavFresh();
        if (shares == 0) revert ZeroAmount();
        uint256 net = _convertToAssets(shares, Math.Rounding.Ceil);
        assets = _grossUp(net, buyFeeBps);
        if (assets > maxAssets) revert ExcessiveAssetsIn(assets, maxAssets);
        _collect(assets, assets - net);
        _mint(receiver, shares);
        emit Deposit(msg.sender, receiver, assets, shares);
    }

    /// @dev Pulls `assets` USDC from the caller and forwards `fee` of it to the fee recipient.
    function _collect(uint256 assets, uint256 fee) private {
        IERC20 usdc = IERC20(asset());
        usdc.safeTransferFrom(msg.sender, address(this), assets);
        if (fee != 0) {
            address recipient = feeRecipient;
            usdc.safeTransfer(recipient, fee);
            emit FeeCharged(msg.sender, recipient, fee, true);
        }
    }

    function _withdrawExact(uint256 assets, address receiver, address owner, uint256 maxShares)
        private
        returns (uint256 shares)
    {
        _requireNavFresh();
        if (assets == 0) revert ZeroAmount();
        uint256 gross = _grossUp(assets, sellFeeBps);
        uint256 available = _cash();
        if (gross > available) revert InsufficientCash(gross, available);
        shares = _convertToShares(gross, Math.Rounding.Ceil);
        if (shares > maxShares) revert ExcessiveSharesIn(shares, maxShares);
        _payFromCash(receiver, owner, shares, assets, gross - assets);
    }

    function _sell(uint256 shares, address receiver, address owner, uint256 minAssets)
        private
        returns (uint256 assets)
    {
        _requireNavFresh();
        if (shares == 0) revert ZeroAmount();
        if (receiver == address(0)) revert ZeroAddress();
        uint256 gross = _convertToAssets(shares, Math.Rounding.Floor);
        if (gross <= _cash()) {
            uint256 fee = _feeOn(gross, sellFeeBps);
            assets = gross - fee;
            if (assets < minAssets) revert InsufficientAssetsOut(assets, minAssets);
            _payFromCash(receiver, owner, shares, assets, fee);
        } else {
            assets = _sellPastCash(shares, receiver, owner, minAssets);
        }
    }

    function _payFromCash(address receiver, address owner, uint256 shares, uint256 assets, uint256 fee) private {
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        _burn(owner, shares);
        IERC20 usdc = IERC20(asset());
        usdc.safeTransfer(receiver, assets);
        if (fee != 0) {
            address recipient = feeRecipient;
            usdc.safeTransfer(recipient, fee);
            emit FeeCharged(owner, recipient, fee, false);
        }
        emit Withdraw(msg.sender, receiver, owner, assets, shares);
    }

    /// @dev Sell beyond the cash on hand: the seller gets `shares/supply` of the cash plus the
    ///      DEX proceeds of `shares/supply` of every holding (each leg floored at the oracle
    ///      value less `liquidationSlippageBps`), minus the sell fee. Shares are burned before
    ///      any external call. Legs worth less than 0.001 USDC are left to the vault.
    function _sellPastCash(uint256 shares, address receiver, address owner, uint256 minAssets)
        private
        returns (uint256 assets)
    {
        if (msg.sender != owner) _spendAllowance(owner, msg.sender, shares);
        uint256 supply = totalSupply();
        uint256 cashPart = _cash().mulDiv(shares, supply);
        _burn(owner, shares);

        address usdc = asset();
        uint256 proceeds = _liquidateSlice(shares, supply, usdc);

        uint256 gross = cashPart + proceeds;
        uint256 fee = _feeOn(gross, sellFeeBps);
        assets = gross - fee;
        if (assets < minAssets) revert InsufficientAssetsOut(assets, minAssets);
        IERC20(usdc).safeTransfer(receiver, assets);
        if (fee != 0) {
            address recipient = feeRecipient;
            IERC20(usdc).safeTransfer(recipient, fee);
            emit FeeCharged(owner, recipient, fee, false);
        }
        emit Liquidated(owner, shares, cashPart, proceeds);
        emit Withdraw(msg.sender, receiver, owner, assets, shares);
    }

    /// @dev One rebalance leg: oracle-floored swap, then re-cache the constituent at the fresh price.
    function _rebalanceLeg(Leg calldata leg, address usdc, bool bear, uint256 slippageBps)
        private
        returns (uint256 valueIn, uint256 valueOut)
    {
        uint256 slot = _slotOf[leg.token];
        if (slot == 0) revert UnknownConstituent(leg.token);
        Constituent storage c = _constituents[slot - 1];
        uint256 price = _freshPrice(c);
        if (leg.isBuy) {
            if (bear) revert BuyLegInBear();
            (valueIn, valueOut) = _legBuy(c, leg, usdc, price, slippageBps);
        } else {
            (valueIn, valueOut) = _legSell(c, leg, usdc, price, slippageBps);
        }
    }

    function _legBuy(Constituent storage c, Leg calldata leg, address usdc, uint256 price, uint256 slippageBps)
        private
        returns (uint256 valueIn, uint256 valueOut)
    {
        valueIn = leg.amountIn;
        if (valueIn == 0) revert ZeroAmount();
        address token = c.token;
        uint256 oracleOut = _amountFor(valueIn, price, c.decimals);
        if (valueIn < _dustValue || oracleOut == 0) revert LegTooSmall(token, valueIn);
        uint256 bal = IERC20(token).balanceOf(address(this));
        uint256 minOut = _minOut(oracleOut, slippageBps, leg.minAmountOut);
        uint256 got = _swapChecked(usdc, token, valueIn, minOut);
        valueOut = _valueOf(got, price, c.decimals);
        _recache(c, bal + got, price);
    }

    function _legSell(Constituent storage c, Leg calldata leg, address usdc, uint256 price, uint256 slippageBps)
        private
        returns (uint256 valueIn, uint256 valueOut)
    {
        address token = c.token;
        uint256 bal = IERC20(token).balanceOf(address(this));
        uint256 amountIn = leg.amountIn == type(uint256).max ? bal : leg.amountIn;
        if (amountIn == 0) revert ZeroAmount();
        valueIn = _valueOf(amountIn, price, c.decimals);
        if (valueIn < _dustValue) revert LegTooSmall(token, valueIn);
        valueOut = _swapChecked(token, usdc, amountIn, _minOut(valueIn, slippageBps, leg.minAmountOut));
        _recache(c, bal - amountIn, price);
    }

    /// @dev Rewrites one constituent's cache entry (and the running total) for a new balance
    ///      valued at a freshly read price.
    function _recache(Constituent storage c, uint256 newBal, uint256 price) private {
        uint256 newValue = _valueOf(newBal, price, c.decimals);
        _holdingsValue = (_holdingsValue - c.cachedValue + newValue).toUint128();
        c.cachedPrice = price.toUint128();
        c.cachedValue = newValue.toUint128();
    }

    /// @dev Sells `shares/supply` of every holding for USDC; returns the proceeds.
    function _liquidateSlice(uint256 shares, uint256 supply, address usdc) private returns (uint256 proceeds) {
        uint256 slip = liquidationSlippageBps;
        uint256 dust = _dustValue;
        uint256 n = _constituents.length;
        for (uint256 i; i < n; ++i) {
            Constituent storage c = _constituents[i];
            address token = c.token;
            uint256 bal = IERC20(token).balanceOf(address(this));
            uint256 amt = bal.mulDiv(shares, supply);
            if (amt == 0) continue;
            uint256 price = _freshPrice(c);
            uint256 oracleOut = _valueOf(amt, price, c.decimals);
            if (oracleOut < dust) continue;
            proceeds += _swapChecked(token, usdc, amt, _minOut(oracleOut, slip, 0));
            _recache(c, bal - amt, price);
        }
    }

    function _minOut(uint256 oracleOut, uint256 slippageBps, uint256 floor) private pure returns (uint256 m) {
        m = oracleOut.mulDiv(BPS - slippageBps, BPS, Math.Rounding.Ceil);
        if (floor > m) m = floor;
    }

    /// @dev Swaps through the router and reverts with {SlippageExceeded} below `minOut`.
    function _swapChecked(address tokenIn, address tokenOut, uint256 amountIn, uint256 minOut)
        private
        returns (uint256 out)
    {
        address[] memory path = new address[](2);
        path[0] = tokenIn;
        path[1] = tokenOut;
        out = router.swapExactTokensForTokens(amountIn, 0, path, address(this), block.timestamp)[1];
        if (out < minOut) revert SlippageExceeded(tokenIn, out, minOut);
        emit SwapExecuted(tokenIn, tokenOut, amountIn, out, minOut);
    }

    /// @dev USDC value (floored) of `amount` token units at `price18` USD per whole token.
    function _valueOf(uint256 amount, uint256 price18, uint8 tokenDecimals) private view returns (uint256) {
        return amount.mulDiv(price18, 10 ** tokenDecimals * _priceToAssetScale);
    }

    /// @dev Token units (floored) worth `assets` USDC at `price18`.
    function _amountFor(uint256 assets, uint256 price18, uint8 tokenDecimals) private view returns (uint256) {
        return assets.mulDiv(10 ** tokenDecimals * _priceToAssetScale, price18);
    }

    function _feedDecimals(address feed) private view returns (uint8 dec) {
        dec = IAggregatorV3(feed).decimals();
        if (dec > 18) revert UnsupportedFeedDecimals(dec);
    }

    /// @dev Reads a feed and applies the heartbeat and sanity checks; USD price with 18 decimals.
    function _freshPrice(Constituent storage c) private view returns (uint256) {
        address token = c.token;
        try IAggregatorV3(c.feed).latestRoundData() returns (
            uint80 roundId, int256 answer, uint256, uint256 updatedAt, uint80 answeredInRound
        ) {
            if (answer <= 0) revert InvalidPrice(token, answer);
            if (
                updatedAt == 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > c.heartbeat
                    || answeredInRound < roundId
            ) revert StalePrice(token, updatedAt);
            // casting to 'uint256' is safe because answer > 0 was checked above
            // forge-lint: disable-next-line(unsafe-typecast)
            return uint256(answer) * 10 ** (18 - c.feedDecimals);
        } catch {
            revert PriceUnavailable(token);
        }
    }

    function _setFees(uint16 newBuy, uint16 newSell) private {
        if (newBuy > MAX_BUY_FEE_BPS) revert FeeTooHigh(newBuy, MAX_BUY_FEE_BPS);
        if (newSell > MAX_SELL_FEE_BPS) revert FeeTooHigh(newSell, MAX_SELL_FEE_BPS);
        buyFeeBps = newBuy;
        sellFeeBps = newSell;
        emit FeesSet(newBuy, newSell);
    }
}
