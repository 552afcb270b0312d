"""Keystore v3 (the Web3 Secret Storage format): encrypt and decrypt secrets.

Scheme (as in the Ethereum wiki "Web3 Secret Storage Definition", version 3):

* ``derived = scrypt(password_utf8, salt, n, r=8, p=1, dklen=32)`` (or PBKDF2-HMAC-SHA256
  for imported files that use it),
* ``ciphertext = AES-128-CTR(key=derived[0:16], iv)(plaintext)``,
* ``mac = keccak256(derived[16:32] + ciphertext)``, checked in constant time before
  anything is decrypted, so a wrong password is told apart from a damaged file.

What this app stores (one JSON document per wallet):

* a **private-key wallet**: a standard v3 keystore of the 32-byte key (with ``address``),
  plus ``"x-global100": {"kind": "private_key", "v": 1}``;
* a **mnemonic wallet**: the same envelope, same crypto, but the plaintext is the payload
  ``0x01 || len(entropy) || entropy || utf8(NFKD(passphrase))`` (BIP-39 entropy of 16-32
  bytes and the optional BIP-39 passphrase), with
  ``"x-global100": {"kind": "mnemonic", "v": 1, "payload": "bip39-entropy-v1"}`` and
  ``address`` = account 0. Standard tools ignore the extension and would decrypt the
  payload bytes; only this app interprets them.

Exports (``WalletManager.export_keystore``) are plain v3 files without the extension and
decrypt with geth, MetaMask, eth-account and ``cast wallet decrypt-keystore``.

Cost: production uses scrypt n = 2**18, r = 8, p = 1 (about 0.6 s and 256 MiB here). Tests
may lower n through the environment variable ``G100_TEST_SCRYPT_N`` (a power of two), which
is honoured only inside a pytest run (``PYTEST_CURRENT_TEST`` set) so that a stray variable
can never weaken a real user's keystore. Decryption always uses the parameters in the file,
bounded so that a hostile file cannot make the app allocate gigabytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

from Crypto.Cipher import AES
from eth_utils import keccak

from .errors import CorruptKeystore, InvalidPassword
from .sensitive import wipe

log = logging.getLogger(__name__)

SCRYPT_N = 2**18
SCRYPT_R = 8
SCRYPT_P = 1
DKLEN = 32
TEST_SCRYPT_ENV = "G100_TEST_SCRYPT_N"
EXTENSION = "x-global100"
KIND_MNEMONIC = "mnemonic"
KIND_PRIVATE_KEY = "private_key"
MNEMONIC_PAYLOAD = "bip39-entropy-v1"

#: Ceiling on the scrypt memory a file may ask for (see :func:`scrypt_memory`): 1 GiB.
_MAX_SCRYPT_MEM = 2**30
_MAX_PBKDF2_ROUNDS = 10_000_000
_MAX_CIPHERTEXT = 4096
_MAX_FILE = 64 * 1024


def scrypt_n() -> int:
    """The scrypt cost for new keystores (lowered only for tests, see module doc)."""
    raw = os.environ.get(TEST_SCRYPT_ENV)
    if not raw:
        return SCRYPT_N
    if not os.environ.get("PYTEST_CURRENT_TEST"):
        log.warning("%s is set outside a test run; ignoring it", TEST_SCRYPT_ENV)
        return SCRYPT_N
    n = int(raw)
    if n < 2 or n & (n - 1):
        raise ValueError(f"{TEST_SCRYPT_ENV} must be a power of two")
    return n


def _password_bytes(password: str) -> bytearray:
    # UTF-8 as given (no normalisation): what geth, eth-account and cast do, so exports
    # and imports stay compatible with them.
    return bytearray(password.encode("utf-8"))


def scrypt_memory(n: int, r: int, p: int) -> int:
    """Bytes scrypt needs at most (RFC 7914): the ROMix table V, 128 * r * n bytes for each of
    the p lanes when they run side by side, plus the buffer B of 128 * r * p bytes.

    OpenSSL runs the lanes one after another (128 * r * (n + 2) + 128 * r * p), so this is
    an upper bound: a file is refused when the bound passes the ceiling, whatever the
    library would do.
    """
    return 128 * r * n * p + 128 * r * p


def _scrypt(password: bytearray, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # maxmem: what OpenSSL itself counts, with room to spare; never below the bound above.
    maxmem = max(scrypt_memory(n, r, p), 128 * r * (n + 2) + 128 * r * p) + 1024 * 1024
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


def _aes_ctr(key: bytes, iv: bytes, data: bytes | bytearray) -> bytearray:
    cipher = AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=iv)
    return bytearray(cipher.encrypt(bytes(data)))


def encrypt(
    plaintext: bytes | bytearray,
    password: str,
    *,
    address: str | None = None,
    kind: str | None = None,
    n: int | None = None,
) -> dict[str, Any]:
    """Encrypt ``plaintext`` as a keystore v3 dict (scrypt, aes-128-ctr, keccak MAC).

    ``kind`` adds this app's extension field (see module doc); ``None`` makes a plain,
    standard keystore for export.
    """
    n = n or scrypt_n()
    salt = secrets.token_bytes(32)
    iv = secrets.token_bytes(16)
    pw = _password_bytes(password)
    try:
        derived = _scrypt(pw, salt, n, SCRYPT_R, SCRYPT_P, DKLEN)
    finally:
        wipe(pw)
    ciphertext = bytes(_aes_ctr(derived[:16], iv, plaintext))
    mac = keccak(derived[16:32] + ciphertext)
    doc: dict[str, Any] = {
        "version": 3,
        "id": str(uuid.uuid4()),
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": iv.hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": "scrypt",
            "kdfparams": {"dklen": DKLEN, "n": n, "r": SCRYPT_R, "p": SCRYPT_P,
                          "salt": salt.hex()},
            "mac": mac.hex(),
        },
    }
    if address:
        doc["address"] = address.lower().removeprefix("0x")
    if kind:
        ext: dict[str, Any] = {"kind": kind, "v": 1}
        if kind == KIND_MNEMONIC:
            ext["payload"] = MNEMONIC_PAYLOAD
        doc[EXTENSION] = ext
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """Compact JSON text of a keystore (what goes into the keyring or a file)."""
    return json.dumps(doc, separators=(",", ":"), sort_keys=True)


def parse(data: str | bytes | bytearray) -> dict[str, Any]:
    """Parse keystore JSON text; raise :class:`CorruptKeystore` saying what is wrong."""
    if len(data) > _MAX_FILE:
        raise CorruptKeystore(
            f"This file is {len(data)} bytes; a keystore is under 64 KiB. Is it the right file?"
        )
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CorruptKeystore(
            "The keystore is not valid JSON (it may be truncated or not a keystore file). "
            "Use the original file; nothing was imported."
        ) from None
    if not isinstance(doc, dict):
        raise CorruptKeystore("The keystore JSON is not an object; nothing was imported.")
    _crypto_section(doc)  # validates the structure up front
    return doc


def _crypto_section(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("version") != 3:
        raise CorruptKeystore(
            f"Unsupported keystore version {doc.get('version')!r}; only version 3 files "
            "(geth, MetaMask, cast, MyEtherWallet) can be imported."
        )
    crypto = doc.get("crypto", doc.get("Crypto"))
    if not isinstance(crypto, dict):
        raise CorruptKeystore("The keystore has no 'crypto' section; the file is damaged.")
    for field in ("cipher", "cipherparams", "ciphertext", "kdf", "kdfparams", "mac"):
        if field not in crypto:
            raise CorruptKeystore(f"The keystore's crypto section lacks '{field}'; "
                                  "the file is damaged or incomplete.")
    if crypto["cipher"] != "aes-128-ctr":
        raise CorruptKeystore(f"Unsupported keystore cipher {crypto['cipher']!r}; "
                              "only aes-128-ctr is defined for version 3.")
    return crypto


def _hex_field(value: Any, name: str, size: int | None = None) -> bytes:
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raise CorruptKeystore(f"The keystore field '{name}' is not hexadecimal; "
                              "the file is damaged.") from None
    if size is not None and len(raw) != size:
        raise CorruptKeystore(f"The keystore field '{name}' has {len(raw)} bytes, "
                              f"expected {size}; the file is damaged.")
    return raw


def _int_param(params: dict[str, Any], name: str) -> int:
    v = params.get(name)
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise CorruptKeystore(f"The keystore's KDF parameter '{name}' is missing or invalid.")
    return v


def _kdf_call(derive: Callable[[], bytes], name: str) -> bytes:
    """Run a key derivation on a file's parameters; whatever the library refuses (values
    it cannot take, memory it cannot get) is a keystore we cannot open: said as such."""
    try:
        return derive()
    except (ValueError, MemoryError, OverflowError) as exc:
        log.info("%s refused the keystore's parameters (%s)", name, type(exc).__name__)
        raise CorruptKeystore(
            f"The keystore's {name} parameters cannot be used on this computer (the key "
            "derivation refused them); the file is damaged or was made by an unusual tool. "
            "Re-export it with standard parameters (scrypt n=262144, r=8, p=1)."
        ) from None


def _derive_key(crypto: dict[str, Any], password: bytearray) -> bytes:
    kdf = crypto["kdf"]
    params = crypto["kdfparams"]
    if not isinstance(params, dict):
        raise CorruptKeystore("The keystore's kdfparams is not an object; the file is damaged.")
    dklen = _int_param(params, "dklen")
    if dklen < 32 or dklen > 64:
        raise CorruptKeystore(f"Unsupported key length dklen={dklen} (must be 32..64).")
    salt = _hex_field(params.get("salt", ""), "salt")
    if kdf == "scrypt":
        n, r, p = (_int_param(params, k) for k in ("n", "r", "p"))
        if n < 2 or n & (n - 1):
            raise CorruptKeystore(f"scrypt n={n} is not a power of two; the file is damaged.")
        if scrypt_memory(n, r, p) > _MAX_SCRYPT_MEM:
            raise CorruptKeystore(
                f"The keystore asks scrypt for {-(-scrypt_memory(n, r, p) // 2**20)} MiB "
                "(n, r, p too large); refusing to protect this computer. Re-export it with "
                "standard parameters (n=262144, r=8, p=1)."
            )
        return _kdf_call(lambda: _scrypt(password, salt, n, r, p, dklen), "scrypt")
    if kdf == "pbkdf2":
        if params.get("prf") != "hmac-sha256":
            raise CorruptKeystore(f"Unsupported PBKDF2 function {params.get('prf')!r}; "
                                  "only hmac-sha256 is defined for version 3.")
        c = _int_param(params, "c")
        if c > _MAX_PBKDF2_ROUNDS:
            raise CorruptKeystore(f"The keystore asks for {c} PBKDF2 rounds; refusing.")
        return _kdf_call(lambda: hashlib.pbkdf2_hmac("sha256", password, salt, c, dklen),
                         "PBKDF2")
    raise CorruptKeystore(f"Unsupported key derivation {kdf!r}; only scrypt and pbkdf2 "
                          "keystores can be imported.")


def decrypt(doc: dict[str, Any], password: str, what: str = "the wallet") -> bytearray:
    """Check the MAC and decrypt; raise :class:`InvalidPassword` or :class:`CorruptKeystore`.

    Returns a ``bytearray`` that the caller wipes after use.
    """
    crypto = _crypto_section(doc)
    params = crypto["cipherparams"]
    if not isinstance(params, dict):
        raise CorruptKeystore("The keystore's cipherparams is not an object.")
    iv = _hex_field(params.get("iv", ""), "iv", 16)
    ciphertext = _hex_field(crypto["ciphertext"], "ciphertext")
    if not 0 < len(ciphertext) <= _MAX_CIPHERTEXT:
        raise CorruptKeystore("The keystore's ciphertext is empty or too large.")
    mac = _hex_field(crypto["mac"], "mac", 32)
    pw = _password_bytes(password)
    try:
        derived = _derive_key(crypto, pw)
    finally:
        wipe(pw)
    if not hmac.compare_digest(keccak(derived[16:32] + ciphertext), mac):
        raise InvalidPassword(what)
    return _aes_ctr(derived[:16], iv, ciphertext)


def extension(doc: dict[str, Any]) -> dict[str, Any]:
    """This app's extension field (empty dict for a standard keystore)."""
    ext = doc.get(EXTENSION)
    return ext if isinstance(ext, dict) else {}


def encode_mnemonic_payload(entropy: bytes | bytearray, passphrase: str) -> bytearray:
    """``0x01 || len(entropy) || entropy || utf8(NFKD(passphrase))`` (see module doc)."""
    if len(entropy) not in (16, 20, 24, 28, 32):
        raise ValueError("BIP-39 entropy must be 16..32 bytes")
    out = bytearray(b"\x01")
    out.append(len(entropy))
    out += entropy
    out += unicodedata.normalize("NFKD", passphrase).encode("utf-8")
    return out


def decode_mnemonic_payload(buf: bytes | bytearray) -> tuple[bytearray, str]:
    """Inverse of :func:`encode_mnemonic_payload` (entropy is a wipeable copy)."""
    if len(buf) < 2 or buf[0] != 1 or buf[1] not in (16, 20, 24, 28, 32) \
            or len(buf) < 2 + buf[1]:
        raise CorruptKeystore(
            "The wallet's encrypted recovery phrase has an unknown layout; it was not "
            "written by this app version. Restore the wallet from your paper backup."
        )
    size = buf[1]
    entropy = bytearray(buf[2 : 2 + size])
    try:
        passphrase = bytes(buf[2 + size :]).decode("utf-8")
    except UnicodeDecodeError:
        wipe(entropy)
        raise CorruptKeystore("The wallet's encrypted passphrase is not valid UTF-8.") from None
    return entropy, passphrase
