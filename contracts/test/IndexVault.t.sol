// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IndexVault} from "../src/IndexVault.sol";
import {IndexVaultStorage} from "../src/IndexVaultStorage.sol";
import {IndexVaultPricing} from "../src/IndexVaultPricing.sol";
import {IndexVaultRequests} from "../src/IndexVaultRequests.sol";
import {IndexVaultOperator} from "../src/IndexVaultOperator.sol";
import {IndexVaultExits} from "../src/IndexVaultExits.sol";
import {IndexBook} from "../src/IndexBook.sol";
import {IndexLens} from "../src/IndexLens.sol";
import {IndexFixture} from "./utils/IndexFixture.sol";
import {FreezableToken} from "./utils/HostileTokens.sol";

/// @dev Unit tests of requests, cancels, strikes, refunds, the synchronous all-cash paths,
///      roles, the timelock, pause and the lens.
contract IndexVaultTest is IndexFixture {
    uint256 internal constant N = 12;
    address internal carol = makeAddr("carol");

    function setUp() public {
        vm.warp(1_750_000_000);
        _deployWorld(N, 2_000_000e6);
    }

    function _invested() internal {
        _buy(bob, 100_000e6);
        _invest(9_000);
        vault.updateNav();
    }

    // ---------------------------------------------------------------- basics

    function test_MetadataAndDefaults() public view {
        assertEq(vault.name(), "TM Global 100");
        assertEq(vault.symbol(), "G100");
        assertEq(vault.decimals(), 18);
        assertEq(vault.asset(), address(usdc));
        assertEq(vault.owner(), address(timelock));
        assertEq(vault.keeper(), operator);
        assertEq(vault.totalSupply(), 1, "the vault's own permanent share unit");
        assertEq(vault.balanceOf(address(vault)), 1);
        assertTrue(vault.instantOpen());
    }

    function test_ConstructorDefaultsBeforeTheFixtureTunesThem() public {
        IndexVault v = new IndexVault(
            IERC20(address(usdc)), router, "X", "X", address(timelock), operator, guardian, feeRecipient, 25, 25
        );
        assertEq(v.minRequestAge(), 300);
        assertEq(v.strikeInterval(), 3_600);
        assertEq(v.maxPriceDeviationBps(), 2_500);
        (, , uint256 lossBps, uint256 cooldown,) = v.operatorLimits();
        assertEq(lossBps, 50);
        assertEq(cooldown, 300);
        vm.expectRevert(abi.encodeWithSelector(IndexVault.FeeTooHigh.selector, 101, 100));
        new IndexVault(IERC20(address(usdc)), router, "X", "X", owner, operator, guardian, feeRecipient, 101, 25);
        vm.expectRevert(IndexVaultStorage.ZeroAddress.selector);
        new IndexVault(IERC20(address(usdc)), router, "X", "X", owner, address(0), guardian, feeRecipient, 25, 25);
    }

    // ---------------------------------------------------------------- buy requests

    function test_BuyRequestEscrowsThenStrikeMints() public {
        _fund(alice, 1_000e6);
        vm.expectEmit(true, true, false, true, address(vault));
        emit IndexVaultRequests.BuyRequested(_nextId(false), alice, 1_000e6, 990e18, block.timestamp + 1 hours);
        vm.prank(alice);
        uint256 id = vault.requestBuy(1_000e6, 990e18, block.timestamp + 1 hours);
        assertEq(id & 1, 0, "buy ids are even");
        assertEq(usdc.balanceOf(alice), 0);
        assertEq(vault.cash(), 0, "pending USDC is not cash");
        assertEq(vault.totalAssets(), 0);
        (IndexVault.Request memory r, bool pending) = vault.requestOf(id);
        assertTrue(pending);
        assertEq(r.owner, alice);
        assertEq(r.amount, 1_000e6);

        // Estimated at the current NAV; exact here (all cash, no price can move).
        uint256 expected = vault.previewDeposit(1_000e6);
        // One share per USDC (decimals offset 12), plus 1e-12 from the vault's own share unit.
        assertEq(expected, 997.5e18 + 997.5e6);
        vm.warp(block.timestamp + 61);
        vm.expectEmit(true, true, true, true, address(vault));
        emit IndexVaultRequests.BuySettled(id, alice, 1, 1_000e6, 2.5e6, expected);
        vm.prank(operator);
        (uint256 settled, uint256 refunded) = vault.strike(type(uint256).max);
        assertEq(settled, 1);
        assertEq(refunded, 0);
        // Fee 0.25% to the recipient.
        assertEq(vault.balanceOf(alice), expected);
        assertEq(usdc.balanceOf(feeRecipient), 2.5e6);
        assertEq(vault.totalAssets(), 997.5e6);
        (, pending) = vault.requestOf(id);
        assertFalse(pending);
    }

    function _nextId(bool isSell) internal view returns (uint256) {
        (uint256 next,,,) = vault.queueState(isSell);
        return (next << 1) | (isSell ? 1 : 0);
    }

    function test_AllRequestsOfOneStrikeGetOneNav() public {
        _invested();
        _moveAll(10_200);
        uint256 a = _requestBuy(alice, 10_000e6);
        uint256 c = _requestBuy(carol, 30_000e6);
        _strike();
        // Same price for both: shares proportional to net USDC, within one unit.
        assertApproxEqAbs(vault.balanceOf(carol), vault.balanceOf(alice) * 3, 3);
        (, bool pa) = vault.requestOf(a);
        (, bool pc) = vault.requestOf(c);
        assertFalse(pa || pc);
    }

    function _moveAll(uint256 pctTimes100) internal {
        for (uint256 i; i < N; ++i) {
            // casting is safe because test percentages are small positive constants
            // forge-lint: disable-next-line(unsafe-typecast)
            _movePrice(i, _priceOf(i) * int256(pctTimes100) / 10_000);
        }
    }

    function test_BuyBelowMinimumIsRefundedAtTheStrike() public {
        _invested();
        uint256 quote = vault.previewDeposit(1_000e6);
        _fund(alice, 1_000e6);
        vm.prank(alice);
        uint256 id = vault.requestBuy(1_000e6, quote, block.timestamp + 1 hours);
        // Prices rise 5% before the strike: fewer shares than the minimum.
        _moveAll(10_500);
        vm.warp(block.timestamp + 61);
        vm.expectEmit(true, true, true, true, address(vault));
        emit IndexVaultRequests.RequestRefunded(id, alice, vault.strikeCount() + 1, 1_000e6, IndexVaultRequests.RefundReason.BelowMinimum);
        vm.prank(operator);
        (uint256 settled, uint256 refunded) = vault.strike(type(uint256).max);
        assertEq(settled, 0);
        assertEq(refunded, 1);
        assertEq(usdc.balanceOf(alice), 1_000e6, "every unit back");
        assertEq(vault.balanceOf(alice), 0);
    }

    function test_RequestPastItsDeadlineIsRefunded() public {
        _fund(alice, 500e6);
        vm.prank(alice);
        uint256 id = vault.requestBuy(500e6, 0, block.timestamp + 100);
        vm.warp(block.timestamp + 101);
        vm.expectEmit(true, true, true, true, address(vault));
        emit IndexVaultRequests.RequestRefunded(id, alice, 1, 500e6, IndexVaultRequests.RefundReason.DeadlinePassed);
        vm.prank(operator);
        vault.strike(type(uint256).max);
        assertEq(usdc.balanceOf(alice), 500e6);
    }

    function test_RequestInputValidation() public {
        _fund(alice, 500e6);
        vm.startPrank(alice);
        vm.expectRevert(IndexVaultStorage.ZeroAmount.selector);
        vault.requestBuy(0, 0, block.timestamp + 1);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.InvalidDeadline.selector, block.timestamp - 1, block.timestamp));
        vault.requestBuy(1e6, 0, block.timestamp - 1);
        uint256 far = block.timestamp + 31 days;
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.InvalidDeadline.selector, far, block.timestamp));
        vault.requestBuy(1e6, 0, far);
        vm.expectRevert(IndexVaultStorage.ZeroAmount.selector);
        vault.requestSell(0, 0, block.timestamp + 1);
        vm.expectRevert(); // no shares
        vault.requestSell(1e18, 0, block.timestamp + 1);
        vm.stopPrank();
    }

    function test_RequestBuyWithPermitOneTransaction() public {
        (address dave, uint256 pk) = makeAddrAndKey("dave");
        usdc.mint(dave, 500e6);
        uint256 deadline = block.timestamp + 600;
        (uint8 v, bytes32 r, bytes32 s) = _permitSig(pk, dave, 500e6, deadline);
        uint256 expected = vault.previewDeposit(500e6);
        vm.prank(dave);
        vault.requestBuyWithPermit(500e6, 0, deadline, v, r, s);
        assertEq(usdc.balanceOf(dave), 0);
        assertEq(usdc.allowance(dave, address(vault)), 0);
        assertEq(usdc.nonces(dave), 1);
        _strike();
        assertEq(vault.balanceOf(dave), expected);
    }

    function test_PermitFrontRunStillRequests_BadPermitWithoutAllowanceReverts() public {
        (address dave, uint256 pk) = makeAddrAndKey("dave");
        usdc.mint(dave, 500e6);
        uint256 deadline = block.timestamp + 600;
        (uint8 v, bytes32 r, bytes32 s) = _permitSig(pk, dave, 500e6, deadline);
        usdc.permit(dave, address(vault), 500e6, deadline, v, r, s); // copied from the mempool
        vm.prank(dave);
        vault.requestBuyWithPermit(500e6, 0, deadline, v, r, s);
        (address erin,) = makeAddrAndKey("erin");
        usdc.mint(erin, 500e6);
        vm.prank(erin);
        vm.expectRevert();
        vault.requestBuyWithPermit(500e6, 0, deadline, 27, bytes32(uint256(1)), bytes32(uint256(2)));
        assertEq(usdc.balanceOf(erin), 500e6);
    }

    // ---------------------------------------------------------------- sell requests

    function test_SellRequestEscrowsSharesThenStrikePays() public {
        _invested();
        uint256 shares = vault.balanceOf(bob) / 20;
        uint256 supply = vault.totalSupply();
        vm.prank(bob);
        uint256 id = vault.requestSell(shares, 0, block.timestamp + 1 hours);
        assertEq(id & 1, 1, "sell ids are odd");
        assertEq(vault.balanceOf(address(vault)), shares + 1);
        assertEq(vault.totalSupply(), supply, "escrowed, not burned");
        uint256 gross = vault.convertToAssets(shares);
        uint256 before = usdc.balanceOf(bob);
        _strike();
        uint256 paid = usdc.balanceOf(bob) - before;
        assertApproxEqAbs(paid, gross - Math.mulDiv(gross, 25, 10_000, Math.Rounding.Ceil), 2);
        assertEq(vault.totalSupply(), supply - shares);
        assertEq(vault.balanceOf(address(vault)), 1);
    }

    function test_SellBelowMinimumGetsSharesBack() public {
        _invested();
        uint256 shares = vault.balanceOf(bob) / 20;
        uint256 quote = vault.previewRedeem(shares);
        vm.prank(bob);
        vault.requestSell(shares, quote, block.timestamp + 1 hours);
        _moveAll(9_500);
        uint256 bal = vault.balanceOf(bob);
        (, uint256 refunded) = _strike();
        assertEq(refunded, 1);
        assertEq(vault.balanceOf(bob), bal + shares);
    }

    function test_SellPastCashWaitsForTheOperatorThenSettles() public {
        _invested();
        // Half the vault: five times the cash on hand.
        uint256 shares = vault.balanceOf(bob) / 2;
        uint256 id = _requestSell(bob, shares);
        uint256 a = _requestBuy(alice, 1_000e6);
        (uint256 settled,) = _strike();
        assertEq(settled, 1, "the buy settles, the sell waits");
        (, bool pending) = vault.requestOf(id);
        assertTrue(pending);
        (, bool pa) = vault.requestOf(a);
        assertFalse(pa);
        // The operator raises cash; the next strike pays the sell at its own NAV.
        IndexBook.Constituent[] memory cs = vault.getConstituents();
        IndexBook.Leg[] memory legs = new IndexBook.Leg[](cs.length);
        for (uint256 i; i < cs.length; ++i) {
            legs[i] = IndexBook.Leg({
                token: cs[i].token, isBuy: false, amountIn: IERC20(cs[i].token).balanceOf(address(vault)) * 6 / 10, minAmountOut: 0
            });
        }
        _afterCooldown();
        vm.prank(operator);
        vault.rebalance(legs, 100, block.timestamp);
        uint256 before = usdc.balanceOf(bob);
        (settled,) = _strike();
        assertEq(settled, 1);
        assertGt(usdc.balanceOf(bob) - before, 40_000e6);
    }

    function test_StrikeHonoursMaxRequestsAndTheCutOff() public {
        for (uint256 i; i < 5; ++i) {
            _requestBuy(makeAddr(string.concat("u", vm.toString(i))), 100e6);
        }
        vm.warp(block.timestamp + 61);
        uint256 late = _requestBuy(alice, 100e6); // after the others' cut-off, before its own
        vm.prank(operator);
        (uint256 settled,) = vault.strike(3);
        assertEq(settled, 3);
        vm.prank(operator);
        (settled,) = vault.strike(type(uint256).max);
        assertEq(settled, 2, "alice's request is before its cut-off");
        (, bool pending) = vault.requestOf(late);
        assertTrue(pending);
        vm.warp(block.timestamp + 61);
        vm.prank(operator);
        (settled,) = vault.strike(type(uint256).max);
        assertEq(settled, 1);
        // The drained queue restarts at slot 0 (warm slots for the next requests).
        (uint256 next, uint256 base, uint256 head, uint256 pendingAmt) = vault.queueState(false);
        assertEq(next, base);
        assertEq(head, 0);
        assertEq(pendingAmt, 0);
    }

    function test_RequestNeverSettlesInItsOwnSecondEvenWithZeroCutOff() public {
        _asOwner(abi.encodeCall(IndexVault.setLimits, (_limitsWith(200, 60, 0))));
        uint256 id = _requestBuy(alice, 100e6);
        vm.prank(operator);
        (uint256 settled,) = vault.strike(type(uint256).max);
        assertEq(settled, 0);
        vm.warp(block.timestamp + 1);
        vm.prank(operator);
        (settled,) = vault.strike(type(uint256).max);
        assertEq(settled, 1);
        (, bool pending) = vault.requestOf(id);
        assertFalse(pending);
    }

    function test_OnlyKeeperStrikes() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.Unauthorized.selector, alice));
        vault.strike(1);
        _asOwner(abi.encodeCall(IndexVault.setRole, (IndexVault.Role.Keeper, carol)));
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.Unauthorized.selector, operator));
        vault.strike(1);
        vm.prank(carol);
        vault.strike(1);
        assertEq(vault.strikeCount(), 1);
        assertEq(vault.lastStrikeAt(), block.timestamp);
    }

    // ---------------------------------------------------------------- cancel

    function test_CancelBeforeCutOffRefunds_AfterCutOffRefused_AfterDeadlineAllowed() public {
        uint256 id = _requestBuy(alice, 700e6);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultRequests.NotRequestOwner.selector, id, bob));
        vault.cancel(id);
        vm.expectEmit(true, true, false, true, address(vault));
        emit IndexVaultRequests.RequestCancelled(id, alice, 700e6);
        vm.prank(alice);
        vault.cancel(id);
        assertEq(usdc.balanceOf(alice), 700e6);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultRequests.RequestNotPending.selector, id));
        vault.cancel(id);

        vm.prank(alice);
        uint256 id2 = vault.requestBuy(700e6, 0, block.timestamp + 600);
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 60);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultRequests.CancelClosed.selector, id2, t0 + 60, t0 + 600));
        vault.cancel(id2);
        vm.warp(t0 + 601);
        vm.prank(alice);
        vault.cancel(id2);
        assertEq(usdc.balanceOf(alice), 700e6);
        // A cancelled request is skipped by the strike; the queue drains.
        (uint256 settled, uint256 refunded) = _strike();
        assertEq(settled + refunded, 0);
        (uint256 next, uint256 base,,) = vault.queueState(false);
        assertEq(next, base);
    }

    function test_CancelSellReturnsShares() public {
        _invested();
        uint256 shares = vault.balanceOf(bob);
        uint256 id = _requestSell(bob, shares);
        assertEq(vault.balanceOf(bob), 0);
        vm.prank(bob);
        vault.cancel(id);
        assertEq(vault.balanceOf(bob), shares);
        (,,, uint256 pendingShares) = vault.queueState(true);
        assertEq(pendingShares, 0);
    }

    /// @dev A cancel clears the request's slots (their refunds pay for its bookkeeping); the
    ///      slot is skipped by the strike and written afresh by a later request. The cut-off
    ///      lives in both queues' slots: a timelocked change reaches sells as well as buys.
    function test_CancelClearsTheSlot_CutOffChangeReachesBothQueues() public {
        _invested();
        _asOwner(abi.encodeCall(IndexVault.setLimits, (_limitsWith(200, 60, 600))));
        assertEq(vault.minRequestAge(), 600);
        uint256 sellId = _requestSell(bob, vault.balanceOf(bob) / 2);
        uint256 buyId = _requestBuy(alice, 1_000e6);
        vm.warp(block.timestamp + 300);
        vm.prank(bob);
        vault.cancel(sellId); // before the 600 s cut-off of the sell queue too
        vm.prank(alice);
        vault.cancel(buyId);
        (IndexVault.Request memory r, bool pending) = vault.requestOf(buyId);
        assertFalse(pending);
        assertEq(r.owner, address(0));
        assertEq(r.amount, 0, "the slot is cleared");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultRequests.RequestNotPending.selector, buyId));
        vault.cancel(buyId);
        // The strike passes over the cleared slots; the next requests settle as usual.
        uint256 next = _requestBuy(carol, 500e6);
        _strike();
        (, pending) = vault.requestOf(next);
        assertFalse(pending);
        assertGt(vault.balanceOf(carol), 0);
        assertEq(usdc.balanceOf(alice), 1_000e6, "the cancelled buy was refunded, not struck");
        (,,, uint256 pendingBuys) = vault.queueState(false);
        assertEq(pendingBuys, 0);
    }

    function test_UnknownIdsAreNotPending() public {
        vm.expectRevert(abi.encodeWithSelector(IndexVaultRequests.RequestNotPending.selector, 12345));
        vault.cancel(12345);
        (, bool pending) = vault.requestOf(12345);
        assertFalse(pending);
    }

    // ---------------------------------------------------------------- synchronous (all cash)

    function test_SynchronousPathsOpenOnlyWhileAllCash() public {
        _fund(alice, 10_000e6);
        vm.startPrank(alice);
        uint256 quote = vault.previewDeposit(1_000e6);
        assertEq(vault.deposit(1_000e6, alice), quote);
        uint256 cost = vault.previewMint(100e18);
        assertEq(vault.mint(100e18, alice), cost);
        uint256 burn = vault.previewWithdraw(50e6);
        assertEq(vault.withdraw(50e6, alice, alice), burn);
        uint256 out = vault.previewRedeem(100e18);
        assertEq(vault.redeem(100e18, alice, alice), out);
        vm.stopPrank();
        // Invested: the cache is an estimate, so the synchronous paths close.
        _buy(bob, 100_000e6);
        _invest(5_000);
        assertFalse(vault.instantOpen());
        assertEq(vault.maxDeposit(alice), 0);
        assertEq(vault.maxMint(alice), 0);
        assertEq(vault.maxWithdraw(alice), 0);
        assertEq(vault.maxRedeem(alice), 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, alice, 1e6, 0));
        vault.deposit(1e6, alice);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxRedeem.selector, alice, 1e18, 0));
        vault.redeem(1e18, alice, alice);
    }

    function test_SynchronousRedeemCannotSpendPendingBuys() public {
        _fund(alice, 1_000e6);
        vm.prank(alice);
        vault.deposit(1_000e6, alice);
        _requestBuy(carol, 50_000e6);
        // Alice can take out at most the free cash, never carol's pending USDC.
        uint256 maxShares = vault.maxRedeem(alice);
        assertEq(maxShares, vault.balanceOf(alice));
        assertLe(vault.previewRedeem(maxShares), vault.cash());
        vm.prank(alice);
        vault.redeem(maxShares, alice, alice);
        (,,, uint256 pendingAssets) = vault.queueState(false);
        assertEq(usdc.balanceOf(address(vault)), pendingAssets + vault.cash());
    }

    function test_PauseStopsBuysAndStrikesNotExits() public {
        _invested();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.Unauthorized.selector, alice));
        vault.pause();
        vm.prank(guardian);
        vault.pause();
        _fund(alice, 100e6);
        vm.prank(alice);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.requestBuy(100e6, 0, block.timestamp + 1 hours);
        // Sell requests queue, cancels and in-kind exits work.
        uint256 id = _requestSell(bob, 1e18);
        vm.prank(bob);
        vault.cancel(id);
        vm.prank(bob);
        vault.redeemInKind(1e18, bob);
        vm.prank(operator);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.strike(1);
        IndexBook.Leg[] memory legs = new IndexBook.Leg[](0);
        vm.prank(operator);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vault.rebalance(legs, 0, block.timestamp);
        vm.prank(guardian);
        vault.unpause();
        vm.prank(operator);
        vault.strike(1);
    }

    // ---------------------------------------------------------------- in kind

    function test_RedeemInKindProRataNoFeeNoOracle() public {
        _invested();
        // Every feed stale: the in-kind exit does not read them.
        vm.warp(block.timestamp + 2 days);
        uint256 shares = vault.balanceOf(bob) / 3;
        // The fraction is of the supply plus the 1e12 virtual shares ({convertToAssets}'s denominator).
        uint256 supply = vault.totalSupply() + 1e12;
        uint256 cashPart = vault.cash() * shares / supply;
        uint256 t0 = tokens[0].balanceOf(address(vault)) * shares / supply;
        vm.prank(bob);
        (uint256 usdcOut, uint256[] memory amounts) = vault.redeemInKind(shares, alice);
        assertEq(usdcOut, cashPart);
        // Rounded down, and at most one USDC unit's worth less, so that the cached value left
        // keeps its pro-rata share rounded up (the NAV per share of those who stay never falls).
        assertLe(amounts[0], t0);
        uint256 price0 = vault.getConstituents()[0].cachedPrice;
        assertLt((t0 - amounts[0]) * price0, 10 ** tokens[0].decimals() * 1e12, "less than 1 USDC unit kept back");
        assertEq(tokens[0].balanceOf(alice), amounts[0]);
        assertEq(usdc.balanceOf(alice), cashPart);
        assertEq(vault.holdingsValue(), _cacheRecomputed());
    }

    /// @dev A small vault whose holdings are worth much per share (a donation after everyone
    ///      left, then one buyer): one unit of USDC is a visible step of the NAV per share. Each
    ///      in-kind exit must leave the NAV per share of those who stay at least where it was.
    ///      Flooring each constituent's remaining value alone dropped it on 10 of these exits.
    function test_InKindExitsNeverLowerTheNavPerShareOfASmallVault() public {
        uint256 bobShares = _buy(bob, 100_000e6);
        _invest(9_000);
        vault.updateNav();
        vm.prank(bob);
        vault.redeemInKind(bobShares, bob);
        for (uint256 i; i < tokens.length; ++i) {
            (, int256 answer,,,) = feeds[i].latestRoundData();
            // casting to 'uint256' is safe because the fixture's prices are positive
            // forge-lint: disable-next-line(unsafe-typecast)
            tokens[i].mint(address(vault), 10 ** tokens[i].decimals() * 1_000e8 / uint256(answer) + 12_345);
        }
        vault.updateNav();
        _buy(alice, 1_000e6);
        uint256 exits;
        for (uint256 k = 1; k < 400; ++k) {
            uint256 bal = vault.balanceOf(alice);
            uint256 shares = bal * ((k * 7_919) % 97 + 1) / 1_000 + k % 7;
            if (shares == 0 || shares > bal) break;
            uint256 before = vault.convertToAssets(1e18);
            vm.prank(alice);
            vault.redeemInKind(shares, alice);
            assertGe(vault.convertToAssets(1e18), before, "an in-kind exit lowered the NAV per share");
            ++exits;
        }
        assertGt(exits, 200);
        assertEq(vault.holdingsValue(), _cacheRecomputed());
    }

    // ---------------------------------------------------------------- operator bounds

    function test_RebalanceGuards() public {
        _invested();
        IndexBook.Leg[] memory legs = new IndexBook.Leg[](1);
        legs[0] = IndexBook.Leg({token: address(tokens[0]), isBuy: true, amountIn: 100e6, minAmountOut: 0});
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.Unauthorized.selector, alice));
        vault.rebalance(legs, 100, block.timestamp);
        _afterCooldown();
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.LimitOutOfRange.selector, 101, 100));
        vault.rebalance(legs, 101, block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.InvalidDeadline.selector, block.timestamp - 1, block.timestamp));
        vault.rebalance(legs, 100, block.timestamp - 1);
        // Pending buys' USDC is not spendable.
        vm.stopPrank();
        _requestBuy(alice, 1_000_000e6);
        uint256 free = vault.cash();
        legs[0].amountIn = free + 1;
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultOperator.InsufficientFreeCash.selector, free + 1, free));
        vault.rebalance(legs, 100, block.timestamp);
        // Dust, unknown tokens, overselling, buys in Bear.
        legs[0].amountIn = 100;
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultOperator.LegTooSmall.selector, address(tokens[0]), 100));
        vault.rebalance(legs, 100, block.timestamp);
        legs[0].token = address(usdc);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IndexVault.UnknownConstituent.selector, address(usdc)));
        vault.rebalance(legs, 100, block.timestamp);
        uint256 held = tokens[1].balanceOf(address(vault));
        legs[0] = IndexBook.Leg({token: address(tokens[1]), isBuy: false, amountIn: held + 1, minAmountOut: 0});
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultOperator.ExceedsHoldings.selector, address(tokens[1]), held + 1, held));
        vault.rebalance(legs, 100, block.timestamp);
        vm.prank(operator);
        vault.setRegime(IndexVaultStorage.Regime.Bear);
        legs[0] = IndexBook.Leg({token: address(tokens[1]), isBuy: true, amountIn: 100e6, minAmountOut: 0});
        vm.prank(operator);
        vm.expectRevert(IndexVaultOperator.BuyLegInBear.selector);
        vault.rebalance(legs, 100, block.timestamp);
    }

    function test_BearExitReachesAllCashAndReopensTheSynchronousPaths() public {
        _invested();
        vm.prank(operator);
        vault.setRegime(IndexVaultStorage.Regime.Bear);
        IndexBook.Constituent[] memory cs = vault.getConstituents();
        for (uint256 start; start < cs.length; start += 4) {
            IndexBook.Leg[] memory legs = new IndexBook.Leg[](4);
            for (uint256 j; j < 4; ++j) {
                legs[j] = IndexBook.Leg({
                    token: cs[start + j].token, isBuy: false, amountIn: type(uint256).max, minAmountOut: 0
                });
            }
            _afterCooldown();
            vm.prank(operator);
            vault.rebalance(legs, 100, block.timestamp);
        }
        assertEq(vault.holdingsValue(), 0);
        assertTrue(vault.instantOpen());
        assertGt(vault.maxRedeem(bob), 0);
    }

    function test_OperatorSetsWeightsAndRegimeOnly() public {
        uint16[] memory w = new uint16[](N);
        w[0] = 10_000;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.Unauthorized.selector, alice));
        vault.setTargetWeights(w);
        w[0] = 9_999;
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultOperator.WeightsSumInvalid.selector, 9_999));
        vault.setTargetWeights(w);
        vm.prank(operator);
        vm.expectRevert(IndexVaultOperator.LengthMismatch.selector);
        vault.setTargetWeights(new uint16[](1));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.Unauthorized.selector, alice));
        vault.setRegime(IndexVaultStorage.Regime.Bear);
    }

    // ---------------------------------------------------------------- timelock and owner

    function test_EveryOwnerSetterNeedsTheTimelock() public {
        bytes[] memory calls = new bytes[](9);
        calls[0] = abi.encodeCall(IndexVault.setFees, (10, 10));
        calls[1] = abi.encodeCall(IndexVault.setRole, (IndexVault.Role.Operator, alice));
        calls[2] = abi.encodeCall(IndexVault.setLimits, (_limitsWith(50, 60, 60)));
        calls[3] = abi.encodeCall(IndexVault.setSequencerFeed, (address(1), 60));
        calls[4] = abi.encodeCall(IndexVault.addConstituents, (new address[](0), new address[](0), new uint32[](0)));
        calls[5] = abi.encodeCall(IndexVault.removeConstituent, (address(tokens[0])));
        calls[6] = abi.encodeCall(IndexVault.writeOffConstituent, (address(tokens[0])));
        calls[7] = abi.encodeCall(IndexVault.setFeed, (address(tokens[0]), address(feeds[1]), 60));
        calls[8] = abi.encodeCall(Ownable.transferOwnership, (alice));
        address[3] memory callers = [owner, operator, guardian];
        for (uint256 i; i < calls.length; ++i) {
            for (uint256 k; k < 3; ++k) {
                vm.prank(callers[k]);
                (bool ok, bytes memory ret) = address(vault).call(calls[i]);
                assertFalse(ok);
                // casting is safe because ret carries at least a 4-byte selector
                // forge-lint: disable-next-line(unsafe-typecast)
                assertEq(bytes4(ret), Ownable.OwnableUnauthorizedAccount.selector);
            }
        }
        vm.prank(address(timelock));
        vm.expectRevert(IndexVault.RenounceDisabled.selector);
        vault.renounceOwnership();
    }

    function test_OwnerSettersValidateAndEmit() public {
        bytes memory fees = abi.encodeCall(IndexVault.setFees, (40, 60));
        vm.prank(owner);
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.schedule(address(vault), 0, fees, bytes32(0), bytes32("f"), 0);
        vm.expectEmit(true, true, true, true, address(vault));
        emit IndexVault.FeesSet(40, 60);
        vm.prank(owner);
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.execute(address(vault), 0, fees, bytes32(0), bytes32("f"));
        assertEq(vault.buyFeeBps(), 40);
        bytes memory role = abi.encodeCall(IndexVault.setRole, (IndexVault.Role.FeeRecipient, carol));
        vm.prank(owner);
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.schedule(address(vault), 0, role, bytes32(0), bytes32("g"), 0);
        vm.expectEmit(true, true, true, true, address(vault));
        emit IndexVault.RoleSet(IndexVault.Role.FeeRecipient, feeRecipient, carol);
        vm.prank(owner);
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.execute(address(vault), 0, role, bytes32(0), bytes32("g"));
        assertEq(vault.feeRecipient(), carol);
        _asOwner(abi.encodeCall(IndexVault.setRole, (IndexVault.Role.Guardian, carol)));
        assertEq(vault.guardian(), carol);
        _asOwner(abi.encodeCall(IndexVault.setRole, (IndexVault.Role.Operator, carol)));
        assertEq(vault.operator(), carol);

        bytes32 salt = bytes32(uint256(999));
        bytes[4] memory bad = [
            abi.encodeCall(IndexVault.setFees, (101, 0)),
            abi.encodeCall(IndexVault.setRole, (IndexVault.Role.Keeper, address(0))),
            abi.encodeCall(IndexVault.setLimits, (_limitsWith(201, 60, 60))),
            abi.encodeCall(IndexVault.setLimits, (_limitsWith(50, 1 days + 1, 60)))
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.startPrank(owner);
            timelock.schedule(address(vault), 0, bad[i], bytes32(0), salt, 0);
            vm.expectRevert();
            timelock.execute(address(vault), 0, bad[i], bytes32(0), salt);
            vm.stopPrank();
            salt = bytes32(uint256(salt) + 1);
        }
        IndexVault.Limits memory l = _limitsWith(50, 60, 60);
        l.maxPriceDeviationBps = 0;
        vm.startPrank(owner);
        bytes memory zeroBand = abi.encodeCall(IndexVault.setLimits, (l));
        timelock.schedule(address(vault), 0, zeroBand, bytes32(0), salt, 0);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultStorage.LimitOutOfRange.selector, 0, 5_000));
        timelock.execute(address(vault), 0, zeroBand, bytes32(0), salt);
        vm.stopPrank();
    }

    function test_ConstituentAdminThroughTheTimelock() public {
        address[] memory ta = new address[](1);
        address[] memory fa = new address[](1);
        uint32[] memory hb = new uint32[](1);
        ta[0] = address(tokens[0]);
        fa[0] = address(feeds[0]);
        hb[0] = 60;
        bytes memory dup = abi.encodeCall(IndexVault.addConstituents, (ta, fa, hb));
        vm.startPrank(owner);
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.schedule(address(vault), 0, dup, bytes32(0), bytes32("d"), 0);
        vm.expectRevert(abi.encodeWithSelector(IndexVault.DuplicateConstituent.selector, address(tokens[0])));
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.execute(address(vault), 0, dup, bytes32(0), bytes32("d"));
        vm.stopPrank();
        // Removal needs weight 0; the write-off removes whatever it is worth.
        _invested();
        bytes memory rm = abi.encodeCall(IndexVault.removeConstituent, (address(tokens[0])));
        vm.startPrank(owner);
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.schedule(address(vault), 0, rm, bytes32(0), bytes32("r"), 0);
        vm.expectRevert(abi.encodeWithSelector(IndexVault.ConstituentNotEmpty.selector, address(tokens[0])));
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.execute(address(vault), 0, rm, bytes32(0), bytes32("r"));
        vm.stopPrank();
        uint16[] memory w = new uint16[](N);
        w[1] = 10_000;
        vm.prank(operator);
        vault.setTargetWeights(w);
        vm.startPrank(owner);
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.schedule(address(vault), 0, rm, bytes32(0), bytes32("r2"), 0);
        vm.expectRevert(abi.encodeWithSelector(IndexVault.ConstituentNotEmpty.selector, address(tokens[0])));
        // casting is safe because the salt literal is shorter than 32 bytes
        // forge-lint: disable-next-line(unsafe-typecast)
        timelock.execute(address(vault), 0, rm, bytes32(0), bytes32("r2"));
        vm.stopPrank();
        uint256 navBefore = vault.totalAssets();
        uint256 value = vault.getConstituents()[0].cachedValue;
        _asOwner(abi.encodeCall(IndexVault.writeOffConstituent, (address(tokens[0]))));
        assertEq(vault.constituentCount(), N - 1);
        assertEq(vault.totalAssets(), navBefore - value);
        // setFeed changes the heartbeat; a stale answer then stops the refresh.
        _asOwner(abi.encodeCall(IndexVault.setFeed, (address(tokens[1]), address(feeds[1]), 60)));
        vm.warp(block.timestamp + 61);
        vm.expectPartialRevert(IndexVaultPricing.StalePrice.selector);
        vault.updateNav();
    }

    // ---------------------------------------------------------------- oracle

    function test_RefreshRejectsBadAnswers() public {
        _invested();
        feeds[2].setPrice(0);
        vm.expectRevert(abi.encodeWithSelector(IndexVaultPricing.InvalidPrice.selector, address(tokens[2]), int256(0)));
        vault.updateNav();
        feeds[2].setPriceAt(_priceOf(2), block.timestamp - 2 days);
        vm.expectPartialRevert(IndexVaultPricing.StalePrice.selector);
        vault.updateNav();
    }

    // ---------------------------------------------------------------- inflation

    function test_InflationAttackDefeated() public {
        // The attacker is first, buys one unit, then donates 100k USDC to the vault.
        _fund(alice, 1);
        vm.prank(alice);
        vault.deposit(1, alice);
        usdc.mint(address(vault), 100_000e6);
        // The victim still gets shares worth (nearly) what they paid.
        _fund(carol, 10_000e6);
        vm.prank(carol);
        uint256 shares = vault.deposit(10_000e6, carol);
        assertGt(shares, 0);
        assertApproxEqRel(vault.previewRedeem(shares), 10_000e6 * 9_975 / 10_000 * 9_975 / 10_000, 1e15);
    }

    // ---------------------------------------------------------------- lens

    function test_LensSnapshotShowsRequestsAndState() public {
        _invested();
        uint256 id = _requestBuy(alice, 1_000e6);
        uint256 sid = _requestSell(bob, 1e18);
        IndexLens.Snapshot memory s = lens.snapshot(vault, alice);
        assertEq(s.vault.totalAssets, vault.totalAssets());
        assertEq(s.vault.owner, address(timelock));
        assertEq(s.vault.timelockMinDelay, 0);
        assertEq(s.vault.pendingBuyAssets, 1_000e6);
        assertEq(s.vault.pendingSellShares, 1e18);
        assertEq(s.vault.buysQueued, 1);
        assertEq(s.vault.sellsQueued, 1);
        assertEq(s.vault.minRequestAge, 60);
        assertTrue(s.vault.strikeReady);
        assertFalse(s.vault.instantOpen);
        assertEq(s.constituents.length, N);
        assertEq(s.user.requests.length, 1);
        assertEq(s.user.requests[0].id, id);
        assertFalse(s.user.requests[0].isSell);
        assertTrue(s.user.requests[0].cancellable);
        assertEq(s.user.requests[0].eligibleAt, block.timestamp + 60);
        IndexLens.PendingRequest[] memory bobs = lens.pendingRequests(vault, bob);
        assertEq(bobs.length, 1);
        assertEq(bobs[0].id, sid);
        // A feed outside the band shows as not ready.
        feeds[0].setPrice(_priceOf(0) * 2);
        s = lens.snapshot(vault, address(0));
        assertFalse(s.vault.strikeReady);
        assertFalse(s.constituents[0].withinBand);
    }

    function test_LensQuotesMatchTheStrike() public {
        _invested();
        _moveAll(10_100);
        (uint256 fee, uint256 quoted, bool ready) = lens.quoteBuy(vault, 5_000e6);
        assertTrue(ready);
        assertEq(fee, 12.5e6);
        uint256 got = _buy(alice, 5_000e6);
        assertApproxEqRel(got, quoted, 1e12);
        uint256 shares = got / 2;
        (, uint256 usdcQuoted, bool cashOk,) = lens.quoteSell(vault, shares);
        assertTrue(cashOk);
        uint256 paid = _sell(alice, shares);
        assertApproxEqAbs(paid, usdcQuoted, 2);
    }
}

/// @dev A USDC that blacklists: one blocked account can never block a strike or an exit.
contract BlacklistingUsdcTest is IndexFixture {
    FreezableToken internal busd;
    IndexVault internal v;

    function setUp() public {
        vm.warp(1_750_000_000);
        _deployUniswap();
        busd = new FreezableToken("USD Coin", "USDC", 6);
        timelock = _deployTimelock(0);
        v = new IndexVault(
            IERC20(address(busd)), router, "TM Global 100", "G100", address(timelock), operator, guardian, feeRecipient, 25, 25
        );
    }

    function _enter(address who, uint256 amount) internal {
        busd.mint(who, amount);
        vm.startPrank(who);
        busd.approve(address(v), amount);
        v.deposit(amount, who);
        vm.stopPrank();
    }

    function test_BlockedSellerAndRecipientGetClaimsNotReverts() public {
        _enter(alice, 1_000e6);
        _enter(bob, 1_000e6);
        uint256 aShares = v.balanceOf(alice);
        vm.prank(alice);
        v.requestSell(aShares, 0, block.timestamp + 1 hours);
        uint256 bShares = v.balanceOf(bob);
        vm.prank(bob);
        v.requestSell(bShares, 0, block.timestamp + 1 hours);
        busd.setBlocked(alice, true);
        busd.setBlocked(feeRecipient, true);
        vm.warp(block.timestamp + 301);
        vm.prank(operator);
        (uint256 settled,) = v.strike(type(uint256).max);
        assertEq(settled, 2, "the blocked seller did not block the strike");
        assertGt(busd.balanceOf(bob), 990e6);
        uint256 owedAlice = v.claimableUsdc(alice);
        assertGt(owedAlice, 990e6);
        assertGt(v.claimableUsdc(feeRecipient), 0);
        // Claimable USDC is not the vault's cash.
        assertEq(v.totalAssets(), v.cash());
        assertEq(busd.balanceOf(address(v)), v.cash() + owedAlice + v.claimableUsdc(feeRecipient));
        vm.prank(alice);
        vm.expectRevert(FreezableToken.Frozen.selector);
        v.claimUsdc();
        busd.setBlocked(alice, false);
        vm.prank(alice);
        v.claimUsdc();
        assertEq(busd.balanceOf(alice), owedAlice);
        assertEq(v.claimableUsdc(alice), 0);
        vm.prank(alice);
        vm.expectRevert(IndexVaultExits.NothingToClaim.selector);
        v.claimUsdc();
    }
}
