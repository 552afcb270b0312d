// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IUniswapV2Router02} from "./interfaces/IUniswapV2.sol";
import {IndexBook} from "./IndexBook.sol";

/// @title IndexVaultStorage: every state variable of the {IndexVault}, its roles and shared helpers
/// @notice The base of the vault's modules ({IndexVaultPricing}, {IndexVaultRequests},
///         {IndexVaultOperator}, {IndexVaultExits}) and of {IndexVault} itself.
/// @dev All of the vault's storage is declared here, in one contract and in its v2 order: the
///      variables of different concerns share slots (fees, deviation band and regime pack
///      into one), so spreading them over the modules would move them. The modules declare
///      none. Also here: the immutables (set by this constructor, which checks the address
///      arguments before the asset is called or a role is set, as v2's single constructor
///      did), the errors more than one module raises, the {only} role modifier and the USDC
///      helpers every path uses.
abstract contract IndexVaultStorage is ERC4626, Ownable2Step, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using Math for uint256;

    // ------------------------------------------------------------------ types

    /// @notice The market regime: Bull holds the constituents, Bear holds 100% USDC.
    enum Regime {
        Bull,
        Bear
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

    // -------------------------------------------------------------- constants

    /// @notice Basis-point denominator.
    uint256 public constant BPS = 10_000;
    /// @dev Share decimals = USDC decimals + 12 = 18; defeats the donation/inflation attack.
    uint8 internal constant DECIMALS_OFFSET = 12;
    uint8 internal constant PENDING = 1;

    // ------------------------------------------------------------- immutables

    /// @notice The Uniswap V2 Router02 every swap goes through.
    IUniswapV2Router02 public immutable router;
    /// @dev 10 ** (18 - USDC decimals): converts `token * price18 / 10**tokenDecimals` to USDC units.
    uint256 internal immutable _priceToAssetScale;
    /// @dev Rebalance legs worth less than this (USDC units, 0.001 USDC) revert.
    uint256 internal immutable _dustValue;
    /// @dev A constituent worth at most this (1 USDC) at its cached price may be removed.
    uint256 internal immutable _removalDust;

    // ---------------------------------------------------------------- storage

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

    OperatorLimits internal _limits;
    Queue internal _buyQueue;
    Queue internal _sellQueue;
    mapping(uint256 slot => Request) internal _buys;
    mapping(uint256 slot => Request) internal _sells;

    /// @dev USDC owed to accounts whose transfer failed (a blacklisted address), in total.
    uint256 internal _claimableTotal;
    mapping(address account => uint256) internal _claimable;
    /// @dev Constituents, the oracle cache and in-kind amounts owed ({IndexBook}).
    IndexBook.Book internal _book;

    // ----------------------------------------------------------------- events

    /// @notice A USDC payment failed and is kept for `account` to {claimUsdc}.
    event UsdcClaimable(address indexed account, uint256 amount);

    // ----------------------------------------------------------------- errors

    /// @notice The caller lacks the role the function needs.
    error Unauthorized(address caller);
    /// @notice An address argument was zero.
    error ZeroAddress();
    /// @notice An amount argument (or what it buys) was zero.
    error ZeroAmount();
    /// @notice `block.timestamp` is past the deadline (or the deadline is too far out).
    error InvalidDeadline(uint256 deadline, uint256 nowTs);
    /// @notice A limit outside its allowed range was requested.
    error LimitOutOfRange(uint256 value, uint256 maxValue);

    // -------------------------------------------------------------- modifiers

    modifier only(address role) {
        if (msg.sender != role) revert Unauthorized(msg.sender);
        _;
    }

    // ------------------------------------------------------------ constructor

    /// @dev Checks every address argument of {IndexVault}'s constructor, before the asset is
    ///      called and before that constructor's body runs (v2's single constructor checked
    ///      first too), and sets the immutables from the asset's decimals.
    constructor(IERC20 usdc_, IUniswapV2Router02 router_, address operator_, address guardian_, address feeRecipient_) {
        if (
            address(usdc_) == address(0) || address(router_) == address(0) || operator_ == address(0)
                || guardian_ == address(0) || feeRecipient_ == address(0)
        ) revert ZeroAddress();
        router = router_;
        uint8 assetDecimals = IERC20Metadata(address(usdc_)).decimals();
        _priceToAssetScale = 10 ** (18 - assetDecimals);
        _dustValue = 10 ** assetDecimals / 1000;
        _removalDust = 10 ** assetDecimals;
    }

    // ============================================================== internals

    function _decimalsOffset() internal pure override returns (uint8) {
        return DECIMALS_OFFSET;
    }

    /// @dev Free USDC: balance less pending buys and claimable USDC (saturating: never reverts).
    function _cash() internal view returns (uint256) {
        uint256 bal = IERC20(asset()).balanceOf(address(this));
        uint256 reserved = uint256(_buyQueue.pending) + _claimableTotal;
        return bal > reserved ? bal - reserved : 0;
    }

    function _nonZero(address a) internal pure {
        if (a == address(0)) revert ZeroAddress();
    }

    /// @dev Fee charged on a gross USDC amount, rounded up (in the vault's favour).
    function _feeOn(uint256 gross, uint256 feeBps) internal pure returns (uint256) {
        return gross.mulDiv(feeBps, BPS, Math.Rounding.Ceil);
    }

    /// @dev Smallest gross amount whose net (after `feeBps`) is at least `net`.
    function _grossUp(uint256 net, uint256 feeBps) internal pure returns (uint256) {
        return net.mulDiv(BPS, BPS - feeBps, Math.Rounding.Ceil);
    }

    /// @dev Pays USDC; if the transfer fails (e.g. a blacklisted address) the amount is kept
    ///      for `to` to {claimUsdc}, so one account can never block a strike or an exit.
    function _payUsdc(address to, uint256 amount) internal {
        if (!IERC20(asset()).trySafeTransfer(to, amount)) {
            _claimable[to] += amount;
            _claimableTotal += amount;
            emit UsdcClaimable(to, amount);
        }
    }
}
