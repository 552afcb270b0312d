// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {Multicall3} from "../src/devnet/Multicall3.sol";
import {DevPriceFeed} from "../src/devnet/DevPriceFeed.sol";
import {DevToken} from "../src/devnet/DevToken.sol";
import {DevUSDC} from "../src/devnet/DevUSDC.sol";
import {DevMarketSeeder} from "../src/devnet/DevMarketSeeder.sol";
import {IUniswapV2Pair} from "../src/interfaces/IUniswapV2.sol";
import {IndexFixture} from "./utils/IndexFixture.sol";

contract Reverter {
    error Nope();

    function fail() external pure {
        revert Nope();
    }

    function echo(uint256 x) external payable returns (uint256) {
        return x + msg.value;
    }
}

/// @dev The devnet market contracts: Multicall3, feeds, tokens, USDC permit, the seeder.
contract DevnetTest is IndexFixture {
    Multicall3 internal mc;
    Reverter internal rev;

    function setUp() public {
        vm.warp(1_750_000_000);
        _deployWorld(3, 1_000_000e6);
        mc = new Multicall3();
        rev = new Reverter();
    }

    function test_Aggregate3ReadsManyAndToleratesAllowedFailures() public {
        Multicall3.Call3[] memory calls = new Multicall3.Call3[](3);
        calls[0] = Multicall3.Call3(address(usdc), false, abi.encodeCall(IERC20.totalSupply, ()));
        calls[1] = Multicall3.Call3(address(rev), true, abi.encodeCall(Reverter.fail, ()));
        calls[2] = Multicall3.Call3(address(vault), false, abi.encodeWithSignature("totalAssets()"));
        Multicall3.Result[] memory r = mc.aggregate3(calls);
        assertTrue(r[0].success);
        assertEq(abi.decode(r[0].returnData, (uint256)), usdc.totalSupply());
        assertFalse(r[1].success);
        assertEq(bytes4(r[1].returnData), Reverter.Nope.selector);
        assertEq(abi.decode(r[2].returnData, (uint256)), vault.totalAssets());
    }

    function test_Aggregate3RevertsOnDisallowedFailure() public {
        Multicall3.Call3[] memory calls = new Multicall3.Call3[](1);
        calls[0] = Multicall3.Call3(address(rev), false, abi.encodeCall(Reverter.fail, ()));
        vm.expectRevert(
            abi.encodeWithSelector(Multicall3.CallFailed.selector, 0, abi.encodeWithSelector(Reverter.Nope.selector))
        );
        mc.aggregate3(calls);
    }

    function test_AggregateAndTryAggregate() public {
        Multicall3.Call[] memory calls = new Multicall3.Call[](2);
        calls[0] = Multicall3.Call(address(rev), abi.encodeCall(Reverter.echo, (41)));
        calls[1] = Multicall3.Call(address(mc), abi.encodeCall(Multicall3.getChainId, ()));
        (uint256 bn, bytes[] memory ret) = mc.aggregate(calls);
        assertEq(bn, block.number);
        assertEq(abi.decode(ret[0], (uint256)), 41);
        assertEq(abi.decode(ret[1], (uint256)), block.chainid);
        calls[1] = Multicall3.Call(address(rev), abi.encodeCall(Reverter.fail, ()));
        Multicall3.Result[] memory r = mc.tryAggregate(false, calls);
        assertTrue(r[0].success);
        assertFalse(r[1].success);
        vm.expectPartialRevert(Multicall3.CallFailed.selector);
        mc.tryAggregate(true, calls);
        vm.expectPartialRevert(Multicall3.CallFailed.selector);
        mc.blockAndAggregate(calls);
    }

    function test_Aggregate3ValueChecksValue() public {
        Multicall3.Call3Value[] memory calls = new Multicall3.Call3Value[](1);
        calls[0] = Multicall3.Call3Value(address(rev), false, 5, abi.encodeCall(Reverter.echo, (1)));
        Multicall3.Result[] memory r = mc.aggregate3Value{value: 5}(calls);
        assertEq(abi.decode(r[0].returnData, (uint256)), 6);
        vm.expectRevert(abi.encodeWithSelector(Multicall3.ValueMismatch.selector, 6, 5));
        mc.aggregate3Value{value: 6}(calls);
    }

    function test_MulticallGetters() public {
        vm.deal(alice, 3 ether);
        assertEq(mc.getEthBalance(alice), 3 ether);
        assertEq(mc.getBlockNumber(), block.number);
        assertEq(mc.getCurrentBlockTimestamp(), block.timestamp);
        assertEq(mc.getChainId(), block.chainid);
        assertEq(mc.getBasefee(), block.basefee);
        assertEq(mc.getCurrentBlockGasLimit(), block.gaslimit);
        assertEq(mc.getCurrentBlockCoinbase(), block.coinbase);
        mc.getCurrentBlockDifficulty();
        mc.getLastBlockHash();
        mc.getBlockHash(block.number);
    }

    function test_FeedRoundsAndOwner() public {
        DevPriceFeed f = feeds[0];
        (uint80 id1,,,,) = f.latestRoundData();
        vm.warp(block.timestamp + 60);
        f.setPrice(123e8);
        (uint80 id2, int256 answer,, uint256 updatedAt, uint80 answeredIn) = f.latestRoundData();
        assertEq(id2, id1 + 1);
        assertEq(answer, 123e8);
        assertEq(updatedAt, block.timestamp);
        assertEq(answeredIn, id2);
        (, int256 old,,,) = f.getRoundData(id1);
        assertEq(old, _priceOf(0));
        assertEq(f.latestAnswer(), 123e8);
        assertEq(f.decimals(), 8);
        assertEq(f.description(), "T0 / USD");
        vm.expectRevert(abi.encodeWithSelector(DevPriceFeed.NoDataPresent.selector, uint80(99)));
        f.getRoundData(99);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DevPriceFeed.NotOwner.selector, alice));
        f.setPrice(1);
        vm.expectRevert(abi.encodeWithSelector(DevPriceFeed.FutureTimestamp.selector, block.timestamp + 1));
        f.setPriceAt(1, block.timestamp + 1);
    }

    function test_TokensAndUsdc() public {
        assertEq(usdc.decimals(), 6);
        assertEq(usdc.symbol(), "USDC");
        assertEq(tokens[0].decimals(), 18);
        assertEq(tokens[1].decimals(), 8);
        assertEq(tokens[2].decimals(), 6);
        tokens[0].mint(alice, 5);
        assertEq(tokens[0].balanceOf(alice), 5);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DevToken.NotMinter.selector, alice));
        tokens[0].mint(alice, 5);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DevUSDC.NotMinter.selector, alice));
        usdc.mint(alice, 5);
        (, string memory name, string memory version, uint256 chainId, address verifying,,) = usdc.eip712Domain();
        assertEq(name, "USD Coin");
        assertEq(version, "1");
        assertEq(chainId, block.chainid);
        assertEq(verifying, address(usdc));
    }

    function test_SeederPoolsArePricedAtTheFeed() public view {
        for (uint256 i; i < 3; ++i) {
            IUniswapV2Pair pair = IUniswapV2Pair(pairs[i]);
            (uint112 r0, uint112 r1,) = pair.getReserves();
            (uint256 rt, uint256 ru) =
                pair.token0() == address(tokens[i]) ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
            assertEq(ru, 1_000_000e6);
            // casting to 'uint256' is safe because test prices are positive
            // forge-lint: disable-next-line(unsafe-typecast)
            uint256 implied = ru * 10 ** tokens[i].decimals() * 1e8 / rt / 1e6;
            // casting to 'uint256' is safe because test prices are positive
            // forge-lint: disable-next-line(unsafe-typecast)
            assertApproxEqRel(implied, uint256(_priceOf(i)), 1e12);
            assertEq(factory.getPair(address(tokens[i]), address(usdc)), pairs[i]);
        }
    }

    function test_SeederIsAdminOnly() public {
        DevMarketSeeder.MarketSpec[] memory specs = new DevMarketSeeder.MarketSpec[](0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(DevMarketSeeder.NotAdmin.selector, alice));
        seeder.createMarkets(specs, alice);
    }
}
