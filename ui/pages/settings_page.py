"""The Settings screen: network and RPC, market data key, lock timeout, theme, wallets.

The page edits a *copy* of the settings and hands it to the controller on Save, which
passes it to ``WalletService.save_settings``: that call validates, and for a network
change reconnects and checks the chain id, so a wrong RPC is refused with a reason before
anything is stored. The theme is different: it switches the moment it is picked (people
judge a theme by seeing it) and is saved along with the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.pages.common import Banner, Card, PageHeader, button, copy_to_clipboard, label
from wallet_app.config import Settings

NETWORKS = (
    ("devnet", "Local devnet (started by the app)"),
    ("ethereum", "Ethereum mainnet"),
    ("base", "Base"),
    ("arbitrum", "Arbitrum One"),
    ("custom", "Custom RPC\u2026"),
)
MARKET_SOURCES = (("snapshot", "Built-in snapshot (offline)"), ("coingecko", "CoinGecko API"))


class SettingsPage(QWidget):
    """Form over :class:`wallet_app.config.Settings` plus wallet actions.

    Signals:
        saveRequested(Settings): the edited copy, to validate and store.
        themeChanged(str): "light" or "dark", applied at once.
        lockRequested(), addWalletRequested(), walletSelected(str)
    """

    saveRequested = Signal(object)
    themeChanged = Signal(str)
    lockRequested = Signal()
    addWalletRequested = Signal()
    walletSelected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self._settings = Settings()
        self._loading = False

        self.header = PageHeader("Settings", "Stored on this computer only; keys are never "
                                 "part of the settings")
        self.save_button = button("Save", primary=True, name="saveSettings")
        self.save_button.setMinimumWidth(110)
        self.header.add_widget(self.save_button)
        self.save_button.clicked.connect(self._save)
        self.banner = Banner()

        # Network
        net = Card("Network")
        self.network_combo = QComboBox()
        self.network_combo.setObjectName("networkCombo")
        for key, text in NETWORKS:
            self.network_combo.addItem(text, key)
        self.rpc_edit = QLineEdit()
        self.rpc_edit.setObjectName("rpcEdit")
        self.rpc_edit.setPlaceholderText("Default for this network")
        self.chain_edit = QLineEdit()
        self.chain_edit.setObjectName("chainIdEdit")
        self.chain_edit.setPlaceholderText("e.g. 8453")
        self.chain_edit.setMaximumWidth(160)
        self.chain_hint = label("The chain id the RPC must report; checked before saving "
                                "and before every signature.", "hint", wrap=True)
        self.connection_label = label("", "hint", wrap=True, name="connectionLabel")
        form = QFormLayout()
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(10)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("Network", self.network_combo)
        form.addRow("RPC URL", self.rpc_edit)
        form.addRow("Chain id", self.chain_edit)
        form.addRow("", self.chain_hint)
        form.addRow("Status", self.connection_label)
        net.body.addLayout(form)
        self.network_combo.currentIndexChanged.connect(self._network_changed)

        # Market data
        market = Card("Market data")
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("marketSource")
        for key, text in MARKET_SOURCES:
            self.source_combo.addItem(text, key)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("marketKey")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Optional: CoinGecko API key")
        self.plan_combo = QComboBox()
        self.plan_combo.addItem("Demo key", "demo")
        self.plan_combo.addItem("Pro key", "pro")
        self.base_edit = QLineEdit()
        self.base_edit.setObjectName("marketBaseUrl")
        self.base_edit.setPlaceholderText("Default: the CoinGecko API")
        #: Off by default: the gauge's daily market caps come from the API named above.
        self.history_check = QCheckBox("Read daily market caps for the regime gauge")
        self.history_check.setObjectName("marketHistory")
        mform = QFormLayout()
        mform.setHorizontalSpacing(16)
        mform.setVerticalSpacing(10)
        mform.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        mform.addRow("Source", self.source_combo)
        mform.addRow("API key", self.key_edit)
        mform.addRow("Key type", self.plan_combo)
        mform.addRow("API URL", self.base_edit)
        mform.addRow("Market history", self.history_check)
        mform.addRow("", label("Off a devnet the gauge, its history and the benchmarks need "
                               "about 100 requests a day to this API, which then sees your "
                               "IP address and when the app runs. Off until you tick it.",
                               "hint", wrap=True))
        mform.addRow("", label("The key may also come from the COINGECKO_API_KEY "
                               "environment variable, which wins over this field.", "hint",
                               wrap=True))
        market.body.addLayout(mform)
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        self.history_check.toggled.connect(self._source_changed)

        # Security
        sec = Card("Security")
        self.lock_spin = QSpinBox()
        self.lock_spin.setObjectName("lockTimeout")
        self.lock_spin.setRange(1, 24 * 60)
        self.lock_spin.setSuffix(" min")
        self.lock_spin.setMaximumWidth(140)
        self.lock_now = button("Lock now", name="lockNow")
        self.lock_now.clicked.connect(self.lockRequested)
        srow = QHBoxLayout()
        srow.addWidget(self.lock_spin)
        srow.addStretch(1)
        srow.addWidget(self.lock_now)
        sform = QFormLayout()
        sform.setHorizontalSpacing(16)
        sform.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        sform.addRow("Lock after", srow)
        sform.addRow("", label("After this long without a click or key press the wallet "
                               "locks and asks for its password.", "hint", wrap=True))
        sec.body.addLayout(sform)

        # Appearance
        look = Card("Appearance")
        self.theme_group = QButtonGroup(self)
        self.theme_buttons: dict[str, QPushButton] = {}
        trow = QHBoxLayout()
        trow.setSpacing(4)
        for key, text in (("light", "Light"), ("dark", "Dark")):
            b = QPushButton(text)
            b.setObjectName(f"theme_{key}")
            b.setCheckable(True)
            b.setProperty("segment", "true")
            self.theme_group.addButton(b)
            self.theme_buttons[key] = b
            b.clicked.connect(lambda _c=False, k=key: self._theme_clicked(k))
            trow.addWidget(b)
        trow.addStretch(1)
        look.body.addLayout(trow)

        # Wallets
        wal = Card("Wallet")
        self.wallet_combo = QComboBox()
        self.wallet_combo.setObjectName("walletCombo")
        self.wallet_combo.activated.connect(self._wallet_chosen)
        self.address_label = label("", "mono", selectable=True, name="walletAddress")
        self.copy_button = button("Copy", name="copyWalletAddress")
        self.copy_button.clicked.connect(lambda: copy_to_clipboard(self.address_label.text()))
        self.add_wallet = button("Add or import a wallet\u2026", name="addWallet")
        self.add_wallet.clicked.connect(self.addWalletRequested)
        wform = QGridLayout()
        wform.setHorizontalSpacing(12)
        wform.setVerticalSpacing(10)
        wform.addWidget(label("Active wallet"), 0, 0)
        wform.addWidget(self.wallet_combo, 0, 1)
        wform.addWidget(self.add_wallet, 0, 2)
        wform.addWidget(label("Address"), 1, 0)
        wform.addWidget(self.address_label, 1, 1)
        wform.addWidget(self.copy_button, 1, 2)
        wform.setColumnStretch(1, 1)
        wal.body.addLayout(wform)

        cols = QHBoxLayout()
        cols.setSpacing(14)
        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(net)
        left.addWidget(wal)
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(14)
        right.addWidget(market)
        right.addWidget(sec)
        right.addWidget(look)
        right.addStretch(1)
        cols.addLayout(left, 6)
        cols.addLayout(right, 5)

        body = QWidget()
        body.setObjectName("pageBody")
        inner = QVBoxLayout(body)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.setSpacing(14)
        inner.addWidget(self.header)
        inner.addWidget(self.banner)
        inner.addLayout(cols, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.show_settings(self._settings)

    # -- setters ----------------------------------------------------------------------

    def show_settings(self, settings: Settings) -> None:
        """Load the form from settings (a copy is kept; the argument is not modified)."""
        self._loading = True
        try:
            self._settings = dataclasses.replace(settings, extra=dict(settings.extra))
            self._select(self.network_combo, settings.network)
            self.rpc_edit.setText(settings.rpc_url)
            self.chain_edit.setText(str(settings.chain_id) if settings.chain_id else "")
            self._select(self.source_combo, settings.market_source)
            self.key_edit.setText(settings.coingecko_api_key)
            self._select(self.plan_combo, settings.coingecko_plan)
            self.base_edit.setText(settings.coingecko_base_url)
            self.history_check.setChecked(settings.market_history)
            self.lock_spin.setValue(settings.lock_timeout_minutes)
            self.theme_buttons.get(settings.theme, self.theme_buttons["light"]).setChecked(True)
        finally:
            self._loading = False
        self._network_changed()
        self._source_changed()

    def show_wallets(self, wallets: Sequence[Any], active: str | None,
                     address: str | None) -> None:
        self.wallet_combo.clear()
        for w in wallets:
            self.wallet_combo.addItem(f"{w.name} ({_kind_text(w.kind)})", w.name)
        if active:
            self._select(self.wallet_combo, active)
        self.wallet_combo.setEnabled(bool(wallets))
        self.address_label.setText(address or "No wallet yet")
        self.copy_button.setEnabled(bool(address))
        self.lock_now.setEnabled(bool(wallets))

    def show_connection(self, text: str, ok: bool | None = None) -> None:
        self.connection_label.setText(text)
        self.connection_label.setProperty("role", "field-ok" if ok else
                                          "field-error" if ok is False else "hint")
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)

    def show_saved(self) -> None:
        self.banner.show_message("ok", "Settings saved.")
        self.save_button.setEnabled(True)

    def show_error(self, title: str, message: str) -> None:
        self.banner.show_message("error", title, message)
        self.save_button.setEnabled(True)

    def set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)
        self.save_button.setText("Checking\u2026" if busy else "Save")

    def edited_settings(self) -> Settings:
        """The settings as the form shows them; raises ValueError for a bad chain id."""
        s = dataclasses.replace(self._settings, extra=dict(self._settings.extra))
        s.network = str(self.network_combo.currentData())
        s.rpc_url = self.rpc_edit.text().strip()
        chain = self.chain_edit.text().strip()
        if s.network == "custom":
            if not chain.isdigit() or int(chain) <= 0:
                raise ValueError("Enter the chain id of the custom network as a whole "
                                 "number (for example 8453 for Base).")
            if not s.rpc_url:
                raise ValueError("A custom network needs an RPC URL (http://, https:// or "
                                 "ws://).")
            s.chain_id = int(chain)
        else:
            s.chain_id = int(chain) if chain.isdigit() else 0
        s.market_source = str(self.source_combo.currentData())
        s.coingecko_api_key = self.key_edit.text().strip()
        s.coingecko_plan = str(self.plan_combo.currentData())
        s.coingecko_base_url = self.base_edit.text().strip()
        s.market_history = self.history_check.isChecked()
        s.lock_timeout_minutes = self.lock_spin.value()
        s.theme = next((k for k, b in self.theme_buttons.items() if b.isChecked()), "light")
        return s

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _select(combo: QComboBox, key: str) -> None:
        i = combo.findData(key)
        if i >= 0:
            combo.setCurrentIndex(i)

    def _network_changed(self, *_: object) -> None:
        custom = self.network_combo.currentData() == "custom"
        self.chain_edit.setEnabled(custom)
        self.chain_hint.setVisible(custom)
        self.rpc_edit.setPlaceholderText(
            "https://\u2026 (required)" if custom else "Default for this network")

    def _source_changed(self, *_: object) -> None:
        live = self.source_combo.currentData() == "coingecko" or \
            self.history_check.isChecked()
        self.key_edit.setEnabled(live)
        self.plan_combo.setEnabled(live)
        self.base_edit.setEnabled(live)

    def _theme_clicked(self, key: str) -> None:
        if not self._loading:
            self.themeChanged.emit(key)

    def _wallet_chosen(self, index: int) -> None:
        name = self.wallet_combo.itemData(index)
        if name:
            self.walletSelected.emit(str(name))

    def _save(self) -> None:
        self.banner.clear()
        try:
            s = self.edited_settings()
        except ValueError as exc:
            self.show_error("Check the network settings", str(exc))
            return
        self.set_busy(True)
        self.saveRequested.emit(s)


def _kind_text(kind: str) -> str:
    return {"mnemonic": "recovery phrase", "private_key": "private key"}.get(kind, kind)
