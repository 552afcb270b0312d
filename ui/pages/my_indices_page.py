"""The My Indices screen: the user's position in the TM Global 100 and their trades.

Shows what a holder asks first: what is it worth, what did I pay, am I up, what did it cost
me in fees. Profit and loss is read from the core (``Position``), which keeps the cost
basis in the journal; the page only formats it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from ui import formatting as fmt
from ui.labels import labelled
from ui.pages.common import (
    Card,
    PageHeader,
    Stat,
    button,
    copy_to_clipboard,
    fill_table,
    label,
    make_table,
    set_prop,
    short_hex,
)
from ui.widgets.requests_card import ClaimsCard, RequestsCard
from wallet_app.models import Position

TRADE_HEADERS = ("Date", "Type", "USDC", "Shares (G100)", "NAV / share", "Fee", "Transaction")
TRADE_NUMERIC = (2, 3, 4, 5)
KIND_TEXT = {"redeem_in_kind": "Exit in kind", "transfer_out": "Sent G100",
             "transfer_in": "Received G100"}


class MyIndicesPage(QWidget):
    """Position figures, wallet balances and the trades table.

    Signals:
        buyRequested(), sellRequested(), onboardRequested(), faucetRequested()
    """

    buyRequested = Signal()
    sendRequested = Signal()
    sellRequested = Signal()
    onboardRequested = Signal()
    faucetRequested = Signal()
    #: "Receive": the address as a QR code and a payment link.
    receiveRequested = Signal()
    #: The user clicked Cancel on a pending request (its id).
    cancelRequestRequested = Signal(int)
    #: The "Exit in kind" button: redeem every share for a slice of each holding.
    exitInKindRequested = Signal()
    #: The user clicked Claim: the claim's kind ("usdc" | "in_kind") and token.
    claimRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.position: Position | None = None
        self.trades: list[Any] = []
        self.labels: dict[str, str] = {}
        self.can_sign, self.sign_reason = True, ""
        self._exit_tip = ""

        self.header = PageHeader("My Indices", "Your holding of the TM Global 100")
        self.copy_button = button("Copy address", name="copyAddress")
        self.copy_button.clicked.connect(self._copy_address)
        self.receive_button = button("Receive", name="myReceive",
                                     tooltip="Your address as a QR code and a payment link")
        self.receive_button.clicked.connect(self.receiveRequested)
        self.header.add_widget(self.receive_button)
        self.sell_button = button("Sell", name="sellButton")
        self.send_button = button("Send", name="sendButton",
                                  tooltip="Send USDC, ETH or G100 to another address")
        self.send_button.clicked.connect(self.sendRequested)
        self.buy_button = button("Buy more", primary=True, name="buyMoreButton")
        self.exit_button = button("Exit in kind", name="exitInKindButton",
                                  tooltip="Redeem all your shares for your share of every "
                                          "holding: works paused or not, no price, no fee")
        self.exit_button.clicked.connect(self.exitInKindRequested)
        for b in (self.copy_button, self.send_button, self.exit_button, self.sell_button,
                  self.buy_button):
            self.header.add_widget(b)
        self.buy_button.clicked.connect(self.buyRequested)
        self.sell_button.clicked.connect(self.sellRequested)

        self.value = Stat("Position value")
        self.shares = Stat("Shares")
        self.cost = Stat("Cost basis")
        self.pnl = Stat("Profit / loss")
        self.fees = Stat("Fees paid")
        stats = QGridLayout()
        stats.setHorizontalSpacing(14)
        for i, s in enumerate((self.value, self.shares, self.cost, self.pnl, self.fees)):
            stats.addWidget(s, 0, i)
            stats.setColumnStretch(i, 1)

        balances = Card("Wallet balances")
        self.usdc_label = label("\u2014", "kv-strong", selectable=True)
        self.eth_label = label("\u2014", "kv-strong", selectable=True)
        self.address_label = label("", "mono", selectable=True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.addWidget(label("USDC", "muted"), 0, 0)
        grid.addWidget(self.usdc_label, 1, 0)
        grid.addWidget(label("ETH (for network fees)", "muted"), 0, 1)
        grid.addWidget(self.eth_label, 1, 1)
        grid.addWidget(label("Address", "muted"), 0, 2)
        grid.addWidget(self.address_label, 1, 2)
        grid.setColumnStretch(2, 1)
        self.faucet_button = button("Get test funds", name="faucetButton",
                                    tooltip="Devnet only: test ETH and USDC to this address")
        self.faucet_button.clicked.connect(self.faucetRequested)
        self.faucet_button.hide()
        row = QHBoxLayout()
        row.addLayout(grid, 1)
        row.addWidget(self.faucet_button, 0, Qt.AlignmentFlag.AlignVCenter)
        balances.body.addLayout(row)

        trades = Card("Your trades")
        self.trades_caption = label("", "caption")
        trades.body.addWidget(self.trades_caption)
        self.table = make_table(TRADE_HEADERS, TRADE_NUMERIC, stretch=6)
        self.table.setMinimumHeight(220)
        trades.body.addWidget(self.table, 1)

        # Requests waiting for the next price strike (v2 forward pricing), with Cancel, and
        # what the vault keeps for the user after a failed payment, with Claim.
        self.requests_card = RequestsCard()
        self.requests_table = self.requests_card.table
        self.cancel_request_button = self.requests_card.cancel_button
        self.requests_card.cancelRequestRequested.connect(self.cancelRequestRequested)
        self.claims_card = ClaimsCard()
        self.claims_card.claimRequested.connect(self.claimRequested)

        content = QWidget()
        lay = QVBoxLayout(content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(14)
        lay.addLayout(stats)
        lay.addWidget(balances)
        lay.addWidget(self.claims_card)
        lay.addWidget(self.requests_card)
        lay.addWidget(trades, 1)

        # Empty states: no wallet yet, or a wallet that holds no shares.
        empty = Card()
        empty.body.setContentsMargins(40, 40, 40, 40)
        self.empty_title = label("", "subheading", wrap=True)
        self.empty_text = label("", "muted", wrap=True)
        self.empty_button = button("", primary=True, name="emptyAction")
        self.empty_button.clicked.connect(self._empty_action)
        empty.body.addWidget(self.empty_title)
        empty.body.addWidget(self.empty_text)
        empty.body.addSpacing(8)
        empty.body.addWidget(self.empty_button, 0, Qt.AlignmentFlag.AlignLeft)
        empty.body.addStretch(1)
        self._empty_kind = ""

        self.stack = QStackedWidget()
        self.stack.addWidget(content)
        self.stack.addWidget(empty)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 20)
        outer.setSpacing(16)
        outer.addWidget(self.header)
        outer.addWidget(self.stack, 1)
        self.show_position(None)

    # -- setters ----------------------------------------------------------------------

    def show_position(self, position: Position | None, has_wallet: bool | None = None
                      ) -> None:
        """Fill the figures; None means no wallet (or nothing loaded yet)."""
        self.position = position
        wallet = position is not None if has_wallet is None else has_wallet
        if position is None:
            self._show_empty("wallet" if not wallet else "loading")
            return
        nav = self._nav(position)
        self.value.set(fmt.format_usd(position.value_usdc),
                       f"USDC at {fmt.format_number(nav, fmt.nav_places(nav))} per share"
                       if nav is not None else "USDC")
        self.shares.set(fmt.format_number(position.shares, 4), "G100 shares")
        unknown = position.shares_without_basis
        self.cost.set(fmt.format_usd(position.cost_basis_usdc),
                      f"{fmt.format_number(unknown, 4)} more shares have no known "
                      "cost (left out of P&L)" if unknown > 0
                      else "what your shares cost")
        unreal = position.unrealized_pnl_usdc
        pct = (unreal / position.cost_basis_usdc) if position.cost_basis_usdc else None
        trend = fmt.trend(pct if pct is not None else unreal)
        realised = f"{_signed_usd(position.realized_pnl_usdc)} realised"
        self.pnl.set(_signed_usd(unreal),
                     f"{fmt.format_percent(pct, 2, signed=True)} unrealised\n{realised}"
                     if pct is not None else f"unrealised\n{realised}", trend)
        set_prop(self.pnl.value, "trend", trend)
        self.fees.set(fmt.format_usd(position.fees_paid_usdc), "platform fees, all trades")
        self.usdc_label.setText(fmt.format_usdc(position.usdc_balance))
        self.eth_label.setText(fmt.format_token_amount(position.eth_balance, "ETH", 6))
        self.address_label.setText(labelled(position.address, self.labels, full=True))
        self.sell_button.setEnabled(position.shares > 0 and self.can_sign)
        self.exit_button.setEnabled(position.shares > 0 and self.can_sign)
        self.copy_button.setVisible(True)
        # A wallet without shares still sees its balances and address (to fund it) and the
        # faucet on the devnet; only "no wallet at all" gets the empty state.
        self.buy_button.setText("Buy more" if position.shares > 0 else "Buy index")
        self.stack.setCurrentIndex(0)

    def show_trades(self, trades: Sequence[Any]) -> None:
        """The user's buys and sells (objects with kind, tx_hash, timestamp, usdc, ...)."""
        self.trades = list(trades)
        rows = []
        for t in sorted(self.trades, key=lambda r: r.timestamp, reverse=True):
            rows.append([
                (fmt.format_timestamp(t.timestamp), t.timestamp),
                KIND_TEXT.get(t.kind, t.kind.capitalize()),
                (fmt.format_number(t.usdc, 2), t.usdc) if not t.kind.startswith("transfer")
                else (fmt.DASH, Decimal(0)),
                (fmt.format_token_amount(t.shares, "", 6), t.shares),
                (fmt.format_number(t.nav_per_share, fmt.nav_places(t.nav_per_share))
                 if t.nav_per_share is not None else fmt.DASH, t.nav_per_share),
                (fmt.format_number(t.fee_usdc, 2), t.fee_usdc),
                (short_hex(t.tx_hash, 10, 8), t.tx_hash, t.tx_hash or ""),
            ])
        fill_table(self.table, rows, TRADE_NUMERIC)
        buys = sum(1 for t in self.trades if t.kind == "buy")
        moves = sum(1 for t in self.trades if t.kind.startswith("transfer"))
        sells = len(self.trades) - buys - moves
        self.trades_caption.setText(
            f"{_n(len(self.trades) - moves, 'trade')} \u00b7 {_n(buys, 'buy')}, "
            f"{_n(sells, 'sell')}" + (f" \u00b7 {_n(moves, 'G100 transfer')}" if moves else "")
            if self.trades else "No trades yet: your buys and sells will be listed here.")

    def show_requests(self, requests: Sequence[Any]) -> None:
        """The user's requests waiting for a strike (objects like ``RequestRow``)."""
        self.requests_card.show_requests(requests)

    @property
    def requests(self) -> list[Any]:
        return self.requests_card.requests

    def select_request(self, request_id: int) -> bool:
        return self.requests_card.select_request(request_id)

    def show_claims(self, claims: Sequence[Any]) -> None:
        """What the vault keeps for the user (objects like ``ClaimRow``)."""
        self.claims_card.show_claims(claims)

    def set_devnet(self, devnet: bool) -> None:
        """The faucet button exists only on the local devnet."""
        self.faucet_button.setVisible(devnet)

    def set_can_sign(self, can_sign: bool, reason: str = "") -> None:
        """A watch-only wallet: Sell and Cancel request are off and say why."""
        self.can_sign, self.sign_reason = can_sign, reason
        self.sell_button.setToolTip(reason)
        if reason or not self._exit_tip:
            self._exit_tip = self._exit_tip or self.exit_button.toolTip()
        self.exit_button.setToolTip(reason or self._exit_tip)
        self.exit_button.setEnabled(bool(can_sign and self.position is not None
                                         and self.position.shares > 0))
        self.requests_card.set_can_sign(can_sign, reason)
        self.claims_card.set_can_sign(can_sign, reason)
        self.sell_button.setEnabled(bool(can_sign and self.position is not None
                                         and self.position.shares > 0))

    def set_labels(self, labels: dict[str, str]) -> None:
        self.labels = dict(labels)
        if self.position is not None:
            self.address_label.setText(labelled(self.position.address, self.labels, full=True))

    def set_buy_enabled(self, enabled: bool, reason: str = "") -> None:
        self.buy_button.setEnabled(enabled)
        self.buy_button.setToolTip(reason)

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _nav(position: Position) -> Decimal | None:
        if not position.shares:
            return None
        return position.value_usdc / position.shares

    def _show_empty(self, kind: str) -> None:
        self._empty_kind = kind
        self.sell_button.setEnabled(False)
        self.copy_button.setVisible(kind == "no-shares")
        if kind == "wallet":
            self.empty_title.setText("No wallet yet")
            self.empty_text.setText(
                "Create a new wallet or import one you already have. Your keys stay on this "
                "computer, in the system keyring, encrypted with your password.")
            self.empty_button.setText("Create or import a wallet")
            self.empty_button.show()
        elif kind == "no-shares":
            self.empty_title.setText("You do not hold the index yet")
            self.empty_text.setText(
                "Buy the TM Global 100 with USDC from this wallet; the preview shows every "
                "fee and the minimum you will receive before you confirm.")
            self.empty_button.setText("Buy index")
            self.empty_button.show()
        else:
            self.empty_title.setText("Loading your position\u2026")
            self.empty_text.setText("")
            self.empty_button.hide()
        self.stack.setCurrentIndex(1)

    def _empty_action(self) -> None:
        if self._empty_kind == "wallet":
            self.onboardRequested.emit()
        else:
            self.buyRequested.emit()

    def _copy_address(self) -> None:
        if self.position is not None:
            copy_to_clipboard(self.position.address)


def _signed_usd(value: Decimal) -> str:
    text = fmt.format_usd(value)
    return f"+{text}" if fmt.quantize(value, 2) > 0 else text


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
