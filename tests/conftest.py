"""Fixtures for the whole suite (helpers that are not fixtures are in helpers.py).

Most tests run in this process: Scrapy's asyncio reactor is started once for the session
(:func:`audits.engine.runtime.start`, before any test module is imported), ``run(coro)`` runs a
coroutine on it, and audits share one Playwright driver; ``browser`` is one Chromium for the
tests that only need a browser. ``cli`` runs the command line in this process, as the console
entry point does, and returns what a subprocess would (exit code, stdout, stderr). Subprocesses
(``run_cli``) are kept for what needs a process of its own: the entry point, signals, kill -9.
Sites are served on 127.0.0.1 by :class:`~audits.engine.static_server.LoopbackServer`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from audits.engine import runtime  # noqa: E402  (imports no reactor)
from helpers import invoke, run  # noqa: E402


def pytest_configure(config):
    runtime.start()


def pytest_unconfigure(config):
    runtime.stop()


# -- sites on 127.0.0.1 ---------------------------------------------------------------------------

@pytest.fixture
def serve():
    """serve(routes) -> a running LoopbackServer on 127.0.0.1 (stopped after the test)."""
    from audits.engine.static_server import LoopbackServer

    servers = []

    def _serve(routes, **kw):
        s = LoopbackServer(routes, **kw).start()
        servers.append(s)
        return s

    yield _serve
    for s in servers:
        s.stop()


# -- stores -----------------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    """An empty results store in the test's directory."""
    from audits.store import open_store

    s = open_store(tmp_path / "x.db")
    yield s
    s.close()


# -- browser ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright():
    """The session's Playwright driver (the one audits use, see runtime.shared_playwright)."""
    return run(runtime.shared_playwright())


@pytest.fixture(scope="session")
def browser(playwright):
    """One headless Chromium for the session, launched as a11ycrawl launches it."""
    from audits.engine.browser import find_chromium, launch_args

    b = run(playwright.chromium.launch(executable_path=find_chromium(), args=launch_args()))
    yield b
    run(b.close())


# -- audits -----------------------------------------------------------------------------------------

@pytest.fixture
def audit(tmp_path, monkeypatch):
    """audit(url, db=None, config_file=None, **flags) -> (store, outcome): one audit in this
    process, as ``a11ycrawl audit URL`` does it from the test's directory (flags are config keys;
    ./a11ycrawl.toml is read as the CLI reads it); the store is ``a.db`` unless ``db`` says otherwise."""
    from audits.config import load_config
    from audits.engine.runner import audit_sites_async
    from audits.store import open_store

    stores = []

    def _audit(url, db=None, config_file=None, resume=False, **flags):
        monkeypatch.chdir(tmp_path)
        cfg = load_config({"start_url": url, "db": str(db or tmp_path / "a.db"), **flags}, config_file)
        s = open_store(cfg.db)
        stores.append(s)
        (outcome,) = run(audit_sites_async([cfg], s, resume=resume))
        return s, outcome

    yield _audit
    for s in stores:
        s.close()


@pytest.fixture
def cli(tmp_path):
    """cli(*args, cwd=None, env=None) -> CliResult: the command line run in this process through
    its console entry point (one-line errors and exit codes included), from the test's directory
    unless ``cwd`` says otherwise; see :func:`helpers.invoke`."""

    def _cli(*args, cwd=None, env=None, input=None):
        return invoke(*args, cwd=cwd or tmp_path, env=env, input=input)

    return _cli


# -- Selenium Grid ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def selenium_grid(tmp_path_factory):
    """A Selenium Grid 4 on 127.0.0.1 for the session: a hub and two nodes of two Chromium slots
    each (see tests/grid.py), stopped at the end. A test that kills a node starts another."""
    from grid import Grid

    g = Grid(tmp_path_factory.mktemp("grid"), nodes=2, max_sessions=2)
    yield g
    g.stop()
