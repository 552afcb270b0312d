"""Write index charts to PNG files with pyqtgraph, without a window.

This lives under ``ui/`` because it needs Qt, and the core (``wallet_app``) never imports
Qt. The CLI imports this module lazily, only when ``--chart`` is given, so
``index-wallet`` keeps working (and starting fast) on a machine without a display.
When no Qt platform is chosen, ``QT_QPA_PLATFORM=offscreen`` is set before Qt loads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

#: Line colours for successive series (first = the index).
PALETTE = ("#2563eb", "#9ca3af", "#16a34a", "#dc2626")
BEAR_FILL = (220, 38, 38, 40)


def _ts(d: date) -> float:
    return datetime.combine(d, time(0), tzinfo=UTC).timestamp()


def write_nav_chart(path: Path, days: Sequence[date], series: Mapping[str, Sequence[float]],
                    *, bear_spans: Sequence[tuple[date, date]] = (), title: str = "",
                    width: int = 1200, height: int = 600, log_y: bool = False) -> Path:
    """Plot NAV lines over dates (with Bear periods shaded) and save a PNG.

    ``series`` maps a legend label to one value per day; values are floats because they
    are pixels now, not money. Returns the written path.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    import pyqtgraph.exporters  # noqa: F401 - registers the exporters on pg

    pg.mkQApp()
    # Colours are set on this widget only: pg.setConfigOptions would change the whole
    # process, including the GUI's own charts when this runs inside the app.
    plot = pg.PlotWidget(background="w",
                         axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
    plot.resize(width, height)
    plot.show()  # offscreen: lays the widget out at the requested size, nothing is displayed
    pg.QtWidgets.QApplication.processEvents()
    item = plot.getPlotItem()
    item.setLabel("left", "NAV (USDC)", color="k")
    item.showGrid(x=True, y=True, alpha=0.2)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen("k"))
        axis.setTextPen(pg.mkPen("k"))
    if title:
        item.setTitle(title, color="k", size="12pt")
    item.setLogMode(y=log_y)
    legend = item.addLegend(offset=(10, 10), labelTextColor="k",
                            brush=pg.mkBrush(255, 255, 255, 200))
    xs = [_ts(d) for d in days]
    for (start, end) in bear_spans:
        region = pg.LinearRegionItem((_ts(start), _ts(end)), movable=False,
                                     brush=pg.mkBrush(*BEAR_FILL), pen=pg.mkPen(None))
        region.setZValue(-10)
        item.addItem(region)
    if bear_spans:
        legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=0, brush=pg.mkBrush(*BEAR_FILL)),
                       "Bear regime (USDC)")
    for i, (label, values) in enumerate(series.items()):
        curve = item.plot(xs, list(values), pen=pg.mkPen(PALETTE[i % len(PALETTE)], width=2),
                          name=label, antialias=True)
        curve.setZValue(len(series) - i)  # the first series (the index) is drawn on top
    pg.QtWidgets.QApplication.processEvents()
    exporter = pg.exporters.ImageExporter(plot.scene())
    exporter.parameters()["width"] = width
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    exporter.export(str(path))
    plot.close()
    return path
