"""A CoinGecko-compatible ``/coins/markets`` server on localhost for the operator's tests.

The public internet is the only thing the tests fake: the operator reads its market data
from this server exactly as it reads the live API (same paths, same JSON).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class CoinGeckoServer:
    """A CoinGecko-compatible ``/coins/markets`` server on localhost."""

    def __init__(self) -> None:
        self.body = b"[]"
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.hits += 1
                if not self.path.startswith("/coins/markets"):
                    self.send_response(404)
                    self.end_headers()
                    return
                query = parse_qs(urlsplit(self.path).query)
                page = int(query.get("page", ["1"])[0])
                body = outer.body if page == 1 else b"[]"
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
