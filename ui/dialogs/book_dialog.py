"""What the address-book editors (contacts; accounts and watched wallets) share: one way to
run an edit on the worker and say how it went.

Why one base: every edit is a facade call whose success is told in the banner, announced
(:attr:`BookDialog.changed`: names are shown on every screen) and followed by a reload,
and whose failure shows the core's message; two copies of that drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QWidget

from ui import worker
from ui.dialogs.common import show_error
from ui.pages.common import Banner


class BookDialog(QDialog):
    """A modal editor over the facade ``service``; subclasses build the view and
    implement :meth:`reload`. Emits :attr:`changed` after every successful edit."""

    changed = Signal()

    def __init__(self, service: Any, title: str, minimum: tuple[int, int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumSize(*minimum)
        self.banner = Banner()

    def reload(self) -> None:
        """Read the rows again (on the worker) and show them."""
        raise NotImplementedError

    def _call(self, fn: Callable[..., Any], *args: Any,
              ok: Callable[[Any], str] | None = None,
              then: Callable[[Any], Any] | None = None) -> None:
        """Run ``fn(*args)`` on the worker; on success show ``ok(result)``, emit
        :attr:`changed`, call ``then(result)`` and reload; on failure show why."""
        def done(result: Any) -> None:
            if ok is not None:
                self.banner.show_message("ok", ok(result))
            self.changed.emit()
            if then is not None:
                then(result)
            self.reload()

        worker.submit(fn, *args, on_done=done, on_error=self._error, context=self)

    def _error(self, exc: Exception) -> None:
        show_error(self.banner, exc)
