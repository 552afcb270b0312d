"""Ask for the wallet's password and unlock it (off the GUI thread: scrypt takes a while).

Used when a signature needs the key: before a buy or sell, a speed-up or cancel, and from
the lock screen. A wrong password keeps the dialog open with the core's message; nothing
here ever stores or logs the password, and the field is cleared once it has been used.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from ui import worker
from ui.dialogs.common import describe_error
from ui.pages.common import button, label


class UnlockDialog(QDialog):
    """Modal password prompt; ``exec()`` returns Accepted once the wallet is unlocked."""

    def __init__(self, service: Any, wallet_name: str = "", reason: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("Unlock wallet")
        self.setModal(True)
        self.setMinimumWidth(420)
        title = label(f"Unlock \u201c{wallet_name}\u201d" if wallet_name else "Unlock wallet",
                      "subheading")
        self.reason_label = label(reason or "Enter the wallet's password to sign.", "muted",
                                  wrap=True)
        self.password = QLineEdit()
        self.password.setObjectName("unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.returnPressed.connect(self.try_unlock)
        self.error_label = label("", "field-error", wrap=True, name="unlockError")
        self.error_label.hide()
        self.unlock_button = button("Unlock", primary=True, name="unlockButton")
        self.cancel_button = button("Cancel", name="unlockCancel")
        self.unlock_button.clicked.connect(self.try_unlock)
        self.cancel_button.clicked.connect(self.reject)
        self.unlock_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.unlock_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 22, 24, 20)
        lay.setSpacing(10)
        lay.addWidget(title)
        lay.addWidget(self.reason_label)
        lay.addSpacing(4)
        lay.addWidget(self.password)
        lay.addWidget(self.error_label)
        lay.addSpacing(6)
        lay.addLayout(buttons)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def try_unlock(self) -> None:
        pw = self.password.text()
        if not pw:
            self._show_error("Enter the password.")
            return
        self._busy(True)
        worker.submit(self.service.unlock, pw, on_done=self._unlocked, on_error=self._failed,
                      context=self)

    def _unlocked(self, _result: object) -> None:
        self.password.clear()
        self._busy(False)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._busy(False)
        advice = describe_error(exc)
        self._show_error(advice.message or advice.title)
        self.password.selectAll()
        self.password.setFocus()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def _busy(self, busy: bool) -> None:
        self.unlock_button.setEnabled(not busy)
        self.password.setEnabled(not busy)
        self.unlock_button.setText("Unlocking\u2026" if busy else "Unlock")
