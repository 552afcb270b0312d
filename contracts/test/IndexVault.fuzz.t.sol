// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IndexVault} from "../src/IndexVault.sol";
import {IndexVaultStorage} from "../src/IndexVaultStorage.sol";
import {IndexVaultOperator} from "../src/IndexVaultOperator.sol";
import {IndexBook} from "../src/IndexBook.sol";
import {IndexFixture} from "./utils/IndexFixture.sol";

/// @dev Fuzz tests: request round trips never profit, one NAV per strike, minimums and
///      cancels are exact, strikes never lower the share price, and the ERC-4626 property
///      ideas (a16z suite) for what stays synchronous (the all-cash vault).
contract IndexVaultFuzzTest is IndexFixture {
    uint256 internal constant N = 6;
    address internal carol = makeAddr("carol");

    function setUp() public {
        vm.warp(1_750_000_000);
        _deployWorld(N, 5_000_000e6);
    }

    function _investedState(uint256 seed) internal {
        // Pools 5M USDC deep: legs stay within the 1% per-leg floor and above one token unit.
        _buy(bob, bound(seed, 10_000e6, 100_000e6));
        _invest(bound(seed >> 64, 1_000, 9_500));
        vault.updateNav();
    }

    function _moveAll(int256 bps) internal {
        for (uint256 i; i < N; ++i) {
            _movePrice(i, _priceOf(i) * (10_000 + bps) / 10_000);
        }
    }

    /// @dev USDC plus the oracle value of every token `who` holds.
    function _worth(address who) internal view returns (uint256 v) {
        v = usdc.balanceOf(who);
        for (uint256 i; i < N; ++i) {
            (, int256 answer,,,) = feeds[i].latestRoundData();
            // casting to 'uint256' is safe because feed answers in tests are positive
            // forge-lint: disable-next-line(unsafe-typecast)
            v += Math.mulDiv(tokens[i].balanceOf(who), uint256(answer) * 1e10, 10 ** tokens[i].decimals() * 1e12);
        }
    }

    // ---------------------------------------------------------------- forward pricing

    function testFuzz_BuyThenSellRequestsNeverProfit(uint256 seed, uint256 amount, int256 moveBps) public {
        _investedState(seed);
        amount = bound(amount, 1e6, 200_000e6);
        // Prices move between the last refresh and the buy's strike: the strike prices it.
        _moveAll(bound(moveBps, -2_000, 2_000));
        uint256 shares = _buy(alice, amount);
        vm.assume(shares > 0);
        uint256 out = _sell(alice, shares);
        if (out == 0) {
            // The sell waited for cash: the shares are still escrowed, nothing was paid.
            (,,, uint256 pendingShares) = vault.queueState(true);
            assertEq(pendingShares, shares);
        }
        assertLe(out, amount);
    }

    function testFuzz_BuyThenInKindExitNeverProfitsAtOraclePrices(uint256 seed, uint256 amount, int256 moveBps)
        public
    {
        _investedState(seed);
        amount = bound(amount, 1e6, 200_000e6);
        _moveAll(bound(moveBps, -2_000, 2_000));
        _fund(alice, amount);
        uint256 before = _worth(alice);
        vm.prank(alice);
        vault.requestBuy(amount, 0, block.timestamp + 1 hours);
        _strike();
        uint256 shares = vault.balanceOf(alice);
        vm.assume(shares > 0);
        vm.prank(alice);
        vault.redeemInKind(shares, alice);
        assertLe(_worth(alice), before);
    }

    function testFuzz_OneNavPerStrike(uint256 seed, uint256 a, uint256 b, int256 moveBps) public {
        _investedState(seed);
        a = bound(a, 1e6, 100_000e6);
        b = bound(b, 1e6, 100_000e6);
        _moveAll(bound(moveBps, -2_000, 2_000));
        _requestBuy(alice, a);
        _requestBuy(carol, b);
        _strike();
        uint256 sa = vault.balanceOf(alice);
        uint256 sb = vault.balanceOf(carol);
        uint256 na = a - Math.mulDiv(a, 25, 10_000, Math.Rounding.Ceil);
        uint256 nb = b - Math.mulDiv(b, 25, 10_000, Math.Rounding.Ceil);
        // sa/na == sb/nb up to the floor of each conversion.
        uint256 lhs = sa * nb;
        uint256 rhs = sb * na;
        uint256 diff = lhs > rhs ? lhs - rhs : rhs - lhs;
        assertLe(diff, (na > nb ? na : nb) * 2);
    }

    function testFuzz_MinimumIsEnforcedExactly(uint256 seed, uint256 amount, uint256 minShares) public {
        _investedState(seed);
        amount = bound(amount, 1e6, 100_000e6);
        uint256 quote = vault.previewDeposit(amount);
        minShares = bound(minShares, quote > 10 ? quote - 10 : 0, quote + 10);
        _fund(alice, amount);
        vm.prank(alice);
        vault.requestBuy(amount, minShares, block.timestamp + 1 hours);
        _strike();
        uint256 got = vault.balanceOf(alice);
        if (quote >= minShares && quote > 0) {
            assertEq(got, quote, "settles at the strike NAV, which equals the quote when prices stood still");
            assertEq(usdc.balanceOf(alice), 0);
        } else {
            assertEq(got, 0);
            assertEq(usdc.balanceOf(alice), amount, "refunded in full");
        }
    }

    function testFuzz_CancelReturnsExactly(uint256 amount, uint256 shares, uint256 seed) public {
        _investedState(seed);
        amount = bound(amount, 1, 1_000_000e6);
        uint256 id = _requestBuy(alice, amount);
        vm.prank(alice);
        vault.cancel(id);
        assertEq(usdc.balanceOf(alice), amount);
        shares = bound(shares, 1, vault.balanceOf(bob));
        uint256 before = vault.balanceOf(bob);
        uint256 sid = _requestSell(bob, shares);
        vm.prank(bob);
        vault.cancel(sid);
        assertEq(vault.balanceOf(bob), before);
        (,,, uint256 pb) = vault.queueState(false);
        (,,, uint256 ps) = vault.queueState(true);
        assertEq(pb + ps, 0);
    }

    function testFuzz_StrikeNeverLowersTheSharePrice(uint256 seed, uint256 buyAmt, uint256 sellFrac) public {
        _investedState(seed);
        vault.updateNav();
        uint256 priceBefore = vault.convertToAssets(1e18);
        _requestBuy(alice, bound(buyAmt, 1e6, 300_000e6));
        uint256 shares = vault.balanceOf(bob) * bound(sellFrac, 1, 10_000) / 10_000;
        if (shares != 0) _requestSell(bob, shares);
        _strike();
        assertGe(vault.convertToAssets(1e18), priceBefore);
    }

    function testFuzz_OnlyTheKeeperStrikes(address caller) public {
        vm.assume(caller != vault.keeper());
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.Unauthorized.selector, caller));
        vault.strike(1);
    }

    function testFuzz_RebalanceLosesAtMostItsBudget(uint256 seed, uint256 fracBps, uint16 slip) public {
        _investedState(seed);
        _afterCooldown();
        vm.warp(block.timestamp + 2 days);
        _repostFeeds();
        vault.updateNav();
        slip = uint16(bound(slip, 0, 100));
        IndexBook.Leg[] memory legs = new IndexBook.Leg[](1);
        uint256 amt = tokens[1].balanceOf(address(vault)) * bound(fracBps, 1, 10_000) / 10_000;
        vm.assume(amt > 0);
        legs[0] = IndexBook.Leg({token: address(tokens[1]), isBuy: false, amountIn: amt, minAmountOut: 0});
        uint256 navBefore = vault.totalAssets();
        (uint256 budget,,,,) = vault.operatorLimits();
        vm.prank(operator);
        try vault.rebalance(legs, slip, block.timestamp) returns (uint256 vIn, uint256 vOut) {
            assertGe(vOut * 10_000, vIn * (10_000 - slip));
            assertGe(vault.totalAssets() + budget, navBefore);
        } catch (bytes memory reason) {
            // casting is safe because the revert data starts with the error selector
            // forge-lint: disable-next-line(unsafe-typecast)
            bytes4 sel = bytes4(reason);
            assertTrue(
                sel == IndexVaultOperator.SlippageExceeded.selector || sel == IndexVaultOperator.LossBudgetExceeded.selector
                    || sel == IndexVaultOperator.LegTooSmall.selector
            );
        }
    }

    // ---------------------------------------------------------------- ERC-4626, all cash

    function testFuzz_SyncPreviewsAreExactWhileAllCash(uint256 seed, uint256 assets, uint256 shares) public {
        _fund(carol, 1_000_000e6);
        vm.prank(carol);
        vault.deposit(bound(seed, 1e6, 500_000e6), carol);
        assets = bound(assets, 1, 100_000e6);
        _fund(alice, 1_000_000e6);
        vm.startPrank(alice);
        uint256 pd = vault.previewDeposit(assets);
        vm.assume(pd > 0);
        assertEq(vault.deposit(assets, alice), pd);
        shares = bound(shares, 1, 1e22);
        uint256 pm = vault.previewMint(shares);
        assertEq(vault.mint(shares, alice), pm);
        uint256 maxW = vault.maxWithdraw(alice);
        if (maxW != 0) {
            uint256 w = bound(assets, 1, maxW);
            uint256 pw = vault.previewWithdraw(w);
            assertEq(vault.withdraw(w, alice, alice), pw);
        }
        uint256 maxR = vault.maxRedeem(alice);
        if (maxR != 0) {
            uint256 r = bound(shares, 1, maxR);
            uint256 pr = vault.previewRedeem(r);
            if (pr > 0) assertEq(vault.redeem(r, alice, alice), pr);
        }
        vm.stopPrank();
    }

    function testFuzz_SyncRoundTripsNeverProfit(uint256 seed, uint256 assets) public {
        _fund(carol, 1_000_000e6);
        vm.prank(carol);
        vault.deposit(bound(seed, 1e6, 500_000e6), carol);
        assets = bound(assets, 1e3, 100_000e6);
        _fund(alice, assets);
        vm.startPrank(alice);
        uint256 s = vault.deposit(assets, alice);
        uint256 back = vault.redeem(s, alice, alice);
        assertLe(back, assets);
        uint256 cost = vault.previewMint(s);
        vm.stopPrank();
        _fund(alice, cost);
        vm.startPrank(alice);
        vault.mint(s, alice);
        uint256 burned = vault.withdraw(vault.maxWithdraw(alice), alice, alice);
        assertLe(burned, s);
        vm.stopPrank();
    }

    function testFuzz_ConversionsAreCallerIndependent(address x, address y, uint256 amount, uint256 seed) public {
        _investedState(seed);
        amount = bound(amount, 0, 1e30);
        vm.prank(x);
        uint256 a1 = vault.convertToShares(amount);
        vm.prank(y);
        uint256 a2 = vault.convertToShares(amount);
        assertEq(a1, a2);
        vm.prank(x);
        uint256 b1 = vault.previewRedeem(amount);
        vm.prank(y);
        uint256 b2 = vault.previewRedeem(amount);
        assertEq(b1, b2);
    }

    function testFuzz_ViewsNeverRevert(uint256 seed, uint8 mode, address who) public {
        _investedState(seed);
        mode = uint8(bound(mode, 0, 3));
        if (mode == 0) vm.warp(block.timestamp + 10 days); // every feed stale
        if (mode == 1) feeds[0].setPrice(-1); // a negative answer
        if (mode == 2) {
            vm.prank(guardian);
            vault.pause();
        }
        vault.totalAssets();
        vault.maxDeposit(who);
        vault.maxMint(who);
        vault.maxWithdraw(who);
        vault.maxRedeem(who);
        vault.previewDeposit(1e6);
        vault.previewRedeem(1e18);
        vault.operatorLimits();
        lens.snapshot(vault, who);
        lens.quoteBuy(vault, 1e6);
        lens.quoteSell(vault, 1e18);
        assertEq(vault.maxDeposit(who), 0, "invested: the synchronous buy is closed in every mode");
    }
}
