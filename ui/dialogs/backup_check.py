"""Check the backup of a wallet's recovery phrase later: reached from the banner that every
screen shows while a phrase wallet's backup has not been checked.

Why later: onboarding asks for the check, but a person can close the window first (or the
wallet predates the check being recorded). The dialog asks for three words by position and
the password (the words are compared with the phrase decrypted in the core, never with
anything on screen); a wrong word is named by its position so it can be fixed on paper.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from ui import worker
from ui.dialogs.common import show_error
from ui.pages.common import Banner, button, label


class BackupCheckDialog(QDialog):
    """Password + the words at three random positions; ``passed`` on success."""

    passed = Signal(str)

    def __init__(self, service: Any, wallet_name: str, parent: QWidget | None = None,
                 k: int = 3) -> None:
        super().__init__(parent)
        self.service = service
        self.wallet_name = wallet_name
        self.setObjectName("backupCheckDialog")
        self.setWindowTitle("Check your backup")
        self.setModal(True)
        self.setMinimumWidth(460)
        self.positions = list(service.backup_challenge(wallet_name, k))
        listed = ", ".join(f"#{p}" for p in self.positions)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 22, 24, 20)
        lay.setSpacing(10)
        lay.addWidget(label(f"Check the backup of \u201c{wallet_name}\u201d", "subheading"))
        lay.addWidget(label(f"From your written recovery phrase, type words {listed} "
                            "(counting from 1), and the wallet's password.", "muted",
                            wrap=True))
        grid = QGridLayout()
        self.word_edits: dict[int, QLineEdit] = {}
        for row, pos in enumerate(self.positions):
            edit = QLineEdit()
            edit.setObjectName(f"backupWord_{pos}")
            edit.setPlaceholderText(f"word #{pos}")
            edit.returnPressed.connect(self.check)
            grid.addWidget(label(f"Word #{pos}"), row, 0)
            grid.addWidget(edit, row, 1)
            self.word_edits[pos] = edit
        self.password = QLineEdit()
        self.password.setObjectName("backupPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.returnPressed.connect(self.check)
        grid.addWidget(label("Password"), len(self.positions), 0)
        grid.addWidget(self.password, len(self.positions), 1)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        self.result_banner = Banner()
        lay.addWidget(self.result_banner)
        row_box = QHBoxLayout()
        row_box.addStretch(1)
        self.cancel_button = button("Not now", name="backupCancel")
        self.cancel_button.clicked.connect(self.reject)
        self.check_button = button("Check", primary=True, name="backupCheckButton")
        self.check_button.clicked.connect(self.check)
        row_box.addWidget(self.cancel_button)
        row_box.addWidget(self.check_button)
        lay.addLayout(row_box)
        if self.positions:
            self.word_edits[self.positions[0]].setFocus()

    def check(self) -> None:
        answers = {p: e.text().strip().lower() for p, e in self.word_edits.items()}
        missing = [p for p, w in answers.items() if not w]
        if missing or not self.password.text():
            what = "word " + ", ".join(f"#{p}" for p in missing) if missing else "the password"
            self.result_banner.show_message("error", "Fill in every field", f"Type {what}.")
            return
        self.check_button.setEnabled(False)
        worker.submit(self.service.verify_backup, self.wallet_name, answers,
                      self.password.text(), on_done=self._done, on_error=self._failed,
                      context=self)

    def _done(self, result: Any) -> None:
        self.check_button.setEnabled(True)
        if not result:
            wrong = tuple(getattr(result, "wrong", ()))
            message = result.message() if hasattr(result, "message") else \
                "Those words do not match your recovery phrase."
            self.result_banner.show_message("error", "Not a match", message)
            if wrong and wrong[0] in self.word_edits:
                self.word_edits[wrong[0]].selectAll()
                self.word_edits[wrong[0]].setFocus()
            return
        self.password.clear()
        self.passed.emit(self.wallet_name)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.check_button.setEnabled(True)
        show_error(self.result_banner, exc)
