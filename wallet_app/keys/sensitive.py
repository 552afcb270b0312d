"""Holders for plaintext key material that can be wiped and never print themselves.

Python cannot promise that no copy of a secret survives in memory: ``bytes`` and ``str``
are immutable and libraries (hashlib, eth-keys) make their own copies. What we *can* do,
and do here, is keep our long-lived copies in ``bytearray`` objects that are zeroed on
lock, hand out short-lived ``bytes`` copies only at the moment of use, and make sure a
secret object never ends up in a log line, a traceback's repr, a pickle or a JSON dump by
accident.
"""

from __future__ import annotations

import contextlib
import hmac
from typing import NoReturn


def wipe(buf: bytearray | memoryview | None) -> None:
    """Overwrite a mutable buffer with zeros (best effort; ``None`` is ignored)."""
    if buf is None:
        return
    view = memoryview(buf).cast("B")
    view[:] = bytes(len(view))


class SecretBytes:
    """A wipeable secret byte string whose ``repr`` and ``str`` reveal nothing.

    Use :meth:`reveal` to get a ``bytes`` copy right where an API needs one, and
    :meth:`wipe` when done. After wiping, :meth:`reveal` raises, so that a use-after-lock
    bug fails loudly instead of signing with zeros.
    """

    __slots__ = ("_buf", "_wiped")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._buf = bytearray(data)
        self._wiped = False

    def reveal(self) -> bytes:
        """A short-lived ``bytes`` copy (for APIs that do not take a bytearray)."""
        self._check()
        return bytes(self._buf)

    def view(self) -> bytearray:
        """The underlying buffer itself (for hashlib and friends, which take bytearrays)."""
        self._check()
        return self._buf

    def wipe(self) -> None:
        """Zero the buffer and mark the secret as gone."""
        wipe(self._buf)
        self._buf = bytearray()
        self._wiped = True

    @property
    def wiped(self) -> bool:
        return self._wiped

    def _check(self) -> None:
        if self._wiped:
            raise RuntimeError("secret was wiped (the wallet was locked)")

    def __len__(self) -> int:
        return len(self._buf)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretBytes):
            return hmac.compare_digest(bytes(self._buf), bytes(other._buf))
        return NotImplemented

    def __hash__(self) -> int:  # secrets are not dictionary keys
        raise TypeError("SecretBytes is not hashable")

    def __repr__(self) -> str:
        state = "wiped" if self._wiped else f"{len(self._buf)} bytes"
        return f"<SecretBytes hidden, {state}>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("secrets cannot be pickled or copied out of process")

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown anything may be gone
            wipe(self._buf)
