// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title DevGasPriceOracle: the OP-stack L1 fee oracle's interface, for a local test node
/// @notice On OP-stack chains (Optimism, Base) every transaction pays an L1 data fee on top of
///         its L2 gas, computed by the `GasPriceOracle` predeploy at
///         0x420000000000000000000000000000000000000F. Anvil in optimism mode does not install
///         predeploys, so the tests deploy this contract and copy its runtime code to that
///         address (`anvil_setCode`). It answers `getL1Fee(bytes)` with the Ecotone formula:
///         calldata gas of the unsigned transaction plus 68 bytes of signature, priced at
///         16 x baseFeeScalar x l1BaseFee + blobBaseFeeScalar x blobBaseFee, scaled by 1e6.
///         The wallet only calls `getL1Fee`; it never re-implements the formula.
contract DevGasPriceOracle {
    /// @notice The scalars' decimals (as the real oracle).
    uint256 public constant DECIMALS = 6;

    /// @notice The account allowed to set the L1 parameters (kept in code, so it survives
    ///         being copied to the predeploy address).
    address public immutable owner;
    /// @notice L1 base fee per gas, in wei.
    uint256 public l1BaseFee;
    /// @notice L1 blob base fee per blob gas, in wei.
    uint256 public blobBaseFee;
    /// @notice Scalar on the L1 base fee (6 decimals).
    uint32 public baseFeeScalar;
    /// @notice Scalar on the blob base fee (6 decimals).
    uint32 public blobBaseFeeScalar;

    /// @notice The L1 parameters changed.
    event L1ParamsUpdated(uint256 l1BaseFee, uint256 blobBaseFee, uint32 baseFeeScalar,
        uint32 blobBaseFeeScalar);

    /// @notice The caller is not the owner.
    error NotOwner(address caller);

    /// @param owner_ The account allowed to set the L1 parameters.
    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Sets the L1 parameters the fee is computed from.
    function setL1Params(uint256 l1BaseFee_, uint256 blobBaseFee_, uint32 baseFeeScalar_,
        uint32 blobBaseFeeScalar_) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        l1BaseFee = l1BaseFee_;
        blobBaseFee = blobBaseFee_;
        baseFeeScalar = baseFeeScalar_;
        blobBaseFeeScalar = blobBaseFeeScalar_;
        emit L1ParamsUpdated(l1BaseFee_, blobBaseFee_, baseFeeScalar_, blobBaseFeeScalar_);
    }

    /// @notice The L1 data fee, in wei, of a transaction whose unsigned RLP encoding is `data`.
    function getL1Fee(bytes calldata data) external view returns (uint256) {
        uint256 l1Gas = getL1GasUsed(data);
        uint256 scaledBaseFee = uint256(baseFeeScalar) * 16 * l1BaseFee;
        uint256 scaledBlobFee = uint256(blobBaseFeeScalar) * blobBaseFee;
        return l1Gas * (scaledBaseFee + scaledBlobFee) / (16 * 10 ** DECIMALS);
    }

    /// @notice Calldata gas of `data` plus 68 non-zero bytes for the signature.
    function getL1GasUsed(bytes calldata data) public pure returns (uint256 total) {
        for (uint256 i = 0; i < data.length; ++i) {
            total += data[i] == 0 ? 4 : 16;
        }
        total += 68 * 16;
    }
}
