"""A small threaded HTTP server on 127.0.0.1 for tests: routes map paths to static bodies or to
handler functions (for redirects, hangs, errors). Counts every request it receives."""

from __future__ import annotations

import collections
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit


class Reply:
    def __init__(self, status=200, body: bytes | str = b"", ctype="text/html; charset=utf-8", headers=None, delay=0.0):
        self.status = status
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.ctype = ctype
        self.headers = headers or {}
        self.delay = delay


Route = Reply | Callable[["Handler"], Reply | None]


class Handler(BaseHTTPRequestHandler):
    server: "SiteServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        path = urlsplit(self.path).path
        full = self.path
        self.server.requests[full] += 1
        self.server.log.append((self.command, full, dict(self.headers)))
        route = self.server.routes.get(full) or self.server.routes.get(path) or self._prefix_route(path)
        if route is None:
            reply = Reply(404, "<!doctype html><html lang=en><title>Not found</title><h1>Not found</h1></html>")
        elif callable(route):
            reply = route(self)
            if reply is None:
                return  # the handler wrote the response itself
        else:
            reply = route
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        if reply.ctype:
            self.send_header("Content-Type", reply.ctype)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_HEAD = do_GET
    do_POST = do_GET

    def read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _prefix_route(self, path):
        """A callable route whose key ends with '/' handles everything below it."""
        for key in sorted(self.server.routes, key=len, reverse=True):
            if key != "/" and key.endswith("/") and path.startswith(key) and callable(self.server.routes[key]):
                return self.server.routes[key]
        return None


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # clients hanging up early is expected here
        pass

    def __init__(self, routes: dict[str, Route], host: str = "127.0.0.1"):
        super().__init__((host, 0), Handler)
        self.host = host
        self.routes = routes
        self.requests: collections.Counter = collections.Counter()
        self.log: list = []
        self.connections = 0  # TCP connections accepted, requests or not (a preconnect sends none)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(host): for 127.0.0.2, which /etc/hosts does
        # not name, that is a reverse-DNS query to the machine's resolver. Tests send nothing
        # off loopback, so the name is not looked up.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
