// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @dev Proves the toolchain the project relies on: solc-js through the shim, the
///      OpenZeppelin 5 and forge-std remappings, and the Cancun EVM (transient storage).
contract ToolchainToken is ERC20 {
    constructor() ERC20("Toolchain", "TC") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function transientRoundTrip(uint256 v) external returns (uint256 out) {
        assembly {
            tstore(0, v)
            out := tload(0)
        }
    }
}

contract ToolchainTest is Test {
    function testFuzz_MintAndTransfer(address to, uint96 amount) public {
        vm.assume(to != address(0) && to != address(this));
        ToolchainToken t = new ToolchainToken();
        t.mint(address(this), amount);
        assertTrue(t.transfer(to, amount));
        assertEq(t.balanceOf(to), amount);
        assertEq(t.totalSupply(), amount);
    }

    function testFuzz_CancunTransientStorage(uint256 v) public {
        ToolchainToken t = new ToolchainToken();
        assertEq(t.transientRoundTrip(v), v);
    }
}
