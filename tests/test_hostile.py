"""Issue 3: a hostile site. Every URL ends in exactly one recorded state with the right reason;
the other host receives nothing; traps stay bounded; the run ends inside its time budget."""

import time

import pytest

from audits.engine.static_server import LoopbackServer, Reply
from helpers import invoke, load_json
from hostile_site import routes

pytestmark = pytest.mark.browser

CONFIG = """
max_pages = 200
per_pattern_cap = 5
query_variants_cap = 4
page_timeout = 6
max_response_bytes = 2_000_000
js_heap_mb = 128
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "a11ycrawl.toml").write_text(CONFIG)
    with LoopbackServer({"/": Reply(body="other")}) as other:
        r, expected, flaky = routes(other.origin)
        with LoopbackServer(r) as site:
            t0 = time.monotonic()
            res = invoke("audit", site.url, "--db", str(tmp / "h.db"), "--json", str(tmp / "h.json"), cwd=tmp)
            elapsed = time.monotonic() - t0
            site_requests = dict(site.requests)
        other_requests = dict(other.requests)
    assert res.returncode == 0, res.stderr[-3000:]
    doc = load_json(tmp / "h.json")
    base = site.url
    by_path = {}
    for p in doc["pages"]:
        key = p["url"][len(base):] if p["url"].startswith(base) else p["url"].replace(other.origin, "OTHER")
        by_path[key] = p
    return dict(doc=doc, pages=by_path, expected=expected, site_requests=site_requests,
                other_requests=other_requests, elapsed=elapsed, flaky=flaky, stderr=res.stderr)


def test_each_hazard_ends_in_its_state(hostile):
    wrong = {}
    for path, (status, code) in hostile["expected"].items():
        got = hostile["pages"].get(path)
        if got is None or (got["status"], got["reason_code"]) != (status, code):
            wrong[path[:40]] = (status, code, got and (got["status"], got["reason_code"], got["reason"]))
    assert not wrong, "\n".join(f"{k}: want {v[:2]} got {v[2]}" for k, v in wrong.items())


def test_pages_that_move_or_hide_are_audited_as_they_are(hostile):
    pages = hostile["pages"]
    assert "meta-refresh" in {v["rule"] for v in pages["meta-later"]["violations"]}
    assert [f["reason"][:33] for f in pages["sandboxed"]["frames_unaudited"]] == ["sandboxed without allow-scripts: "]
    # only the one URL served as an attachment is a download; no navigation ended aborted
    codes = [p["reason_code"] for p in hostile["doc"]["pages"]]
    assert codes.count("download") == 1 and "navigation_aborted" not in codes


def test_every_url_has_exactly_one_state(hostile):
    urls = [p["url"] for p in hostile["doc"]["pages"]]
    assert len(urls) == len(set(urls))
    for p in hostile["doc"]["pages"]:
        assert p["status"] in ("audited", "failed", "skipped")
        if p["status"] != "audited":
            assert p["reason_code"] and p["reason"], p


def test_other_host_receives_nothing_but_its_frame(hostile):
    """Never crawled, never navigated to; a frame it serves is part of the page that embeds it
    (a third-party widget) and is loaded and audited with it."""
    assert hostile["other_requests"] == {"/frame": 1}, hostile["other_requests"]


def test_traps_are_bounded(hostile):
    reqs = hostile["site_requests"]
    calendar = sum(n for path, n in reqs.items() if path.startswith("/calendar/"))
    search = sum(n for path, n in reqs.items() if path.startswith("/search"))
    repeat = sum(n for path, n in reqs.items() if path.startswith("/a/"))
    assert calendar <= 5 and search <= 4 and repeat <= 5, (calendar, search, repeat)
    codes = [p["reason_code"] for p in hostile["doc"]["pages"]]
    assert codes.count("trap_limit") >= 3


def test_robots_obeyed_and_pages_fetched_once(hostile):
    reqs = hostile["site_requests"]
    assert "/private" not in reqs
    # the crawler's fetch is handed to the browser: a plain page is requested once
    assert reqs["/about"] == 1, reqs["/about"]


def test_retry_after_is_honoured(hostile):
    flaky = hostile["flaky"]
    assert flaky.calls == 2
    assert flaky.times[1] - flaky.times[0] >= 0.9


def test_documents_recorded(hostile):
    kinds = sorted(d["kind"] for d in hostile["doc"]["documents"])
    assert kinds == ["pdf", "word"]


def test_encodings_and_odd_html(hostile):
    assert hostile["pages"]["latin1"]["title"] == "Caf\u00e9 d\u00e9j\u00e0 vu"
    assert hostile["pages"]["spa-only"]["found_via"] == "rendered"


def test_tracking_parameters_dropped(hostile):
    assert not any("utm_" in p["url"] for p in hostile["doc"]["pages"])


def test_run_finishes_in_time(hostile):
    assert hostile["elapsed"] < 180, hostile["elapsed"]
