"""Scope by path, end to end: a start URL below / keeps the whole audit (crawl, sitemap, links
found in the rendered page, the start URL's own redirect) in its directory, and the summary,
the JSON and the stored run say what the scope was. Crawl-only cases: test_crawler_crawl.py."""

import pytest

from audits.engine.static_server import LoopbackServer
from helpers import invoke, load_json
from scope_site import routes

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def before(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scope")
    with LoopbackServer({}) as server:
        server.app.update(routes(server.origin))
        res = invoke("audit", server.origin + "/before/home.html", "--db", str(tmp / "a.db"),
                     "--json", str(tmp / "run.json"), cwd=tmp)
        requests = dict(server.requests)
    assert res.returncode == 0, res.stderr
    doc = load_json(tmp / "run.json")
    base = server.origin
    return {"doc": doc, "stderr": res.stderr, "requests": requests, "base": base,
            "pages": {p["url"][len(base):]: p for p in doc["pages"] if p["url"].startswith(base)}}


def test_links_found_in_the_rendered_page_keep_to_the_directory(before):
    pages, requests = before["pages"], before["requests"]
    assert pages["/before/scripted.html"]["status"] == "audited"
    assert pages["/after/scripted.html"]["reason_code"] == "out_of_scope"
    assert not any(p.startswith(("/after/", "/other/")) for p in requests), sorted(requests)
    audited = {p for p, v in pages.items() if v["status"] == "audited"}
    assert all(p.startswith("/before/") for p in audited) and len(audited) == 7, sorted(audited)


def test_the_summary_and_the_json_say_what_the_scope_was(before):
    base = before["base"]
    scope = before["doc"]["run"]["scope"]
    assert scope["mode"] == "path" and scope["roots"] == [base + "/before/"]
    assert before["doc"]["run"]["config"]["scope"] == "path"
    text = " ".join(before["stderr"].split())
    assert f"Scope: {base}/before/ and below (use --scope host for the whole host)" in text


def test_scope_host_widens_and_says_so(tmp_path):
    with LoopbackServer({}) as server:
        server.app.update(routes(server.origin))
        res = invoke("audit", server.origin + "/before/home.html", "--scope", "host", "--max-pages", "30",
                     "--db", str(tmp_path / "a.db"), "--json", str(tmp_path / "run.json"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = load_json(tmp_path / "run.json")
    audited = {p["url"][len(server.origin):] for p in doc["pages"] if p["status"] == "audited"}
    assert {"/after/home.html", "/after/scripted.html", "/other/page.html"} <= audited
    assert doc["run"]["scope"]["mode"] == "host"
    assert f"Scope: {server.origin}/ (the whole host)" in " ".join(res.stderr.split())


def test_a_start_url_redirecting_out_of_its_directory_says_what_to_do(tmp_path):
    with LoopbackServer({}) as server:
        server.app.update(routes(server.origin))
        res = invoke("audit", server.origin + "/before/start", "--db", str(tmp_path / "a.db"), cwd=tmp_path)
        requests = dict(server.requests)
    assert res.returncode == 2
    err = " ".join(res.stderr.split())
    assert "outside the start URL's directory" in err and "--scope host" in err, err
    assert f"audit {server.origin}/after/home.html instead" in err
    assert "/after/home.html" not in requests
