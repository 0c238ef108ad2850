"""The HTML report: what it shows (summary, trends with engine changes, league, changes, issues
grouped by rule, drill-down), that it is self-contained and escapes everything taken from
audited pages, and, in Chromium, that it passes a11ycrawl's own audit, reads at laptop and
phone widths, prints, and runs no script injected by a hostile page.

The history is built directly in the store (no browser): :func:`helpers.history_store`, shared
with test_exports.py and test_check.py. The Chromium tests use the session's browser.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner

from audits.analysis.history import SiteGoals, Target
from audits.engine.static_server import Reply
from audits.store import open_store
from helpers import (
    BASE, HOSTILE_HTML, HOSTILE_TITLE, NOW, RULES, Tags, add_run, assert_passes_own_audit, history_store, logo, run,
)
from reports.cli import cli as a11ycrawl
from reports.html import build_report, render_report

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


# -- what it shows ------------------------------------------------------------------------------

def test_summary_shows_score_rank_change_and_targets(northbrook_html):
    report, html = northbrook_html
    assert report.run["id"] == 3 and report.rank is not None and report.ranked_sites == 3
    assert report.score == 8.8 and report.score_model == "a11ycrawl-score/3"  # no documents or statement facts: model 2's
    assert [(f.rule, f.gain, f.pages) for f in report.fix_first] == [
        ("image-alt", 0.7, 3), ("label", 0.3, 1), ("link-name", 0.2, 1)]
    assert 'id="fix-first-caption"' in html and '<a href="#review">Needs review</a>' in html
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
    assert "input[name=&#34;ref&#34;]" in html  # the selector as autoescape writes it
    assert 'input[name="ref"]' not in html


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

@pytest.mark.browser
def test_report_passes_its_own_audit(audit, serve, northbrook_html):
    _, html = northbrook_html
    assert_passes_own_audit(audit, serve, html)


@pytest.mark.browser
@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_report_fits_laptop_and_phone_and_prints(browser, northbrook_html, tmp_path, width, height):
    _, html = northbrook_html
    path = tmp_path / "r.html"
    path.write_text(html)

    async def check():
        page = await browser.new_page(viewport={"width": width, "height": height})
        await page.goto(path.as_uri())
        assert await page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        assert await page.locator("h1").inner_text() == "Northbrook District Council"
        if width > 1000:
            await page.emulate_media(media="print")
            assert await page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "none"
            pdf = await page.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 2
        await page.close()

    run(check())


HOSTILE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title><script>window.__pwned='title'</script><img src=x onerror="window.__pwned='title-img'"></title></head>
<body><main><h1>Hostile</h1>
<img src="/nope.png" onerror="window.__pwned='img'" data-x="</code></pre><script>window.__pwned='snippet'</script>">
<a href="/page?q=%22%3E%3Cscript%3Ewindow.__pwned%3D%27url%27%3C%2Fscript%3E"><img src="/x.png"></a>
<form><input type="text" name="</pre><svg onload=window.__pwned='input'>"></form>
<button><svg onload="window.__pwned='button'"></svg></button>
</main></body></html>"""


@pytest.mark.browser
def test_a_hostile_page_cannot_run_script_in_the_report(audit, cli, serve, browser, tmp_path):
    server = serve({"/": Reply(body=HOSTILE_PAGE),
                    "/page": Reply(body=HOSTILE_PAGE.replace("<h1>Hostile</h1>", "<h1>Second</h1>"))})
    audit(server.url, max_pages=3)
    res = cli("report", "--db", str(tmp_path / "a.db"), "-o", str(tmp_path / "report.html"))
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "report.html").read_text()
    assert "<script>window.__pwned" not in html and "onerror=\"window" not in html

    async def check():
        dialogs = []
        # bypass_csp: escaping alone must stop the payloads (the page's CSP is a second line of defence)
        context = await browser.new_context(bypass_csp=True)
        page = await context.new_page()

        async def on_dialog(dialog):
            dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        await page.goto((tmp_path / "report.html").as_uri())
        await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        await page.wait_for_timeout(300)
        assert await page.evaluate("window.__pwned") is None and not dialogs
        assert await page.evaluate("document.querySelectorAll('[onerror], [onload], iframe, img, object, embed').length") == 0
        assert await page.evaluate("document.scripts.length") == 1
        text = await page.inner_text("main")
        assert "<script>window.__pwned='title'</script>" in text  # shown as text, exactly as the page had it
        assert "onerror=\"window.__pwned='img'\"" in text
        await context.close()

    run(check())


LINKY = "https://www.linky.example.gov.uk/"
LINKY_HOSTILE = LINKY + '"><script>window.__pwned=4</script>'


@pytest.fixture(scope="module")
def linky_html(tmp_path_factory):
    """A run with two broken links (one with a hostile URL) linked from several pages, in a
    league with a site that stopped at a smaller page budget (marked)."""
    from audits.analysis.fingerprint import finding_fingerprint
    from audits.results import score_run
    from audits.store import PageRecord

    store = open_store(tmp_path_factory.mktemp("linky") / "b.db")

    def run_of(site, base, links, max_pages=50, cut=0):
        run = store.create_run(site=site, start_url=base, tool_version="0.1.0", axe_version="4.12.1",
                               config={"max_pages": max_pages, "scope": "path", "tags": ["wcag2a"]},
                               config_hash="c", max_pages=max_pages)
        for url, found in links.items():
            store.save_page(run, PageRecord(url=url, status="audited", title=site, facts={"links": found}),
                            fingerprint=finding_fingerprint)
        for i in range(cut):
            store.save_page(run, PageRecord(url=f"{base}more-{i}", status="skipped", reason_code="page_budget",
                                            reason="page budget reached"))
        return run

    run = run_of("Linky", LINKY, {LINKY: [LINKY + "old-page", LINKY_HOSTILE], LINKY + "news/": [LINKY + "old-page#top"],
                                  LINKY + "about/": []})
    store.save_page(run, PageRecord(url=LINKY + "old-page", status="skipped", reason_code="broken_link",
                                    http_status=404, referrer=LINKY, reason="HTTP 404: a broken link"))
    store.save_page(run, PageRecord(url=LINKY_HOSTILE, status="skipped", reason_code="broken_link", http_status=410,
                                    referrer=LINKY, reason="HTTP 410: a broken link"))
    other = run_of("Other", "https://other.example/", {"https://other.example/": []}, max_pages=5, cut=2)
    third = run_of("Third", "https://third.example/", {"https://third.example/": []})
    for r in (run, other, third):
        store.finish_run(r, "complete")
        score_run(store, r)
    report = build_report(store, site="Linky", now=NOW)
    yield report, render_report(report)
    store.close()


def test_broken_links_are_listed_with_every_page_linking_them_escaped(linky_html):
    report, html = linky_html
    base, hostile = LINKY, LINKY_HOSTILE
    section = html[html.index('<section aria-labelledby="broken-links">'):]
    section = section[:section.index("</section>")]
    assert "Broken links (2)" in section and 'href="#broken-links"' in html
    old = section[section.index(base + "old-page"):]
    old = old[:old.index("</tr>")]
    assert ">404<" in old and f'href="{base}"' in old and f'href="{base}news/"' in old  # the fragment is dropped
    assert f'href="{base}about/"' not in old
    assert "window.__pwned=4" in section and "<script>window.__pwned=4" not in html and hostile not in html
    assert ">410<" in section
    # the report's "not audited" list is for failures: broken links are not among them
    assert 'aria-labelledby="not-audited"' not in html


def test_the_league_in_the_report_has_broken_links_and_marks(linky_html):
    report, html = linky_html
    league = html[html.index('<section aria-labelledby="league">'):]
    league = league[:league.index("</section>")]
    assert '<th scope="col" class="num">Broken links</th>' in league
    other = league[league.index("Other"):]
    other = other[:other.index("</tr>")]
    assert "stopped at its page budget of 5 pages" in other and "page budget 5; most sites: 50" in other
    assert "Scope of the audit: https://www.linky.example.gov.uk/ (the whole host)." in html


@pytest.mark.browser
def test_a_report_with_broken_links_and_marks_passes_its_own_audit(audit, serve, linky_html):
    _, html = linky_html
    assert_passes_own_audit(audit, serve, html)
