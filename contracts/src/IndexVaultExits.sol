// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IndexBook} from "./IndexBook.sol";
import {IndexVaultPricing} from "./IndexVaultPricing.sol";

/// @title IndexVaultExits: the in-kind exit and the claims of payouts that could not be delivered
/// @notice {redeemInKind} reads no price and needs no keeper: it works paused, frozen, with
///         stale or missing feeds. A USDC payment or an in-kind transfer that fails (a
///         blacklisted or paused token) is kept for its owner to {claimUsdc} / {claimInKind}
///         instead of blocking a strike or an exit.
/// @dev Abstract module of {IndexVault}; what is owed lives in {IndexVaultStorage}. It uses
///      nothing of {IndexVaultPricing}, and derives from it only so that the ERC-4626
///      overrides there have a single line of descent into {IndexVault}.
abstract contract IndexVaultExits is IndexVaultPricing {
    using SafeERC20 for IERC20;
    using Math for uint256;
    using IndexBook for IndexBook.Book;

    // ----------------------------------------------------------------- events

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

    // The book's {IndexBook} declarations raised on this module's paths, declared again so that
    // they are part of the vault's ABI: the library runs in the vault's context, so they are
    // logged by (and revert from) the vault.

    /// @notice An in-kind transfer of `token` failed; the amount is kept for {claimInKind}.
    event InKindOwed(address indexed account, address indexed token, uint256 amount);

    // ----------------------------------------------------------------- errors

    /// @notice Nothing to claim.
    error NothingToClaim();

    // ================================================================ claims

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
}
