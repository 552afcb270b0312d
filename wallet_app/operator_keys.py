"""The operator service's own key and the one path by which it signs and sends.

Why its own module: the operator is not a person's wallet. It signs unattended, so its
key comes from a keystore-v3 file (``--keystore``) or a keystore blob in the OS keyring
(``--keyring ENTRY``, service ``global100-operator``), unlocked with a password from
``G100_OPERATOR_PASSWORD`` or a password file (systemd's ``LoadCredential``): never from
argv, never an unlocked account on the node. The plaintext key lives only in a
:class:`~wallet_app.keys.sensitive.SecretBytes` in this process's memory.

Every transaction goes through :meth:`OperatorSender.sign`: the chain id is checked, the
recipient must be a pinned contract (vault or timelock) and the function one the operator
role may call (the :class:`~wallet_app.trust.guard.AddressGuard` with an operator policy),
then it is signed by :func:`wallet_app.keys.signer.sign_transaction`. The caller journals
the signed bytes before :meth:`broadcast`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.exceptions import TransactionNotFound

from .errors import WalletError
from .keys import keystore
from .keys.sensitive import SecretBytes, wipe
from .keys.signer import sign_transaction

PASSWORD_ENV = "G100_OPERATOR_PASSWORD"  # noqa: S105 - the variable's name, not a value
KEYRING_SERVICE = "global100-operator"
#: Functions the operator key may call, by pinned role.
VAULT_FUNCTIONS = frozenset({"rebalance", "setTargetWeights", "setRegime", "updateNav",
                             "strike"})
TIMELOCK_FUNCTIONS = frozenset({"scheduleBatch", "executeBatch"})


class OperatorKeyError(WalletError):
    """The operator key could not be loaded (missing file, wrong password, no keyring)."""

    exit_code = 150


class OperatorSendError(WalletError):
    """A transaction of the operator failed or the node refused it."""

    exit_code = 152


@dataclass(frozen=True)
class KeySource:
    keystore_path: Path | None = None
    keyring_entry: str | None = None
    password_file: Path | None = None


def _password(source: KeySource) -> str:
    if source.password_file:
        try:
            return source.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise OperatorKeyError(f"Cannot read the password file {source.password_file} "
                                   f"({exc.strerror}).") from None
    from .hardening import secret_env

    pw = secret_env(PASSWORD_ENV)  # taken out of the environment once read
    if pw is None:
        raise OperatorKeyError(f"The operator key is encrypted: set {PASSWORD_ENV} or give "
                               "--password-file (systemd: LoadCredential).")
    return pw


def load_key(source: KeySource) -> tuple[str, SecretBytes]:
    """(address, key) from a keystore file or the OS keyring; the password is not kept."""
    if source.keystore_path:
        try:
            text = source.keystore_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise OperatorKeyError(f"Cannot read the operator keystore "
                                   f"{source.keystore_path} ({exc.strerror}).") from None
    elif source.keyring_entry:
        from .keys.storage import KeyringStore

        store = KeyringStore()
        store.check_usable()
        blob = store.backend.get_password(KEYRING_SERVICE, source.keyring_entry)
        if blob is None:
            raise OperatorKeyError(f"No operator key '{source.keyring_entry}' in the OS "
                                   f"keyring (service {KEYRING_SERVICE}).")
        text = blob
    else:
        raise OperatorKeyError("The operator needs its own key: give --keystore FILE or "
                               "--keyring ENTRY (never an unlocked node account).")
    doc = keystore.parse(text)
    raw = keystore.decrypt(doc, _password(source), "the operator key")
    try:
        key = SecretBytes(raw)
    finally:
        wipe(raw)
    address = Account.from_key(key.reveal()).address
    return address, key


def store_in_keyring(entry: str, keystore_text: str) -> None:
    """Put an (encrypted) operator keystore into the OS keyring under ``entry``."""
    from .keys.storage import KeyringStore

    store = KeyringStore()
    store.check_usable()
    keystore.parse(keystore_text)  # refuse anything that is not a keystore
    store.backend.set_password(KEYRING_SERVICE, entry, keystore_text)


@dataclass(frozen=True)
class Signed:
    raw: str
    tx_hash: str
    nonce: int


class OperatorSender:
    """Builds, checks, signs and sends the operator's EIP-1559 transactions."""

    def __init__(self, w3: Web3, chain_id: int, address: str, key: SecretBytes,
                 guard: Any) -> None:
        self.w3 = w3
        self.chain_id = chain_id
        self.address = Web3.to_checksum_address(address)
        self._key = key
        self.guard = guard

    def __repr__(self) -> str:  # never show the key
        return f"OperatorSender({self.address})"

    def next_nonce(self) -> int:
        return int(self.w3.eth.get_transaction_count(self.address, "pending"))

    def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas): twice the base fee plus a 1 gwei tip, at
        least 2 gwei, so a transaction stays includable for a few blocks of rising fees."""
        block = self.w3.eth.get_block("latest")
        base = int(block.get("baseFeePerGas") or 0)
        tip = 10**9
        return max(2 * base + tip, 2 * 10**9), tip

    def sign(self, to: str, data: str, gas: int, nonce: int) -> Signed:
        tx = {"chainId": self.chain_id, "nonce": nonce, "gas": int(gas), "to": to,
              "value": 0, "data": data, "type": 2}
        tx["maxFeePerGas"], tx["maxPriorityFeePerGas"] = self.fees()
        if int(self.w3.eth.chain_id) != self.chain_id:
            raise OperatorSendError("The node's chain id differs from the deployment's; "
                                    "nothing was signed.")
        self.guard.check_transaction(tx)
        signed = sign_transaction(self._key, self.address, tx, self.chain_id)
        return Signed("0x" + signed.raw.hex(), "0x" + signed.tx_hash.hex(), nonce)

    def broadcast(self, raw: str) -> None:
        resp = self.w3.provider.make_request("eth_sendRawTransaction", [raw])  # type: ignore[arg-type]
        err = resp.get("error")
        if err:
            msg = str(err.get("message", "")).lower() if isinstance(err, dict) else ""
            if "already known" in msg or "nonce too low" in msg:
                return  # the same bytes are in the pool or mined: reconciled by hash
            raise OperatorSendError("The node refused the operator's transaction "
                                    f"({type(err).__name__}); see the log.")

    def receipt(self, tx_hash: str) -> Any | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    def wait(self, tx_hash: str, timeout: float = 180.0,
             stop: Any = None) -> Any | None:
        """The receipt, or None after ``timeout`` or when ``stop`` (an Event) is set."""
        end = time.monotonic() + timeout
        delay = 0.02
        while time.monotonic() < end:
            rec = self.receipt(tx_hash)
            if rec is not None:
                return rec
            if stop is not None and stop.is_set():
                return None
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
        return None

    def call(self, to: str, data: str) -> None:
        """``eth_call`` as the operator (raises the node's error on a revert)."""
        self.w3.eth.call({"from": self.address, "to": to, "data": data})  # type: ignore[typeddict-item]

    def wipe(self) -> None:
        self._key.wipe()


def operator_guard(record: Any, address: str) -> Any:
    """The AddressGuard for the operator: the pinned vault and timelock, operator calls."""
    from .devnet import artifacts
    from .trust.guard import AddressGuard, CallPolicy

    policies = {"vault": CallPolicy(artifacts.load("IndexVault").abi, VAULT_FUNCTIONS)}
    if record.timelock:
        policies["timelock"] = CallPolicy(artifacts.load("TimelockController").abi,
                                          TIMELOCK_FUNCTIONS, spender_role="vault")
    return AddressGuard(record, address, policies)


def write_keystore(path: Path, key_hex: str, password: str, *, n: int | None = None) -> str:
    """Encrypt a private key into a keystore-v3 file (for set-up and tests); returns the
    address. The file is created user-only."""
    key = bytes.fromhex(key_hex.removeprefix("0x"))
    address = Account.from_key(key).address
    doc = keystore.encrypt(key, password, address=address, n=n)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc))
    return address
