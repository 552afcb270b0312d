"""A CoinGecko-compatible server on localhost for the operator's tests: ``/coins/markets``
and ``/coins/{id}/market_chart``.

The public internet is the only thing the tests fake: the operator reads its market data
from this server exactly as it reads the live API (same paths, same JSON).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DAY_MS = 86_400_000


class CoinGeckoServer:
    """A CoinGecko-compatible ``/coins/markets`` and ``/coins/{id}/market_chart`` server.

    ``set_assets`` scripts the snapshot; ``set_charts`` each coin's daily market caps by
    the day they close. A chart point is stamped like CoinGecko's daily points, at 00:00
    UTC of the next day; ``now`` (the test's clock, e.g. the chain's time) is the server's
    present: points after it are not served, and ``days=N`` serves the last N days before it.
    """

    def __init__(self) -> None:
        self.body = b"[]"
        self.hits = 0
        self.chart_hits: list[tuple[str, int]] = []  # (coin id, days) per chart request
        self.charts: dict[str, list[tuple[int, Decimal]]] = {}
        self.now: datetime | None = None
        #: Chart requests beyond this many (in all) answer 429, as a spent rate budget.
        self.chart_limit: int | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.hits += 1
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                parts = url.path.strip("/").split("/")
                if url.path.startswith("/coins/markets"):
                    page = int(query.get("page", ["1"])[0])
                    body = outer.body if page == 1 else b"[]"
                elif len(parts) == 3 and parts[0] == "coins" and parts[2] == "market_chart" \
                        and parts[1] in outer.charts:
                    if outer.chart_limit is not None and \
                            len(outer.chart_hits) >= outer.chart_limit:
                        self.send_response(429)
                        self.send_header("Retry-After", "0")
                        self.end_headers()
                        return
                    days = int(query.get("days", ["1"])[0])
                    outer.chart_hits.append((parts[1], days))
                    body = outer.chart_body(parts[1], days)
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set_assets(self, assets: list[Any]) -> None:
        # Numbers as JSON numbers, written from the Decimals' text (no float in between).
        self.body = ("[" + ",".join(
            f'{{"id":{json.dumps(a.id)},"symbol":{json.dumps(a.symbol.lower())},'
            f'"name":{json.dumps(a.name)},"current_price":{a.current_price},'
            f'"market_cap":{a.market_cap},"total_volume":{a.total_volume}}}'
            for a in assets) + "]").encode()

    def set_charts(self, caps: dict[str, list[tuple[date, Decimal]]]) -> None:
        """Each coin's market cap at the close of each day (stamped at the next 00:00)."""
        self.charts = {
            coin: sorted((int(datetime.combine(d + timedelta(days=1), time(), UTC)
                              .timestamp()) * 1000, v) for d, v in rows)
            for coin, rows in caps.items()}

    def chart_body(self, coin: str, days: int) -> bytes:
        now_ms = None if self.now is None else int(self.now.timestamp() * 1000)
        pts = [(t, v) for t, v in self.charts[coin] if now_ms is None or t <= now_ms]
        if now_ms is not None:
            pts = [(t, v) for t, v in pts if t >= now_ms - days * DAY_MS]
        pairs = ",".join(f"[{t},{v}]" for t, v in pts)
        return (f'{{"prices":[{pairs}],"market_caps":[{pairs}],'
                f'"total_volumes":[{pairs}]}}').encode()
