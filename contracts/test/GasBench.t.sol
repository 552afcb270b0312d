// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IndexVault} from "../src/IndexVault.sol";
import {IndexBook} from "../src/IndexBook.sol";
import {IndexFixture} from "./utils/IndexFixture.sol";

/// @dev Gas benchmark at N constituents (env BENCH_N, default 10). Run by scripts/bench_gas.py
///      with `--isolate`, so every measured call is its own transaction (cold storage, real
///      refunds); `vm.snapshotGasLastCall` records it into cache/gas-snapshots/. Recorded
///      figures include the 21,000 intrinsic gas; the script subtracts it.
///      State: a 1M USDC vault, 90% invested across N pools 20M USDC deep each; one buy and
///      one sell request have been struck before, so queue slot 0 of each queue is warm (the
///      steady state: the queues restart at slot 0 whenever a strike drains them).
contract GasBenchTest is IndexFixture {
    uint256 internal constant SETTLE = 100;
    uint256 internal n;
    string internal group;
    address[] internal sellers;

    function setUp() public {
        vm.warp(1_750_000_000);
        n = vm.envOr("BENCH_N", uint256(10));
        group = string.concat("n", vm.toString(n));
        _deployWorld(n, 20_000_000e6);
        _buy(bob, 1_000_000e6);
        _invest(9_000);
        vault.updateNav();
        // A previous buyer and seller: alice holds shares, USDC and an allowance.
        _buy(alice, 2_000e6);
        _sell(alice, vault.balanceOf(alice) / 10);
        _fund(alice, 10_000e6);
        // Sellers for the strike benchmark: each holds shares and no USDC at all.
        for (uint256 i; i < SETTLE / 2; ++i) {
            address s = makeAddr(string.concat("seller", vm.toString(i)));
            _requestBuy(s, 100e6);
            sellers.push(s);
        }
        _strike();
    }

    function test_gas_requestBuy() public {
        vm.prank(alice);
        vault.requestBuy(1_000e6, 0, block.timestamp + 1 hours);
        vm.snapshotGasLastCall(group, "request_buy");
    }

    function test_gas_requestBuyFreshSlot() public {
        // The set-up used queue slots 0..SETTLE/2-1; with that many requests pending, this one
        // writes a slot for the first time (two fresh storage slots: the worst case).
        for (uint256 i; i < SETTLE / 2; ++i) {
            _requestBuy(makeAddr(string.concat("early", vm.toString(i))), 100e6);
        }
        vm.prank(alice);
        vault.requestBuy(1_000e6, 0, block.timestamp + 1 hours);
        vm.snapshotGasLastCall(group, "request_buy_fresh_slot");
    }

    function test_gas_requestBuyWithPermit() public {
        (address dave, uint256 pk) = makeAddrAndKey("dave");
        usdc.mint(dave, 1_000e6);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _permitSig(pk, dave, 1_000e6, deadline);
        vm.prank(dave);
        vault.requestBuyWithPermit(1_000e6, 0, deadline, v, r, s);
        vm.snapshotGasLastCall(group, "request_buy_permit");
    }

    function test_gas_requestSell() public {
        uint256 shares = vault.balanceOf(alice) / 2;
        vm.prank(alice);
        vault.requestSell(shares, 0, block.timestamp + 1 hours);
        vm.snapshotGasLastCall(group, "request_sell");
    }

    function test_gas_requestSellWholeVaultFifth() public {
        // A fifth of the supply, twice the cash on hand: same gas, the seller never swaps.
        uint256 shares = vault.totalSupply() / 5;
        vm.prank(bob);
        vault.requestSell(shares, 0, block.timestamp + 1 hours);
        vm.snapshotGasLastCall(group, "request_sell_large");
    }

    function test_gas_cancelBuy() public {
        vm.prank(alice);
        uint256 id = vault.requestBuy(1_000e6, 0, block.timestamp + 1 hours);
        vm.prank(alice);
        vault.cancel(id);
        vm.snapshotGasLastCall(group, "cancel_buy");
    }

    function test_gas_cancelBuyIntoEmptyBalance() public {
        address carol = makeAddr("carol");
        uint256 id = _requestBuy(carol, 1_000e6);
        vm.prank(carol);
        vault.cancel(id);
        vm.snapshotGasLastCall(group, "cancel_buy_empty_balance");
    }

    function test_gas_cancelSell() public {
        uint256 shares = vault.balanceOf(alice) / 2;
        uint256 id = _requestSell(alice, shares);
        vm.prank(alice);
        vault.cancel(id);
        vm.snapshotGasLastCall(group, "cancel_sell");
    }

    function test_gas_cancelSellAll() public {
        uint256 id = _requestSell(alice, vault.balanceOf(alice));
        vm.prank(alice);
        vault.cancel(id);
        vm.snapshotGasLastCall(group, "cancel_sell_all");
    }

    function test_gas_strikeNoRequests() public {
        vm.warp(block.timestamp + vault.minRequestAge() + 1);
        vm.prank(operator);
        vault.strike(type(uint256).max);
        vm.snapshotGasLastCall(group, "strike_0");
    }

    function test_gas_strikeOneRequest() public {
        _requestBuy(makeAddr("carol"), 1_000e6);
        vm.warp(block.timestamp + vault.minRequestAge() + 1);
        vm.prank(operator);
        vault.strike(type(uint256).max);
        vm.snapshotGasLastCall(group, "strike_1");
    }

    function test_gas_strikeHundredRequests() public {
        // Worst case per request: 50 first-time holders buy (a new share balance each) and 50
        // holders with no USDC sell everything (a new USDC balance each).
        for (uint256 i; i < SETTLE / 2; ++i) {
            _requestBuy(makeAddr(string.concat("buyer", vm.toString(i))), 100e6);
            _requestSell(sellers[i], vault.balanceOf(sellers[i]));
        }
        vm.warp(block.timestamp + vault.minRequestAge() + 1);
        vm.prank(operator);
        vault.strike(type(uint256).max);
        vm.snapshotGasLastCall(group, "strike_100");
    }

    function test_gas_redeemInKind() public {
        uint256 shares = vault.balanceOf(bob) / 10;
        vm.prank(bob);
        vault.redeemInKind(shares, bob);
        vm.snapshotGasLastCall(group, "redeem_in_kind");
    }

    function test_gas_rebalanceLeg() public {
        IndexBook.Leg[] memory legs = new IndexBook.Leg[](1);
        // A sell leg of a tenth of the first holding (the pools sit slightly above the oracle
        // after the set-up's buys, so a sell leg stays within the 1% budget at every N).
        uint256 amount = tokens[0].balanceOf(address(vault)) / 10;
        legs[0] = IndexBook.Leg({token: address(tokens[0]), isBuy: false, amountIn: amount, minAmountOut: 0});
        _afterCooldown();
        vm.prank(operator);
        vault.rebalance(legs, 100, block.timestamp);
        vm.snapshotGasLastCall(group, "rebalance_one_leg");
    }

    function test_gas_updateNav() public {
        vault.updateNav();
        vm.snapshotGasLastCall(group, "update_nav");
    }

    function test_gas_lensQuoteSell() public {
        lens.quoteSell(vault, vault.totalSupply() / 5);
        vm.snapshotGasLastCall(group, "lens_quote_sell");
    }

    function test_gas_lens() public {
        lens.snapshot(vault, alice);
        vm.snapshotGasLastCall(group, "lens_snapshot");
    }
}
