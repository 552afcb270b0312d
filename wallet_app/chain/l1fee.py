"""The L1 data fee of OP-stack chains (Optimism, Base), from the GasPriceOracle predeploy.

Why: on an OP-stack chain a transaction pays two fees, L2 execution gas (what
``eth_estimateGas`` and EIP-1559 fees price) and an L1 data fee for posting its bytes to
Ethereum, charged from the sender's balance without any cap in the transaction. A preview
that leaves it out understates the network fee, sometimes by most of it, and a balance check
without it lets a transaction fail for lack of ETH. The chain itself says what the fee is:
``GasPriceOracle.getL1Fee(bytes)`` at ``0x42...0F`` takes the unsigned RLP-encoded
transaction, so the wallet never re-implements the (upgrade-dependent) formula.

The nonce is not bound at preview time, so the payload is encoded with a 3-byte nonce: an
upper bound for any account with fewer than 16.7 million transactions. The *maximum* shown
adds :data:`L1_HEADROOM` because the L1 base fee can move before inclusion and the
transaction cannot cap that part.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import rlp
from eth_utils import to_bytes, to_checksum_address

from ..models import GasEstimate
from .errors import RpcError
from .provider import ChainClient

GAS_PRICE_ORACLE = "0x420000000000000000000000000000000000000F"
#: keccak("getL1Fee(bytes)")[:4]
GET_L1_FEE_SELECTOR = bytes.fromhex("49948e0e")
#: The worst case shown: the L1 base fee may rise this much before the transaction lands.
L1_HEADROOM = Decimal("1.5")
WEI_PER_ETH = Decimal(10) ** 18
USD_QUANTUM = Decimal("0.000001")
#: Nonce used in the preview payload (3 bytes in RLP: an upper bound, see module doc).
PREVIEW_NONCE = 0xFFFFFF


def unsigned_payload(tx: dict[str, Any]) -> bytes:
    """The unsigned EIP-1559 transaction as the oracle wants it: 0x02 || rlp(fields)."""
    to = tx.get("to")
    fields = [
        int(tx["chainId"]),
        int(tx["nonce"]) if tx.get("nonce") is not None else PREVIEW_NONCE,
        int(tx["maxPriorityFeePerGas"]),
        int(tx["maxFeePerGas"]),
        int(tx["gas"]),
        to_bytes(hexstr=to) if to else b"",
        int(tx.get("value", 0)),
        bytes(tx.get("data", b"")) if not isinstance(tx.get("data"), str)
        else to_bytes(hexstr=tx["data"]),
        [],
    ]
    return b"\x02" + rlp.encode(fields)


def _abi_bytes_arg(payload: bytes) -> bytes:
    """ABI encoding of one ``bytes`` argument (offset, length, padded data)."""
    padded = payload + b"\x00" * (-len(payload) % 32)
    return (32).to_bytes(32, "big") + len(payload).to_bytes(32, "big") + padded


def l1_data_fee_wei(client: ChainClient, tx: dict[str, Any]) -> int:
    """What the chain's GasPriceOracle says ``tx`` pays for its L1 data (one eth_call)."""
    data = GET_L1_FEE_SELECTOR + _abi_bytes_arg(unsigned_payload(tx))
    raw = client.rpc("eth_call", {"to": to_checksum_address(GAS_PRICE_ORACLE),
                                  "data": "0x" + data.hex()}, "latest")
    try:
        out = bytes.fromhex(raw[2:] if isinstance(raw, str) else "")
    except ValueError:
        out = b""
    if len(out) != 32:
        raise RpcError("GasPriceOracle.getL1Fee")
    return int.from_bytes(out, "big")


def with_l1_fee(gas: GasEstimate, l1_fee_wei: int, eth_usd: Decimal | None) -> GasEstimate:
    """``gas`` with the L1 data fee added to the expected fee and, with headroom, the max."""
    if l1_fee_wei <= 0:
        return gas
    l1 = Decimal(l1_fee_wei) / WEI_PER_ETH
    expected = gas.expected_fee_eth + l1
    maximum = gas.max_fee_eth + l1 * L1_HEADROOM
    exp_usd = max_usd = None
    if eth_usd is not None:
        exp_usd = (expected * eth_usd).quantize(USD_QUANTUM)
        max_usd = (maximum * eth_usd).quantize(USD_QUANTUM)
    return replace(gas, expected_fee_eth=expected, max_fee_eth=maximum,
                   expected_fee_usd=exp_usd, max_fee_usd=max_usd, l1_fee_eth=l1)


def max_l1_fee_wei(l1_fee_wei: int) -> int:
    """The L1 part of the worst case, in wei (for the balance check)."""
    return int((Decimal(l1_fee_wei) * L1_HEADROOM).to_integral_value())
