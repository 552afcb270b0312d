"""The unchecked backup on every screen, the check run later from its banner, and the
phrase copied with the platform's concealed hint (pytest-qt, offscreen)."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from ui.app import create_app  # noqa: E402
from ui.clipboard import (  # noqa: E402
    KDE_HINT,
    MAC_CONCEALED,
    clear_if_holds,
    concealed_mime,
    copy_secret,
)
from ui.controller import Controller  # noqa: E402
from ui.dialogs.backup_check import BackupCheckDialog  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from ui.pages import samples  # noqa: E402
from wallet_app.keys.backup import BackupCheck  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def _app(qapp: QApplication) -> None:
    create_app(theme="light")


class UncheckedService(samples.SampleService):
    """The sample service with a phrase wallet whose backup check has not passed yet."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._wallets = [dataclasses.replace(w, needs_backup_check=True) for w in self._wallets]

    def verify_backup(self, name: str, answers: dict[int, str], password: str) -> BackupCheck:
        result = super().verify_backup(name, answers, password)
        if result.ok:
            self._wallets = [dataclasses.replace(w, needs_backup_check=False)
                             for w in self._wallets]
        return result


def _window(qtbot, svc: samples.SampleService) -> tuple[MainWindow, Controller]:  # noqa: ANN001
    win = MainWindow()
    qtbot.addWidget(win)
    ctl = Controller(svc, win, auto_onboard=False)
    win.resize(1280, 800)
    win.show()
    ctl.start()
    qtbot.wait(50)
    return win, ctl


def test_every_screen_shows_the_unchecked_backup_and_the_check_clears_it(qtbot) -> None:  # noqa: ANN001
    svc = UncheckedService()
    win, ctl = _window(qtbot, svc)
    try:
        for page in ("index", "my", "transactions", "settings"):
            win.navigate(page)
            qtbot.wait(10)
            assert win.backup_banner.isVisible(), page
            assert win.backup_badge.isVisible(), page
        assert "not checked" in win.backup_banner.title.text()
        # The banner's button opens the check; a wrong word is named by its position.
        qtbot.mouseClick(win.backup_banner.primary, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: isinstance(ctl.dialog, BackupCheckDialog), timeout=3_000)
        dlg = ctl.dialog
        assert dlg.positions == [3, 11, 20]
        for pos, edit in dlg.word_edits.items():
            qtbot.keyClicks(edit, "zebra" if pos == 20 else samples.SAMPLE_WORDS[pos - 1])
        qtbot.keyClicks(dlg.password, samples.SAMPLE_PASSWORD)
        qtbot.mouseClick(dlg.check_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dlg.result_banner.isVisible(), timeout=5_000)
        assert "word #20 does not match" in dlg.result_banner.message.text()
        assert "zebra" not in dlg.result_banner.message.text()
        assert win.backup_banner.isVisible()  # still unchecked
        dlg.word_edits[20].clear()
        qtbot.keyClicks(dlg.word_edits[20], samples.SAMPLE_WORDS[19])
        with qtbot.waitSignal(dlg.passed, timeout=5_000):
            qtbot.mouseClick(dlg.check_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not win.backup_banner.isVisible(), timeout=3_000)
        assert not win.backup_badge.isVisible()
        assert "checks out" in win.notice.title.text()
    finally:
        ctl.shutdown()


def test_a_checked_wallet_shows_no_banner(qtbot) -> None:  # noqa: ANN001
    win, ctl = _window(qtbot, samples.SampleService())
    try:
        assert not win.backup_banner.isVisible() and not win.backup_badge.isVisible()
    finally:
        ctl.shutdown()


def test_the_copied_phrase_carries_the_concealed_hint_and_is_cleared() -> None:
    copy_secret("alpha bravo charlie")
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.text() == "alpha bravo charlie"
    assert bytes(mime.data(KDE_HINT)) == b"secret"
    assert not clear_if_holds("something else")  # other content is never touched
    assert clear_if_holds("alpha bravo charlie")
    assert QGuiApplication.clipboard().text() == ""


def test_each_platform_gets_its_own_marker() -> None:
    mac = concealed_mime("x", "darwin")
    assert mac.hasFormat(MAC_CONCEALED) and not mac.hasFormat(KDE_HINT)
    win = concealed_mime("x", "win32")
    assert any("ExcludeClipboardContentFromMonitorProcessing" in f for f in win.formats())
    assert any("CanIncludeInClipboardHistory" in f for f in win.formats())
    linux = concealed_mime("x", "linux")
    assert bytes(linux.data(KDE_HINT)) == b"secret" and linux.text() == "x"
