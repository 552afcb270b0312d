"""Creation bytecode and CREATE addresses: shared by the index deployer and the devnet's.

Both deployers know every contract's address before sending anything: it is the CREATE
address of the deployer's account and the nonce the transaction will carry. That is what
lets a journaled deploy resume safely (a nonce is used once, so a contract planned at a
nonce can never be created twice) and lets the plan name every ``to`` without asking a node.
"""

from __future__ import annotations

from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from ..devnet import artifacts

#: The vault's external library, as its placeholder in the creation bytecode names it.
BOOK_LIBRARY = "src/IndexBook.sol:IndexBook"
ZERO_ADDRESS = "0x" + "00" * 20


def create_address(sender: str, nonce: int) -> str:
    """CREATE address of ``sender``'s transaction with ``nonce`` (RLP of [sender, nonce])."""
    sender_bytes = bytes.fromhex(sender[2:])
    if nonce == 0:
        nonce_rlp = b"\x80"
    elif nonce < 0x80:
        nonce_rlp = bytes([nonce])
    else:
        raw = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
        nonce_rlp = bytes([0x80 + len(raw)]) + raw
    payload = b"\x94" + sender_bytes + nonce_rlp
    rlp = bytes([0xC0 + len(payload)]) + payload
    return to_checksum_address(keccak(rlp)[12:])


#: The deterministic CREATE2 deployer found on nearly every EVM chain (and in Anvil), which
#: ``forge script`` also uses to deploy linked libraries: salt 0 + init code.
CREATE2_FACTORY = "0x4e59b44847b379578588920cA78FbF26c0B4956C"


def create2_address(init_code_hex: str, salt: bytes = b"\x00" * 32,
                    factory: str = CREATE2_FACTORY) -> str:
    """The address the CREATE2 factory deploys ``init_code_hex`` at."""
    code = bytes.fromhex(init_code_hex.removeprefix("0x"))
    return to_checksum_address(keccak(b"\xff" + bytes.fromhex(factory[2:]) + salt
                                      + keccak(code))[12:])


def deploy_data(name: str, *args: Any, libraries: dict[str, str] | None = None) -> str:
    """Creation bytecode of artifact ``name`` (its libraries linked) with ABI-encoded
    constructor ``args``."""
    art = artifacts.load(name)
    ctor = next((e for e in art.abi if e.get("type") == "constructor"), None)
    types = [i["type"] for i in ctor["inputs"]] if ctor else []
    code = artifacts.link(art.bytecode, libraries) if libraries else art.bytecode
    return code + abi_encode(types, list(args)).hex()
