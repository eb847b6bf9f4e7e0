"""The registry replica: a local HTTP server (127.0.0.1 only) shaped like the real registries.

Each site is served under a path prefix named for its real host, so a spider's live base URL
`https://dxzhgl.miit.gov.cn` becomes `http://127.0.0.1:PORT/dxzhgl.miit.gov.cn` and every path after
it is the real one. Faults (rate limits, 5xx, truncated bodies, slow answers) are injected at small
rates, deterministically from the seed, and only on a request's first attempt, so a crawler that
retries correctly always gets everything.

Test hooks live under `/__replica__/` (a captcha's answer for a session, health); they stand in for
a person reading a captcha and are never part of a site's contract.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from replica.world import World


@dataclass
class Faults:
    """Fault rates (0..1) per first attempt of a request. `Faults.none()` switches them all off."""

    rate_limit: float = 0.03  # 429 with Retry-After
    server_error: float = 0.03  # 500/502/503
    truncated: float = 0.02  # 200 with half a body
    slow: float = 0.0  # answer after `slow_seconds` (beyond the crawler's timeout)
    # Off by default: a crawl cannot recover from these, it must end *incomplete* and say why.
    challenge: float = 0.0  # a firewall challenge page (瑞数 $_ts) served with status 200
    layout_drift: float = 0.0  # JSON keys renamed, as after a site redesign
    slow_seconds: float = 3.0
    retry_after_seconds: int = 1

    @classmethod
    def none(cls) -> Faults:
        return cls(rate_limit=0, server_error=0, truncated=0, slow=0, challenge=0, layout_drift=0)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    headers: dict[str, str]

    def param(self, name: str, default: str = "") -> str:
        return self.form.get(name, self.query.get(name, default))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: object, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


Handler = Callable[["Replica", Request], Response]


def _drift(value: object) -> object:
    """Every JSON key renamed, as when a registry ships a new front end."""
    if isinstance(value, dict):
        return {f"{k}V2": _drift(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drift(v) for v in value]
    return value


def site_host(path: str) -> str | None:
    """The real host a replica path stands for (`/dxzhgl.miit.gov.cn/...` → `dxzhgl.miit.gov.cn`); None for
    the replica's own hooks and for root paths such as /robots.txt."""
    host, slash, _ = path.lstrip("/").partition("/")
    return host if slash and host != "__replica__" else None


@dataclass
class Session:
    sid: str
    captcha: str | None = None
    captcha_issued: float = 0.0


class Replica:
    """Serve `world` on 127.0.0.1. Use as a context manager or call start()/stop()."""

    def __init__(self, world: World | None = None, faults: Faults | None = None, port: int = 0) -> None:
        from replica import sites  # each source's spiders/<source>/replica.py

        self.world = world or World()
        self.faults = faults if faults is not None else Faults()
        self.routes, self.pattern_routes = sites.routes()
        self.not_found = sites.not_found_handlers()
        self.sessions: dict[str, Session] = {}
        self.epoch = 0  # which week of the world is served (0 = first crawl); /__replica__/epoch?set=N
        self.attempts: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()
        # Requests being answered now, and the most ever at once, per site host (the path's first segment):
        # what a registry would see of our politeness, whichever process or machine the crawls run on.
        self.in_flight: Counter[str] = Counter()
        self.peak_in_flight: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> str:
        replica = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                replica._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                replica._handle(self, "POST")

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

        # Binding to 127.0.0.1 only: the replica is never reachable from another machine.
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="replica", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Replica:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "replica not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def site_url(self, host: str) -> str:
        return f"{self.base_url}/{host}"

    # -- sessions ----------------------------------------------------------------------------
    def session(self, request: Request, response: Response) -> Session:
        sid = request.cookies.get("JSESSIONID")
        with self.lock:
            if not sid or sid not in self.sessions:
                sid = hashlib.sha1(f"{time.time_ns()}-{len(self.sessions)}".encode()).hexdigest()[:24].upper()
                self.sessions[sid] = Session(sid)
                response.headers["Set-Cookie"] = f"JSESSIONID={sid}; Path=/; HttpOnly"
            return self.sessions[sid]

    def html_drift(self, request: Request) -> bool:
        """Whether this HTML page is served as after a site redesign (layout drift, at its fault rate). The
        server renames JSON keys itself; an HTML page's site module renders its own redesign when this says so.
        Decided per URL, not per attempt: a redesign does not go away on a retry."""
        rate = self.faults.layout_drift
        if rate <= 0:
            return False
        key = f"html-drift|{self.world.seed}|{request.path}|{sorted(request.query.items())}"
        return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < rate

    # -- dispatch ----------------------------------------------------------------------------
    def _handle(self, http: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        cookies = {k: m.value for k, m in SimpleCookie(http.headers.get("Cookie", "")).items()}
        form = dict(parse_qsl(body.decode("utf-8", "replace"))) if body else {}
        request = Request(method, parts.path, dict(parse_qsl(parts.query)), form, cookies, dict(http.headers))
        host = site_host(parts.path)
        if host:
            with self.lock:
                self.in_flight[host] += 1
                self.peak_in_flight[host] = max(self.peak_in_flight[host], self.in_flight[host])
        try:
            response = self._respond(request)
        finally:
            # Out of flight before the answer is sent: once the client has it, it may send its next request,
            # and that one must not find this one still counted.
            if host:
                with self.lock:
                    self.in_flight[host] -= 1
        if response is None:  # a dropped connection (slow fault already slept)
            return
        http.send_response(response.status)
        http.send_header("Content-Type", response.content_type)
        http.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(response.body)

    def _respond(self, request: Request) -> Response | None:
        if request.path == "/robots.txt":
            return Response(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if request.path.startswith("/__replica__/"):
            return self._hook(request)
        handler = self.route(request)
        if handler is None:
            return self._not_found(request)
        fault = self._fault(request)
        if fault is not None:
            return fault
        response = handler(self, request)
        with self.lock:
            self.hits[request.path] += 1
        return response

    def route(self, request: Request) -> Handler | None:
        """The handler of an exact path, else of the first path pattern that matches it whole."""
        handler = self.routes.get((request.method, request.path))
        if handler is not None:
            return handler
        for method, pattern, candidate in self.pattern_routes:
            if method == request.method and pattern.fullmatch(request.path):
                return candidate
        return None

    def _not_found(self, request: Request) -> Response:
        """A path the site does not serve (or a wrong method) gets the site's own answer, else a plain 404."""
        host = request.path.lstrip("/").split("/", 1)[0]
        answer = self.not_found.get(host)
        if answer is not None:
            return answer(self, request)
        return Response(404, b"<html><body>404 Not Found</body></html>", "text/html")

    def _fault(self, request: Request) -> Response | None:
        key = f"{request.method} {request.path} {sorted(request.query.items())} {sorted(request.form.items())}"
        with self.lock:
            self.attempts[key] += 1
            first = self.attempts[key] == 1
        if not first:
            return None
        roll = int(hashlib.sha256(f"{self.world.seed}|{key}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        f = self.faults
        edges = [("rate_limit", f.rate_limit), ("server_error", f.server_error),
                 ("truncated", f.truncated), ("slow", f.slow), ("challenge", f.challenge),
                 ("layout_drift", f.layout_drift)]
        low = 0.0
        for kind, rate in edges:
            if low <= roll < low + rate:
                return self._make_fault(kind, request)
            low += rate
        return None

    def _make_fault(self, kind: str, request: Request) -> Response | None:
        if kind == "rate_limit":
            return Response(429, "访问过于频繁，请稍后再试".encode(), "text/plain;charset=UTF-8",
                            {"Retry-After": str(self.faults.retry_after_seconds)})
        if kind == "server_error":
            return Response(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        if kind == "challenge":
            page = ('<html><head><meta charset="utf-8"><script>var $_ts=window["$_ts"];if(!$_ts)$_ts={};'
                    '$_ts.nsd=12345;</script></head><body></body></html>')
            return Response(200, page.encode(), "text/html;charset=utf-8")
        if kind == "slow":
            time.sleep(self.faults.slow_seconds)
        handler = self.route(request)
        assert handler is not None
        full = handler(self, request)
        if kind == "truncated":
            full.body = full.body[: max(1, len(full.body) // 2)]
        if kind == "layout_drift" and full.content_type.startswith("application/json"):
            full.body = json.dumps(_drift(json.loads(full.body)), ensure_ascii=False).encode()
        return full

    def _hook(self, request: Request) -> Response:
        name = request.path.removeprefix("/__replica__/")
        if name == "health":
            return Response.json({"ok": True, "seed": self.world.seed})
        if name == "epoch":
            if "set" in request.query:
                self.epoch = int(request.query["set"])
            return Response.json({"epoch": self.epoch})
        if name == "captcha":
            session = self.sessions.get(request.query.get("sid", ""))
            if session is None or session.captcha is None:
                return Response.json({"error": "no captcha issued for this session"}, status=404)
            return Response.json({"answer": session.captcha})
        return Response.json({"error": f"unknown hook {name}"}, status=404)
