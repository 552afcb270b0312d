"""The Index screen: what the TM Global 100 is worth, what it holds, and a way to buy it.

A view only: :meth:`IndexPage.show_state` and :meth:`IndexPage.show_history` fill it, and
the two buttons emit signals the controller acts on. The reusable widgets (price tile,
gauge, treemap, holdings table, NAV chart) come from ``ui/widgets``; this page arranges
them and wires the treemap to the table (click a tile, the table shows that row).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ui import formatting as fmt
from ui.pages.common import Card, KeyValueGrid, PageHeader, button, label, short_hex
from ui.widgets.gauge import RegimeGauge
from ui.widgets.governance_notice import GovernanceBanner
from ui.widgets.holdings_table import HoldingsTable
from ui.widgets.nav_chart import NavChart
from ui.widgets.price_tile import PriceTile
from ui.widgets.treemap import HoldingsTreemap
from wallet_app.models import IndexState, Regime


class IndexPage(QWidget):
    """Price tile, regime gauge, NAV chart, treemap, holdings table, Strategy and Buy.

    Signals:
        buyRequested(): the "Buy index" button.
        strategyRequested(): the "Strategy" button.
    """

    buyRequested = Signal()
    strategyRequested = Signal()

    def __init__(self, parent: QWidget | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.state: IndexState | None = None

        self.header = PageHeader("TM Global 100", "Loading the index\u2026")
        self.strategy_button = button("Strategy", name="strategyButton",
                                      tooltip="How the index picks, weights and protects")
        self.buy_button = button("Buy index", primary=True, name="buyButton")
        self.buy_button.setMinimumWidth(150)
        self.buy_button.setMinimumHeight(38)
        self.header.add_widget(self.strategy_button)
        self.header.add_widget(self.buy_button)
        self.strategy_button.clicked.connect(self.strategyRequested)
        self.buy_button.clicked.connect(self.buyRequested)

        self.price_tile = PriceTile(clock=clock)
        self.gauge = RegimeGauge(clock=clock)
        gauge_card = Card("Regime", margins=(16, 14, 16, 8))
        gauge_card.body.addWidget(self.gauge, 1)
        #: Off a devnet: why the dial has no needle (market data off, still reading) or
        #: that its data is stale; hidden when there is nothing to say.
        self.gauge_note = label("", "caption", wrap=True, name="gaugeNote")
        self.gauge_note.hide()
        gauge_card.body.addWidget(self.gauge_note)
        self.nav_chart = NavChart()
        self.nav_chart.set_range("1Y")
        self.treemap = HoldingsTreemap()
        self.treemap.setMinimumHeight(240)
        tree_card = Card("Holdings map", margins=(10, 12, 10, 10))
        tree_card.body.addWidget(self.treemap, 1)
        self.table = HoldingsTable()
        self.table.setMinimumHeight(280)
        self.treemap.tileClicked.connect(self.table.select_symbol)

        self.facts = KeyValueGrid()
        self.facts.add_row("value", "Total value")
        self.facts.add_row("supply", "Shares issued")
        self.facts.add_row("cash", "Cash (USDC)")
        self.facts.add_row("fees", "Buy / sell fee")
        facts_card = Card("Vault", margins=(18, 14, 18, 14))
        facts_card.body.addWidget(self.facts)
        facts_card.body.addStretch(1)

        left = QVBoxLayout()
        left.setSpacing(14)
        left.addWidget(self.price_tile)
        left.addWidget(facts_card, 1)
        # Fixed: any width the gauge does not need goes to the NAV chart (at 1280x800 the
        # chart's header needs every pixel it can get).
        gauge_card.setFixedWidth(300)
        top = QHBoxLayout()
        top.setSpacing(14)
        top.addLayout(left, 0)
        top.addWidget(gauge_card, 0)
        top.addWidget(self.nav_chart, 1)
        bottom = QHBoxLayout()
        bottom.setSpacing(14)
        bottom.addWidget(tree_card, 1)
        bottom.addWidget(self.table, 2)
        grid = QVBoxLayout()
        grid.setSpacing(14)
        grid.addLayout(top, 4)
        grid.addLayout(bottom, 5)
        self.price_tile.setFixedWidth(280)
        facts_card.setFixedWidth(280)
        self.nav_chart.setMinimumHeight(230)
        tree_card.setMinimumHeight(280)

        # No scroll area: a wrapped label inside one makes Qt size the page by its
        # preferred (not minimum) height, which pushed the table below the window. The
        # minimum sizes above fit the window's minimum size instead.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 16)
        outer.setSpacing(14)
        outer.addWidget(self.header)
        #: Pending timelock changes ("BTC's price feed changes in 31 h"), hidden when none.
        self.governance_banner = GovernanceBanner()
        outer.addWidget(self.governance_banner)
        outer.addLayout(grid, 1)

    # -- setters ----------------------------------------------------------------------

    def show_state(self, state: IndexState) -> None:
        """Fill every widget from one IndexState (one lens call)."""
        self.state = state
        self.price_tile.set_state(state)
        self.gauge.set_state(state)
        note = getattr(state, "gauge_note", None) or ""
        self.gauge_note.setText(note)
        self.gauge_note.setToolTip(note)
        self.gauge_note.setVisible(bool(note))
        self.treemap.set_state(state)
        self.table.set_holdings(state.holdings)
        n = sum(1 for h in state.holdings if h.token)
        regime = "Bull" if state.regime is Regime.BULL else "Bear"
        parts = [
            f"{n} constituent{'s' if n != 1 else ''}" if n else "All in USDC",
            f"{regime} regime",
            f"NAV {fmt.format_nav(state.nav_per_share)}",
            f"block {state.block_number:,}",
            f"vault {short_hex(state.vault)}",
        ]
        if state.demo_speed:
            parts.append(state.demo_speed)
        self.header.subtitle.setText(" \u00b7 ".join(parts))
        self.facts.set("value", fmt.format_usd(state.total_value_usd))
        self.facts.set("supply", fmt.format_token_amount(state.total_supply, "G100", 2))
        self.facts.set("cash", fmt.format_usd(state.cash_usdc))
        self.facts.set("fees", f"{fmt.format_bps(state.buy_fee_bps)} / "
                               f"{fmt.format_bps(state.sell_fee_bps)}")
        self.header.subtitle.show()
        self.set_buy_enabled(not state.paused,
                             "Buying is paused by the index guardian; selling still works."
                             if state.paused else "")

    def show_history(self, points: Sequence[tuple[datetime, Decimal]]) -> None:
        """The NAV per share series for the chart (any order)."""
        self.nav_chart.set_series(points)

    def show_backtest(self, backtest: Any) -> None:
        """The methodology's backtest before the vault's first day (an object with
        ``points`` and ``label``, or None): the chart's dashed part in 1Y and All."""
        if backtest is None:
            self.nav_chart.set_backtest([])
        else:
            self.nav_chart.set_backtest(backtest.points, backtest.label)

    def set_offline(self, offline: bool) -> None:
        """Keep the figures and say they are not live (the tile shows their time)."""
        self.price_tile.set_offline(offline)

    def set_buy_enabled(self, enabled: bool, reason: str = "") -> None:
        self.buy_button.setEnabled(enabled)
        self.buy_button.setToolTip(reason or "Buy the index with USDC")
