"""Secrets on the clipboard, marked so that clipboard managers do not keep them.

Why: a recovery phrase copied into a password manager would otherwise also land in the
clipboard history of KDE's Klipper, GNOME's clipboard extensions, macOS clipboard tools or
Windows' Win+V history (and its cloud sync). Each platform has a "concealed" marker that
well-behaved managers honour; the copy carries it, and the owner clears the clipboard after
a timeout (see ``ui.dialogs.onboarding``).

* Linux/BSD (KDE Klipper, and managers that follow it): the MIME type
  ``x-kde-passwordManagerHint`` with the value ``secret``.
* macOS: the pasteboard type ``org.nspasteboard.ConcealedType`` (nspasteboard.org), which
  clipboard managers there skip.
* Windows: the registered formats ``ExcludeClipboardContentFromMonitorProcessing``
  (clipboard monitors skip the content), ``CanIncludeInClipboardHistory`` = 0 and
  ``CanUploadToCloudClipboard`` = 0 (Win+V history and cloud sync), named through Qt's
  ``application/x-qt-windows-mime;value="..."`` form.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

KDE_HINT = "x-kde-passwordManagerHint"
MAC_CONCEALED = "org.nspasteboard.ConcealedType"
_WIN_FORMAT = 'application/x-qt-windows-mime;value="{}"'
_DWORD_ZERO = b"\x00\x00\x00\x00"


def concealed_mime(text: str, platform: str = sys.platform) -> QMimeData:
    """``text`` as clipboard data with the platform's do-not-keep marker."""
    mime = QMimeData()
    mime.setText(text)
    if platform == "darwin":
        mime.setData(MAC_CONCEALED, b"")
    elif platform.startswith("win"):
        mime.setData(_WIN_FORMAT.format("ExcludeClipboardContentFromMonitorProcessing"),
                     _DWORD_ZERO)
        mime.setData(_WIN_FORMAT.format("CanIncludeInClipboardHistory"), _DWORD_ZERO)
        mime.setData(_WIN_FORMAT.format("CanUploadToCloudClipboard"), _DWORD_ZERO)
    else:
        mime.setData(KDE_HINT, b"secret")
    return mime


def copy_secret(text: str) -> None:
    """Put a secret on the clipboard, marked concealed (the clipboard takes the data)."""
    QGuiApplication.clipboard().setMimeData(concealed_mime(text))


def clear_if_holds(text: str) -> bool:
    """Empty the clipboard if it still holds ``text`` (never touch other content)."""
    cb = QGuiApplication.clipboard()
    if text and cb.text() == text:
        cb.clear()
        return True
    return False
