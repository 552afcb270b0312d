"""What the buy and sell dialogs have in common: the edit -> preview -> confirm -> progress
-> done flow, slippage and fee-preset controls, the unlock-and-retry, and failure states.

The flow is the product's promise: nothing is signed until the person has seen a preview
built by simulation from *exactly* the inputs on screen. So every edit invalidates the
preview (the Confirm button goes grey), a new quote is asked for after a short pause in
typing, and a stale quote answer (older than the latest edit) is discarded by sequence
number. A quote that has aged past :data:`QUOTE_MAX_AGE` is refreshed before signing
rather than signed: prices move, and the minimum out must be computed from a fresh NAV.
So that a person reading the preview at their own pace is never sent back by that rule,
an open preview refreshes itself every :data:`QUOTE_REFRESH_S` (the figures on screen are
always the ones that get signed; an answer that arrives after Confirm is discarded).

Every core call goes through :func:`ui.worker.submit`; the dialog is its ``context``, so a
closed dialog never receives a late result. While a transaction is being signed and sent
the dialog cannot be closed by Escape: a person must see how it ended.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui import worker
from ui.dialogs.common import (
    AmountError,
    ErrorAdvice,
    describe_error,
    is_locked_error,
    parse_percent,
    percent_to_bps,
)
from ui.dialogs.trade_layout import (  # noqa: F401 - constants re-exported
    FEE_PRESETS,
    SLIPPAGE_CHOICES,
    TradeDialogLayout,
)
from ui.dialogs.trade_text import (  # noqa: F401 - re-exported: the dialogs import them here
    balance_changes_text,
    gas_text,
    short,
    usdc_text,
)
from ui.dialogs.unlock_dialog import UnlockDialog

MAX_SLIPPAGE_PERCENT = Decimal(10)  # Settings.validate allows up to 1000 bps
QUOTE_DEBOUNCE_MS = 350
QUOTE_MAX_AGE = 45.0  # seconds; older previews are refreshed before signing
QUOTE_REFRESH_S = 15.0  # an open, idle preview is simulated again this often
_TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


class TradeDialog(TradeDialogLayout, QDialog):
    """Base of BuyDialog and SellDialog. Subclasses fill in the trade-specific parts.

    Signals:
        completed(object): the TradeResult after confirmation (the controller refreshes).
        settingsRequested(): the user chose "Open Settings" on a network error.
    """

    completed = Signal(object)
    settingsRequested = Signal()
    #: The person closed the window while the transaction waits for a block; the
    #: controller keeps the dialog alive and reports the outcome as a notice.
    backgrounded = Signal()
    #: The outcome of a backgrounded trade that failed: (title, message).
    failedInBackground = Signal(str, str)

    #: After this long in the "wait for confirmation" step, offer to close the window and
    #: keep waiting (a real network can take minutes; the Transactions screen can speed
    #: the transaction up or cancel it meanwhile).
    BACKGROUND_AFTER_MS = 15_000

    #: Keys of the progress steps, shared by buy and sell.
    STEPS = (("sign", "Sign with your key"), ("broadcast", "Send to the network"),
             ("confirm", "Wait for confirmation"))

    def __init__(self, service: Any, *, wallet_name: str = "", slippage_bps: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.wallet_name = wallet_name
        self.setModal(True)
        self.setMinimumWidth(620)
        self.preview_card: QWidget | None = None
        self.quote: Any = None
        self.quote_time = 0.0
        self.result: Any = None
        self.last_error: ErrorAdvice | None = None
        self.tx_hash = ""
        self.sending = False
        self.backgrounded_now = False
        self._seq = 0
        self._sent_seen = False
        self.unlock_dialog: UnlockDialog | None = None
        self._warmed = False
        default_bps = slippage_bps or getattr(getattr(service, "settings", None),
                                              "slippage_bps", 50) or 50
        self._slippage_bps: int | None = int(default_bps)

        self.pages = QStackedWidget()
        self.form_page = QWidget()
        self.progress_page = QWidget()
        self.done_page = QWidget()
        for p in (self.form_page, self.progress_page, self.done_page):
            self.pages.addWidget(p)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 18)
        outer.addWidget(self.pages)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(QUOTE_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.request_quote)
        self._refresh = QTimer(self)
        self._refresh.setInterval(int(QUOTE_REFRESH_S * 1000))
        self._refresh.timeout.connect(self._refresh_quote)

    # -- inputs ------------------------------------------------------------------------

    def slippage_bps(self) -> int | None:
        return self._slippage_bps

    def fee_preset(self) -> str:
        return next((k for k, b in self.fee_buttons.items() if b.isChecked()), "market")

    def _set_slippage(self, bps: int) -> None:
        self.slippage_edit.hide()
        self.slippage_pct.hide()
        self.slippage_error.hide()
        self._slippage_bps = bps
        self.inputs_changed()

    def _custom_slippage(self) -> None:
        self.slippage_edit.show()
        self.slippage_pct.show()
        self.slippage_edit.setFocus()
        self._slippage_typed(self.slippage_edit.text())

    def _slippage_typed(self, text: str) -> None:
        try:
            pct = parse_percent(text, maximum=MAX_SLIPPAGE_PERCENT, what="slippage")
        except AmountError as exc:
            self._slippage_bps = None
            self.slippage_error.setText(str(exc))
            self.slippage_error.show()
        else:
            self._slippage_bps = percent_to_bps(pct)
            self.slippage_error.hide()
        self.inputs_changed()

    def inputs_changed(self, *_: object) -> None:
        """Any edit: drop the preview, validate, and schedule a fresh quote."""
        self._seq += 1
        self.quote = None
        self.confirm_button.setEnabled(False)
        self.clear_error()
        amount = self.validate_amount()
        if amount is None or self._slippage_bps is None:
            self.clear_preview()
            self.quote_status.setText("")
            self._debounce.stop()
            return
        self.quote_status.setText("Updating the preview\u2026")
        self._debounce.start()

    # -- quote -------------------------------------------------------------------------

    def request_quote(self) -> None:
        """Ask the core for a preview of exactly the current inputs."""
        amount = self.validate_amount()
        if amount is None or self._slippage_bps is None:
            return
        self._seq += 1
        seq = self._seq
        self.quote_status.setText("Updating the preview\u2026")
        worker.submit(self.quote_fn(), amount, self._slippage_bps, self.fee_preset(),
                      on_done=lambda q: self._quoted(seq, q),
                      on_error=lambda e: self._quote_failed(seq, e), context=self)

    def _quoted(self, seq: int, quote: Any) -> None:
        if seq != self._seq:
            return  # an older answer: the inputs changed since
        if self.preview_card is not None:
            self.preview_card.show()
        self.quote = quote
        self.quote_time = time.monotonic()
        self.show_preview(quote)
        self.confirm_button.setEnabled(True)
        self.quote_status.setText(
            f"Preview from a simulation just now \u00b7 {fmt.format_bps(quote.slippage_bps)} "
            f"max slippage \u00b7 refreshed every {QUOTE_REFRESH_S:g} s")
        self._refresh.start()  # restarts the period: the next refresh is a full period away

    def _refresh_quote(self) -> None:
        """Simulate the open preview again (prices move); never while a trade is being
        sent, the password is asked for, or the person is editing (the debounce runs)."""
        if (self.quote is None or self.sending or self._debounce.isActive()
                or self.pages.currentWidget() is not self.form_page
                or (self.unlock_dialog is not None and shiboken6.isValid(self.unlock_dialog)
                    and self.unlock_dialog.isVisible())):
            return
        self.request_quote()

    def _quote_failed(self, seq: int, exc: Exception) -> None:
        if seq != self._seq:
            return
        self.quote = None
        self.clear_preview()
        self.quote_status.setText("")
        self.show_error(exc)

    # -- confirm, unlock, send -----------------------------------------------------------

    def confirm(self) -> None:
        if self.quote is None:
            return
        if time.monotonic() - self.quote_time > QUOTE_MAX_AGE:
            self.banner.show_message(
                "info", "The preview was refreshed",
                "Prices move; the preview was older than a minute, so it was simulated "
                "again. Check the figures and confirm again.")
            self.request_quote()
            self.confirm_button.setEnabled(False)
            return
        if not self._unlocked():
            self.ask_unlock("", self._after_confirm_unlock)
            return
        self.send()

    def _after_confirm_unlock(self) -> None:
        """Unlocked for this trade. A preview that could not be simulated while locked
        (a permit needs the key) is simulated now and shown before anything is signed."""
        if self.quote is not None and not getattr(self.quote, "simulated", True):
            self.request_quote()
            self.banner.show_message(
                "info", "Unlocked: the preview is now an exact simulation",
                "Check the figures once more and confirm.")
            return
        self.send()

    def _unlocked(self) -> bool:
        try:
            return bool(self.service.is_unlocked())
        except Exception:  # noqa: BLE001 - treat an unknown state as locked
            return False

    def ask_unlock(self, reason: str, on_ok: Callable[[], None],
                   on_cancel: Callable[[], None] | None = None) -> UnlockDialog:
        """Open the password prompt (window-modal, not a nested event loop) and continue
        with ``on_ok`` once the wallet is unlocked."""
        dlg = UnlockDialog(self.service, self.wallet_name,
                           reason or "Enter the wallet's password to sign this trade.", self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(on_ok)
        if on_cancel is not None:
            dlg.rejected.connect(on_cancel)
        self.unlock_dialog = dlg
        dlg.open()
        return dlg

    def send(self) -> None:
        """Sign, broadcast and wait, on the worker; progress lands on the steps."""
        quote = self.quote
        if quote is None:
            return
        self.sending = True
        self._seq += 1  # a refresh still in flight must not replace the quote being sent
        self._refresh.stop()
        self._sent_seen = False
        self.tx_hash = ""
        self.hash_label.setText("")
        self.copy_hash.hide()
        self.progress_banner.clear()
        self.progress_message.setText("")
        self.steps.reset()
        self.steps.advance_to("sign")
        self.background_button.hide()
        self._bg_timer.start(self.BACKGROUND_AFTER_MS)
        self.pages.setCurrentWidget(self.progress_page)
        worker.submit(self.send_fn(), quote, on_done=self._sent, on_error=self._send_failed,
                      on_progress=self.on_progress, context=self)

    def on_progress(self, message: str) -> None:
        """Map the core's progress sentences onto the three steps.

        The sender reports: checking, simulating, "Waiting for the signature", "Saved to
        the journal (hash)", "Sending to the network", "Sent; waiting for a block (hash)",
        "Waiting for the transaction to be included", "Confirmed"; a buy may first run the
        same pipeline for a USDC approval. Once a transaction is in the journal it will be
        sent (or re-sent) even if this window closes, so from there on a failure is shown
        here with the hash, never as "nothing happened".
        """
        low = message.lower()
        m = _TX_HASH.search(message)
        if m:
            self._set_hash(m.group(0))
        if low.startswith("confirmed") or " mined" in low:
            self.steps.advance_to("confirm")
        elif "signature" in low or low.startswith("sign") or "approv" in low \
                or "permit" in low:
            self.steps.advance_to("sign")
        elif "journal" in low or "sending" in low or "broadcasting" in low:
            self._sent_seen = True
            self.steps.advance_to("broadcast")
        elif "sent" in low or "waiting" in low or "included" in low or "broadcast" in low:
            self._sent_seen = True
            self.steps.advance_to("confirm")
        # The hash has its own line (with Copy); the sentence reads better without it.
        self.progress_message.setText(_TX_HASH.sub("", message).replace("()", "").strip())
        if self.sending and not self._bg_timer.isActive():
            # The offer's time passed before anything was sent (a slow signature or
            # simulation): offer it now that there is a transaction to wait for.
            self._offer_background()

    def _set_hash(self, tx_hash: str) -> None:
        self.tx_hash = tx_hash
        self.hash_label.setText(f"Transaction {tx_hash}")
        self.copy_hash.show()

    def _offer_background(self) -> None:
        if self.sending and (self._sent_seen or self.tx_hash):
            self.background_button.show()
        elif self.sending:
            # Not sent yet (a slow signature or simulation): look again shortly, else the
            # offer would never come once the transaction is out.
            self._bg_timer.start(500)

    def go_background(self) -> None:
        """Hide the window; the transaction keeps going and reports when it ends."""
        if not self.sending:
            return
        self.backgrounded_now = True
        self.backgrounded.emit()
        self.hide()

    def _sent(self, result: Any) -> None:
        self.sending = False
        self._bg_timer.stop()
        self.background_button.hide()
        self.result = result
        if getattr(result, "tx_hash", ""):
            self._set_hash(result.tx_hash)
        status = str(getattr(getattr(result, "status", ""), "value",
                             getattr(result, "status", ""))).lower()
        if status and status not in ("confirmed", "success"):
            self.steps.fail_current()
            self.progress_banner.show_message(
                "error", "The transaction did not go through",
                f"The network reports it as {status}. Nothing more was spent than the gas "
                "fee. Check the Transactions screen, then try again.",
                primary="Try again", secondary="Back to edit")
            return
        if getattr(result, "verified", True) is False:
            # Mined, but the pinned vault's event and the balances do not confirm it.
            self.steps.fail_current()
            self.progress_banner.show_message(
                "error", "Mined, but unverified",
                f"The network reports the transaction as mined, but {result.note}. It is "
                "marked unverified and not counted in your cost basis or P&L. Check it on a "
                "block explorer you trust, and the RPC URL in Settings.",
                secondary="Close")
            self.completed.emit(result)
            return
        self.steps.finish()
        self.show_done(result)
        self.pages.setCurrentWidget(self.done_page)
        self.completed.emit(result)

    def _send_failed(self, exc: Exception) -> None:
        self.sending = False
        self._bg_timer.stop()
        self.background_button.hide()
        if self.backgrounded_now:
            advice = describe_error(exc)
            self.last_error = advice
            self.failedInBackground.emit(advice.title, advice.message)
            return
        if is_locked_error(exc):
            # The session locked between the check and the signature: ask, then resend.
            self.steps.reset()
            self.ask_unlock("The wallet locked itself; enter the password to continue.",
                            self.send, self.back_to_form)
            return
        advice = describe_error(exc)
        self.last_error = advice
        if not self._sent_seen and not self.tx_hash:
            # Nothing left the machine: back to the form with the reason and the inputs.
            self.back_to_form()
            self.show_error(exc)
            return
        self.steps.fail_current()
        self.progress_banner.show_message("error", advice.title, advice.message,
                                          primary="Try again", secondary="Back to edit")

    # -- failure display -----------------------------------------------------------------

    def advise(self, exc: Exception) -> ErrorAdvice:
        """How a failure is presented (a dialog may give its own failures a headline)."""
        return describe_error(exc)

    def show_error(self, exc: Exception) -> ErrorAdvice:
        """The failure takes the preview's place: there is no valid preview to show, and
        the message must be read before anything else."""
        advice = self.advise(exc)
        self.last_error = advice
        self.banner.show_message("error", advice.title, advice.message,
                                 primary=advice.action_label)
        if self.preview_card is not None:
            self.preview_card.hide()
        self.quote_status.setText("")
        self.clear_preview()
        return advice

    def clear_error(self) -> None:
        self.banner.clear()
        if self.preview_card is not None:
            self.preview_card.show()

    def _banner_primary(self) -> None:
        advice = self.last_error
        if advice is None:
            return
        if advice.action == "settings":
            self.settingsRequested.emit()
            self.reject()
        elif advice.action == "unlock":
            self.ask_unlock("", self._after_banner_unlock)
        elif advice.action == "edit":
            self.clear_error()
            self.focus_amount()
            self.request_quote()
        else:
            self.clear_error()
            self.request_quote()

    def _after_banner_unlock(self) -> None:
        self.clear_error()
        self.request_quote()

    def _progress_primary(self) -> None:
        self.back_to_form()
        self.request_quote()

    def back_to_form(self) -> None:
        self.pages.setCurrentWidget(self.form_page)
        self.quote = None
        self.confirm_button.setEnabled(False)

    # -- warming up ------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API name
        super().showEvent(event)
        if not self._warmed:
            self._warmed = True
            self._warm_pages()

    def _warm_pages(self, batch: int = 12) -> None:
        """Style the progress and done pages' widgets a few at a time while the person
        types: done at once, the switch to them (right as the trade confirms and the
        screens refresh) stalled the window for ~50 ms."""
        widgets = [w for page in (self.progress_page, self.done_page)
                   for w in (page, *page.findChildren(QWidget))]

        def step() -> None:
            for _ in range(batch):
                if not widgets:
                    return
                w = widgets.pop()
                if shiboken6.isValid(w):
                    w.ensurePolished()
            QTimer.singleShot(0, step)

        QTimer.singleShot(0, step)

    # -- closing ---------------------------------------------------------------------

    def reject(self) -> None:
        if self.sending:
            return  # see the module docstring: wait for the outcome
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API name
        if self.sending:
            event.ignore()
            return
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API name
        # Enter in the amount field must not press Confirm by accident.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)

    # -- to implement ----------------------------------------------------------------------

    def validate_amount(self) -> Decimal | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def quote_fn(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def send_fn(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def show_preview(self, quote: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def clear_preview(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def show_done(self, result: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def focus_amount(self) -> None:
        """Put the cursor back in the amount, selected, so a retry is one keystroke away."""
        edit = getattr(self, "amount_edit", None)
        if edit is not None:
            edit.setFocus()
            edit.selectAll()
