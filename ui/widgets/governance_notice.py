"""The pending-governance notice: what the index's owner has scheduled, and when it lands.

The vault's owner is a timelock: a change (a new price feed, a constituent, fees, roles) is
scheduled first and takes effect only after its delay. A depositor who does not accept it
can leave before, with the in-kind exit. This banner says both, on the Index page and in
the buy preview. It formats what the core decoded (objects with ``summary``, ``when``,
``ready`` and ``ready_at``) and never reads the chain itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ui.pages.common import Banner

EXIT_TEXT = ("The in-kind exit (My Indices \u2192 Exit in kind) stays available at any "
             "time, paused or not: it pays your share of every holding and of the cash, "
             "without a price or a fee.")

BUY_TEXT = ("A governance change is pending: once it takes effect it applies to the shares "
            "you buy now. The in-kind exit (My Indices \u2192 Exit in kind) stays available "
            "at any time, paused or not.")


def change_line(change: Any) -> str:
    """``BTC's price feed changes in 31 h (03 Dec 09:12 UTC)``."""
    summary = str(change.summary)
    summary = summary[:1].upper() + summary[1:]
    if getattr(change, "ready", False):
        return f"{summary}: ready to take effect now"
    return f"{summary} {change.when} ({change.ready_at:%d %b %H:%M} UTC)"


def notice_text(changes: Sequence[Any], *, buying: bool = False) -> tuple[str, str]:
    """Title and message for ``changes`` (at least one); the buy preview's is shorter."""
    n = len(changes)
    title = (change_line(changes[0]) if n == 1 else
             f"{n} governance changes pending, the first {changes[0].when}")
    lines = [] if n == 1 else [f"\u2022 {change_line(c)}" for c in changes[:4]]
    if n > 4:
        lines.append(f"\u2022 and {n - 4} more")
    if buying:
        return title, "\n".join([*lines, BUY_TEXT])
    head = ("Scheduled by the index's owner through its timelock; nothing changes before "
            "the time shown.")
    return title, "\n".join([head, *lines, EXIT_TEXT])


class GovernanceBanner(Banner):
    """A warning banner listing pending timelock changes; hidden when there are none.

    Its primary button ("Exit in kind") is for the owner to connect (the Index page's)."""

    def __init__(self, *, buying: bool = False, with_exit: bool = True) -> None:
        super().__init__()
        self.setObjectName("governanceNotice")
        self.buying = buying
        self.with_exit = with_exit
        self.changes: list[Any] = []

    def show_changes(self, changes: Sequence[Any]) -> None:
        self.changes = list(changes)
        if not self.changes:
            self.clear()
            return
        title, message = notice_text(self.changes, buying=self.buying)
        self.show_message("warning", title, message,
                          primary="Exit in kind" if self.with_exit else "")


def load_into(banner: GovernanceBanner, service: Any, context: Any) -> bool:
    """Ask the core for the pending changes on the worker and show them in ``banner``
    (a failure leaves it hidden: the notice is a warning, never a blocker)."""
    from ui import worker

    fetch = getattr(service, "pending_governance", None)
    if not callable(fetch):
        return False
    def shown(changes: Sequence[Any]) -> None:
        was = banner.isVisibleTo(context) if context is not None else False
        banner.show_changes(changes)
        if context is not None and not was and banner.isVisibleTo(context):
            # Room for the notice: a dialog sized for its form would squeeze every row.
            context.resize(context.width(), context.height() + banner.sizeHint().height())

    worker.submit(fetch, on_done=shown, on_error=lambda _e: None, context=context)
    return True
