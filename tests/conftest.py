import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from audits.engine.static_server import LoopbackServer  # noqa: E402


@pytest.fixture
def serve():
    """serve(routes) -> a running LoopbackServer on 127.0.0.1 (stopped after the test)."""
    servers = []

    def _serve(routes, **kw):
        s = LoopbackServer(routes, **kw).start()
        servers.append(s)
        return s

    yield _serve
    for s in servers:
        s.stop()


def run_cli(*args, cwd=None, env=None, timeout=240, input=None):
    """Run the a11ycrawl CLI in a subprocess (one reactor per process, as in real use)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "reports.cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True,
        timeout=timeout, input=input,
    )


@pytest.fixture
def cli():
    return run_cli


def load_json(path):
    return json.loads(Path(path).read_text())
