"""The score: properties of the model (hypothesis), the worked example, storing and rescoring.

No browser: stores are built from axe-like violation dicts (helpers.py).
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from audits.analysis.scoring import (
    MIN_COVERAGE, MODEL_VERSION, Failure, PageInput, round_score, score_page, score_pages, wcag_level,
)
from audits.results import page_inputs, rescore_all, score_run
from helpers import make_run, violation

# -- strategies -----------------------------------------------------------------------------------

RULES = ["image-alt", "button-name", "label", "color-contrast", "link-name", "html-has-lang", "region"]
failures = st.builds(
    Failure, rule=st.sampled_from(RULES), impact=st.sampled_from(["critical", "serious", "moderate", "minor", None]),
    level=st.sampled_from(["A", "AA", "AAA", None]),
)
audited_pages = st.lists(st.lists(failures, max_size=6).map(tuple), min_size=1, max_size=12).map(
    lambda fs: [PageInput(url=f"https://x.test/{i}", failures=f) for i, f in enumerate(fs)]
)
failed_count = st.integers(min_value=0, max_value=3)


def failed_pages(n):
    return [PageInput(url=f"https://x.test/failed/{i}", status="failed", reason_code="timeout") for i in range(n)]


def scored_failing_pages(pages):
    return [i for i, p in enumerate(pages) if p.failures]


# -- properties -----------------------------------------------------------------------------------

# deadline=None on every @given: timings vary on a busy machine (browser tests run alongside)
@settings(deadline=None)
@given(audited_pages, failed_count, st.randoms())
def test_same_results_same_score_in_any_order(pages, nfailed, rnd):
    everything = pages + failed_pages(nfailed)
    first = score_pages(everything)
    shuffled = list(everything)
    rnd.shuffle(shuffled)
    again = score_pages(shuffled)
    assert (first.score, first.reason, first.free_a, first.free_aa, first.load) == (
        again.score, again.reason, again.free_a, again.free_aa, again.load)
    assert first == score_pages(everything)


@settings(deadline=None)
@given(audited_pages, failed_count)
def test_score_is_within_0_and_10_with_one_decimal(pages, nfailed):
    result = score_pages(pages + failed_pages(nfailed))
    for score in [result.score, *(p.score for p in result.pages)]:
        if score is not None:
            assert 0 <= score <= 10
            assert round(score, 1) == score


@settings(deadline=None)
@given(audited_pages, failed_count, st.data())
def test_fixing_a_failing_element_never_lowers_a_score(pages, nfailed, data):
    candidates = scored_failing_pages(pages)
    assume(candidates)
    i = data.draw(st.sampled_from(candidates), label="page")
    j = data.draw(st.integers(0, len(pages[i].failures) - 1), label="element")
    fixed_page = PageInput(pages[i].url, failures=pages[i].failures[:j] + pages[i].failures[j + 1:])
    fixed = pages[:i] + [fixed_page] + pages[i + 1:]
    before, after = score_pages(pages + failed_pages(nfailed)), score_pages(fixed + failed_pages(nfailed))
    assert score_page(fixed_page).score >= score_page(pages[i]).score
    assert (before.score is None) == (after.score is None)
    if before.score is not None:
        assert after.score >= before.score
    assert after.load <= before.load and after.free_a >= before.free_a and after.free_aa >= before.free_aa


@settings(deadline=None)
@given(audited_pages, failed_count, st.data())
def test_fixing_a_rule_on_every_page_never_lowers_the_score(pages, nfailed, data):
    rules = sorted({f.rule for p in pages for f in p.failures})
    assume(rules)
    rule = data.draw(st.sampled_from(rules))
    fixed = [PageInput(p.url, failures=tuple(f for f in p.failures if f.rule != rule)) for p in pages]
    before, after = score_pages(pages + failed_pages(nfailed)), score_pages(fixed + failed_pages(nfailed))
    if before.score is not None:
        assert after.score >= before.score


@settings(deadline=None)
@given(audited_pages, failed_count, st.integers(1, 5))
def test_adding_clean_pages_never_lowers_the_site_score(pages, nfailed, nclean):
    clean = [PageInput(url=f"https://x.test/clean/{i}") for i in range(nclean)]
    before = score_pages(pages + failed_pages(nfailed))
    after = score_pages(pages + clean + failed_pages(nfailed))
    assert after.score is not None or before.score is None
    if before.score is not None:
        assert after.score >= before.score


@settings(deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_too_little_coverage_gets_no_score_and_says_why(audited, failed, unfinished):
    pages = ([PageInput(url=f"https://x.test/{i}") for i in range(audited)] + failed_pages(failed)
             + [PageInput(url=f"https://x.test/u/{i}", status="skipped", reason_code="time_budget")
                for i in range(unfinished)])
    result = score_pages(pages)
    if audited == 0 or audited / (audited + failed + unfinished) < MIN_COVERAGE:
        assert result.score is None
        assert result.reason
    else:
        assert result.score == 10.0 and result.reason is None


@settings(deadline=None)
@given(st.integers(0, 5), st.integers(0, 5))
def test_pages_out_of_budget_or_scope_do_not_count_against_coverage(audited, skipped):
    assume(audited)
    pages = [PageInput(url=f"https://x.test/{i}") for i in range(audited)] + [
        PageInput(url=f"https://x.test/s/{i}", status="skipped", reason_code=code)
        for i in range(skipped) for code in ("page_budget", "out_of_scope", "robots_disallowed")
    ]
    assert score_pages(pages).coverage.ratio == 1.0


@settings(deadline=None)
@given(st.sampled_from(["critical", "serious", "moderate", "minor"]), st.sampled_from(["A", "AA"]),
       st.integers(1, 400), st.integers(1, 400))
def test_a_template_error_costs_a_big_site_what_it_costs_a_small_one(impact, level, small, big):
    def site(n):
        return [PageInput(url=f"https://x.test/{i}", failures=(Failure("button-name", impact, level),))
                for i in range(n)]

    assert score_pages(site(small)).score == score_pages(site(big)).score < 10


@settings(deadline=None)
@given(st.integers(2, 200), st.sampled_from(["critical", "serious", "moderate", "minor"]))
def test_a_failure_on_every_page_costs_more_than_on_one(n, impact):
    error = (Failure("label", impact, "A"),)
    everywhere = [PageInput(url=f"https://x.test/{i}", failures=error) for i in range(n)]
    once = [everywhere[0]] + [PageInput(url=f"https://x.test/{i}") for i in range(1, n)]
    assert score_pages(everywhere).score < score_pages(once).score


@settings(deadline=None)
@given(audited_pages)
def test_unscored_rules_do_not_move_the_score(pages):
    """Best-practice and AAA rules are reported but never scored."""
    only_scored = [PageInput(p.url, failures=tuple(f for f in p.failures if f.level in ("A", "AA"))) for p in pages]
    assert score_pages(pages).score == score_pages(only_scored).score


@settings(deadline=None)
@given(st.floats(0, 10, allow_nan=False), st.floats(0, 10, allow_nan=False))
def test_rounding_is_monotone(a, b):
    low, high = sorted((a, b))
    assert round_score(low) <= round_score(high)


# -- examples ------------------------------------------------------------------------------------

def test_wcag_level_from_axe_tags():
    assert wcag_level(["wcag2a"]) == wcag_level(["wcag21a"]) == wcag_level(["wcag22a"]) == "A"
    assert wcag_level(["wcag2aa"]) == wcag_level(["wcag21aa"]) == wcag_level(["wcag22aa"]) == "AA"
    assert wcag_level(["wcag2aaa"]) == "AAA"
    assert wcag_level(["wcag111", "best-practice", "ACT", "EN-301-549"]) is None
    assert wcag_level(["wcag2aa", "wcag2a"]) == "A"


def test_worked_example_in_the_readme():
    """Four pages and one that failed; a search button without a name on every page."""
    button = Failure("button-name", "critical", "A")
    contrast = Failure("color-contrast", "serious", "AA")
    urls = ["/", "/contact/", "/news/", "/services/"]
    before = [PageInput(f"https://council.example{u}",
                        failures=(button,) + ((contrast,) * 3 if u == "/contact/" else ())) for u in urls]
    before += failed_pages(1)
    s = score_pages(before)
    assert (s.free_a, s.free_aa, s.load, s.coverage.ratio) == (0.0, 0.0, 11.75, 0.8)
    assert round(s.impact, 3) == 0.630
    assert s.score == 3.1
    assert [(r.rule, r.prevalence, r.gain) for r in s.rules] == [
        ("button-name", 1.0, 5.9), ("color-contrast", 0.25, 0.2)]
    assert [p.score for p in s.pages] == [3.3, 2.7, 3.3, 3.3]
    after = score_pages([PageInput(p.url, p.status, p.reason_code, tuple(f for f in p.failures if f != button))
                         for p in before])
    assert (after.free_a, after.free_aa, after.load) == (1.0, 0.75, 1.75)
    assert after.score == 9.0


def test_no_audited_page_means_no_score():
    result = score_pages(failed_pages(3))
    assert result.score is None and "no page" in result.reason
    assert score_pages([]).score is None


# -- the store ------------------------------------------------------------------------------------

def test_score_run_stores_score_model_axe_version_and_components(store):
    run = make_run(store, "Council", {
        "https://c.example/": [violation("image-alt", "critical", "A", targets=("img", "img.logo"))],
        "https://c.example/a": [violation("color-contrast", "serious", "AA"), violation("region", "moderate", None)],
        "https://c.example/b": [],
    }, axe="4.12.1")
    result = score_run(store, run)
    row = store.score(run, MODEL_VERSION)
    assert row["score"] == result.score and row["axe_version"] == "4.12.1" and row["reason"] is None
    assert 0 < result.score < 10
    assert {r.rule for r in result.rules} == {"image-alt", "color-contrast"}  # region is best practice
    inputs = page_inputs(store, run)
    assert score_pages(inputs) == result


def test_runs_that_did_not_finish_or_failed_get_no_score(store):
    running = make_run(store, "Council", {"https://c.example/": []}, status="running")
    failed = make_run(store, "Council", {}, failed=["https://c.example/"], status="failed")
    assert "resume" in score_run(store, running).reason and score_run(store, running).score is None
    assert score_run(store, failed).score is None


def test_an_interrupted_run_counts_its_queued_urls_against_coverage(store):
    run = make_run(store, "Council", {"https://c.example/": []}, status="incomplete")
    for i in range(3):
        store.enqueue(run, f"https://c.example/{i}", 1, "https://c.example/", "link")
    result = score_run(store, run)
    assert result.score is None and "1 of 4" in result.reason


def test_rescore_reproduces_stored_scores_and_reports_changes(store):
    runs = [make_run(store, "A", {"https://a.example/": [violation("label", "critical")]}),
            make_run(store, "B", {"https://b.example/": []})]
    first = rescore_all(store)
    assert first.runs == 2 and len(first.changed) == 2  # never scored before
    assert all(c.before_model is None for c in first.changed)
    assert rescore_all(store).changed == ()
    store.save_score(runs[0], MODEL_VERSION, "4.12.1", 9.9, {})  # as if an older release had scored it
    store.save_score(runs[1], "a11ycrawl-score/0", "4.12.1", 10.0, {})
    again = rescore_all(store)
    assert [(c.run_id, c.before, c.after) for c in again.changed] == [(runs[0], 9.9, score_run(store, runs[0]).score)]
