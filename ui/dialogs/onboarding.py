"""Onboarding: create a wallet (phrase shown once, backup check) or import one.

Design choices, each for a reason:

* The password field has a strength meter fed by the core's own policy
  (``WalletService.password_verdict``), so the GUI never accepts a password the core would
  refuse, and a refusal always comes with the core's reason in words.
* The recovery phrase is shown once, during onboarding only. It stays in memory just
  until the backup check passes (so "Back to the words" works if a word was misread),
  then the labels and the list are wiped; the app never displays it again.
* Copy is allowed (people paste into password managers), marked with the platform's
  "concealed" hint so clipboard managers do not keep it (``ui.clipboard``), and the
  clipboard is cleared after :attr:`OnboardingDialog.CLIPBOARD_CLEAR_MS` if it still holds
  the phrase, and when the dialog closes.
* The backup check asks for words by position (1-based, as people count) and verifies
  them in the core against the stored keystore, not against the words on screen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui import worker
from ui.clipboard import clear_if_holds, copy_secret
from ui.dialogs.common import show_error
from ui.dialogs.onboarding_import import (  # noqa: F401 - MAX_KEYSTORE_BYTES re-exported
    MAX_KEYSTORE_BYTES,
    ImportPage,
    page_footer,
)
from ui.dialogs.password_field import PasswordField
from ui.dialogs.receive_dialog import ReceivePanel
from ui.pages.common import Banner, Card, button, label


class OnboardingDialog(ImportPage, QDialog):
    """Welcome -> create (password, phrase, backup check) or import -> ready.

    Signals:
        walletReady(object): the WalletInfo of the created or imported wallet.
    """

    walletReady = Signal(object)
    CLIPBOARD_CLEAR_MS = 30_000
    PAGES = ("welcome", "create", "phrase", "check", "import", "done")

    def __init__(self, service: Any, parent: QWidget | None = None,
                 first_run: bool = True) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("Set up your wallet")
        self.setModal(True)
        self.setMinimumSize(720, 620)
        self.info: Any = None
        self._words: list[str] = []
        self._secret: Any = None
        self._phrase_text = ""
        self._password = ""  # kept only until the backup check, then dropped
        self.positions: list[int] = []
        self.clipboard_timer = QTimer(self)
        self.clipboard_timer.setSingleShot(True)
        self.clipboard_timer.timeout.connect(self.clear_clipboard)

        self.stack = QStackedWidget()
        self.page: dict[str, QWidget] = {}
        for name in self.PAGES:
            w = QWidget()
            w.setObjectName(f"page_{name}")
            self.page[name] = w
            self.stack.addWidget(w)
        self._build_welcome(first_run)
        self._build_create()
        self._build_phrase()
        self._build_check()
        self._build_import()
        self._build_done()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 20)
        lay.addWidget(self.stack)
        self.resize(760, 660)

    # -- navigation ----------------------------------------------------------------------

    def go(self, name: str) -> None:
        self.stack.setCurrentWidget(self.page[name])

    def current(self) -> str:
        return self.stack.currentWidget().objectName().removeprefix("page_")

    # -- welcome -----------------------------------------------------------------------

    def _build_welcome(self, first_run: bool) -> None:
        lay = QVBoxLayout(self.page["welcome"])
        lay.setSpacing(14)
        lay.addWidget(label("Welcome to the TM Global 100 wallet" if first_run
                            else "Add a wallet", "heading", wrap=True))
        lay.addWidget(label(
            "Your wallet's keys are made and kept on this computer, encrypted with your "
            "password and stored in the system keyring. Nobody else, including the makers "
            "of this app, can move your funds or recover them for you.", "muted", wrap=True))
        lay.addSpacing(10)
        for name, title, text, primary in (
            ("createChoice", "Create a new wallet",
             "Get a new 24-word recovery phrase. You will write it down and check it.", True),
            ("importChoice", "Import a wallet I already have",
             "From a recovery phrase, a private key or a keystore (JSON) file.", False),
        ):
            card = Card()
            b = button(title, primary=primary, name=name)
            b.setMinimumHeight(40)
            card.body.addWidget(b)
            card.body.addWidget(label(text, "hint", wrap=True))
            lay.addWidget(card)
            b.clicked.connect(lambda _c=False, n=name: self.go(
                "create" if n == "createChoice" else "import"))
        lay.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        later = button("Not now", name="notNow")
        later.clicked.connect(self.reject)
        row.addWidget(later)
        lay.addLayout(row)

    # -- create ------------------------------------------------------------------------

    def _build_create(self) -> None:
        lay = QVBoxLayout(self.page["create"])
        lay.setSpacing(12)
        lay.addWidget(label("Create a new wallet", "heading"))
        lay.addWidget(label("Choose a name for this wallet and a password. The password "
                            "encrypts the keys on this computer; you type it to sign.",
                            "muted", wrap=True))
        card = Card()
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        self.name_edit = QLineEdit("Main")
        self.name_edit.setObjectName("walletName")
        self.name_edit.setMaxLength(40)
        grid.addWidget(label("Name"), 0, 0)
        grid.addWidget(self.name_edit, 0, 1)
        words_row = QHBoxLayout()
        self.words_group = QButtonGroup(self)
        self.words_buttons: dict[int, QPushButton] = {}
        for n in (24, 12):
            b = QPushButton(f"{n} words")
            b.setObjectName(f"words_{n}")
            b.setCheckable(True)
            b.setProperty("segment", "true")
            self.words_group.addButton(b)
            self.words_buttons[n] = b
            words_row.addWidget(b)
        self.words_buttons[24].setChecked(True)
        words_row.addStretch(1)
        grid.addWidget(label("Phrase"), 1, 0)
        grid.addLayout(words_row, 1, 1)
        grid.setColumnStretch(1, 1)
        card.body.addLayout(grid)
        self.create_password = PasswordField(self.service.password_verdict,
                                             lambda: self.name_edit.text().strip())
        card.body.addWidget(self.create_password)
        lay.addWidget(card)
        self.create_banner, self.create_button = page_footer(
            lay, "create", "Create wallet", self.create_wallet, lambda: self.go("welcome"))
        self.create_password.changed.connect(self._update_create_button)
        self.name_edit.textChanged.connect(self.create_password.update_verdict)

    def _update_create_button(self) -> None:
        self.create_button.setEnabled(bool(self.name_edit.text().strip())
                                      and self.create_password.acceptable())

    def create_wallet(self) -> None:
        if not self.create_password.acceptable():
            return
        self.create_banner.clear()
        self.create_button.setEnabled(False)
        self.create_button.setText("Creating\u2026")
        words = 12 if self.words_buttons[12].isChecked() else 24
        self._password = self.create_password.text()
        worker.submit(self.service.create_wallet, self.name_edit.text().strip(),
                      self._password, words, on_done=self._created,
                      on_error=self._create_failed, context=self)

    def _created(self, result: tuple[Any, Any]) -> None:
        info, secret = result
        self.info = info
        self._secret = secret
        self._words = list(secret.words)
        self.create_password.clear()
        self.create_button.setText("Create wallet")
        self._show_words()
        self.go("phrase")

    def _create_failed(self, exc: Exception) -> None:
        self._password = ""
        self.create_button.setText("Create wallet")
        self._update_create_button()
        show_error(self.create_banner, exc)

    # -- phrase ------------------------------------------------------------------------

    def _build_phrase(self) -> None:
        lay = QVBoxLayout(self.page["phrase"])
        lay.setSpacing(12)
        lay.addWidget(label("Write down your recovery phrase", "heading"))
        lay.addWidget(label(
            "These words are the only way to recover this wallet if this computer is lost. "
            "Write them on paper, in order, and keep it somewhere safe. Anyone who has "
            "them can take your funds. They are shown only now.", "muted", wrap=True))
        card = Card()
        self.words_grid = QGridLayout()
        self.words_grid.setHorizontalSpacing(10)
        self.words_grid.setVerticalSpacing(8)
        card.body.addLayout(self.words_grid)
        lay.addWidget(card)
        row = QHBoxLayout()
        self.copy_button = button("Copy to clipboard", name="copyPhrase")
        self.copy_button.clicked.connect(self.copy_phrase)
        self.copy_note = label("", "hint", wrap=True, name="copyNote")
        row.addWidget(self.copy_button)
        row.addWidget(self.copy_note, 1)
        lay.addLayout(row)
        self.written_check = QCheckBox("I have written the words down, in order")
        self.written_check.setObjectName("writtenCheck")
        lay.addWidget(self.written_check)
        lay.addStretch(1)
        nav = QHBoxLayout()
        nav.addStretch(1)
        self.to_check_button = button("Continue", primary=True, name="toCheck")
        self.to_check_button.setEnabled(False)
        self.written_check.toggled.connect(self.to_check_button.setEnabled)
        self.to_check_button.clicked.connect(self.start_check)
        nav.addWidget(self.to_check_button)
        lay.addLayout(nav)
        self.word_labels: list[QLabel] = []

    def _show_words(self) -> None:
        for lab in self.word_labels:
            lab.deleteLater()
        self.word_labels = []
        cols = 4
        rows = (len(self._words) + cols - 1) // cols
        for i, w in enumerate(self._words):
            lab = label(f"{i + 1:>2}. {w}", "word", name=f"word_{i + 1}")
            # Column-major, so the reading order down each column matches the numbers.
            self.words_grid.addWidget(lab, i % rows, i // rows)
            self.word_labels.append(lab)
        self._phrase_text = " ".join(self._words)

    def copy_phrase(self) -> None:
        copy_secret(self._phrase_text)  # marked concealed: clipboard managers skip it
        self.clipboard_timer.start(self.CLIPBOARD_CLEAR_MS)
        secs = self.CLIPBOARD_CLEAR_MS // 1000
        self.copy_note.setText(f"Copied. The clipboard is cleared in {secs} s; paste it "
                               "into a password manager now, or better, write it on paper.")

    def clear_clipboard(self) -> None:
        """Empty the clipboard if it still holds the phrase (never touch other content)."""
        if clear_if_holds(self._phrase_text):
            self.copy_note.setText("The clipboard was cleared.")

    # -- backup check ----------------------------------------------------------------------

    def _build_check(self) -> None:
        lay = QVBoxLayout(self.page["check"])
        lay.setSpacing(12)
        lay.addWidget(label("Check your backup", "heading"))
        self.check_intro = label("", "muted", wrap=True)
        lay.addWidget(self.check_intro)
        card = Card()
        self.check_grid = QGridLayout()
        self.check_grid.setHorizontalSpacing(12)
        self.check_grid.setVerticalSpacing(8)
        card.body.addLayout(self.check_grid)
        lay.addWidget(card)
        self.check_banner = Banner()
        lay.addWidget(self.check_banner)
        lay.addStretch(1)
        row = QHBoxLayout()
        back = button("Back to the words", name="backToWords")
        back.clicked.connect(lambda: self.go("phrase"))
        self.verify_button = button("Check", primary=True, name="verifyButton")
        self.verify_button.clicked.connect(self.verify_backup)
        row.addWidget(back)
        row.addStretch(1)
        row.addWidget(self.verify_button)
        lay.addLayout(row)
        self.check_edits: dict[int, QLineEdit] = {}

    def start_check(self) -> None:
        self.positions = list(self.service.backup_challenge(self.info.name, 3))
        for e in self.check_edits.values():
            e.deleteLater()
        while self.check_grid.count():
            item = self.check_grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.check_edits = {}
        for row, pos in enumerate(self.positions):
            edit = QLineEdit()
            edit.setObjectName(f"check_{pos}")
            edit.setPlaceholderText(f"word #{pos}")
            edit.returnPressed.connect(self.verify_backup)
            self.check_grid.addWidget(label(f"Word #{pos}"), row, 0)
            self.check_grid.addWidget(edit, row, 1)
            self.check_edits[pos] = edit
        self.check_grid.setColumnStretch(1, 1)
        listed = ", ".join(f"#{p}" for p in self.positions)
        self.check_intro.setText(f"From your written copy, type words {listed} (counting "
                                 "from 1). This proves the backup is readable before you put "
                                 "money in this wallet.")
        self.check_banner.clear()
        self.clear_clipboard()
        self.go("check")
        if self.positions:
            self.check_edits[self.positions[0]].setFocus()

    def verify_backup(self) -> None:
        answers = {p: e.text().strip().lower() for p, e in self.check_edits.items()}
        missing = [p for p, w in answers.items() if not w]
        if missing:
            self.check_banner.show_message(
                "error", "Fill in every word",
                "Type word " + ", ".join(f"#{p}" for p in missing) + " as well.")
            return
        self.verify_button.setEnabled(False)
        worker.submit(self.service.verify_backup, self.info.name, answers, self._password,
                      on_done=self._verified, on_error=self._verify_failed, context=self)

    def _verified(self, ok: Any) -> None:
        self.verify_button.setEnabled(True)
        if not ok:
            wrong = [f"#{p}" for p in getattr(ok, "wrong", ())]
            title = ("Those words do not match your recovery phrase" if not wrong else
                     f"Word {wrong[0]} does not match your recovery phrase" if len(wrong) == 1
                     else f"Words {', '.join(wrong)} do not match your recovery phrase")
            self.check_banner.show_message(
                "error", title,
                "Check your written copy: the positions count from 1, in the order the "
                "words were shown. Go back to the words if you need to correct it.")
            return
        self._wipe_secret()
        self._finish(self.info, "Your backup checks out.")

    def _verify_failed(self, exc: Exception) -> None:
        self.verify_button.setEnabled(True)
        show_error(self.check_banner, exc)

    def _wipe_secret(self) -> None:
        self.clear_clipboard()
        for lab in self.word_labels:
            lab.setText("")
            lab.deleteLater()
        self.word_labels = []
        self._words = []
        self._phrase_text = ""
        self._password = ""
        if self._secret is not None and hasattr(self._secret, "wipe"):
            self._secret.wipe()  # the core's RecoveryPhrase zeroes its entropy
        self._secret = None

    # -- done ------------------------------------------------------------------------

    def _build_done(self) -> None:
        lay = QVBoxLayout(self.page["done"])
        lay.setSpacing(12)
        self.done_title = label("Your wallet is ready", "heading", name="readyTitle")
        self.done_text = label("", "muted", wrap=True)
        card = Card("Receive")
        self.done_address = label("", "mono", selectable=True, name="readyAddress")
        card.body.addWidget(self.done_address)
        card.body.addWidget(label("Send USDC (and a little ETH for network fees) to this "
                                  "address to buy the index.", "hint", wrap=True))
        # The address as a QR code, Copy, and the USDC payment link (ui/dialogs/receive_dialog).
        self.receive_panel = ReceivePanel(compact=True, with_amount=False)
        self.receive_panel.hide()
        card.body.addWidget(self.receive_panel)
        lay.addWidget(self.done_title)
        lay.addWidget(self.done_text)
        lay.addWidget(card)
        lay.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.finish_button = button("Get started", primary=True, name="finishButton")
        self.finish_button.clicked.connect(self.accept)
        row.addWidget(self.finish_button)
        lay.addLayout(row)

    def _finish(self, info: Any, text: str) -> None:
        self.info = info
        self.done_text.setText(f"{text} \u201c{info.name}\u201d is now the active wallet.")
        self.done_address.setText(first_address(info) or "")
        self.go("done")
        self.walletReady.emit(info)
        receive = getattr(self.service, "receive_info", None)
        if callable(receive):
            worker.submit(receive, None, on_done=self._receive_loaded,
                          on_error=lambda _e: None, context=self)

    def _receive_loaded(self, info: Any) -> None:
        """The QR code and payment link replace the plain address line."""
        self.receive_panel.show_info(info)
        self.receive_panel.show()
        self.done_address.hide()  # the panel shows it, with its QR code and Copy

    # -- closing ---------------------------------------------------------------------

    def done(self, result: int) -> None:  # noqa: D401 - QDialog API
        self._wipe_secret()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API name
        self._wipe_secret()
        super().closeEvent(event)


def first_address(info: Any) -> str | None:
    """The first address of a WalletInfo, whether it lists strings or account objects."""
    addrs = getattr(info, "addresses", None) or []
    if not addrs:
        accounts = getattr(info, "accounts", None) or []
        addrs = [a.address for a in accounts]
    if not addrs:
        return None
    first = addrs[0]
    return first if isinstance(first, str) else getattr(first, "address", None)

