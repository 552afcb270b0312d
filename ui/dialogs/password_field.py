"""The password field of onboarding: two entries, a strength meter fed by the core's own
policy and a match check (kept out of ``ui/dialogs/onboarding.py``).

Why the core's policy: the GUI never accepts a password the core would refuse, and a
refusal always comes with the core's reason in words.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLineEdit,
    QProgressBar,
    QWidget,
)

from ui.pages.common import label, set_prop


class PasswordField(QWidget):
    """Password + confirmation with a live strength meter and the core's verdict.

    ``verdict_fn(password, name)`` returns an object with ``ok``, ``score`` (0..4),
    ``label`` and ``reason``. :meth:`acceptable` is what enables the owner's button.
    """

    changed = Signal()

    def __init__(self, verdict_fn: Any, name_fn: Any, parent: QWidget | None = None,
                 prefix: str = "") -> None:
        super().__init__(parent)
        self._verdict_fn = verdict_fn
        self._name_fn = name_fn
        self.verdict: Any = None
        self.password = QLineEdit()
        self.password.setObjectName(f"{prefix}password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("A few unrelated words make a strong password")
        self.confirm = QLineEdit()
        self.confirm.setObjectName(f"{prefix}confirmPassword")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.setPlaceholderText("Type it again")
        self.meter = QProgressBar()
        self.meter.setObjectName(f"{prefix}strengthMeter")
        self.meter.setRange(0, 4)
        self.meter.setValue(0)
        self.meter.setTextVisible(False)
        self.meter.setProperty("strength", "0")
        self.strength_label = label("", "hint", wrap=True, name=f"{prefix}strengthLabel")
        self.match_label = label("", "field-error", name=f"{prefix}matchLabel")
        self.match_label.hide()
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setHorizontalSpacing(12)
        lay.setVerticalSpacing(6)
        lay.addWidget(label("Password"), 0, 0)
        lay.addWidget(self.password, 0, 1)
        lay.addWidget(self.meter, 1, 1)
        lay.addWidget(self.strength_label, 2, 1)
        lay.addWidget(label("Confirm"), 3, 0)
        lay.addWidget(self.confirm, 3, 1)
        lay.addWidget(self.match_label, 4, 1)
        lay.setColumnStretch(1, 1)
        self.password.textChanged.connect(self.update_verdict)
        self.confirm.textChanged.connect(self._check_match)

    def update_verdict(self, *_: object) -> None:
        pw = self.password.text()
        if not pw:
            self.verdict = None
            self.meter.setValue(0)
            set_prop(self.meter, "strength", "0")
            self.strength_label.setText("")
            set_prop(self.strength_label, "role", "hint")
        else:
            v = self.verdict = self._verdict_fn(pw, self._name_fn())
            score = max(0, min(4, int(v.score)))
            self.meter.setValue(max(score, 1))
            set_prop(self.meter, "strength", str(score))
            if v.ok:
                self.strength_label.setText(f"Strength: {v.label}"
                                            + (f" \u2014 {v.reason}" if v.reason else ""))
                set_prop(self.strength_label, "role", "field-ok")
            else:
                self.strength_label.setText(f"Refused ({v.label}): {v.reason}")
                set_prop(self.strength_label, "role", "field-error")
        self._check_match()

    def _check_match(self, *_: object) -> None:
        mismatch = bool(self.confirm.text()) and self.confirm.text() != self.password.text()
        self.match_label.setText("The two passwords differ." if mismatch else "")
        self.match_label.setVisible(mismatch)
        self.changed.emit()

    def acceptable(self) -> bool:
        return (self.verdict is not None and bool(self.verdict.ok)
                and self.confirm.text() == self.password.text())

    def text(self) -> str:
        return self.password.text()

    def clear(self) -> None:
        self.password.clear()
        self.confirm.clear()
