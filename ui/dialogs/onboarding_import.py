"""The import page of onboarding: a recovery phrase, a private key or a keystore file,
each encrypted under a new password (kept out of ``ui/dialogs/onboarding.py``).

A mixin of :class:`~ui.dialogs.onboarding.OnboardingDialog`: it builds the page into the
dialog's stack and finishes through the dialog's done page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui import worker
from ui.dialogs.common import show_error
from ui.dialogs.password_field import PasswordField
from ui.pages.common import Banner, Card, button, label

MAX_KEYSTORE_BYTES = 1_000_000  # a keystore v3 file is ~500 bytes; refuse anything huge


def page_footer(lay: QVBoxLayout, prefix: str, text: str, action: Callable[[], None],
                back: Callable[[], None]) -> tuple[Banner, QPushButton]:
    """Below a form page's card (create, import): its banner, then Back (``back``) and the
    page's primary button ``text`` (object names ``{prefix}Back``/``{prefix}Button``),
    off until the form is ready."""
    banner = Banner()
    lay.addWidget(banner)
    lay.addStretch(1)
    row = QHBoxLayout()
    back_button = button("Back", name=f"{prefix}Back")
    back_button.clicked.connect(back)
    primary = button(text, primary=True, name=f"{prefix}Button")
    primary.setEnabled(False)
    primary.clicked.connect(action)
    row.addWidget(back_button)
    row.addStretch(1)
    row.addWidget(primary)
    lay.addLayout(row)
    return banner, primary


class ImportPage:
    """Building and running the import page."""

    def _build_import(self) -> None:
        lay = QVBoxLayout(self.page["import"])
        lay.setSpacing(12)
        lay.addWidget(label("Import a wallet", "heading"))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("importTabs")
        # Recovery phrase
        t1 = QWidget()
        l1 = QVBoxLayout(t1)
        l1.setContentsMargins(0, 10, 0, 0)
        self.phrase_edit = QPlainTextEdit()
        self.phrase_edit.setObjectName("phraseEdit")
        self.phrase_edit.setPlaceholderText("12, 15, 18, 21 or 24 words separated by spaces")
        self.phrase_edit.setFixedHeight(80)
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setObjectName("passphraseEdit")
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setPlaceholderText("Optional BIP-39 passphrase (\"25th word\")")
        l1.addWidget(self.phrase_edit)
        l1.addWidget(self.passphrase_edit)
        self.tabs.addTab(t1, "Recovery phrase")
        # Private key
        t2 = QWidget()
        l2 = QVBoxLayout(t2)
        l2.setContentsMargins(0, 10, 0, 0)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("privateKeyEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("64 hexadecimal characters, with or without 0x")
        l2.addWidget(self.key_edit)
        l2.addWidget(label("A private-key wallet has a single address and no recovery "
                           "phrase: keep a backup of the key itself.", "hint", wrap=True))
        l2.addStretch(1)
        self.tabs.addTab(t2, "Private key")
        # Keystore
        t3 = QWidget()
        l3 = QGridLayout(t3)
        l3.setContentsMargins(0, 10, 0, 0)
        self.keystore_path = QLineEdit()
        self.keystore_path.setObjectName("keystorePath")
        self.keystore_path.setReadOnly(True)
        self.keystore_path.setPlaceholderText("No file chosen")
        browse = button("Choose file\u2026", name="chooseKeystore")
        browse.clicked.connect(self._choose_keystore)
        self.keystore_password = QLineEdit()
        self.keystore_password.setObjectName("keystorePassword")
        self.keystore_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.keystore_password.setPlaceholderText("The password the keystore file was saved "
                                                  "with")
        l3.addWidget(label("File"), 0, 0)
        l3.addWidget(self.keystore_path, 0, 1)
        l3.addWidget(browse, 0, 2)
        l3.addWidget(label("File password"), 1, 0)
        l3.addWidget(self.keystore_password, 1, 1, 1, 2)
        l3.setRowStretch(2, 1)
        l3.setColumnStretch(1, 1)
        self.tabs.addTab(t3, "Keystore file")
        lay.addWidget(self.tabs)

        card = Card("This wallet on this computer")
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        self.import_name = QLineEdit("Imported")
        self.import_name.setObjectName("importName")
        self.import_name.setMaxLength(40)
        grid.addWidget(label("Name"), 0, 0)
        grid.addWidget(self.import_name, 0, 1)
        grid.setColumnStretch(1, 1)
        card.body.addLayout(grid)
        self.import_password = PasswordField(self.service.password_verdict,
                                             lambda: self.import_name.text().strip(),
                                             prefix="import_")
        card.body.addWidget(self.import_password)
        lay.addWidget(card)
        self.import_banner, self.import_button = page_footer(
            lay, "import", "Import wallet", self.import_wallet, lambda: self.go("welcome"))
        self.import_password.changed.connect(self._update_import_button)
        self.import_name.textChanged.connect(self.import_password.update_verdict)
        self.phrase_edit.textChanged.connect(self._update_import_button)
        self.key_edit.textChanged.connect(self._update_import_button)
        self.keystore_password.textChanged.connect(self._update_import_button)
        self.tabs.currentChanged.connect(self._update_import_button)
        self._keystore_json = ""

    def _choose_keystore(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a keystore file", str(Path.home()),
                                              "Keystore files (*.json *);;All files (*)")
        if path:
            self.load_keystore_file(Path(path))

    def load_keystore_file(self, path: Path) -> bool:
        """Read a keystore JSON (small text file) for import; says why when it cannot."""
        try:
            if path.stat().st_size > MAX_KEYSTORE_BYTES:
                raise ValueError("too large to be a keystore file")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.import_banner.show_message("error", "Cannot read that file",
                                            f"{path.name}: {reason}. Choose the keystore "
                                            "(UTC--\u2026 or .json) file.")
            return False
        self._keystore_json = text
        self.keystore_path.setText(str(path))
        self.import_banner.clear()
        self._update_import_button()
        return True

    def _source_ready(self) -> bool:
        tab = self.tabs.currentIndex()
        if tab == 0:
            return len(self.phrase_edit.toPlainText().split()) >= 12
        if tab == 1:
            return len(self.key_edit.text().strip().removeprefix("0x")) >= 64
        return bool(self._keystore_json) and bool(self.keystore_password.text())

    def _update_import_button(self, *_: object) -> None:
        self.import_button.setEnabled(bool(self.import_name.text().strip())
                                      and self._source_ready()
                                      and self.import_password.acceptable())

    def import_wallet(self) -> None:
        name = self.import_name.text().strip()
        pw = self.import_password.text()
        tab = self.tabs.currentIndex()
        if tab == 0:
            phrase = " ".join(self.phrase_edit.toPlainText().split())
            fn, args = self.service.import_mnemonic, (name, phrase, pw,
                                                      self.passphrase_edit.text())
        elif tab == 1:
            fn, args = self.service.import_private_key, (name, self.key_edit.text().strip(), pw)
        else:
            fn, args = self.service.import_keystore, (name, self._keystore_json,
                                                      self.keystore_password.text(), pw)
        self.import_banner.clear()
        self.import_button.setEnabled(False)
        self.import_button.setText("Importing\u2026")
        worker.submit(fn, *args, on_done=self._imported, on_error=self._import_failed,
                      context=self)

    def _imported(self, info: Any) -> None:
        self.phrase_edit.clear()
        self.key_edit.clear()
        self.passphrase_edit.clear()
        self.keystore_password.clear()
        self._keystore_json = ""
        self.import_password.clear()
        self.import_button.setText("Import wallet")
        self._finish(info, "The wallet was imported.")

    def _import_failed(self, exc: Exception) -> None:
        self.import_button.setText("Import wallet")
        self._update_import_button()
        show_error(self.import_banner, exc)
