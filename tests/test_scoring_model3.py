"""Model 3 (``a11ycrawl-score/3``): pages, documents, the statement and cross-page checks as
weighted parts of the site score. Properties (hypothesis), the README's worked example, and
scoring and rescoring through the store from stored documents and statement facts.

No browser: runs are plain dataclasses, or stores built with helpers.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from audits.analysis.scoring import (
    MIN_COVERAGE, MODEL_2, MODEL_3, MODEL_VERSION, MODELS, PART_WEIGHTS, PARTS, STATEMENT_REQUIREMENTS,
    DocumentInput, Failure, PageInput, StatementInput, score_page, score_pages,
)
from audits.results import rescore_all, score_run, score_stored_run
from audits.store import PageRecord
from helpers import add_run, assert_passes_own_audit, contrast, history_store, logo

# -- strategies -----------------------------------------------------------------------------------

RULES = ["image-alt", "button-name", "label", "color-contrast", "link-name"]
CHECKS = ["tagged", "title", "display_doc_title", "language", "text_layer", "figure_alt", "headings"]
SITE_CHECKS = ["consistent-navigation", "consistent-identification", "multiple-ways", "page-titles", "language"]


@dataclass(frozen=True)
class Found:
    """A cross-page finding as model 3 reads it (the shape of crosspage.SiteFinding that matters)."""

    check: str
    status: str
    pages: tuple[str, ...] = ()


failures = st.builds(Failure, rule=st.sampled_from(RULES),
                     impact=st.sampled_from(["critical", "serious", "moderate", "minor", None]),
                     level=st.sampled_from(["A", "AA", "AA", None]))
audited_pages = st.lists(st.lists(failures, max_size=5).map(tuple), min_size=1, max_size=8).map(
    lambda fs: [PageInput(url=f"https://x.test/{i}", failures=f) for i, f in enumerate(fs)])
documents = st.lists(
    st.lists(st.tuples(st.sampled_from(CHECKS), st.sampled_from(["pass", "fail", "not_applicable"])), max_size=7,
             unique_by=lambda c: c[0]).map(tuple), max_size=6,
).map(lambda ds: [DocumentInput(f"https://x.test/d{i}.pdf", checks) for i, checks in enumerate(ds)])
statements = st.one_of(
    st.none(),  # not recorded
    st.just(StatementInput(())),  # no statement found
    st.sets(st.sampled_from(STATEMENT_REQUIREMENTS)).map(
        lambda met: StatementInput(tuple((r, "met" if r in met else "missing") for r in STATEMENT_REQUIREMENTS))),
)
site_checks = st.lists(st.builds(Found, check=st.sampled_from(SITE_CHECKS),
                                 status=st.sampled_from(["pass", "fail", "not-applicable"])), max_size=5,
                       unique_by=lambda f: f.check)


@st.composite
def runs(draw):
    pages = draw(audited_pages)
    nfailed = draw(st.integers(0, 3))
    pages += [PageInput(f"https://x.test/failed/{i}", status="failed", reason_code="timeout") for i in range(nfailed)]
    return pages, {"documents": draw(documents), "statement": draw(statements), "site_checks": draw(site_checks)}


def score(pages, extras, model=MODEL_3):
    return score_pages(pages, model, **extras)


def apply_fix(pages, extras, part, item):
    """The run with one fix made: a page rule fixed everywhere, a document check passed on every
    document failing it, a statement requirement met, a cross-page check passed."""
    if part == "pages":
        pages = [replace(p, failures=tuple(f for f in p.failures if f.rule != item)) for p in pages]
    elif part == "documents":
        extras = {**extras, "documents": [
            replace(d, checks=tuple((c, "pass" if c == item and s == "fail" else s) for c, s in d.checks))
            for d in extras["documents"]]}
    elif part == "statement":
        met = {r for r, s in extras["statement"].requirements if s == "met"} | {item}
        extras = {**extras, "statement": StatementInput(tuple((r, "met" if r in met else "missing")
                                                              for r in STATEMENT_REQUIREMENTS))}
    else:
        extras = {**extras, "site_checks": [replace(f, status="pass") if f.check == item and f.status == "fail" else f
                                            for f in extras["site_checks"]]}
    return pages, extras


def possible_fixes(pages, extras):
    """Every fix the run allows, read from its inputs."""
    out = sorted({("pages", f.rule) for p in pages for f in p.failures})
    out += sorted({("documents", c) for d in extras["documents"] for c, s in d.checks if s == "fail"})
    if extras["statement"] is not None:
        met = {r for r, s in extras["statement"].requirements if s == "met"}
        out += [("statement", r) for r in STATEMENT_REQUIREMENTS if r not in met]
    out += sorted({("crosspage", f.check) for f in extras["site_checks"] if f.status == "fail"})
    return out


def all_fixes(s):
    return [("pages", r.rule, r.gain, r.points) for r in s.rules] + [(f.part, f.item, f.gain, f.points) for f in s.fixes]


# -- properties -------------------------------------------------------------------------------------

@settings(deadline=None)
@given(runs(), st.randoms())
def test_deterministic_the_same_results_give_the_same_score_in_any_order(run, rnd):
    pages, extras = run
    first = score(pages, extras)
    shuffled = {k: (rnd.sample(v, len(v)) if isinstance(v, list) else v) for k, v in extras.items()}
    again = score(rnd.sample(pages, len(pages)), shuffled)
    assert (first.score, first.exact, first.parts, first.rules, first.fixes) == (
        again.score, again.exact, again.parts, again.rules, again.fixes)
    assert first == score(pages, extras)


@settings(deadline=None)
@given(runs())
def test_the_score_is_within_0_and_10_with_one_decimal_and_page_scores_are_model_2s(run):
    pages, extras = run
    s = score(pages, extras)
    if s.score is not None:
        assert 0 <= s.score <= 10 and round(s.score, 1) == s.score
    assert s.pages == score_pages(pages, MODEL_2).pages  # page scores keep their meaning
    for p in pages:
        if p.status == "audited":
            assert score_page(p, MODEL_3) == score_page(p, MODEL_2)


@settings(deadline=None, max_examples=300)
@given(runs(), st.data())
def test_a_fix_never_lowers_the_score(run, data):
    """Fixing a page failure, a document check, a statement requirement or a cross-page check."""
    pages, extras = run
    before = score(pages, extras)
    fixes = possible_fixes(pages, extras)  # from the run itself, not from what the model lists
    assume(fixes)
    part, item = data.draw(st.sampled_from(fixes), label="fix")
    after = score(*apply_fix(pages, extras, part, item))
    assert (before.score is None) == (after.score is None)
    if before.score is not None:
        assert after.score >= before.score
        assert after.exact >= before.exact


@settings(deadline=None, max_examples=200)
@given(runs())
def test_honest_gains_the_gain_shown_for_each_fix_is_what_rescoring_shows(run):
    pages, extras = run
    s = score(pages, extras)
    assume(s.score is not None)
    for part, item, gain, points in all_fixes(s):
        after = score(*apply_fix(pages, extras, part, item))
        assert gain == round(after.score - s.score, 1), (part, item)
        assert abs(points - (after.exact - s.exact)) <= 0.0051, (part, item)
        assert points > 0  # every fix moves the unrounded score


@settings(deadline=None)
@given(runs())
def test_the_parts_add_up_to_the_score_with_their_weights(run):
    pages, extras = run
    s = score(pages, extras)
    assume(s.score is not None)
    assert [p.name for p in s.parts] == list(PARTS)
    scored = [p for p in s.parts if p.status == "scored"]
    assert scored[0].name == "pages"
    assert abs(sum(p.applied_weight for p in scored) - 1) < 1e-3
    for p in s.parts:
        assert p.weight == float(PART_WEIGHTS[p.name])
        if p.status == "not_applicable":
            assert (p.applied_weight, p.points, p.score) == (0.0, None, None) and p.detail.startswith("not applicable")
        else:  # the weights of parts that do not apply are shared out in proportion
            total = sum(float(PART_WEIGHTS[q.name]) for q in scored)
            assert abs(p.applied_weight - p.weight / total) < 1e-4
            assert abs(p.points - p.applied_weight * p.score) <= 0.01
    assert abs(sum(p.points for p in scored) - s.exact) <= 0.005 * len(scored) + 1e-9  # each to 2 decimals
    assert abs(s.score - s.exact) <= 0.05 + 1e-9  # rounded half up once


@settings(deadline=None)
@given(runs(), st.integers(0, 30), st.integers(0, 30))
def test_no_score_without_page_coverage_whatever_the_other_parts(run, failed, unfinished):
    _, extras = run
    pages = ([PageInput(f"https://x.test/{i}") for i in range(3)]
             + [PageInput(f"https://x.test/f/{i}", status="failed", reason_code="timeout") for i in range(failed)]
             + [PageInput(f"https://x.test/u/{i}", status="skipped", reason_code="time_budget")
                for i in range(unfinished)])
    s = score(pages, extras)
    if 3 / (3 + failed + unfinished) < MIN_COVERAGE:
        assert s.score is None and "a score needs at least" in s.reason
    else:
        assert s.score is not None and s.reason is None
    nothing = score([PageInput("https://x.test/", status="failed", reason_code="timeout")], extras)
    assert nothing.score is None and "no page" in nothing.reason


@settings(deadline=None, max_examples=200)
@given(audited_pages, runs())
def test_the_pages_part_keeps_model_2s_gains_scaled_by_its_weight(pages, run):
    """Steerable: each rule's unrounded gain is its model-2 gain times the pages part's weight,
    so within model 2's budget the rules' gains add up to the pages part's whole distance."""
    _, extras = run
    s, m2 = score(pages, extras), score_pages(pages, MODEL_2)
    w = s.parts[0].applied_weight
    by_rule = {r.rule: r for r in m2.rules}
    for r in s.rules:
        assert abs(r.points - w * by_rule[r.rule].gain) <= 0.0051 + 1e-4 * 10
    if m2.lost <= 10:
        assert abs(sum(r.points for r in s.rules) - w * (10 - m2.score)) <= 0.0051 * len(s.rules) + 1e-3


@settings(deadline=None)
@given(audited_pages)
def test_with_nothing_beyond_the_pages_model_3_is_model_2(pages):
    s, m2 = score_pages(pages, MODEL_3), score_pages(pages, MODEL_2)
    assert (s.score, [(r.rule, r.gain) for r in s.rules]) == (m2.score, [(r.rule, r.gain) for r in m2.rules])
    assert [p.status for p in s.parts] == ["scored", "not_applicable", "not_applicable", "not_applicable"]


def test_a_missing_statement_scores_0_and_an_unrecorded_one_does_not_count():
    pages = [PageInput("https://x.test/")]
    missing = score_pages(pages, statement=StatementInput((("exists", "missing"),)))
    part = missing.parts[PARTS.index("statement")]
    assert (part.status, part.score, part.points) == ("scored", 0.0, 0.0)
    assert "no accessibility statement found" in part.detail
    assert missing.score == 8.8  # 10 x 0.7/0.8: the statement's weight, shared with the pages only
    assert sorted(f.item for f in missing.fixes) == sorted(STATEMENT_REQUIREMENTS)  # every requirement is a fix
    unrecorded = score_pages(pages, statement=None)
    assert unrecorded.parts[PARTS.index("statement")].status == "not_applicable" and unrecorded.score == 10.0


def test_model_3_is_the_default():
    assert MODEL_VERSION == MODEL_3 and MODELS == ("a11ycrawl-score/1", "a11ycrawl-score/2", MODEL_3)


# -- the README's worked example ----------------------------------------------------------------------

BUTTON = Failure("button-name", "critical", "A")
CONTRAST = Failure("color-contrast", "serious", "AA")


def readme_example():
    """The council of model 2's example (pages 8.7), two PDFs, a statement missing two
    requirements, and five cross-page checks, one of which fails."""
    urls = ["/", "/contact/", "/news/", "/services/"]
    pages = [PageInput(f"https://council.example{u}", failures=(BUTTON,) + ((CONTRAST,) * 3 if u == "/contact/" else ()))
             for u in urls]
    pages.append(PageInput("https://council.example/planning/", status="failed", reason_code="timeout"))
    docs = [DocumentInput("https://council.example/budget.pdf", (
                ("tagged", "fail"), ("title", "fail"), ("display_doc_title", "fail"), ("language", "pass"),
                ("text_layer", "pass"), ("figure_alt", "not_applicable"))),
            DocumentInput("https://council.example/minutes.pdf", (
                ("tagged", "pass"), ("title", "pass"), ("display_doc_title", "pass"), ("language", "pass"),
                ("text_layer", "pass"), ("figure_alt", "pass")))]
    statement = StatementInput(tuple((r, "missing" if r in ("enforcement", "reviewed") else "met")
                                     for r in STATEMENT_REQUIREMENTS))
    cross = [Found(c, "fail" if c == "consistent-navigation" else "pass") for c in SITE_CHECKS]
    return pages, {"documents": docs, "statement": statement, "site_checks": cross}


def test_worked_example_in_the_readme():
    pages, extras = readme_example()
    s = score(pages, extras)
    assert [(p.name, p.applied_weight, p.score, p.points) for p in s.parts] == [
        ("pages", 0.7, 8.7, 6.09), ("documents", 0.1, 7.0, 0.7), ("statement", 0.1, 7.78, 0.78),
        ("crosspage", 0.1, 8.0, 0.8)]
    assert (s.exact, s.score) == (8.3678, 8.4)
    assert [(r.rule, r.gain, r.points) for r in s.rules] == [("button-name", 0.7, 0.77), ("color-contrast", 0.1, 0.14)]
    assert [(f.part, f.item, f.gain, f.points) for f in s.fixes] == [
        ("crosspage", "consistent-navigation", 0.2, 0.2),
        ("statement", "enforcement", 0.1, 0.11), ("statement", "reviewed", 0.1, 0.11),
        ("documents", "display_doc_title", 0.1, 0.1), ("documents", "tagged", 0.1, 0.1),
        ("documents", "title", 0.1, 0.1)]
    # without documents in scope: their weight is shared out, 0.7/0.9 to the pages
    no_docs = score(pages, {**extras, "documents": []})
    assert [(p.name, p.applied_weight, p.points) for p in no_docs.parts] == [
        ("pages", 0.7778, 6.77), ("documents", 0.0, None), ("statement", 0.1111, 0.86), ("crosspage", 0.1111, 0.89)]
    assert no_docs.score == 8.5
    # fixing the header's button: its model-2 cost 1.1 x 0.7 = 0.77 points, 8.3678 -> 9.1378: shown +0.7
    assert score(*apply_fix(pages, extras, "pages", "button-name")).score == 9.1


# -- through the store: scored at audit time, rescored without a crawl ------------------------------

STATEMENT_TEXT = """Accessibility statement for Northbrook District Council
This website is partially compliant with the Web Content Accessibility Guidelines version 2.2 AA standard.
Non-accessible content: some PDFs are not accessible.
If you find a problem, email access@northbrook.example.gov.uk.
This statement was prepared on 2 January 2027."""


def add_statement_and_documents(store, run_id, base):
    """A statement page (facts as the browser records them) and two checked PDFs, after the run
    was stored: what an audit of today records beside the pages."""
    store.save_page(run_id, PageRecord(url=base + "accessibility-statement", status="audited",
                                       title="Accessibility statement",
                                       facts={"statement_links": [], "statement_text": STATEMENT_TEXT}))
    home = store.db["pages"].rows_where("run_id = ? and url = ?", [run_id, base]).__next__()
    store.db["pages"].update(home["id"], {"facts": '{"statement_links": [{"href": "%saccessibility-statement", '
                                                   '"text": "Accessibility statement"}]}' % base})
    for name, checks in (("budget.pdf", [("tagged", "fail"), ("title", "pass")]),
                         ("minutes.pdf", [("tagged", "pass"), ("title", "pass")])):
        store.save_document(run_id, {"url": base + name, "kind": "pdf", "page_url": base, "check_status": "checked",
                                     "checks": [{"id": c, "status": s, "detail": "", "wcag": "1.3.1"} for c, s in checks]})
    store.save_document(run_id, {"url": base + "broken.pdf", "kind": "pdf", "page_url": base,
                                 "check_status": "unparsed", "check_reason": "cannot be parsed"})


def test_a_run_is_scored_from_its_stored_documents_and_statement(tmp_path):
    store = history_store(tmp_path / "h.db")
    base = "https://www.northbrook.example.gov.uk/"
    run_id = add_run(store, "Northbrook District Council", base, "01-26", {"": [logo()], "bins/": [contrast()]})
    add_statement_and_documents(store, run_id, base)
    s = score_run(store, run_id)
    parts = {p.name: p for p in s.parts}
    assert s.model_version == MODEL_3
    assert parts["documents"].score == 7.5  # (1/2 + 2/2) / 2; the unreadable PDF is not scored
    # exists, linked_from_home, compliance_status, non_accessible_content, feedback, prepared,
    # consistent_with_audit met; enforcement and reviewed missing
    assert (parts["statement"].score, parts["statement"].detail) == (7.78, "7 of 9 requirements met")
    assert parts["crosspage"].status == "not_applicable"  # until audits.analysis.crosspage is connected
    assert {f.item for f in s.fixes} == {"tagged", "enforcement", "reviewed"}
    stored = store.score(run_id, MODEL_3)
    assert stored["score"] == s.score and stored["components"]
    m2 = store.score(run_id, MODEL_2)["score"]
    assert m2 == parts["pages"].score != s.score  # model 2 is stored beside it, and is the pages part


def test_rescore_recomputes_model_3_from_stored_results_without_a_crawl(tmp_path):
    store = history_store(tmp_path / "h.db")
    base = "https://www.northbrook.example.gov.uk/"
    run_id = add_run(store, "Northbrook District Council", base, "01-26", {"": [logo()], "bins/": []})
    before = store.score(run_id, MODEL_3)["score"]
    add_statement_and_documents(store, run_id, base)  # facts the run holds that its stored score has not seen
    store.db["scores"].delete_where("model_version = ?", [MODEL_3])  # as if stored before model 3 existed
    report = rescore_all(store)
    assert report.model_version == MODEL_3 and set(report.models) == set(MODELS)
    assert report.runs == len(store.runs())
    after = store.score(run_id, MODEL_3)
    assert after["score"] == score_stored_run(store, run_id).score != before
    assert all(store.score(r["id"], m) for r in store.runs() for m in MODELS)  # every run, under every model
    changed = {c.run_id: c for c in report.changed}
    assert changed[run_id].before_model != MODEL_3  # shown under an older model until then
    # runs stored without statement facts, documents or cross-page findings keep their model-2 score
    for r in store.runs():
        if r["id"] != run_id:
            assert store.score(r["id"], MODEL_3)["score"] == store.score(r["id"], MODEL_2)["score"]
    assert rescore_all(store).changed == ()  # the same stored results give the same scores


def test_meeting_a_statement_requirement_moves_the_rescored_score_by_the_gain_shown(tmp_path):
    store = history_store(tmp_path / "h.db")
    base = "https://www.northbrook.example.gov.uk/"
    run_id = add_run(store, "Northbrook District Council", base, "01-26", {"": [logo()], "bins/": []})
    add_statement_and_documents(store, run_id, base)
    s = score_run(store, run_id)
    fix = next(f for f in s.fixes if f.item == "enforcement")
    page = next(store.db["pages"].rows_where("run_id = ? and title = ?", [run_id, "Accessibility statement"]))
    store.db["pages"].update(page["id"], {"facts": '{"statement_links": [], "statement_text": %s}' % __import__(
        "json").dumps(STATEMENT_TEXT + "\nIf you are not happy, contact the Equality Advisory and Support Service.")})
    assert round(score_run(store, run_id).score - s.score, 1) == fix.gain > 0


# -- shown everywhere: the JSON, the terminal summary, history, the HTML report ----------------------

@pytest.fixture
def scored_run(tmp_path):
    store = history_store(tmp_path / "h.db")
    base = "https://www.northbrook.example.gov.uk/"
    run_id = add_run(store, "Northbrook District Council", base, "01-26", {"": [logo()], "bins/": [contrast()]})
    add_statement_and_documents(store, run_id, base)
    score_run(store, run_id)
    yield store, run_id
    store.close()


def test_the_json_run_document_shows_the_parts_with_weights_and_points(scored_run):
    from reports.data import run_document

    store, run_id = scored_run
    doc = run_document(store, run_id)["score"]
    assert (doc["model_version"], doc["score"]) == (MODEL_3, store.score(run_id, MODEL_3)["score"])
    parts = {p["name"]: p for p in doc["components"]}
    assert list(parts) == list(PARTS)
    assert {n: (p["status"], p["weight"]) for n, p in parts.items()} == {
        "pages": ("scored", 0.7), "documents": ("scored", 0.1), "statement": ("scored", 0.1),
        "crosspage": ("not_applicable", 0.1)}
    assert abs(sum(p["points"] for p in parts.values() if p["points"] is not None) - doc["score"]) <= 0.05 + 0.015
    fixes = {(f["part"], f["item"]): f for f in doc["fix_first"]}
    assert set(fixes) == {("pages", "image-alt"), ("pages", "color-contrast"), ("documents", "tagged"),
                          ("statement", "enforcement"), ("statement", "reviewed")}
    assert [f["gain"] for f in doc["fix_first"]] == sorted((f["gain"] for f in doc["fix_first"]), reverse=True)


def test_the_summary_and_history_show_how_the_score_is_made(scored_run):
    import io

    from rich.console import Console

    from audits.results import history
    from reports.tables import print_history
    from reports.terminal import print_summary

    store, run_id = scored_run
    for show in (lambda c: print_summary(c, store, run_id),
                 lambda c: print_history(c, history(store, "Northbrook District Council"))):
        out = io.StringIO()
        show(Console(file=out, width=200))
        text = out.getvalue()
        assert "How the score is made" in text or "is made (a11ycrawl-score/3)" in text
        assert "statement: enforcement" in text and "PDFs: tagged" in text
        assert "7 of 9 requirements met" in text and "not applicable: no cross-page check applied" in text
        assert "0.70 → 0.778" in text  # the cross-page weight shared out over the other three


def test_the_html_report_has_a_table_of_the_parts(scored_run):
    from reports.html import build_report, render_report
    from helpers import Tags

    store, run_id = scored_run
    report = build_report(store, run_id=run_id)
    html = render_report(report)
    block = html[html.index('id="score-parts"'):html.index("Progress against targets")]
    assert "<caption id=\"score-parts-caption\">Parts of the score" in block
    for p in report.parts:
        if p["points"] is not None:
            assert f"{p['points']:.2f}" in block
    assert "<code>enforcement</code>: +" in block and "(not used)" in block
    assert all(f.part == "pages" for f in report.fix_first)  # the page rules; the rest are in the parts table
    Tags(html)  # parses


@pytest.mark.browser
def test_the_parts_table_passes_our_own_audit(audit, serve, scored_run):
    """The report with every kind of part row (scored, shared weight, fixes listed, not applicable)."""
    from reports.html import build_report, render_report

    store, run_id = scored_run
    assert_passes_own_audit(audit, serve, render_report(build_report(store, run_id=run_id)))


@pytest.mark.parametrize("start, config, statement", [
    ("", {"follow_links": True}, ("scored", 0.0)),
    ("", {"follow_links": False}, ("not_applicable", None)),
    ("services/", {"scope": "path"}, ("not_applicable", None)),
    ("services/", {"scope": "host"}, ("scored", 0.0)),
])
def test_a_run_that_did_not_look_for_the_statement_is_not_scored_on_it(store, start, config, statement):
    """A crawl of the whole host that finds no statement scores 0 for it; a list of URLs
    (``check --urls``, no links followed) or a crawl kept in /services/ (the statement lies
    outside it) that did not find it is not asked for it."""
    run_id = store.create_run(site="Council", start_url="https://c.example/" + start, tool_version="0.1.0",
                              axe_version="4.12.1", config=config, config_hash="t", max_pages=10)
    store.save_page(run_id, PageRecord(url="https://c.example/" + start, status="audited", title="Home",
                                       facts={"statement_links": []}))
    store.finish_run(run_id, "complete")
    part = {p.name: p for p in score_run(store, run_id).parts}["statement"]
    assert (part.status, part.score) == statement


@pytest.mark.parametrize("linked, statement", [(True, ("not_applicable", None)), (False, ("scored", 0.0))])
def test_a_statement_left_out_by_the_page_budget_is_not_scored_missing(store, linked, statement):
    """A crawl stopped by its page budget before reaching the statement its home page links is
    not scored as having none; one whose audited pages link no statement still scores 0."""
    run_id = store.create_run(site="Council", start_url="https://c.example/", tool_version="0.1.0",
                              axe_version="4.12.1", config={}, config_hash="t", max_pages=1)
    links = [{"href": "https://c.example/accessibility-statement/", "text": "Accessibility statement"}] if linked else []
    store.save_page(run_id, PageRecord(url="https://c.example/", status="audited", title="Home",
                                       facts={"statement_links": links}))
    store.save_page(run_id, PageRecord(url="https://c.example/accessibility-statement/", status="skipped",
                                       reason_code="page_budget", reason="over the page budget"))
    store.finish_run(run_id, "complete")
    part = {p.name: p for p in score_run(store, run_id).parts}["statement"]
    assert (part.status, part.score) == statement
    if linked:
        assert "page budget" in part.detail
