// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IAggregatorV3} from "./interfaces/IAggregatorV3.sol";
import {IndexBook} from "./IndexBook.sol";
import {IndexVaultStorage} from "./IndexVaultStorage.sol";

/// @title IndexVaultPricing: the vault's NAV, its oracle refresh and the ERC-4626 surface priced on it
/// @notice NAV = free USDC cash + the cached value of the holdings. {updateNav} (and every
///         strike) re-reads every feed behind the L2 sequencer check and the deviation band
///         ({maxPriceDeviationBps}); any failure reverts, which freezes trading. The
///         ERC-4626 views answer at the cached NAV; the synchronous deposit, mint, withdraw
///         and redeem are open only while that NAV is exact (no holdings).
/// @dev Abstract module of {IndexVault}; its state lives in {IndexVaultStorage}.
abstract contract IndexVaultPricing is IndexVaultStorage {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using IndexBook for IndexBook.Book;

    // -------------------------------------------------------------- constants

    /// @notice Upper bound of the price deviation a refresh may accept: 50%.
    uint16 public constant MAX_DEVIATION_LIMIT_BPS = 5_000;

    // ----------------------------------------------------------------- events

    /// @notice A synchronous trade paid a fee in USDC.
    event FeeCharged(address indexed payer, address indexed recipient, uint256 amount, bool onBuy);
    /// @notice Every price was refreshed (deviation-checked).
    event NavUpdated(uint256 holdingsValue, uint256 cash, uint256 totalSupply, uint256 timestamp);

    // ----------------------------------------------------------------- errors

    /// @notice The L2 sequencer is down, or came back less than the grace period ago.
    error SequencerDown(uint256 startedAt);
    /// @notice More USDC is needed than the free cash (pending buys are not spendable).
    error InsufficientCash(uint256 needed, uint256 cash);

    // The book's {IndexBook} declarations raised on this module's paths, declared again so that
    // they are part of the vault's ABI: the library runs in the vault's context, so they are
    // logged by (and revert from) the vault.

    /// @notice See {IndexBook}.
    error StalePrice(address token, uint256 updatedAt);
    /// @notice See {IndexBook}.
    error InvalidPrice(address token, int256 answer);
    /// @notice See {IndexBook}.
    error PriceUnavailable(address token);
    /// @notice See {IndexBook}: a refresh outside the band freezes trading.
    error PriceDeviationTooLarge(address token, uint256 cachedPrice, uint256 newPrice);

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
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override nonReentrant {
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

    // ============================================================ NAV refresh

    /// @notice Re-reads every feed and balance and rewrites the holdings cache, with the same
    ///         sequencer and deviation checks as a strike (for everyone: no caller is trusted
    ///         to skip them). Settles nothing.
    /// @return holdings The new holdings value (USDC units).
    function updateNav() external nonReentrant returns (uint256 holdings) {
        holdings = _refreshAll();
    }

    // =========================================================== constituents

    /// @notice Number of constituents.
    function constituentCount() external view returns (uint256) {
        return _book.list.length;
    }

    /// @notice All constituents as stored (cached prices and values included).
    function getConstituents() external view returns (IndexBook.Constituent[] memory) {
        return _book.list;
    }

    // ============================================================== internals

    /// @dev Pulls `assets` USDC from the caller and forwards `fee` of it to the fee recipient.
    function _collect(uint256 assets, uint256 fee) internal {
        IERC20(asset()).safeTransferFrom(msg.sender, address(this), assets);
        if (fee != 0) {
            address recipient = feeRecipient;
            _payUsdc(recipient, fee);
            emit FeeCharged(msg.sender, recipient, fee, true);
        }
    }

    function _payFromCash(address receiver, address owner, uint256 shares, uint256 assets, uint256 fee) internal {
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
    function _refreshAll() internal returns (uint256 holdings) {
        _requireSequencerUp();
        holdings = _book.refreshAll(maxPriceDeviationBps, _priceToAssetScale);
        emit NavUpdated(holdings, _cash(), totalSupply(), block.timestamp);
    }

    /// @dev Reverts unless the sequencer (if configured) is up and past its grace period.
    function _requireSequencerUp() internal view {
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
}
