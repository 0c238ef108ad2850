"""`a11ycrawl check` for CI: its outputs (JUnit XML, SARIF 2.1.0 validated against the official
schema, GitHub annotations and job summary; golden files), and end to end against served sites:
a baseline with no new failures passes (exit 0), one new failure fails (exit 1) and is named in
every output; --dir, --urls, --sitemap; ignores with reasons; exit 2 when the tool cannot work.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from audits.analysis.gate import Ignore, Thresholds
from audits.results import baseline_from_run, check_stored_run
from reports.ci import github_annotations, junit_xml, markdown_summary, sarif_json
from audits.engine.static_server import Reply
from helpers import STATIC, STYLE, assert_valid_sarif, golden, history_store






# -- the outputs, from a stored history (no browser) ------------------------------------------------

@pytest.fixture(scope="module")
def report(tmp_path_factory):
    store = history_store(tmp_path_factory.mktemp("check") / "h.db")
    ignore = Ignore(reason="the news page is rebuilt next sprint", rule="link-name", url="/news/",
                    source="a11ycrawl.toml ignore[0]")
    yield check_stored_run(store, 3, thresholds=Thresholds(max_critical=10), baseline=baseline_from_run(store, 2),
                           ignores=[ignore])
    store.close()


def test_gate_on_the_stored_run(report):
    g = report.gate
    assert not g.passed
    assert [c.name for c in g.failed_checks] == ["no-new-failures"]
    assert sorted(f.rule for f in g.new) == ["image-alt", "label"]
    assert [i.finding.rule for i in g.ignored] == ["link-name"]


def test_junit_names_the_new_failures(report):
    text = junit_xml(report)
    golden("check.junit.xml", text)
    root = ET.fromstring(text)
    suite = root.find("testsuite")
    assert suite.get("failures") == "3"  # the gate check and two pages
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["no-new-failures"].find("failure") is not None
    contact = cases["https://www.northbrook.example.gov.uk/contact/"]
    (failure,) = contact.findall("failure")
    assert failure.get("type") == "label" and "NEW since run 2" in failure.get("message")
    assert "image-alt: 1 failing element already in the baseline" in contact.find("system-out").text
    assert cases["https://www.northbrook.example.gov.uk/slow/"].find("error").get("type") == "timeout"
    assert "ignored (the news page is rebuilt next sprint)" in cases["https://www.northbrook.example.gov.uk/news/"].find("system-out").text


def test_sarif_is_valid_2_1_0_and_names_the_new_failures(report):
    text = sarif_json(report)
    golden("check.sarif.json", text)
    log = json.loads(text)
    assert_valid_sarif(log)
    results = log["runs"][0]["results"]
    new = [r for r in results if r.get("baselineState") == "new"]
    assert sorted(r["ruleId"] for r in new) == ["image-alt", "label"]
    assert all(r["message"]["text"].startswith("NEW since run 2") for r in new)
    (ignored,) = [r for r in results if "suppressions" in r]
    assert ignored["ruleId"] == "link-name" and ignored["suppressions"][0]["justification"].startswith("the news page")
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["image-alt"]["helpUri"].startswith("https://dequeuniversity.com/")
    assert "WCAG 1.1.1" in rules["image-alt"]["properties"]["tags"]
    assert all(r["ruleIndex"] == list(rules).index(r["ruleId"]) for r in results)


def test_github_annotations_and_summary(report):
    text = github_annotations(report)
    golden("check.annotations.txt", text)
    lines = text.splitlines()
    assert lines[0].startswith("::error file=https%3A//www.northbrook.example.gov.uk/")
    assert sum("NEW" in line for line in lines) == 2 and any("label" in line and "NEW" in line for line in lines)
    assert lines[-1] == "::error title=a11ycrawl gate%3A no-new-failures::2 new failing elements since run 2: image-alt, label"
    summary = markdown_summary(report)
    golden("check.summary.md", summary)
    assert "## a11ycrawl check FAILED" in summary and "### New failures since run 2 (2)" in summary


def test_summary_cells_cannot_break_the_table_or_inject_html():
    from reports.ci import _md

    assert _md('<script>x</script> | `a` [l](javascript:1)\nnext') == (
        "&lt;script&gt;x&lt;/script&gt; \\| 'a' \\[l](javascript:1) next")


def test_workflow_commands_escape_newlines_and_separators():
    from reports.ci import _gh_data, _gh_prop

    assert _gh_data("a\nb%c\r") == "a%0Ab%25c%0D"
    assert _gh_prop("x:y,z") == "x%3Ay%2Cz"


# -- end to end ---------------------------------------------------------------------------------------



def page(title, body):
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{STYLE}</head>'
            f'<body><main><h1>{title}</h1>{body}<p><a href="/">Home</a> <a href="/a">A</a> <a href="/b">B</a></p>'
            f'</main></body></html>')


def site_routes():
    return {
        "/": Reply(body=page("Home", "<p>Welcome.</p>")),
        "/a": Reply(body=page("Page A", '<img src="/logo.png" class="logo">')),
        "/b": Reply(body=page("Page B", '<form><label for="q">Search</label><input id="q"></form>')),
    }


def check(cli, *args, tmp_path, env=None):
    return cli("check", *args, "--db", str(tmp_path / "check.db"), "-q", cwd=tmp_path,
               env={"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "", **(env or {})})


@pytest.mark.browser
def test_check_with_a_baseline_passes_then_fails_on_one_new_failure(cli, serve, tmp_path):
    routes = site_routes()
    server = serve(routes)
    first = check(cli, server.url, "--write-baseline", "a11y-baseline.json", "--exit-zero", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "FAILED" in first.stderr  # the strict default gate failed, --exit-zero kept the exit code 0
    baseline = json.loads((tmp_path / "a11y-baseline.json").read_text())
    assert [e["rule"] for e in baseline] == ["image-alt"] and baseline[0]["url"] == "127.0.0.1/a"

    same = check(cli, server.url, "--baseline", "a11y-baseline.json", "--junit", "same.xml",
                 "--sarif", "same.sarif", tmp_path=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert same.returncode == 0, same.stderr
    assert "no new failures since a11y-baseline.json" in same.stderr
    assert "::error" not in same.stdout
    assert ET.parse(tmp_path / "same.xml").getroot().get("failures") == "0"
    log = json.loads((tmp_path / "same.sarif").read_text())
    assert_valid_sarif(log)
    assert [r["baselineState"] for r in log["runs"][0]["results"]] == ["unchanged"]

    routes["/b"] = Reply(body=page("Page B", '<form><label for="q">Search</label><input id="q">'
                                             '<button class="go"><svg></svg></button></form>'))
    summary = tmp_path / "summary.md"
    new = check(cli, server.url, "--baseline", "a11y-baseline.json", "--junit", "new.xml", "--sarif", "new.sarif",
                tmp_path=tmp_path, env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert new.returncode == 1, new.stderr
    assert "1 new failing element since a11y-baseline.json: button-name" in new.stderr
    # JUnit: a failure of type button-name on page /b, marked new
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "new.xml").getroot().iter("testcase")}
    (failure,) = cases[server.origin + "/b"].findall("failure")
    assert failure.get("type") == "button-name" and "NEW" in failure.get("message")
    assert cases[server.origin + "/a"].find("failure") is None  # known: listed, not failed
    # SARIF: valid, the new result named
    log = json.loads((tmp_path / "new.sarif").read_text())
    assert_valid_sarif(log)
    (result,) = [r for r in log["runs"][0]["results"] if r.get("baselineState") == "new"]
    assert result["ruleId"] == "button-name" and result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == server.origin + "/b"
    # GitHub: an annotation for the new failure, and the job summary
    errors = [line for line in new.stdout.splitlines() if line.startswith("::error")]
    assert any("button-name" in line and "NEW" in line for line in errors)
    assert not any("image-alt" in line for line in errors)
    assert "### New failures since a11y-baseline.json (1)" in summary.read_text()
    assert "button-name" in summary.read_text()

    by_run = check(cli, server.url, "--baseline", "1", tmp_path=tmp_path)  # a stored run as the baseline
    assert by_run.returncode == 1 and "since run 1: button-name" in by_run.stderr




@pytest.mark.browser
def test_check_a_directory_with_an_ignore(cli, tmp_path):
    for name, body in STATIC.items():
        (tmp_path / "public" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "public" / name).write_text(body)
    (tmp_path / "a11ycrawl.toml").write_text(
        '[[ignore]]\nrule = "color-contrast"\nselector = ".legacy-footer *"\nreason = "old footer, replaced in May"\n')
    res = check(cli, "--dir", "public", "--max-critical", "0", "--max-serious", "0", "--sarif", "out.sarif",
                "--junit", "out.xml", "--html", "report.html", tmp_path=tmp_path)
    assert res.returncode == 1, res.stderr
    assert "1 critical failing element (maximum 0)" in res.stderr
    assert "pass max-serious" in res.stderr and "1 failing element(s) ignored" in res.stderr
    log = json.loads((tmp_path / "out.sarif").read_text())
    assert_valid_sarif(log)
    by_rule = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert by_rule["image-alt"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == os.path.join("public", "about.html")
    assert by_rule["color-contrast"]["suppressions"][0]["justification"] == "old footer, replaced in May"
    files = {c.get("file") for c in ET.parse(tmp_path / "out.xml").getroot().iter("testcase") if c.get("file")}
    assert files == {"public/index.html", "public/about.html", "public/docs/index.html", "public/terms.html"}
    assert "public" in (tmp_path / "report.html").read_text()  # the run is stored under the directory's name


@pytest.mark.browser
def test_check_a_url_list_and_a_sitemap(cli, serve, tmp_path):
    from fixture_site import routes

    server = serve(routes())
    (tmp_path / "pages.txt").write_text(f"# key pages\n{server.origin}/about\n\n{server.origin}/contact\n")
    res = check(cli, "--urls", "pages.txt", "--max-critical", "1", "--junit", "urls.xml", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    names = {c.get("name") for c in ET.parse(tmp_path / "urls.xml").getroot().iter("testcase")}
    assert {server.origin + "/about", server.origin + "/contact"} <= names and server.origin + "/news/" not in names
    res = check(cli, "--sitemap", server.origin + "/sitemap.xml", "--min-score", "0", "--junit", "sm.xml", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    names = {c.get("name") for c in ET.parse(tmp_path / "sm.xml").getroot().iter("testcase")}
    assert server.origin + "/sitemap-only" in names and server.origin + "/news/" not in names


def test_check_exit_2_when_the_tool_cannot_do_its_job(cli, tmp_path):
    res = check(cli, "https://a.example/", "--dir", ".", tmp_path=tmp_path)
    assert res.returncode == 2 and "exactly one thing to check" in res.stderr
    (tmp_path / "bad.json").write_text("{oops")
    res = check(cli, "https://a.example/", "--baseline", "bad.json", tmp_path=tmp_path)
    assert res.returncode == 2 and "bad.json is not readable JSON" in res.stderr
    (tmp_path / "a11ycrawl.toml").write_text('[[ignore]]\nrule = "region"\n')
    res = check(cli, "https://a.example/", tmp_path=tmp_path)
    assert res.returncode == 2 and "a11ycrawl.toml: ignore[0]: reason: Field required" in res.stderr


@pytest.mark.browser
def test_check_exit_2_for_an_unreachable_site(cli, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = check(cli, f"http://127.0.0.1:{port}/", "--exit-zero", tmp_path=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "could not be audited" in res.stderr


# -- a gate that cannot be fooled ----------------------------------------------------------------------

def test_junit_is_well_formed_whatever_the_pages_held():
    """Control characters (an ANSI escape, DEL, a lone surrogate) from an audited page in every
    text JUnit carries: an element's HTML and selector, titles, reasons, the ignore's reason."""
    from audits.analysis.gate import CheckReport, Finding, GateResult, IgnoredFinding, PageOutcome, RunInfo

    nasty = "a\x01b\x1b[31mc\x7fd\ud800e\x0cf\ufffe"
    url = "https://x.example/p\x1b"
    f = Finding(fingerprint="fp", rule="image-alt", impact="critical", url=url, target=("img." + nasty,),
                html=f"<img alt='{nasty}'>", help=nasty, help_url="https://x.example/help", failure_summary=nasty,
                page_title=nasty)
    ignored = IgnoredFinding(f, Ignore(reason=nasty, rule="image-alt"))
    gate = GateResult(passed=False, checks=(), counted=(f,), ignored=(ignored,), new_flags=None,
                      counts={"critical": 1}, baseline_source=None, thresholds=Thresholds())
    run = RunInfo(run_id=1, site=nasty, start_url=url, status="complete", started_at="2026-01-01T00:00:00",
                  axe_version=nasty, tool_version="0", score=None, score_reason=None)
    pages = (PageOutcome(url, "audited", title=nasty),
             PageOutcome(url + "/x", "failed", reason_code="http_error", reason=nasty))
    text = junit_xml(CheckReport(run=run, pages=pages, gate=gate))
    text.encode("utf-8")  # no lone surrogate left to stop the file being written
    root = ET.fromstring(text)
    failure = root.find(".//failure")
    assert "\\x1b[31m" in failure.text and "\\ud800" in failure.text  # shown, not dropped silently
    assert root.find(".//error").get("message") == "http_error: a\\x01b\\x1b[31mc\\x7fd\\ud800e\\x0cf\\ufffe"
    assert "\\x1b" in root.find("testsuite").get("name")


def test_check_exit_2_for_an_empty_url_list_or_an_unreadable_ignore_selector(cli, tmp_path):
    (tmp_path / "pages.txt").write_text("# nothing yet\n\n")
    res = check(cli, "--urls", "pages.txt", tmp_path=tmp_path)
    assert res.returncode == 2 and "--urls pages.txt: no URLs in it" in res.stderr
    (tmp_path / "ignores.toml").write_text('[[ignore]]\nrule = "image-alt"\nselector = "<<<"\nreason = "x"\n')
    res = check(cli, "https://a.example/", "--ignore-file", "ignores.toml", tmp_path=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "ignores.toml: ignore[0]: selector: '<<<' is not a CSS selector" in res.stderr


def test_check_help_names_the_coverage_gate(cli, tmp_path):
    res = cli("check", "--help", cwd=tmp_path)
    assert "--min-coverage" in res.stdout and "[default: 90" in res.stdout


@pytest.mark.browser
def test_check_fails_when_it_saw_too_few_pages(cli, serve, tmp_path):
    """Nineteen of twenty pages refused (HTTP 403, as a site going down answers): the one page
    left must not pass for the site."""
    links = "".join(f'<li><a href="/down/{i}">Page {i}</a></li>' for i in range(17))  # and /a, /b
    server = serve({"/": Reply(body=page("Home", f"<ul>{links}</ul>")), "/down/": lambda h: Reply(403),
                    "/a": Reply(403), "/b": Reply(403)})
    res = check(cli, server.url, "--max-critical", "0", "--junit", "cov.xml", tmp_path=tmp_path)
    assert res.returncode == 1, res.stderr
    assert "coverage 5% (1 of 20 pages audited) is below 90%" in res.stderr
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "cov.xml").getroot().iter("testcase")}
    assert cases["min-coverage"].find("failure") is not None
    res = check(cli, server.url, "--max-critical", "0", "--min-coverage", "5", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "coverage 5% (1 of 20 pages audited; minimum 5%)" in res.stderr


@pytest.mark.browser
def test_broken_links_are_listed_apart_from_coverage_and_gated(cli, serve, tmp_path):
    """Nineteen links to pages that are not there (404/410): broken links, listed with the page
    that links them; they do not lower coverage (the site answered), and the gate limits them."""
    links = "".join(f'<li><a href="/gone/{i}">Page {i}</a></li>' for i in range(17))  # and /a, /b
    server = serve({"/": Reply(body=page("Home", f"<ul>{links}</ul>")), "/gone/": lambda h: Reply(410)})
    res = check(cli, server.url, "--max-critical", "0", "--json", "run.json", tmp_path=tmp_path)
    assert res.returncode == 1, res.stderr
    text = " ".join(res.stderr.split())
    assert "pass min-coverage" in text and "FAIL max-broken-links: 19 broken links (404/410; maximum 0)" in text
    doc = json.loads((tmp_path / "run.json").read_text())
    assert len(doc["broken_links"]) == 19 and {b["linked_from"] for b in doc["broken_links"]} == {server.url}
    assert {b["http_status"] for b in doc["broken_links"]} == {404, 410}
    res = check(cli, server.url, "--max-critical", "0", "--max-broken-links", "19", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr


@pytest.mark.browser
def test_check_exit_2_when_the_sitemap_gives_no_page(cli, serve, tmp_path):
    empty = '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
    server = serve({"/": Reply(body=page("Home", "<p>Welcome.</p>")),
                    "/empty.xml": Reply(body=empty, ctype="application/xml"),
                    "/html.xml": Reply(body=page("Not a sitemap", "<p>Oops.</p>"))})
    for name in ("missing.xml", "empty.xml", "html.xml"):
        res = check(cli, "--sitemap", f"{server.origin}/{name}", "--min-score", "0", tmp_path=tmp_path)
        assert res.returncode == 2, (name, res.stderr)
        assert f"sitemap {server.origin}/{name} gave no page to audit" in res.stderr


@pytest.mark.browser
def test_an_ignore_with_a_pseudo_class_ignores_only_what_it_says(cli, serve, tmp_path):
    """`img:not([src])` once ignored every image (pseudo-classes were dropped): the gate passed
    with every failing image "ignored". Now the page decides: only the image without src."""
    server = serve({"/": Reply(body=page("Home", '<p><img src="/logo.png"> <img></p>'))})
    (tmp_path / "a11ycrawl.toml").write_text(
        '[[ignore]]\nrule = "image-alt"\nselector = "img:not([src])"\nreason = "placeholder until the CMS fills it"\n')
    res = check(cli, server.url, "--max-critical", "0", tmp_path=tmp_path)
    assert res.returncode == 1, res.stderr
    assert "1 critical failing element (maximum 0)" in res.stderr
    assert "1 failing element(s) ignored" in res.stderr
