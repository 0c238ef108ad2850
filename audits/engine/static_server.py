"""Serve a directory of built static files on 127.0.0.1, for ``a11ycrawl check --dir``.

A stdlib ``ThreadingHTTPServer`` on an ephemeral port, quiet, in a daemon thread. Besides what
``http.server`` does (``index.html`` for a directory, a redirect from ``/docs`` to ``/docs/``),
``/about`` is answered with ``about.html`` when there is no ``about`` directory: most static
site generators link pages that way and their hosts serve them so.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

from audits.errors import ConfigError


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet: the audit reports what matters
        pass

    def translate_path(self, path: str) -> str:
        fs = Path(super().translate_path(path))
        if not fs.exists() and fs.suffix == "" and fs.with_name(fs.name + ".html").is_file():
            return str(fs.with_name(fs.name + ".html"))
        return str(fs)


class StaticServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # browsers hang up early; fine
        pass

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
        self.root = root
        self.thread = threading.Thread(target=self.serve_forever, name="a11ycrawl-static", daemon=True)

    @property
    def url(self) -> str:
        """The site's root URL, with a trailing slash."""
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def file_for(self, url: str) -> Path | None:
        """The file that answers ``url``, if it is one of ours (for SARIF and annotations)."""
        parts = urlsplit(url)
        if parts.netloc != f"127.0.0.1:{self.server_address[1]}":
            return None
        rel = unquote(parts.path).lstrip("/")
        candidate = self.root / rel
        for p in (candidate / "index.html" if rel == "" or rel.endswith("/") else candidate,
                  candidate.with_name(candidate.name + ".html") if rel else None):
            if p is not None and p.is_file():
                return p
        return None


@contextmanager
def serve_directory(path: str | Path) -> Iterator[StaticServer]:
    """Serve ``path`` on 127.0.0.1 for the duration of the block."""
    root = Path(path).resolve()
    if not root.is_dir():
        raise ConfigError(f"--dir {path}: not a directory")
    if not any(root.rglob("*.htm*")):
        raise ConfigError(f"--dir {path}: no .html files in it (point it at the built site, e.g. public/ or _site/)")
    server = StaticServer(root)
    server.thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
