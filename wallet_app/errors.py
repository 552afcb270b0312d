"""Named exceptions shared across the core.

Every error a person can meet derives from :class:`WalletError` and carries a message that
says what happened and what to do. The GUI and CLI show ``str(exc)`` as it is, so these
messages must never contain secrets or raw, untrusted RPC text.
"""

from __future__ import annotations


class WalletError(Exception):
    """Base class for errors that are shown to the user as they are."""

    #: Process exit code the CLI uses for this kind of failure.
    exit_code: int = 1


class ConfigError(WalletError):
    """The settings file or an environment override is invalid."""

    exit_code = 6


class ToolMissingError(WalletError):
    """An external binary (anvil, forge, cast) could not be found."""

    exit_code = 3


class DevnetError(WalletError):
    """The local devnet could not be started, reached or stopped."""

    exit_code = 4
