"""Run core calls off the GUI thread and deliver results back on it.

Every network or signing step goes through :func:`submit`: the callable runs on a Qt
thread pool and its result (or exception) comes back on the GUI thread, so a click never
freezes the window. Results are plain data objects from ``wallet_app.models``.

Why a relay object: a signal emitted on a pool thread reaches a *plain Python function*
through whatever thread PySide decides owns the connection, which is not guaranteed to be
the GUI thread. Connecting the task's signals to slots of a small QObject created on the
GUI thread makes Qt queue every delivery into the GUI event loop, always. Parenting that
relay to ``context`` (a dialog or page) also means its callbacks are silently dropped if
the widget is closed before the call returns, instead of touching a deleted widget.

Exceptions: a :class:`wallet_app.errors.WalletError` carries a user-facing message and is
passed on as it is. Anything else is a bug; its traceback frames (no message text, which
might echo untrusted input) are logged and the callback still gets the exception, so the
screen can say "something went wrong" rather than hang on a spinner.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QElapsedTimer,
    QObject,
    QRunnable,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)

from wallet_app.errors import WalletError

log = logging.getLogger(__name__)


class _Signals(QObject):
    """Signals of one task; created on the GUI thread, emitted from the pool thread."""

    done = Signal(object)
    failed = Signal(object)
    progress = Signal(str)


class _Relay(QObject):
    """Lives on the GUI thread; its slots run the caller's callbacks there."""

    def __init__(
        self,
        task: Task,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[Exception], None] | None,
        on_progress: Callable[[str], None] | None,
        parent: QObject | None,
    ) -> None:
        super().__init__(parent)
        self._task = task
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress

    @Slot(object)
    def deliver_done(self, value: object) -> None:
        try:
            if self._on_done is not None:
                self._on_done(value)
        finally:
            _forget(self._task)

    @Slot(object)
    def deliver_failed(self, exc: object) -> None:
        try:
            if self._on_error is not None:
                self._on_error(exc)  # type: ignore[arg-type]
            elif not isinstance(exc, WalletError):
                log.error("unhandled failure in %s: %s", self._task.name, type(exc).__name__)
        finally:
            _forget(self._task)

    @Slot(str)
    def deliver_progress(self, message: str) -> None:
        if self._on_progress is not None:
            self._on_progress(message)


class Task(QRunnable):
    """One call of a core function on a pool thread.

    When ``with_progress`` is set the callable receives a ``progress`` keyword (a function
    taking a message); the messages reach the GUI thread through ``signals.progress``.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False,
                 **kwargs: Any) -> None:
        super().__init__()
        self.signals = _Signals()
        self.relay: _Relay | None = None
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._with_progress = with_progress
        self.name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
        # Python keeps this object alive (see _inflight); Qt must not delete it under us.
        self.setAutoDelete(False)

    @Slot()
    def run(self) -> None:
        try:
            if self._with_progress:
                self._kwargs["progress"] = self.signals.progress.emit
            result = self._fn(*self._args, **self._kwargs)
        except Exception as exc:  # noqa: BLE001 - delivered to the GUI as a message
            if not isinstance(exc, WalletError):
                frames = "".join(traceback.format_tb(exc.__traceback__))
                log.error("task %s raised %s\n%s", self.name, type(exc).__name__, frames)
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


#: Tasks in flight, kept referenced so their signal objects outlive the run.
_inflight: set[Task] = set()


def _forget(task: Task) -> None:
    """Drop a finished task on the next event-loop turn.

    Not at once: this runs inside the relay's own slot, and releasing the last reference
    there would delete the relay while Qt is still dispatching to it.
    """
    QTimer.singleShot(0, lambda: _inflight.discard(task))


def submit(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    context: QObject | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Task:
    """Run ``fn(*args, **kwargs)`` on a pool thread; callbacks run on the GUI thread.

    ``context`` ties the callbacks to a widget: when it is destroyed first, they are
    dropped instead of touching a dead object. ``pool`` picks another thread pool than
    Qt's global one (the controller uses a one-thread pool to keep core calls in order).
    Must be called on the GUI thread.
    """
    task = Task(fn, *args, with_progress=on_progress is not None, **kwargs)
    relay = _Relay(task, on_done, on_error, on_progress, context)
    task.relay = relay
    sig = task.signals
    sig.done.connect(relay.deliver_done)
    sig.failed.connect(relay.deliver_failed)
    sig.progress.connect(relay.deliver_progress)
    if context is not None:
        # If the widget dies first, the relay dies with it and nothing is delivered; the
        # bookkeeping entry must still go away.
        relay.destroyed.connect(lambda *_: _forget(task))
    _inflight.add(task)
    (pool or QThreadPool.globalInstance()).start(task)
    return task


def pending() -> int:
    """How many submitted calls have not delivered their result yet."""
    return len(_inflight)


def wait_idle(timeout_ms: int = 10_000) -> bool:
    """Process events until every submitted call has delivered (tests, scripts, shutdown).

    Returns False on timeout. Never call this from a callback: it spins the event loop.
    """
    timer = QElapsedTimer()
    timer.start()
    while _inflight:
        if timer.elapsed() > timeout_ms:
            return False
        QCoreApplication.processEvents()
        QThread.msleep(2)
    QCoreApplication.processEvents()
    return True
