"""One small HTTP server on 127.0.0.1 for everything a11ycrawl serves itself: the built site of
``a11ycrawl check --dir``, the demo councils, and the test suite's and the benchmark's sites.

A stdlib ``ThreadingHTTPServer`` on an ephemeral port, quiet, serving from a daemon thread. It
answers each request from

- an *app*: a mapping of paths to :class:`Reply` objects or to handlers, or one handler for
  every path. A handler is a function of the request (the ``http.server`` request handler:
  ``path``, ``command``, ``headers``, :meth:`~LoopbackHandler.read_body`) that returns a
  :class:`Reply`, or writes the response itself and returns ``None`` (for broken responses);
- a *directory* of static files: what ``http.server`` does (``index.html`` for a directory, a
  redirect from ``/docs`` to ``/docs/``), and ``/about`` answered with ``about.html`` when there
  is no ``about`` directory, as static hosts do for most site generators' links.

A :class:`Reply` can delay, and carries the status, content type and headers. Every request is
counted (``requests``, by target) and logged (``log``: method, target, status, headers), with the
number in flight and its peak; ``on_request`` sees each :class:`RequestRecord` as it completes.
Stopping also closes idle keep-alive connections, so a browser's preconnect cannot hold the port.

>>> with LoopbackServer({"/": Reply(body="<p>hello</p>")}) as server:
...     from urllib.request import urlopen
...     urlopen(server.url).read(), server.requests["/"], server.log[0].status
(b'<p>hello</p>', 1, 200)
"""

from __future__ import annotations

import collections
import os
import socket
import socketserver
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator, Mapping, Union
from urllib.parse import unquote, urlsplit

from audits.errors import ConfigError

HTML = "text/html; charset=utf-8"
NOT_FOUND_PAGE = "<!doctype html><html lang=en><title>Not found</title><h1>Not found</h1></html>"


@dataclass
class Reply:
    """A response: ``Reply(body=page)``, ``Reply(404)``, ``Reply(302, headers={"Location": "/x"})``.
    ``delay`` seconds pass before it is sent; ``ctype=None`` sends no Content-Type."""

    status: int = 200
    body: bytes | str = b""
    ctype: str | None = HTML
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.body, str):
            self.body = self.body.encode("utf-8")


@dataclass(frozen=True)
class RequestRecord:
    time: float  # time.monotonic() when the request arrived
    method: str
    target: str  # path plus query string, as requested
    status: int  # 0 when a handler broke the response on purpose
    headers: Message = field(repr=False)
    nbytes: int = 0  # body bytes sent from a Reply

    @property
    def user_agent(self) -> str:
        return self.headers.get("User-Agent", "")


Handler = Callable[["LoopbackHandler"], Union[Reply, None]]
Route = Union[Reply, Handler]
App = Union[Mapping[str, Route], Handler]


def route_for(routes: Mapping[str, Route], target: str) -> Route | None:
    """The route for a request target: the exact target (path and query), else its path, else the
    handler whose key ends with ``/`` and is the longest prefix of the path (it handles everything
    below it).

    >>> routes = {"/": "home", "/a?x=1": "a with x", "/a": "a", "/docs/": len}
    >>> [route_for(routes, t) for t in ("/a?x=1", "/a?x=2", "/", "/b")]
    ['a with x', 'a', 'home', None]
    >>> route_for(routes, "/docs/intro/page") is len
    True
    """
    route = routes.get(target)
    if route is not None:
        return route
    path = urlsplit(target).path
    route = routes.get(path)
    if route is not None:
        return route
    for key in sorted(routes, key=len, reverse=True):
        if key != "/" and key.endswith("/") and path.startswith(key) and callable(routes[key]):
            return routes[key]
    return None


class LoopbackHandler(SimpleHTTPRequestHandler):
    """Answers from the server's app, then its directory; counts and logs every request."""

    server: LoopbackServer
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection is dropped after this many seconds

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the caller reports what matters
        pass

    def setup(self) -> None:
        super().setup()
        self.server.opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.closed(self.connection)

    def version_string(self) -> str:
        return self.server.server_version

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status = code
        super().send_response(code, message)

    def read_body(self, limit: int = 1 << 20) -> bytes:
        """The request body (at most ``limit`` bytes)."""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(n, limit)) if n else b""

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_GET

    def _dispatch(self) -> None:
        self.status = 0
        self.nbytes = 0
        self.recorded = False
        self.started = self.server.request_started(self)
        try:
            self._answer()
        finally:
            self._record()
            self.server.request_done()

    def _record(self) -> None:
        if not self.recorded:
            self.recorded = True
            self.server.record(RequestRecord(self.started, self.command, self.path, self.status, self.headers,
                                             self.nbytes))

    def end_headers(self) -> None:
        # logged before the client can see the response: a test that fetched a page finds it logged
        if getattr(self, "started", None) is not None:
            self._record()
        super().end_headers()

    def _answer(self) -> None:
        srv = self.server
        app = srv.app
        if callable(app):
            route = app
        elif app is not None:
            route = route_for(app, self.path)
        else:
            route = None
        if route is None and srv.directory is not None:
            if self.command == "POST":
                self.send_error(405, "Method not allowed")
            elif self.command == "HEAD":
                super().do_HEAD()
            else:
                super().do_GET()
            return
        if route is None:
            reply = srv.not_found
        elif callable(route):
            reply = route(self)
            if reply is None:
                return  # the handler wrote the response itself
        else:
            reply = route
        self.send_reply(reply)

    def send_reply(self, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        self.nbytes = 0 if self.command == "HEAD" else len(reply.body)
        self.send_response(reply.status)
        if reply.ctype:
            self.send_header("Content-Type", reply.ctype)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.nbytes:
            self.wfile.write(reply.body)

    def translate_path(self, path: str) -> str:
        fs = Path(super().translate_path(path))
        if not fs.exists() and fs.suffix == "" and fs.with_name(fs.name + ".html").is_file():
            return str(fs.with_name(fs.name + ".html"))
        return str(fs)


class LoopbackServer(ThreadingHTTPServer):
    """Serves ``app`` and/or ``directory`` on ``host``:``port`` (127.0.0.1, a free port) from a
    daemon thread named ``name``; ``with LoopbackServer(app) as server:`` or ``start()``/``stop()``.

    ``url`` is the root URL with its trailing slash, ``origin`` the same without it. ``requests``,
    ``log``, ``max_in_flight`` and ``errors`` (exceptions while serving, kept instead of printed)
    describe what it served; ``reset_stats()`` clears them. ``log_requests=False`` keeps no log
    (``on_request`` still sees every record).
    """

    daemon_threads = True
    block_on_close = False  # stop() closes lingering keep-alive connections itself
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: App | None = None, *, directory: str | Path | None = None, host: str = "127.0.0.1",
                 port: int = 0, name: str = "a11ycrawl-loopback", server_version: str = "a11ycrawl-loopback",
                 not_found: Reply | None = None, on_request: Callable[[RequestRecord], None] | None = None,
                 log_requests: bool = True):
        self.app = app
        self.server_version = server_version
        self.directory = Path(directory).resolve() if directory is not None else None
        self.not_found = not_found or Reply(404, NOT_FOUND_PAGE)
        self.on_request = on_request
        self.log_requests = log_requests
        self.requests: collections.Counter[str] = collections.Counter()
        self.log: list[RequestRecord] = []
        self.errors: list[str] = []
        self.max_in_flight = 0
        self.connections = 0  # TCP connections accepted, requests or not (a preconnect sends none)
        self._in_flight = 0
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        super().__init__((host, port), partial(LoopbackHandler, directory=str(self.directory or os.devnull)))
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=name,
                                       daemon=True)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn): slow, and not needed here
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        self.errors.append(repr(sys.exc_info()[1]))  # clients hang up early: keep it, never print

    # -- where it is
    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        host = self.server_address[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The root URL, with its trailing slash."""
        return self.origin + "/"

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def file_for(self, url: str) -> Path | None:
        """The file of the served directory that answers ``url``, if it is one of ours (for SARIF
        and annotations)."""
        parts = urlsplit(url)
        if self.directory is None or f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        rel = unquote(parts.path).lstrip("/")
        candidate = self.directory / rel
        for p in (candidate / "index.html" if rel == "" or rel.endswith("/") else candidate,
                  candidate.with_name(candidate.name + ".html") if rel else None):
            if p is not None and p.is_file():
                return p
        return None

    # -- lifecycle
    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port. Idempotent."""
        if self.thread.is_alive():
            self.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        deadline = time.monotonic() + 2
        while self._conns and time.monotonic() < deadline:
            time.sleep(0.01)

    def __enter__(self) -> LoopbackServer:
        if not self.thread.is_alive():
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset_stats(self) -> None:
        with self._lock:
            self.requests.clear()
            self.log.clear()
            self.max_in_flight = 0

    # -- bookkeeping, called by the handler
    def opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.add(conn)
            self.connections += 1

    def closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._conns.discard(conn)

    def request_started(self, handler: LoopbackHandler) -> float:
        with self._lock:
            self.requests[handler.path] += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        return time.monotonic()

    def record(self, record: RequestRecord) -> None:
        if self.log_requests:
            with self._lock:
                self.log.append(record)
        if self.on_request is not None:
            self.on_request(record)

    def request_done(self) -> None:
        with self._lock:
            self._in_flight -= 1


@contextmanager
def serve_directory(path: str | Path) -> Iterator[LoopbackServer]:
    """Serve the built static site in ``path`` on 127.0.0.1 for the duration of the block."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise ConfigError(f"--dir {path}: not a directory")
    if not any(root.rglob("*.htm*")):
        raise ConfigError(f"--dir {path}: no .html files in it (point it at the built site, e.g. public/ or _site/)")
    with LoopbackServer(directory=root, name="a11ycrawl-static", log_requests=False) as server:
        yield server
