// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall3 (project implementation)
/// @notice ABI-compatible with the widely deployed Multicall3: batches many calls (mostly
///         reads) into one `eth_call`. Written for this project; reverts use custom errors
///         instead of revert strings.
contract Multicall3 {
    /// @notice A call whose failure reverts the batch ({aggregate}).
    struct Call {
        address target;
        bytes callData;
    }

    /// @notice A call that may be allowed to fail ({aggregate3}).
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    /// @notice A call with ETH value that may be allowed to fail ({aggregate3Value}).
    struct Call3Value {
        address target;
        bool allowFailure;
        uint256 value;
        bytes callData;
    }

    /// @notice Outcome of one call.
    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice Call `index` failed and was not allowed to.
    error CallFailed(uint256 index, bytes returnData);
    /// @notice `msg.value` differs from the sum of the calls' values.
    error ValueMismatch(uint256 sent, uint256 used);

    /// @notice Runs every call; any failure reverts the batch.
    /// @return blockNumber The current block number.
    /// @return returnData Each call's return data.
    function aggregate(Call[] calldata calls)
        external
        payable
        returns (uint256 blockNumber, bytes[] memory returnData)
    {
        blockNumber = block.number;
        returnData = new bytes[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (!ok) revert CallFailed(i, ret);
            returnData[i] = ret;
        }
    }

    /// @notice Runs every call; reverts on a failure only when `requireSuccess`.
    /// @return returnData Each call's outcome.
    function tryAggregate(bool requireSuccess, Call[] calldata calls)
        public
        payable
        returns (Result[] memory returnData)
    {
        returnData = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (requireSuccess && !ok) revert CallFailed(i, ret);
            returnData[i] = Result(ok, ret);
        }
    }

    /// @notice {tryAggregate} plus the block number and hash.
    function tryBlockAndAggregate(bool requireSuccess, Call[] calldata calls)
        public
        payable
        returns (uint256 blockNumber, bytes32 blockHash, Result[] memory returnData)
    {
        blockNumber = block.number;
        blockHash = blockhash(block.number);
        returnData = tryAggregate(requireSuccess, calls);
    }

    /// @notice {tryBlockAndAggregate} with `requireSuccess = true`.
    function blockAndAggregate(Call[] calldata calls)
        external
        payable
        returns (uint256 blockNumber, bytes32 blockHash, Result[] memory returnData)
    {
        return tryBlockAndAggregate(true, calls);
    }

    /// @notice Runs every call; a failure reverts the batch unless that call allows failure.
    /// @return returnData Each call's outcome.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            Call3 calldata c = calls[i];
            (bool ok, bytes memory ret) = c.target.call(c.callData);
            if (!ok && !c.allowFailure) revert CallFailed(i, ret);
            returnData[i] = Result(ok, ret);
        }
    }

    /// @notice {aggregate3} with ETH value per call; `msg.value` must equal the sum.
    /// @return returnData Each call's outcome.
    function aggregate3Value(Call3Value[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        uint256 used;
        for (uint256 i; i < calls.length; ++i) {
            Call3Value calldata c = calls[i];
            used += c.value;
            (bool ok, bytes memory ret) = c.target.call{value: c.value}(c.callData);
            if (!ok && !c.allowFailure) revert CallFailed(i, ret);
            returnData[i] = Result(ok, ret);
        }
        if (used != msg.value) revert ValueMismatch(msg.value, used);
    }

    /// @notice Hash of block `blockNumber` (zero beyond the last 256 blocks).
    function getBlockHash(uint256 blockNumber) external view returns (bytes32) {
        return blockhash(blockNumber);
    }

    /// @notice The current block number.
    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }

    /// @notice The current block's coinbase.
    function getCurrentBlockCoinbase() external view returns (address) {
        return block.coinbase;
    }

    /// @notice The current block's prevrandao (named difficulty for compatibility).
    function getCurrentBlockDifficulty() external view returns (uint256) {
        return block.prevrandao;
    }

    /// @notice The current block's gas limit.
    function getCurrentBlockGasLimit() external view returns (uint256) {
        return block.gaslimit;
    }

    /// @notice The current block's timestamp.
    function getCurrentBlockTimestamp() external view returns (uint256) {
        return block.timestamp;
    }

    /// @notice ETH balance of `addr`.
    function getEthBalance(address addr) external view returns (uint256) {
        return addr.balance;
    }

    /// @notice Hash of the previous block.
    function getLastBlockHash() external view returns (bytes32) {
        return blockhash(block.number - 1);
    }

    /// @notice The current block's base fee.
    function getBasefee() external view returns (uint256) {
        return block.basefee;
    }

    /// @notice The chain id.
    function getChainId() external view returns (uint256) {
        return block.chainid;
    }
}
