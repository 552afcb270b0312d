// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IndexVault} from "../src/IndexVault.sol";
import {IndexFixture} from "./utils/IndexFixture.sol";

/// @dev Random sequences of buys, sells (from cash and past it), in-kind exits, rebalances,
///      price moves with pool arbitrage, NAV refreshes and time. The fixture itself is the
///      handler's world; the handler only calls through it.
contract VaultHandler is IndexFixture {
    address[3] internal actors;
    uint256 public ghostGrossBuys;
    uint256 public ghostBuyFees;
    uint256 public ghostGrossSells;
    uint256 public ghostSellFees;
    uint256 public ghostOps;
    uint256 public calls;

    constructor() {
        vm.warp(1_750_000_000);
        _deployWorld(8, 20_000_000e6);
        actors = [alice, bob, makeAddr("carol")];
    }

    function vaultAddr() external view returns (IndexVault) {
        return vault;
    }

    function tokenCount() external view returns (uint256) {
        return tokens.length;
    }

    function cacheRecomputed() external view returns (uint256) {
        return _cacheRecomputed();
    }

    function oracleHoldings() external view returns (uint256) {
        return _oracleHoldings();
    }

    function _refreshAsOperator() internal {
        vm.prank(operator);
        vault.updateNav();
    }

    function buy(uint256 actorSeed, uint256 amount) external {
        ++calls;
        if (!vault.navFresh()) _refreshAsOperator();
        address who = actors[actorSeed % 3];
        amount = bound(amount, 1e6, 200_000e6);
        uint256 feeBefore = usdc.balanceOf(feeRecipient);
        _buy(who, amount);
        ghostGrossBuys += amount;
        ghostBuyFees += usdc.balanceOf(feeRecipient) - feeBefore;
        ++ghostOps;
    }

    function sell(uint256 actorSeed, uint256 fraction) external {
        ++calls;
        address who = actors[actorSeed % 3];
        uint256 bal = vault.balanceOf(who);
        if (bal == 0) return;
        if (!vault.navFresh()) _refreshAsOperator();
        uint256 shares = bound(fraction, 1, bal);
        uint256 gross = vault.convertToAssets(shares);
        uint256 feeBefore = usdc.balanceOf(feeRecipient);
        vm.prank(who);
        try vault.sell(shares, 0, who, block.timestamp) {
            ghostGrossSells += gross;
            ghostSellFees += usdc.balanceOf(feeRecipient) - feeBefore;
            ++ghostOps;
        } catch {}
    }

    function redeemInKind(uint256 actorSeed, uint256 fraction) external {
        ++calls;
        address who = actors[actorSeed % 3];
        uint256 bal = vault.balanceOf(who);
        if (bal == 0) return;
        vm.prank(who);
        vault.redeemInKind(bound(fraction, 1, bal), who);
    }

    function invest(uint256 fractionBps) external {
        ++calls;
        if (vault.cash() < 100e6) return;
        fractionBps = bound(fractionBps, 1, 10_000);
        IndexVault.Constituent[] memory cs = vault.getConstituents();
        uint256 budget = vault.cash() * fractionBps / 10_000;
        IndexVault.Leg[] memory legs = new IndexVault.Leg[](cs.length);
        uint256 k;
        for (uint256 i; i < cs.length; ++i) {
            uint256 amt = budget * cs[i].targetWeightBps / 10_000;
            if (amt < 1e6) continue;
            legs[k++] = IndexVault.Leg({token: cs[i].token, isBuy: true, amountIn: amt, minAmountOut: 0});
        }
        assembly {
            mstore(legs, k)
        }
        vm.prank(operator);
        try vault.rebalance(legs, 100, block.timestamp) {} catch {}
        _arbAll();
    }

    function divest(uint256 which, uint256 fraction) external {
        ++calls;
        uint256 i = which % tokens.length;
        uint256 bal = tokens[i].balanceOf(address(vault));
        if (bal == 0) return;
        IndexVault.Leg[] memory legs = new IndexVault.Leg[](1);
        legs[0] = IndexVault.Leg({
            token: address(tokens[i]), isBuy: false, amountIn: bound(fraction, 1, bal), minAmountOut: 0
        });
        vm.prank(operator);
        try vault.rebalance(legs, 100, block.timestamp) {} catch {}
        _arbAll();
    }

    function movePrice(uint256 which, uint256 moveBps) external {
        ++calls;
        uint256 i = which % tokens.length;
        moveBps = bound(moveBps, 8_500, 11_500);
        (, int256 answer,,,) = feeds[i].latestRoundData();
        // casting to 'int256' is safe because moveBps <= 11_500
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 next = answer * int256(moveBps) / 10_000;
        if (next <= 0) return;
        _movePrice(i, next);
    }

    function refresh() external {
        ++calls;
        vm.prank(operator);
        vault.updateNav();
    }

    function passTime(uint256 secs) external {
        ++calls;
        vm.warp(block.timestamp + bound(secs, 1, 2 hours));
        // Feeds keep their heartbeat: the replay re-posts the same prices.
        for (uint256 i; i < feeds.length; ++i) {
            (, int256 answer,,,) = feeds[i].latestRoundData();
            feeds[i].setPrice(answer);
        }
    }
}

contract IndexVaultInvariantTest is Test {
    VaultHandler internal handler;
    IndexVault internal vault;

    function setUp() public {
        handler = new VaultHandler();
        vault = handler.vaultAddr();
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](8);
        selectors[0] = VaultHandler.buy.selector;
        selectors[1] = VaultHandler.sell.selector;
        selectors[2] = VaultHandler.redeemInKind.selector;
        selectors[3] = VaultHandler.invest.selector;
        selectors[4] = VaultHandler.divest.selector;
        selectors[5] = VaultHandler.movePrice.selector;
        selectors[6] = VaultHandler.refresh.selector;
        selectors[7] = VaultHandler.passTime.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev The cache is exactly sum(balance x cachedPrice): every balance change re-caches.
    function invariant_CacheEqualsBalancesTimesCachedPrices() public view {
        assertEq(vault.holdingsValue(), handler.cacheRecomputed());
    }

    /// @dev NAV is cash plus the cache, nothing else.
    function invariant_TotalAssetsIsCashPlusHoldings() public view {
        assertEq(vault.totalAssets(), vault.cash() + vault.holdingsValue());
    }

    /// @dev Total shares x NAV per share equals the holdings value within rounding (the only
    ///      gap is the decimals-offset's virtual shares, worth < 1e12/supply of the NAV).
    function invariant_SharesTimesNavEqualsHoldingsValue() public view {
        uint256 supply = vault.totalSupply();
        uint256 assets = vault.totalAssets();
        uint256 claim = vault.convertToAssets(supply);
        assertLe(claim, assets);
        assertLe(assets - claim, assets * 1e12 / (supply + 1e12) + 1);
    }

    /// @dev After a refresh the cache is the oracle value of the live balances.
    function invariant_RefreshedNavIsOracleValue() public {
        uint256 snap = vm.snapshotState();
        vm.prank(vault.operator());
        vault.updateNav();
        uint256 oracle = handler.oracleHoldings();
        uint256 cached = vault.holdingsValue();
        assertLe(cached, oracle);
        assertLe(oracle - cached, handler.tokenCount());
        vm.revertToState(snap);
    }

    /// @dev Fees never exceed their 1% maxima (plus 1 unit of round-up per operation).
    function invariant_FeesWithinMaxima() public view {
        assertLe(handler.ghostBuyFees(), handler.ghostGrossBuys() / 100 + handler.ghostOps());
        assertLe(handler.ghostSellFees(), handler.ghostGrossSells() / 100 + handler.ghostOps());
    }
}
