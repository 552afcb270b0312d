// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../interfaces/IAggregatorV3.sol";

/// @title DevPriceFeed: a settable Chainlink-style feed for the devnet
/// @notice Implements {IAggregatorV3}; the owner (the devnet's price replay) writes new rounds.
///         Every round is kept so `getRoundData` answers for history too.
contract DevPriceFeed is IAggregatorV3 {
    struct Round {
        int256 answer;
        uint64 updatedAt;
    }

    /// @notice The account allowed to write prices.
    address public immutable owner;
    uint8 private immutable _decimals;
    string private _description;
    uint80 private _latestRound;
    mapping(uint80 roundId => Round) private _rounds;

    /// @notice Chainlink's event for a new answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Chainlink's event for a new round.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The round does not exist.
    error NoDataPresent(uint80 roundId);
    /// @notice A timestamp in the future was given.
    error FutureTimestamp(uint256 updatedAt);

    /// @notice Deploys the feed with a first round at `initialAnswer`.
    /// @param decimals_ Decimals of answers (8 like Chainlink USD feeds).
    /// @param description_ e.g. "BTC / USD".
    /// @param initialAnswer First price (scaled by `decimals_`).
    /// @param owner_ Account allowed to write prices.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer, address owner_) {
        _decimals = decimals_;
        _description = description_;
        owner = owner_;
        _write(initialAnswer, block.timestamp);
    }

    /// @notice Writes a new round at the current block time.
    function setPrice(int256 answer) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _write(answer, block.timestamp);
    }

    /// @notice Writes a new round with an explicit (past or current) `updatedAt`, e.g. to replay
    ///         history or simulate a stale feed.
    function setPriceAt(int256 answer, uint256 updatedAt) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (updatedAt > block.timestamp) revert FutureTimestamp(updatedAt);
        _write(answer, updatedAt);
    }

    /// @inheritdoc IAggregatorV3
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc IAggregatorV3
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc IAggregatorV3
    function version() external pure returns (uint256) {
        return 4;
    }

    /// @inheritdoc IAggregatorV3
    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert NoDataPresent(roundId);
        return (roundId, r.answer, r.updatedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc IAggregatorV3
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        uint80 id = _latestRound;
        Round memory r = _rounds[id];
        return (id, r.answer, r.updatedAt, r.updatedAt, id);
    }

    /// @notice The latest answer (legacy Chainlink getter).
    function latestAnswer() external view returns (int256) {
        return _rounds[_latestRound].answer;
    }

    function _write(int256 answer, uint256 updatedAt) private {
        uint80 id = _latestRound + 1;
        _latestRound = id;
        // casting to 'uint64' is safe because updatedAt <= block.timestamp
        // forge-lint: disable-next-line(unsafe-typecast)
        _rounds[id] = Round(answer, uint64(updatedAt));
        emit NewRound(id, msg.sender, updatedAt);
        emit AnswerUpdated(answer, id, updatedAt);
    }
}
