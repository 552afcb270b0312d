"""Named errors of the index engine.

They derive from :class:`~wallet_app.errors.WalletError`, so the CLI and the GUI show the
message as it is: each one says which input was wrong and what to do about it.
"""

from __future__ import annotations

from ..errors import WalletError


class IndexDataError(WalletError):
    """An input of the methodology (snapshot, history, deny list, holdings) is unusable.

    Raised before anything is computed, so a bad file never yields a half-made result.
    """

    exit_code = 7
