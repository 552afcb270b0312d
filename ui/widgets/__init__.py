"""Reusable widgets of the Index screen. Each takes plain model objects
(``wallet_app.models``) and never calls the core itself: screens decide when data is
fetched (on worker threads) and widgets only display it, on the GUI thread.

Import from the modules (this package imports nothing, so that loading one widget does
not pull in pyqtgraph):

* ``treemap.HoldingsTreemap``: tiles by weight, colour by 24 h change; ``set_state``,
  ``set_holdings``; signals ``tileClicked(str)``, ``tileHovered(str)``. The layout is the
  pure ``treemap_layout.squarify`` / ``layout_pixels``.
* ``gauge.RegimeGauge``: the regime dial; ``set_state``, ``set_gauge``,
  ``set_next_rebalance``; ``band_for_score`` is the methodology's band rule.
* ``price_tile.PriceTile``: NAV per share, 24 h / 7 d change, data age; ``set_state``,
  ``set_nav``, ``set_offline``.
* ``nav_chart.NavChart``: NAV history with 1W/1M/1Y/All; ``set_series``, ``set_range``;
  signal ``rangeChanged(str)``.
* ``holdings_table.HoldingsTable``: sortable, searchable table; ``set_holdings``,
  ``set_search``, ``select_symbol``; signal ``holdingActivated(str)``.

Painted widgets take an optional fixed ``palette`` (tests, previews); without one they
follow ``ui.theme.theme_manager()`` and repaint when the theme changes.
"""
