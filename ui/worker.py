"""Run core calls off the GUI thread and deliver results back on it.

Every network or signing step goes through :func:`submit`: the callable runs in Qt's
global thread pool and its result (or exception) comes back through a queued signal, so a
click never freezes the window. Results are plain data objects from ``wallet_app.models``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(str)


class Task(QRunnable):
    """One call of a core function on a pool thread.

    The callable may accept a ``progress`` keyword (a function taking a message); when it
    does, messages are forwarded to the GUI thread through :attr:`signals.progress`.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False,
                 **kwargs: Any) -> None:
        super().__init__()
        self.signals = _Signals()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._with_progress = with_progress
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
        try:
            if self._with_progress:
                self._kwargs["progress"] = self.signals.progress.emit
            result = self._fn(*self._args, **self._kwargs)
        except Exception as exc:  # noqa: BLE001 - delivered to the GUI as a message
            log.debug("task %s failed: %s", getattr(self._fn, "__name__", self._fn),
                      "".join(traceback.format_exception_only(type(exc), exc)).strip())
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


#: Tasks in flight, kept referenced so their signal objects outlive the run.
_inflight: set[Task] = set()


def submit(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    context: QObject | None = None,
    **kwargs: Any,
) -> Task:
    """Run ``fn(*args, **kwargs)`` on the pool; callbacks run on the GUI thread.

    ``context`` ties the callbacks to a widget: when it is destroyed first, they are dropped
    instead of touching a dead object.
    """
    task = Task(fn, *args, with_progress=on_progress is not None, **kwargs)
    sig = task.signals
    if context is not None:
        sig.setParent(None)

    def _finish(_: object = None) -> None:
        _inflight.discard(task)

    if on_done:
        sig.done.connect(on_done if context is None else _guard(context, on_done))
    if on_error:
        sig.failed.connect(on_error if context is None else _guard(context, on_error))
    if on_progress:
        sig.progress.connect(on_progress if context is None else _guard(context, on_progress))
    sig.done.connect(_finish)
    sig.failed.connect(_finish)
    _inflight.add(task)
    QThreadPool.globalInstance().start(task)
    return task


def _guard(context: QObject, fn: Callable[[Any], None]) -> Callable[[Any], None]:
    import shiboken6

    def call(value: Any) -> None:
        if shiboken6.isValid(context):
            fn(value)

    return call
