"""The HTML report: what it shows (summary, trends with engine changes, league, changes, issues
grouped by rule, drill-down), that it is self-contained and escapes everything taken from
audited pages, and, in Chromium, that it passes a11ycrawl's own audit, reads at laptop and
phone widths, prints, and runs no script injected by a hostile page.

The history is built directly in the store (no browser): :func:`history_store` is shared with
test_exports.py and test_check.py.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from reports.cli import cli as a11ycrawl
from audits.analysis.fingerprint import finding_fingerprint
from audits.analysis.history import SiteGoals, Target
from audits.analysis.scoring import score_run
from audits.store import PageRecord, open_store
from conftest import load_json
from reports.html import build_report, render_report
from siteserver import Reply

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


def add_run(store, site, base, when, pages, axe="4.12.1", titles=None, failed=(), unsettled=()):
    """A stored, scored run: ``pages`` maps a path to its violations; ``unsettled`` pages were
    audited when the settle wait hit its cap."""
    run_id = store.create_run(site=site, start_url=base, tool_version="0.1.0", axe_version=axe, config={"max_pages": 50},
                              config_hash="cfg1", max_pages=50)
    for path, violations in pages.items():
        title = (titles or {}).get(path, f"{path.strip('/').replace('-', ' ').capitalize() or 'Home'} - {site}")
        store.save_page(run_id, PageRecord(url=base + path, status="audited", title=title, violations=list(violations),
                                           facts=UNSETTLED if path in unsettled else None),
                        fingerprint=finding_fingerprint)
    for path in failed:
        store.save_page(run_id, PageRecord(url=base + path, status="failed", reason_code="timeout",
                                           reason="the page did not load within 30 s"))
    store.finish_run(run_id, "complete")
    store.db["runs"].update(run_id, {"started_at": f"2027-{when}T02:00:00+00:00", "finished_at": f"2027-{when}T02:05:00+00:00"})
    score_run(store, run_id)
    return run_id


def history_store(path, hostile_page=True):
    """Three councils: Northbrook with three runs (axe-core changes after the first, one failure
    fixed, one new), Eastmarsh with two, Westfold with a template error on every page."""
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
    add_run(store, n, BASE, "01-19", last, titles=titles, failed=["slow/"], unsettled=["contact/"])
    e = "Eastmarsh Borough Council"
    eb = "https://www.eastmarsh.example.gov.uk/"
    add_run(store, e, eb, "01-06", {p: [label()] if p == "contact/" else [] for p in PAGES})
    add_run(store, e, eb, "01-20", {p: [] for p in PAGES})
    w = "Westfold County Council"
    wb = "https://www.westfold.example.gov.uk/"
    add_run(store, w, wb, "01-07", {p: [logo(), contrast(), label()] for p in PAGES})
    add_run(store, w, wb, "01-21", {p: [logo(), contrast()] for p in PAGES})
    return store


GOALS = {"Northbrook District Council": SiteGoals(baseline=3.0, targets=[
    Target(score=9.0, by=dt.date(2027, 6, 30)), Target(no_critical=True, by=dt.date(2027, 1, 31))])}


@pytest.fixture(scope="module")
def rich_store(tmp_path_factory):
    s = history_store(tmp_path_factory.mktemp("report") / "h.db")
    yield s
    s.close()


@pytest.fixture(scope="module")
def northbrook_html(rich_store):
    report = build_report(rich_store, site="Northbrook District Council", goals=GOALS, now=NOW)
    return report, render_report(report)


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


# -- what it shows ------------------------------------------------------------------------------

def test_summary_shows_score_rank_change_and_targets(northbrook_html):
    report, html = northbrook_html
    assert report.run["id"] == 3 and report.rank is not None and report.ranked_sites == 3
    assert report.change is not None and "since run 2" in html
    text = " ".join(Tags(html).text)
    assert f"{report.score:.1f}" in text and "out of 10" in text
    assert "score 9.0 by 2027-06-30" in text and "no critical failures by 2027-01-31" in text
    assert "missed" in text  # the critical target's date has passed
    assert "baseline score of 3.0 (site list)" in text
    assert "1 could not be audited" in text and "Pages that could not be audited" in text


def test_trend_charts_mark_the_axe_core_change_and_have_tables(northbrook_html):
    report, html = northbrook_html
    score_chart, impact_chart = report.charts
    assert score_chart.markers and "axe-core 4.11.0 → 4.12.1" in score_chart.markers[0][1]
    assert "axe-core 4.11.0 → 4.12.1" in html
    assert html.count('<svg class="chart"') == 2 and html.count('role="img"') == 2
    assert [s.name for s in impact_chart.series] == ["critical", "serious", "moderate", "minor"]
    assert len({s.marker for s in impact_chart.series}) == 4  # shapes and dashes, not colour alone
    assert "Score per run" in html and "Failing elements per run, by impact" in html


def test_league_table_when_several_sites_are_stored(northbrook_html, rich_store):
    _, html = northbrook_html
    assert 'id="league"' in html and "Westfold County Council" in html and "(this site)" in html
    single = open_store(":memory:")
    single.save_rules("4.12.1", RULES)
    add_run(single, "Only", BASE, "01-01", {"": [logo()]})
    one = render_report(build_report(single, now=NOW))
    assert 'id="league"' not in one and "nothing to compare with yet" in one


def test_issues_are_grouped_by_rule_with_one_entry_per_template_error(rich_store):
    report = build_report(rich_store, site="Westfold County Council", now=NOW)
    html = render_report(report)
    rules = [g.rule for g in report.issues]
    assert rules == ["image-alt", "color-contrast"]  # critical first, then serious
    logo_issue = report.issues[0]
    assert logo_issue.pages == 4 and len(logo_issue.patterns) == 1 and len(logo_issue.patterns[0].pages) == 4
    assert html.count("header &gt; a &gt; img.logo") == 1 + 4  # once in the issue, once per page drill-down
    assert "1.1.1 Non-text Content" in html and "1.4.3 Contrast (Minimum)" in html
    assert "Ensure &lt;img&gt; elements have alternative text" in html  # axe's description, escaped
    assert 'href="https://dequeuniversity.com/rules/axe/4.12/image-alt?application=axeAPI"' in html


def test_pages_audited_before_they_settled_are_listed(northbrook_html):
    report, html = northbrook_html
    assert [p["url"] for p in report.unsettled] == [BASE + "contact/"]
    assert "1 audited before it settled" in html and 'href="#unsettled"' in html
    section = html[html.index('<section aria-labelledby="unsettled">'):]
    section = section[:section.index("</section>")]
    assert BASE + "contact/" in section and "3004 ms" in section and ">network<" in section


def test_changes_since_the_previous_run(northbrook_html):
    report, html = northbrook_html
    d = report.diff
    assert d.previous_run == 2
    assert sorted(f.rule for f in d.new) == ["image-alt", "label"]  # a second logo on bins/, the ref input
    assert sorted(f.rule for f in d.fixed) == ["color-contrast", "image-alt"]  # council-tax/ is clean now
    assert "New failures (2)" in html and "Fixed (2)" in html


def test_page_drill_down_has_selectors_and_snippets(northbrook_html):
    report, html = northbrook_html
    contact = next(p for p in report.pages if p.url.endswith("/contact/"))
    assert [r.rule for r in contact.rules] == ["label", "image-alt"]  # most severe, then most elements
    assert html.count("<details>") >= len(report.pages)
    assert "input[name=&#34;ref&#34;]" in html or 'input[name="ref"]' in html.replace("&#34;", '"')


# -- safety and self-containment -------------------------------------------------------------------

def test_everything_from_audited_pages_is_escaped(northbrook_html):
    _, html = northbrook_html
    for raw in (HOSTILE_TITLE, HOSTILE_HTML, "<script>window.__pwned"):
        assert raw not in html
    assert "&lt;/title&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;img src=&#34;x&#34; onerror=&#34;window.__pwned=2&#34;&gt;" in html
    parsed = Tags(html)
    assert [t for t, _ in parsed.tags].count("script") == 1  # the print helper, allowed by hash
    assert not [(t, a) for t, a in parsed.tags if any(k.startswith("on") for k in a)]
    assert not [a for a in parsed.all("a") if not re.match(r"^(https?:|#)", a.get("href", "#"))]


def test_the_file_is_self_contained(northbrook_html):
    _, html = northbrook_html
    parsed = Tags(html)
    assert not parsed.all("link") and not parsed.all("img") and not parsed.all("iframe")
    assert all("src" not in a for _, a in parsed.tags)
    csp = next(a["content"] for a in parsed.all("meta") if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    assert "@media print" in html and 'lang="en"' in html and 'class="skip" href="#main"' in html


def test_report_command_writes_the_file(rich_store, tmp_path):
    out = tmp_path / "r.html"
    res = CliRunner().invoke(a11ycrawl, ["report", "--db", rich_store.path, "--site", "Eastmarsh Borough Council",
                                         "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Eastmarsh Borough Council" in out.read_text() and "Wrote" in res.output


def test_report_errors_are_one_line_exit_2(cli, rich_store, tmp_path):
    res = cli("report", "--db", rich_store.path, "--site", "Nowhere", "-o", str(tmp_path / "x.html"))
    assert res.returncode == 2 and "no runs of site 'Nowhere'" in res.stderr
    res = cli("report", "--db", rich_store.path, "--run", "99", "-o", str(tmp_path / "x.html"))
    assert res.returncode == 2 and "no run 99" in res.stderr


# -- in Chromium ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    from audits.engine.browser import find_chromium, launch_args

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=launch_args())
        yield browser
        browser.close()


@pytest.mark.browser
def test_report_passes_its_own_audit(cli, serve, northbrook_html, tmp_path):
    _, html = northbrook_html
    server = serve({"/report.html": Reply(body=html)})
    res = cli("audit", server.url + "/report.html", "--max-pages", "1", "--db", str(tmp_path / "self.db"),
              "--json", str(tmp_path / "self.json"), "-q")
    assert res.returncode == 0, res.stderr
    (page,) = [p for p in load_json(tmp_path / "self.json")["pages"] if p["status"] == "audited"]
    assert page["violations"] == [], [(v["rule"], [n["target"] for n in v["nodes"]]) for v in page["violations"]]


@pytest.mark.browser
@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_report_fits_laptop_and_phone_and_prints(chromium, northbrook_html, tmp_path, width, height):
    _, html = northbrook_html
    path = tmp_path / "r.html"
    path.write_text(html)
    page = chromium.new_page(viewport={"width": width, "height": height})
    page.goto(path.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert page.locator("h1").inner_text() == "Northbrook District Council"
    if width > 1000:
        page.emulate_media(media="print")
        assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "none"
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 2
    page.close()


HOSTILE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title><script>window.__pwned='title'</script><img src=x onerror="window.__pwned='title-img'"></title></head>
<body><main><h1>Hostile</h1>
<img src="/nope.png" onerror="window.__pwned='img'" data-x="</code></pre><script>window.__pwned='snippet'</script>">
<a href="/page?q=%22%3E%3Cscript%3Ewindow.__pwned%3D%27url%27%3C%2Fscript%3E"><img src="/x.png"></a>
<form><input type="text" name="</pre><svg onload=window.__pwned='input'>"></form>
<button><svg onload="window.__pwned='button'"></svg></button>
</main></body></html>"""


@pytest.mark.browser
def test_a_hostile_page_cannot_run_script_in_the_report(cli, serve, chromium, tmp_path):
    server = serve({"/": Reply(body=HOSTILE_PAGE),
                    "/page": Reply(body=HOSTILE_PAGE.replace("<h1>Hostile</h1>", "<h1>Second</h1>"))})
    db = str(tmp_path / "h.db")
    res = cli("audit", server.url + "/", "--max-pages", "3", "--db", db, "-q")
    assert res.returncode == 0, res.stderr
    res = cli("report", "--db", db, "-o", str(tmp_path / "report.html"))
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "report.html").read_text()
    assert "<script>window.__pwned" not in html and "onerror=\"window" not in html
    dialogs = []
    # bypass_csp: escaping alone must stop the payloads (the page's CSP is a second line of defence)
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((tmp_path / "report.html").as_uri())
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None and not dialogs
    assert page.evaluate("document.querySelectorAll('[onerror], [onload], iframe, img, object, embed').length") == 0
    assert page.evaluate("document.scripts.length") == 1
    text = page.inner_text("main")
    assert "<script>window.__pwned='title'</script>" in text  # shown as text, exactly as the page had it
    assert "onerror=\"window.__pwned='img'\"" in text
    context.close()
