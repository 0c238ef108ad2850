"""What to fix first, and what needs review: one ranked list (by the model's gain) that the
terminal summary, ``a11ycrawl history`` and the HTML report all show; and axe's "needs review"
results shown apart from failures (terminal, HTML, JSON), never scored.

No browser: the run is built in the store from axe-like result dicts (the HTML report's own
audit in Chromium is in test_report_html.py).
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from rich.console import Console

from audits.analysis.fingerprint import finding_fingerprint
from audits.results import score_run, stored_score
from audits.store import PageRecord, open_store
from reports.cli import cli as a11ycrawl
from reports.data import FIX_FIRST, FixFirst, fix_first, run_document
from reports.html import build_report, render_report
from reports.terminal import print_summary
from helpers import Tags, _v, contrast, label, logo

SITE = "Southfen Parish Council"
BASE = "https://www.southfen.example.gov.uk/"
PATHS = ["", "bins/", "council-tax/", "contact/", "news/", "planning/"]


def maybe_contrast(path):
    """axe's "needs review" for a text over a background image (its incomplete result)."""
    v = _v("color-contrast", "serious", ["cat.color", "wcag2aa", "wcag143"], [".hero h1"],
           '<h1 class="hero-title">Welcome <script>x()</script></h1>', "Elements must meet minimum color contrast ratio thresholds")
    v["nodes"][0]["failureSummary"] = "Fix any of the following:\n  Element's background color could not be determined"
    return v


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Six pages: low contrast on every page (serious), a logo without alt on two (critical), an
    unlabelled input on one (critical). By impact the critical ones come first; by what fixing
    each adds to the score, contrast does. Two pages have results that need review."""
    s = open_store(tmp_path_factory.mktemp("fix") / "f.db")
    run = s.create_run(site=SITE, start_url=BASE, tool_version="0.1.0", axe_version="4.12.1", config={},
                       config_hash="cfg", max_pages=50)
    for i, path in enumerate(PATHS):
        violations = [contrast()] + ([logo()] if i < 2 else []) + ([label()] if path == "contact/" else [])
        s.save_page(run, PageRecord(url=BASE + path, status="audited", title=f"Page {i}", violations=violations,
                                    incomplete=[maybe_contrast(path)] if i in (0, 3) else []),
                    fingerprint=finding_fingerprint)
    s.finish_run(run, "complete")
    score_run(s, run)
    yield s
    s.close()


EXPECTED = [("color-contrast", 0.8, 6), ("image-alt", 0.4, 2), ("label", 0.2, 1)]
ROW = re.compile(r"│\s*\d+\s*│\s*([\w-]+)\s*│\s*\+(\d+\.\d)\s*│\s*(\d+) \(")
HTML_ROW = re.compile(r'<code>([\w-]+)</code></th>\s*<td class="num" data-label="Adds to the score">\+(\d+\.\d)</td>\s*'
                      r'<td class="num" data-label="Pages affected">(\d+) of')


def parsed(rows):
    return [(rule, float(gain), int(pages)) for rule, gain, pages in rows]


def test_fix_first_is_ranked_by_the_models_gain(store):
    components = json.loads(stored_score(store, 1)["components"])
    items = fix_first(components)
    assert [(f.rule, f.gain, f.pages) for f in items] == EXPECTED
    assert items[0].wcag == ("1.4.3 Contrast (Minimum)",) and items[1].wcag == ("1.1.1 Non-text Content",)
    assert items[2].wcag == ("4.1.2 Name, Role, Value",)
    assert [g.rule for g in build_report(store, site=SITE).issues] == ["image-alt", "label", "color-contrast"]  # by impact


def test_terminal_history_and_html_report_show_the_same_fix_first(store):
    console = Console(record=True, width=200, force_terminal=False)
    print_summary(console, store, 1)
    summary = console.export_text()
    terminal = parsed(ROW.findall(summary))

    res = CliRunner(env={"COLUMNS": "200"}).invoke(a11ycrawl, ["history", SITE, "--db", store.path])
    assert res.exit_code == 0, res.output
    history = parsed(ROW.findall(res.stdout))

    report = build_report(store, site=SITE)
    html = render_report(report)
    section = html[html.index('id="fix-first"'):html.index("Progress against targets")]
    in_html = parsed(HTML_ROW.findall(section))

    assert terminal == history == in_html == EXPECTED
    assert [(f.rule, f.gain, f.pages) for f in report.fix_first] == EXPECTED
    for wcag in ("1.4.3 Contrast (Minimum)", "1.1.1 Non-text Content", "4.1.2 Name, Role, Value"):
        assert wcag in summary and wcag in res.stdout and wcag in section


def test_the_lists_stop_at_the_same_rule_and_count_the_rest(tmp_path):
    s = open_store(tmp_path / "many.db")
    rules = [f"rule-{i}" for i in range(FIX_FIRST + 2)]
    run = s.create_run(site=SITE, start_url=BASE, tool_version="0.1.0", axe_version="4.12.1", config={},
                       config_hash="cfg", max_pages=50)
    for i, path in enumerate(PATHS):
        failing = rules[:len(rules) - i]  # rule-0 on every page, the last ones on fewer
        s.save_page(run, PageRecord(url=BASE + path, status="audited", violations=[
            _v(r, "serious", ["wcag2a", "wcag412"], ["main"], "<main></main>", r) for r in failing]))
    s.finish_run(run, "complete")
    score_run(s, run)
    console = Console(record=True, width=200, force_terminal=False)
    print_summary(console, s, run)
    summary = console.export_text()
    html = render_report(build_report(s, site=SITE))
    shown = [r for r, _, _ in ROW.findall(summary)]
    assert shown == [r for r, _, _ in HTML_ROW.findall(html)] == rules[:FIX_FIRST]
    assert "and 2 more failing rules, worth about +0.5 in all" in summary
    assert "…and 2 more failing rules, worth about +0.5 in all" in html
    s.close()


# -- needs review ------------------------------------------------------------------------------------

def test_needs_review_is_counted_apart_in_the_terminal_summary(store):
    console = Console(record=True, width=250, force_terminal=False)
    print_summary(console, store, 1)
    text = console.export_text()
    assert "Needs review: 2 elements on 2 pages (1 rule: color-contrast)" in text and "not scored" in text


def test_needs_review_has_its_own_accessible_section_in_the_html_report(store):
    report = build_report(store, site=SITE)
    (group,) = report.needs_review
    assert (group.rule, group.pages, group.elements, group.impact) == ("color-contrast", 2, 2, "serious")
    assert group.wcag == ("1.4.3 Contrast (Minimum)",)
    assert group.patterns[0].pages == ((BASE, "Page 0"), (BASE + "contact/", "Page 3"))
    html = render_report(report)
    section = html[html.index('<section aria-labelledby="review">'):]
    section = section[:section.index("</section>")]
    assert '<h2 id="review">Needs review</h2>' in section and '<h3 id="review-color-contrast">' in section
    tags = Tags(section)
    assert [a.get("scope") for a in tags.all("th")][:4] == ["col"] * 4 and tags.all("caption")
    assert tags.all("th")[4].get("scope") == "row"
    assert "background color could not be determined" in section
    assert "&lt;script&gt;x()&lt;/script&gt;" in section and "<script>x()" not in html  # escaped
    assert '<a href="#review">Needs review</a>' in html
    # not a failure: the failing elements, the issues and the score leave it out
    assert report.by_impact["serious"]["elements"] == 6
    assert all(p.rules[0].rule != "color-contrast" or len(p.rules[0].elements) == 1 for p in report.pages)


def test_needs_review_is_in_the_json_apart_from_violations(store):
    doc = run_document(store, 1)
    home = next(p for p in doc["pages"] if p["url"] == BASE)
    (review,) = home["incomplete"]
    assert review["rule"] == "color-contrast" and review["nodes"][0]["target"] == [".hero h1"]
    assert [n["target"] for v in home["violations"] if v["rule"] == "color-contrast" for n in v["nodes"]] == [
        [".footer-note"]]
    assert sum(len(p["incomplete"]) for p in doc["pages"]) == 2


def test_a_run_scored_only_under_model_1_is_reported_under_model_1_and_says_so(tmp_path):
    """A database from before model 2: the report shows model 1's score and page scores, named."""
    from audits.analysis.scoring import MODEL_1, MODEL_2, MODEL_3, score_pages
    from audits.results import page_inputs

    s = open_store(tmp_path / "old.db")
    run = s.create_run(site=SITE, start_url=BASE, tool_version="0.1.0", axe_version="4.12.1", config={},
                       config_hash="cfg", max_pages=50)
    for i, path in enumerate(PATHS[:3]):
        s.save_page(run, PageRecord(url=BASE + path, status="audited", violations=[logo()] if i else []))
    s.finish_run(run, "complete")
    score_run(s, run)
    s.db["scores"].delete((run, MODEL_2))
    s.db["scores"].delete((run, MODEL_3))
    report = build_report(s, site=SITE)
    old = score_pages(page_inputs(s, run), MODEL_1)
    assert (report.score, report.score_model) == (old.score, MODEL_1)
    assert {p.url: p.score for p in report.pages} == {p.url: p.score for p in old.pages if p.rules}
    assert f"Scoring model {MODEL_1}" in render_report(report)
    s.close()


def test_the_rest_is_worth_what_its_points_add_up_to_not_its_rounded_gains():
    """Under model 3 a rule on one page of fifty can show +0.0 (0.07 points, rounded alone);
    four of them together are worth about +0.3, not "+0.0 in all"."""
    rest = [FixFirst(rule=f"r{i}", gain=0.0, pages=1, prevalence=0.02, impact="minor", level="A", wcag=(),
                     cost=None, points=0.07) for i in range(4)]
    assert FixFirst.together(rest) == 0.3
    assert FixFirst.together([FixFirst(rule="r", gain=0.4, pages=1, prevalence=1, impact="minor", level="A",
                                       wcag=(), cost=0.4)] * 2) == 0.8  # model 2: gains add up
