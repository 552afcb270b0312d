"""A hostile JSON-RPC node for tests: a real local HTTP proxy in front of a real Anvil.

Every request the wallet makes passes through :class:`HostileProxy`, which can answer a
method itself (``answer``), rewrite the node's real answer (``rewrite``), and withhold,
duplicate or delay ``eth_sendRawTransaction``. It keeps every raw transaction the wallet
sent (``sent``), so a test can decode exactly what was signed and broadcast.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak
from hexbytes import HexBytes

Answer = Callable[[list[Any]], Any]
Rewrite = Callable[[list[Any], Any], Any]


class HostileProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.answer: dict[str, Answer] = {}
        self.rewrite: dict[str, Rewrite] = {}
        self.send_mode = "forward"  # forward | withhold | duplicate | delay
        self.delay_s = 1.0
        self.sent: list[bytes] = []  # raw transactions the wallet broadcast, in order
        self.methods: list[str] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                out = [proxy._one(r) for r in body] if isinstance(body, list) \
                    else proxy._one(body)
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # ------------------------------------------------------------------ plumbing

    def forward(self, method: str, params: list[Any]) -> dict[str, Any]:
        r = self._http.post(self.upstream, json={"jsonrpc": "2.0", "id": 1,
                                                  "method": method, "params": params})
        return r.json()

    def _one(self, req: dict[str, Any]) -> dict[str, Any]:
        method, params, rid = req["method"], req.get("params") or [], req.get("id")
        with self._lock:
            self.methods.append(method)
        if method == "eth_sendRawTransaction":
            return self._send(params, rid)
        if method in self.answer:
            return {"jsonrpc": "2.0", "id": rid, "result": self.answer[method](params)}
        resp = self.forward(method, params)
        if method in self.rewrite and "result" in resp:
            resp["result"] = self.rewrite[method](params, resp["result"])
        resp["id"] = rid
        return resp

    def _send(self, params: list[Any], rid: Any) -> dict[str, Any]:
        raw = bytes.fromhex(params[0][2:])
        with self._lock:
            self.sent.append(raw)
        tx_hash = "0x" + keccak(raw).hex()
        if self.send_mode == "withhold":  # claim success, deliver nothing
            return {"jsonrpc": "2.0", "id": rid, "result": tx_hash}
        if self.send_mode == "delay":
            time.sleep(self.delay_s)
        resp = self.forward("eth_sendRawTransaction", params)
        if self.send_mode == "duplicate":
            self.forward("eth_sendRawTransaction", params)  # a second delivery, same bytes
        resp["id"] = rid
        return resp

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._http.close()

    # ------------------------------------------------------------------ evidence

    def decoded(self) -> list[dict[str, Any]]:
        """Every raw transaction the wallet sent: fields, signer and hash."""
        out = []
        for raw in self.sent:
            d = dict(TypedTransaction.from_bytes(HexBytes(raw)).as_dict())
            d["from"] = Account.recover_transaction(raw)
            d["hash"] = "0x" + keccak(raw).hex()
            d["to"] = "0x" + bytes(d["to"]).hex() if d.get("to") else None
            d["data"] = bytes(d.get("data", b""))
            out.append(d)
        return out

    def count(self, method: str) -> int:
        return sum(1 for m in self.methods if m == method)
