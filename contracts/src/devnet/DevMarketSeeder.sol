// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IUniswapV2Factory, IUniswapV2Pair} from "../interfaces/IUniswapV2.sol";
import {DevToken} from "./DevToken.sol";
import {DevPriceFeed} from "./DevPriceFeed.sol";

/// @title DevMarketSeeder: deploys many devnet markets per transaction
/// @notice For each spec: a {DevToken}, its {DevPriceFeed}, and its USDC pool on the real
///         Uniswap V2 factory, seeded with the given reserves (LP tokens to `lpRecipient`).
///         Batching ~20 markets per transaction is what makes a 100-constituent devnet deploy
///         take seconds instead of minutes. The seeder must hold the USDC it seeds with.
contract DevMarketSeeder {
    using SafeERC20 for IERC20;

    /// @notice One market to create.
    /// @param name Token name.
    /// @param symbol Token symbol.
    /// @param decimals Token decimals.
    /// @param feedDecimals Feed answer decimals.
    /// @param answer Initial feed answer (USD price scaled by `feedDecimals`).
    /// @param tokenReserve Token base units seeded into the pool.
    /// @param usdcReserve USDC base units seeded into the pool.
    struct MarketSpec {
        string name;
        string symbol;
        uint8 decimals;
        uint8 feedDecimals;
        int256 answer;
        uint256 tokenReserve;
        uint256 usdcReserve;
    }

    /// @notice The Uniswap V2 factory pools are created on.
    IUniswapV2Factory public immutable factory;
    /// @notice The devnet USDC.
    IERC20 public immutable usdc;
    /// @notice The only account allowed to seed; also the tokens' minter and feeds' owner.
    address public immutable admin;

    /// @notice A market was created.
    event MarketCreated(string symbol, address indexed token, address indexed feed, address indexed pair);

    /// @notice The caller is not the admin.
    error NotAdmin(address caller);

    /// @notice Deploys the seeder.
    constructor(IUniswapV2Factory factory_, IERC20 usdc_, address admin_) {
        factory = factory_;
        usdc = usdc_;
        admin = admin_;
    }

    /// @notice Creates one market per spec.
    /// @param specs The markets.
    /// @param lpRecipient Receives the pools' LP tokens.
    /// @return tokens The tokens, in spec order.
    /// @return feeds The feeds, in spec order.
    /// @return pairs The pools, in spec order.
    function createMarkets(MarketSpec[] calldata specs, address lpRecipient)
        external
        returns (address[] memory tokens, address[] memory feeds, address[] memory pairs)
    {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        uint256 n = specs.length;
        tokens = new address[](n);
        feeds = new address[](n);
        pairs = new address[](n);
        for (uint256 i; i < n; ++i) {
            (tokens[i], feeds[i], pairs[i]) = _createMarket(specs[i], lpRecipient);
        }
    }

    function _createMarket(MarketSpec calldata s, address lpRecipient)
        private
        returns (address token, address feed, address pair)
    {
        token = address(new DevToken(s.name, s.symbol, s.decimals, admin, address(this), s.tokenReserve));
        feed = address(new DevPriceFeed(s.feedDecimals, string.concat(s.symbol, " / USD"), s.answer, admin));
        pair = factory.createPair(token, address(usdc));
        IERC20(token).safeTransfer(pair, s.tokenReserve);
        usdc.safeTransfer(pair, s.usdcReserve);
        IUniswapV2Pair(pair).mint(lpRecipient);
        emit MarketCreated(s.symbol, token, feed, pair);
    }
}
