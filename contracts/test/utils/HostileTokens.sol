// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @dev Test-only adversaries (a user meets these on a real chain: paused or blacklisting
///      tokens, fee-on-transfer tokens, a blacklisting USDC). Not deployed anywhere.

/// @dev An ERC-20 whose transfers can be frozen for everyone, or blocked to one address.
contract FreezableToken is ERC20 {
    uint8 private immutable _dec;
    bool public frozen;
    mapping(address => bool) public blocked;

    error Frozen();

    constructor(string memory n, string memory s, uint8 d) ERC20(n, s) {
        _dec = d;
    }

    function decimals() public view override returns (uint8) {
        return _dec;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFrozen(bool f) external {
        frozen = f;
    }

    function setBlocked(address who, bool b) external {
        blocked[who] = b;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && (frozen || blocked[to] || blocked[from])) revert Frozen();
        super._update(from, to, value);
    }
}

/// @dev An ERC-20 that burns `feeBps` of every transfer between two non-zero addresses.
contract FeeOnTransferToken is ERC20 {
    uint8 private immutable _dec;
    uint256 public immutable feeBps;

    constructor(string memory n, string memory s, uint8 d, uint256 feeBps_) ERC20(n, s) {
        _dec = d;
        feeBps = feeBps_;
    }

    function decimals() public view override returns (uint8) {
        return _dec;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) return super._update(from, to, value);
        uint256 fee = value * feeBps / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
