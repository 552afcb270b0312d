"""BIP-32 / BIP-44 key derivation for Ethereum accounts (m/44'/60'/0'/0/i).

Written on ``hmac``/``hashlib`` with eth-keys for the one elliptic-curve step (the
compressed public key a non-hardened child needs), so that every step can be checked
against the BIP-32 test vectors and the BIP-39 vectors' master keys, and cross-checked
with Foundry's ``cast`` in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from eth_keys import keys

from .errors import InvalidPrivateKey
from .sensitive import SecretBytes

#: Order of the secp256k1 group: private keys are integers in [1, N-1].
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HARDENED = 0x80000000
#: BIP-44 path of Ethereum account ``i`` (the one MetaMask, Ledger Live and cast use).
ETH_PATH_TEMPLATE = "m/44'/60'/0'/0/{index}"
#: Upper bound on accounts per wallet (keeps unlock time and metadata small).
MAX_ACCOUNTS = 100

_PATH_RE = re.compile(r"^m(/\d+'?)*$")


def account_path(index: int) -> str:
    """The derivation path of account ``index`` of a wallet."""
    if not 0 <= index < HARDENED:
        raise ValueError("account index out of range")
    return ETH_PATH_TEMPLATE.format(index=index)


def parse_path(path: str) -> list[int]:
    """``"m/44'/60'/0'/0/3"`` -> child indices (hardened ones with the top bit set)."""
    if not _PATH_RE.match(path):
        raise ValueError(f"not a BIP-32 path: {path!r}")
    out = []
    for part in path.split("/")[1:]:
        hardened = part.endswith("'")
        n = int(part.rstrip("'"))
        if n >= HARDENED:
            raise ValueError(f"path component too large: {part}")
        out.append(n | HARDENED if hardened else n)
    return out


@dataclass(frozen=True, repr=False)
class ExtendedKey:
    """A BIP-32 extended private key (key and chain code); repr hides both."""

    key: bytes
    chain_code: bytes

    def __repr__(self) -> str:
        return "<ExtendedKey hidden>"


def master_key(seed: bytes | bytearray) -> ExtendedKey:
    """I = HMAC-SHA512(key="Bitcoin seed", seed); key = I_L, chain code = I_R."""
    digest = hmac.new(b"Bitcoin seed", bytes(seed), hashlib.sha512).digest()
    k = int.from_bytes(digest[:32], "big")
    if k == 0 or k >= SECP256K1_N:  # probability ~2^-127; BIP-32 says the seed is unusable
        raise ValueError("this seed gives an invalid master key; use another seed")
    return ExtendedKey(digest[:32], digest[32:])


def child_key(parent: ExtendedKey, index: int) -> ExtendedKey:
    """CKDpriv: the child private key at ``index`` (hardened if index >= 2^31)."""
    if index >= HARDENED:
        data = b"\x00" + parent.key + index.to_bytes(4, "big")
    else:
        pub = keys.PrivateKey(parent.key).public_key.to_compressed_bytes()
        data = pub + index.to_bytes(4, "big")
    digest = hmac.new(parent.chain_code, data, hashlib.sha512).digest()
    il = int.from_bytes(digest[:32], "big")
    k = (il + int.from_bytes(parent.key, "big")) % SECP256K1_N
    if il >= SECP256K1_N or k == 0:  # BIP-32: skip to the next index (never seen in practice)
        raise ValueError(f"index {index} gives an invalid key; use the next index")
    return ExtendedKey(k.to_bytes(32, "big"), digest[32:])


def derive(seed: bytes | bytearray, path: str) -> ExtendedKey:
    """Walk ``path`` from the master key of ``seed``."""
    node = master_key(seed)
    for index in parse_path(path):
        node = child_key(node, index)
    return node


def derive_account_key(seed: SecretBytes, index: int) -> SecretBytes:
    """The private key of Ethereum account ``index`` of a BIP-39 seed."""
    return SecretBytes(derive(seed.view(), account_path(index)).key)


def address_of(private_key: bytes | bytearray | SecretBytes) -> str:
    """The EIP-55 checksummed address of a private key."""
    raw = private_key.reveal() if isinstance(private_key, SecretBytes) else bytes(private_key)
    return keys.PrivateKey(raw).public_key.to_checksum_address()


def parse_private_key(text: str) -> SecretBytes:
    """Parse a hex private key (``0x`` optional, spaces trimmed) or raise.

    The error says what is wrong (length, characters, range) without echoing the input.
    """
    s = text.strip()
    if len(s.split()) >= 12:
        raise InvalidPrivateKey(
            "This looks like a recovery phrase (several words), not a private key; import "
            "it as a recovery phrase instead.")
    if s[:2].lower() == "0x":
        s = s[2:]
    if len(s) != 64:
        raise InvalidPrivateKey(
            f"A private key is 64 hexadecimal characters (optionally prefixed 0x); this one "
            f"has {len(s)}. Check that it was copied completely."
        )
    bad = sorted({c for c in s if c not in "0123456789abcdefABCDEF"})
    if bad:
        raise InvalidPrivateKey(
            f"A private key may only contain 0-9 and a-f; this one contains {len(bad)} "
            "other character(s). Check that you pasted the key and not an address or phrase."
        )
    raw = bytearray.fromhex(s)
    key = SecretBytes(raw)
    raw[:] = bytes(len(raw))
    check_private_key(key)
    return key


def check_private_key(key: SecretBytes) -> None:
    """Refuse keys outside [1, N-1] (they have no public key)."""
    if len(key) != 32:
        raise InvalidPrivateKey("A private key must be exactly 32 bytes.")
    k = int.from_bytes(key.view(), "big")
    if not 0 < k < SECP256K1_N:
        raise InvalidPrivateKey(
            "This private key is outside the valid secp256k1 range (zero or too large); "
            "it cannot belong to any Ethereum account."
        )
