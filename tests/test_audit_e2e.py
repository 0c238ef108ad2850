"""End to end: the CLI (in this process) crawls the fixture site, audits it in Chromium and stores it."""

import re
import sqlite3

import pytest

from audits.engine.static_server import LoopbackServer
from fixture_site import routes
from helpers import invoke, load_json

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """One audit of the fixture site, shared by the tests of this module."""
    tmp = tmp_path_factory.mktemp("e2e")
    with LoopbackServer(routes(slow_seconds=20)) as server:
        res = invoke("audit", server.url, "--db", str(tmp / "a.db"), "--json", str(tmp / "run.json"),
                      "--page-timeout", "5", cwd=tmp)
        requests = dict(server.requests)
    assert res.returncode == 0, res.stderr
    doc = load_json(tmp / "run.json")
    pages = {p["url"].split(":", 2)[2].split("/", 1)[1] if p["url"].startswith("http://127.0.0.1") else p["url"]: p
             for p in doc["pages"]}
    return {"doc": doc, "pages": pages, "db": tmp / "a.db", "stderr": res.stderr, "requests": requests}


def rules(page, kind="violations"):
    return {v["rule"]: len(v["nodes"]) for v in page[kind]}


def test_every_linked_page_is_audited(audited):
    pages = audited["pages"]
    for path in ("", "about", "services/", "news/", "contact"):
        assert pages[path]["status"] == "audited", (path, pages.get(path))
    assert audited["doc"]["run"]["status"] == "complete"
    assert audited["doc"]["run"]["axe_version"] == "4.12.1"


def test_sitemap_and_robots(audited):
    pages = audited["pages"]
    assert pages["sitemap-only"]["status"] == "audited"
    assert pages["sitemap-only"]["found_via"] == "sitemap"
    assert pages["admin/secret"]["status"] == "skipped"
    assert pages["admin/secret"]["reason_code"] == "robots_disallowed"
    assert "/admin/secret" not in audited["requests"], "robots.txt was not obeyed"


def test_known_violations(audited):
    pages = audited["pages"]
    assert rules(pages[""]).get("image-alt") == 1
    assert rules(pages["contact"]).get("label") == 1
    assert rules(pages["about"]) == {}


def test_violation_inside_iframe_is_found(audited):
    services = audited["pages"]["services/"]
    found = rules(services)
    assert found.get("image-alt") == 1 and found.get("label") == 1, found
    targets = [n["target"] for v in services["violations"] for n in v["nodes"]]
    # axe reports a frame's element as [iframe selector, selector inside the frame]
    assert all(len(t) == 2 for t in targets), targets


def test_javascript_inserted_content_is_audited(audited):
    news = rules(audited["pages"]["news/"])
    assert news.get("image-alt") == 1 and news.get("button-name") == 1, news


def test_content_from_a_slow_fetch_is_audited(audited):
    assert rules(audited["pages"]["late"]).get("image-alt") == 1


def test_failures_and_skips_are_recorded_with_reasons(audited):
    pages = audited["pages"]
    # a 404 is the site's answer: a broken link, listed with the page that links it, not a failure
    assert (pages["missing"]["status"], pages["missing"]["reason_code"]) == ("skipped", "broken_link")
    assert pages["missing"]["referrer"] and pages["missing"]["http_status"] == 404
    assert {"url": pages["missing"]["url"], "http_status": 404, "linked_from": pages["missing"]["referrer"]} \
        in [{k: b[k] for k in ("url", "http_status", "linked_from")} for b in audited["doc"]["broken_links"]]
    missing = next(b for b in audited["doc"]["broken_links"] if b["url"] == pages["missing"]["url"])
    assert pages["missing"]["referrer"] in missing["linked_from_pages"]
    assert "Broken links (1:" in " ".join(audited["stderr"].split())  # the summary lists them
    assert (pages["slow"]["status"], pages["slow"]["reason_code"]) == ("failed", "timeout")
    assert pages["mailto:info@example.org"]["reason_code"] == "non_http_scheme"
    assert pages["http://outside.invalid/page"]["reason_code"] == "out_of_scope"
    assert (pages["old-about"]["status"], pages["old-about"]["reason_code"]) == ("skipped", "duplicate")
    assert [d["kind"] for d in audited["doc"]["documents"]] == ["pdf"]
    for p in audited["doc"]["pages"]:
        if p["status"] != "audited":
            assert p["reason_code"] and p["reason"], p


def test_store_holds_what_the_json_says(audited):
    doc = audited["doc"]
    con = sqlite3.connect(audited["db"])
    run_id = doc["run"]["id"]
    (n_pages,) = con.execute("select count(*) from pages where run_id = ?", [run_id]).fetchone()
    assert n_pages == len(doc["pages"])
    stored = {
        (url, rule): n
        for url, rule, n in con.execute(
            "select p.url, f.rule, count(*) from findings f join pages p on p.id = f.page_id "
            "where f.run_id = ? and f.kind = 'violation' group by p.url, f.rule", [run_id])
    }
    from_json = {(p["url"], v["rule"]): len(v["nodes"]) for p in doc["pages"] for v in p["violations"]}
    assert stored == from_json
    run = con.execute("select status, axe_version, config_hash, tool_version, browser from runs where id = ?",
                      [run_id]).fetchone()
    assert run[0] == "complete" and run[1] == "4.12.1" and run[2] and run[3]
    assert re.fullmatch(r"\S+ \d+(\.\d+){3}", run[4]), run[4]  # e.g. chromium-headless-shell 156.0.8078.79
    (n_rules,) = con.execute("select count(*) from rules where axe_version = '4.12.1'").fetchone()
    assert n_rules > 50


def test_summary_on_stderr(audited):
    err = audited["stderr"]
    assert "Violations by impact" in err and "image-alt" in err
