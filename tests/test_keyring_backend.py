"""The real OS keyring (Secret Service over D-Bus) is reachable in the test run."""

from __future__ import annotations

import secrets

import keyring
import pytest
from keyring.errors import PasswordDeleteError


@pytest.mark.keyring
def test_secret_service_round_trip() -> None:
    backend = keyring.get_keyring()
    assert "SecretService" in type(backend).__module__ + type(backend).__name__, (
        f"expected the Secret Service backend, got {backend!r}; run the tests through "
        "`make test`, which starts GNOME Keyring over D-Bus"
    )
    service, user = "global100-wallet-test", f"probe-{secrets.token_hex(4)}"
    value = secrets.token_hex(16)
    keyring.set_password(service, user, value)
    try:
        assert keyring.get_password(service, user) == value
    finally:
        keyring.delete_password(service, user)
    assert keyring.get_password(service, user) is None
    with pytest.raises(PasswordDeleteError):
        keyring.delete_password(service, user)
