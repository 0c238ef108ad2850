"""The CI gate as pure functions: thresholds, the strict default, baselines matched by
fingerprint (as counts, then by element), ignores with reasons, baseline and ignore files."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import ConfigError
from audits.analysis.gate import (
    Baseline, BaselineEntry, Finding, Ignore, Thresholds, baseline_entries, evaluate, load_ignores,
    parse_ignores, read_baseline, selector_matches, write_baseline,
)
from audits.results import baseline_from_run, run_findings
from helpers import make_run, violation

HOME = "https://www.example.gov.uk/"


def finding(rule="image-alt", impact="critical", url=HOME, target=("img.logo",), fp=None, html="<img>"):
    return Finding(fingerprint=fp or f"{rule}:{url}:{target}", rule=rule, impact=impact, url=url, target=target,
                   html=html, help=f"{rule} help", tags=("wcag2a", "wcag111"))


def entries(*findings):
    return Baseline(tuple(BaselineEntry(**e) for e in baseline_entries(findings)), "base.json")


# -- thresholds ---------------------------------------------------------------------------------

def test_no_options_means_no_failing_element_at_all():
    assert evaluate([]).passed
    result = evaluate([finding(impact="minor")])
    assert not result.passed
    assert [c.name for c in result.failed_checks] == ["max-minor"]


def test_thresholds_per_impact_and_min_score():
    fs = [finding(impact="critical"), finding("label", "serious"), finding("list", "serious")]
    ok = evaluate(fs, score=7.5, thresholds=Thresholds(min_score=7, max_critical=1, max_serious=2))
    assert ok.passed and ok.counts == {"critical": 1, "serious": 2, "moderate": 0, "minor": 0}
    bad = evaluate(fs, score=6.9, thresholds=Thresholds(min_score=7, max_critical=0, max_serious=2))
    assert {c.name for c in bad.failed_checks} == {"min-score", "max-critical"}
    assert "6.9 (minimum 7.0)" in next(c.detail for c in bad.checks if c.name == "min-score")


def test_a_run_without_a_score_fails_a_minimum_score():
    result = evaluate([], score=None, score_reason="only 1 of 4 pages could be audited", thresholds=Thresholds(min_score=1))
    assert not result.passed and "only 1 of 4 pages" in result.checks[0].detail


def test_thresholds_alone_do_not_flag_baseline_state():
    result = evaluate([finding()], thresholds=Thresholds(max_critical=5))
    assert result.new is None and result.flagged() == list(result.counted)


# -- baselines ----------------------------------------------------------------------------------

def test_baseline_passes_known_failures_and_names_the_new_one():
    known = [finding(), finding("label", "critical", HOME + "contact/", ("input",))]
    new = finding("button-name", "critical", HOME + "search/", ("button.go",))
    result = evaluate([*known, new], baseline=entries(*known))
    assert not result.passed
    assert result.new == (new,)
    assert result.flagged() == [new]
    assert "1 new failing element since base.json: button-name" in result.checks[-1].detail
    assert evaluate(known, baseline=entries(*known)).passed


def test_baseline_matches_as_counts():
    same = finding(fp="same")
    assert evaluate([same, same], baseline=entries(same, same)).passed
    result = evaluate([same, same, same], baseline=entries(same, same))
    assert len(result.new) == 1
    assert [s for _, s in result.states()].count("known") == 2


def test_baseline_matches_an_element_whose_html_changed():
    before = finding("document-title", "serious", HOME + "search/", ("html",), fp="html-without-lang")
    after = finding("document-title", "serious", HOME + "search/", ("html",), fp="html-with-lang")
    assert evaluate([after], baseline=entries(before)).passed
    other_page = finding("document-title", "serious", HOME + "news/", ("html",), fp="other")
    assert not evaluate([after, other_page], baseline=entries(before)).passed


def test_fixed_failures_never_fail_the_baseline_gate():
    a, b = finding(fp="a"), finding("label", fp="b")
    assert evaluate([a], baseline=entries(a, b)).passed


@settings(deadline=None, max_examples=50)
@given(st.lists(st.sampled_from(["a", "b", "c"]), max_size=8), st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=8))
def test_new_count_is_the_multiset_difference(base, now):
    from collections import Counter

    fs = [finding(fp=x, target=(f"#{x}",)) for x in now]
    result = evaluate(fs, baseline=entries(*[finding(fp=x, target=(f"#{x}",)) for x in base]))
    assert len(result.new) == sum((Counter(now) - Counter(base)).values())


def test_baseline_file_round_trip(tmp_path):
    fs = [finding("label", url=HOME + "b/"), finding(url=HOME + "a/")]
    assert write_baseline(tmp_path / "b.json", fs) == 2
    data = json.loads((tmp_path / "b.json").read_text())
    assert [e["url"] for e in data] == ["www.example.gov.uk/a/", "www.example.gov.uk/b/"]  # sorted, no scheme
    assert set(data[0]) == {"fingerprint", "rule", "url", "selector"}
    assert evaluate(fs, baseline=read_baseline(tmp_path / "b.json")).passed


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("{not json", "not readable JSON"),
    ('{"x": 1}', "expected a JSON list"),
    ('[{"rule": "label"}]', 'entry 0 has no "fingerprint"'),
])
def test_bad_baseline_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        read_baseline(path)


def test_baseline_from_a_stored_run(store):
    run = make_run(store, "Site", {HOME: [violation("image-alt", "critical")], HOME + "a/": []})
    base = baseline_from_run(store, run)
    assert base.source == f"run {run}" and [e.rule for e in base.entries] == ["image-alt"]
    assert evaluate(run_findings(store, run), baseline=base).passed


# -- ignores ------------------------------------------------------------------------------------

def test_ignored_elements_leave_the_count_with_their_reason():
    footer = finding("color-contrast", "serious", target=("footer.legacy-footer > p > a",))
    other = finding("color-contrast", "serious", target=("main > p",))
    ignore = Ignore(reason="old footer", rule="color-contrast", selector=".legacy-footer *")
    result = evaluate([footer, other], ignores=[ignore])
    assert result.counted == (other,)
    assert [(i.finding, i.ignore.reason) for i in result.ignored] == [(footer, "old footer")]


def test_an_ignore_matched_in_the_page_itself():
    link = finding("color-contrast", "serious", target=('a[href$="terms"]',), fp="terms-link")
    ignore = Ignore(reason="old footer", rule="color-contrast", selector=".legacy-footer *")
    assert evaluate([link], ignores=[ignore]).counted == (link,)
    assert evaluate([link], ignores=[ignore], dom_matches=frozenset({("terms-link", ".legacy-footer *")})).passed


def test_ignore_by_rule_and_url():
    a, b = finding("region", "moderate", HOME + "legacy/x"), finding("region", "moderate", HOME + "new/")
    result = evaluate([a, b], ignores=[Ignore(reason="legacy app", rule="region", url="/legacy/")])
    assert result.counted == (b,)


@pytest.mark.parametrize("selector, target, expected", [
    (".legacy-footer *", ["footer.legacy-footer > p > a"], True),
    (".legacy-footer *", ["footer.legacy-footer"], False),  # the footer itself is not inside itself
    ("img.hero", ["main > img.hero.wide"], True),
    ("img.hero", ["img.logo"], False),
    ("#promo img", ["div#promo > div > img"], True),
    ("#promo img", ["div#other > img"], False),
    ('input[name="q"]', ['form > input[name="q"]'], True),
    ("iframe.chat *", ["iframe.chat", "button"], True),  # frame levels count as "inside"
    ("nav a, footer a", ["footer > ul > li > a"], True),
])
def test_selector_matching_on_axe_targets(selector, target, expected):
    assert selector_matches(selector, target) is expected


def test_ignore_tables_from_the_config_file_and_an_ignore_file(tmp_path):
    (tmp_path / "a11ycrawl.toml").write_text(
        'max_pages = 5\n[[ignore]]\nrule = "region"\nreason = "landmarks come in the redesign"\n')
    (tmp_path / "more.toml").write_text('[[ignore]]\nurl = "/legacy/"\nreason = "old app"\n')
    ignores = load_ignores(tmp_path / "more.toml", cwd=tmp_path)
    assert [(i.rule, i.url, i.source) for i in ignores] == [
        ("region", None, "a11ycrawl.toml ignore[0]"), (None, "/legacy/", "more.toml ignore[0]")]


def test_the_config_file_still_loads_with_ignore_tables(tmp_path):
    from audits.config import load_config

    (tmp_path / "a11ycrawl.toml").write_text('max_pages = 5\n[[ignore]]\nrule = "region"\nreason = "later"\n')
    assert load_config(cwd=tmp_path, environ={}).max_pages == 5


@pytest.mark.parametrize("entry, message", [
    ({"rule": "region"}, "ignore[0]: reason: Field required"),
    ({"rule": "region", "reason": "  "}, "say why it is ignored"),
    ({"reason": "why"}, "give at least one of rule, selector or url"),
    ({"url": "(", "reason": "why"}, "not a regular expression"),
    ({"rule": "region", "reason": "why", "rules": "x"}, "unknown key"),
])
def test_bad_ignore_tables_name_the_entry_and_key(entry, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as exc:
        parse_ignores([entry], "a11ycrawl.toml")
    assert str(exc.value).startswith("a11ycrawl.toml: ignore[0]")
