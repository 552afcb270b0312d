// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAggregatorV3
/// @notice The read interface of a Chainlink-style price feed (the AggregatorV3Interface shape).
/// @dev Written for this project from the published interface description; the vault only needs
///      `decimals` and `latestRoundData`, the rest is here so devnet feeds are drop-in compatible
///      with tooling that expects the full interface.
interface IAggregatorV3 {
    /// @notice Number of decimals of `answer` (8 for most USD feeds).
    function decimals() external view returns (uint8);

    /// @notice Human-readable pair name, e.g. "BTC / USD".
    function description() external view returns (string memory);

    /// @notice Version of the aggregator implementation.
    function version() external view returns (uint256);

    /// @notice Data of a given round.
    /// @param roundId The round to read.
    /// @return roundId_ The round id.
    /// @return answer The price, scaled by `decimals()`.
    /// @return startedAt When the round started.
    /// @return updatedAt When the answer was last written (0 means the round is incomplete).
    /// @return answeredInRound The round in which the answer was computed.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice Data of the latest round (same fields as {getRoundData}).
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
