// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Minimal Uniswap V2 interfaces
/// @notice Only the functions this project calls on the real Uniswap V2 factory, pair and
///         Router02 (deployed from the npm packages' compiled artifacts).
interface IUniswapV2Factory {
    /// @notice Creates the pair of `tokenA` and `tokenB`; reverts if it exists.
    function createPair(address tokenA, address tokenB) external returns (address pair);

    /// @notice The pair of two tokens, or the zero address.
    function getPair(address tokenA, address tokenB) external view returns (address pair);
}

interface IUniswapV2Pair {
    /// @notice Mints liquidity for tokens already transferred to the pair.
    function mint(address to) external returns (uint256 liquidity);

    /// @notice Current reserves and the time of their last update.
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);

    /// @notice The lower-sorted token of the pair.
    function token0() external view returns (address);

    /// @notice The higher-sorted token of the pair.
    function token1() external view returns (address);

    /// @notice Low-level swap; the caller must have transferred the input first.
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;

    /// @notice Sets the reserves to the pair's balances.
    function sync() external;
}

interface IUniswapV2Router02 {
    /// @notice The factory the router resolves pairs with.
    function factory() external view returns (address);

    /// @notice Swaps an exact input along `path`; reverts if the output is below `amountOutMin`.
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);

    /// @notice Swaps an exact input along `path` for tokens that may take a fee on transfer;
    ///         the router checks the output as the change of `to`'s balance.
    function swapExactTokensForTokensSupportingFeeOnTransferTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external;

    /// @notice Quote of the outputs along `path` for an exact input.
    function getAmountsOut(uint256 amountIn, address[] calldata path) external view returns (uint256[] memory amounts);
}
