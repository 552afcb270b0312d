"""Python's full garbage collections paced to the window's quiet moments (used by the
controller, kept out of ``ui/controller.py``)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class GcPacer(QObject):
    """Run Python's full garbage collections when the window is quiet, not at random.

    Why: a full (generation 2) collection walks every long-lived object (Qt wrappers,
    web3 contracts and ABI caches, the index data: ~160,000 after start-up) while holding
    the GIL, so the GUI thread stalls until it ends: measured at 60-95 ms, striking in the
    middle of a buy. So, once the first screen of data is up and nothing is in flight,
    everything alive is frozen (``gc.freeze``: later collections skip it) and automatic
    full collections are pushed far out (young collections still run and stay cheap).
    A full collection then runs here every :attr:`every_s` at a moment with no core call
    in flight, no trade being sent and no user input for 3 s; at the latest after
    :attr:`max_wait_s`, unless a trade is being sent.
    """

    def __init__(self, parent: QObject, can_pause: Callable[[], bool],
                 idle_ms: Callable[[], int], every_s: float = 30.0,
                 max_wait_s: float = 300.0) -> None:
        super().__init__(parent)
        self._can_pause = can_pause
        self._idle_ms = idle_ms
        self.every_s = every_s
        self.max_wait_s = max_wait_s
        self._last = time.monotonic()
        self.frozen = False
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._check)

    def start(self) -> None:
        """Arm: freeze at the next quiet moment, then pace the full collections."""
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _check(self) -> None:
        if not self.frozen:
            if self._can_pause():
                gc.collect()
                gc.freeze()
                young, middle, _ = gc.get_threshold()
                gc.set_threshold(young, middle, 1_000_000)
                self.frozen = True
                self._last = time.monotonic()
                self._timer.setInterval(2_000)
            return
        waited = time.monotonic() - self._last
        if waited < self.every_s:
            return
        quiet = self._can_pause() and self._idle_ms() > 3_000
        if quiet or (waited > self.max_wait_s and self._can_pause()):
            gc.collect()
            self.collections += 1
            self._last = time.monotonic()
