"""A new funded wallet on the module's devnet, as many test modules make one: a recovery
phrase wallet in the real OS keyring, connected, funded by the devnet faucet, and removed
from the keyring afterwards. The key derivation's cost is not under test (scrypt N=1024)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest

from wallet_app.config import Settings
from wallet_app.facade import WalletService
from wallet_app.paths import AppPaths

PASSWORD = "orbit-Lantern-93-velvet"


def new_funded_wallet(mp: pytest.MonkeyPatch, paths: AppPaths, prefix: str,
                      settings: Settings | None = None, eth: Decimal = Decimal(5),
                      usdc: Decimal = Decimal(20_000)) -> tuple[WalletService, str]:
    """(service, wallet name ``{prefix}-xxxxxx``); undo with :func:`forget_wallet`."""
    mp.setenv("G100_TEST_SCRYPT_N", "1024")
    svc = WalletService(paths, settings or Settings())
    name = f"{prefix}-{secrets.token_hex(3)}"
    svc.create_wallet(name, PASSWORD)
    svc.connect()
    svc.faucet(eth=eth, usdc=usdc)
    return svc, name


def forget_wallet(svc: WalletService, name: str) -> None:
    """The wallet leaves the OS keyring; the service is closed."""
    svc.keys.delete(name, name)
    svc.close()


@contextlib.contextmanager
def funded_wallet(mp: pytest.MonkeyPatch, paths: AppPaths, prefix: str,
                  **kwargs: object) -> Iterator[WalletService]:
    """:func:`new_funded_wallet` for the block, forgotten after it."""
    svc, name = new_funded_wallet(mp, paths, prefix, **kwargs)  # type: ignore[arg-type]
    try:
        yield svc
    finally:
        forget_wallet(svc, name)
