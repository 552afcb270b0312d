"""The devnet's own keys, derived here from Anvil's public test mnemonic.

Why: a real chain has no unlocked accounts, and the devnet runs like one (issue 12). Every
transaction the devnet sends (the market's deploy, feeds and arbitrage, the faucet, the
seed, the operator and the keeper) is signed locally with a key derived here by the same
:class:`~wallet_app.deploy.signers.KeySigner` the deployer uses, and goes out with
``eth_sendRawTransaction``; nothing asks the node to sign. Anvil started with
``--accounts 0`` (no unlocked account at all) runs the whole devnet once these addresses
hold test ETH (``anvil_setBalance``; tests/test_devnet_no_unlocked.py).

Accounts (BIP-44 ``m/44'/60'/0'/0/i`` of the mnemonic): 0 deploys and is the faucet and
market maker, 1 owns (proposes and executes on the timelock, receives fees), 2 operates and
keeps, 3 is the guardian. These are published test keys, never a user's; they are still held
as :class:`~wallet_app.keys.sensitive.SecretBytes` (never printed, never in an exception),
so the devnet's path is the one a real key takes.
"""

from __future__ import annotations

import threading

from web3 import Web3

from ..deploy.signers import KeySigner
from ..keys.sensitive import SecretBytes
from .process import ANVIL_MNEMONIC

#: The devnet's roles by account index of the mnemonic.
ROLE_INDEX = {"deployer": 0, "owner": 1, "operator": 2, "guardian": 3}
#: Accounts whose keys the devnet knows (Anvil's default ten), e.g. for a test's user.
ACCOUNTS = 10


class DevnetKeys:
    """Signers for the devnet's accounts, derived on first use and kept for the process."""

    def __init__(self, mnemonic: str = ANVIL_MNEMONIC, accounts: int = ACCOUNTS) -> None:
        self._mnemonic, self._accounts = mnemonic, accounts
        self._signers: dict[int, KeySigner] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the mnemonic or a key
        return f"DevnetKeys({len(self._signers)} derived)"

    def signer(self, index: int) -> KeySigner:
        with self._lock:
            s = self._signers.get(index)
            if s is None:
                s = self._signers[index] = KeySigner.from_mnemonic(self._mnemonic, index)
            return s

    def address(self, index: int) -> str:
        return self.signer(index).address

    def roles(self) -> dict[str, str]:
        """The devnet deployment's roles (the fee recipient is the owner)."""
        out = {role: self.address(i) for role, i in ROLE_INDEX.items()}
        out["fee_recipient"] = out["owner"]
        return out

    def for_address(self, address: str) -> KeySigner | None:
        """The signer of ``address`` if it is one of the devnet's accounts, else None."""
        want = Web3.to_checksum_address(address)
        for i in range(self._accounts):
            if self.address(i) == want:
                return self.signer(i)
        return None

    def key_copy(self, role: str) -> SecretBytes:
        """A fresh copy of a role's key for a holder that wipes its own (the operator
        service's :class:`~wallet_app.operator_keys.OperatorSender`)."""
        signer = KeySigner.from_mnemonic(self._mnemonic, ROLE_INDEX[role])
        return signer.take_key()


_shared: DevnetKeys | None = None
_shared_lock = threading.Lock()


def devnet_keys() -> DevnetKeys:
    """The process's devnet keys (derived once: a derivation costs ~20 ms)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = DevnetKeys()
        return _shared

