"""A local webhook receiver on 127.0.0.1: stands in for the chat bots and JSON webhooks in the demo and the
tests. It records every POST (path, query, headers, JSON body) and answers each as its platform does:

- 企业微信 group bot   POST /cgi-bin/webhook/send?key=…          → {"errcode": 0, "errmsg": "ok"}
- 钉钉 custom robot    POST /robot/send?access_token=…[&sign=…]  → {"errcode": 0, "errmsg": "ok"}
- 飞书 custom bot      POST /open-apis/bot/v2/hook/<token>/      → {"code": 0, "msg": "success"}
- anything else (an Apprise json:// webhook)                      → {"ok": true}

Nothing here reaches the internet: it only listens on the loopback interface.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # the JSON body, parsed (the raw text when it is not JSON)


def answer_for(path: str) -> dict[str, Any]:
    if path.startswith(("/cgi-bin/webhook/send", "/robot/send")):
        return {"errcode": 0, "errmsg": "ok"}
    if path.startswith("/open-apis/bot/v2/hook/"):
        return {"code": 0, "msg": "success"}
    return {"ok": True}


class Receiver:
    """`with Receiver() as r:` serves on a free port; `r.url` is its base URL, `r.received` what came in."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", errors="replace")
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw
                parts = urlsplit(self.path)
                with receiver._lock:
                    receiver.received.append(Received(parts.path, parse_qs(parts.query),
                                                      {k.lower(): v for k, v in self.headers.items()}, body))
                answer = json.dumps(answer_for(parts.path)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=10)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
