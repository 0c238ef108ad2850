"""The CI gate as pure functions: thresholds, the strict default, baselines matched by
fingerprint (as counts, then by element), ignores with reasons, baseline and ignore files."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.errors import ConfigError, CrawlError
from audits.analysis.gate import (
    Baseline, BaselineEntry, Finding, Ignore, PageOutcome, Thresholds, baseline_entries,
    check_sitemaps, evaluate, load_ignores, parse_ignores, read_baseline, selector_candidates,
    selector_matches, write_baseline,
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


def pages(audited, failed=0, **more):
    out = [PageOutcome(f"{HOME}a{i}", "audited") for i in range(audited)]
    out += [PageOutcome(f"{HOME}f{i}", "failed", reason_code="http_error") for i in range(failed)]
    for code, n in more.items():
        out += [PageOutcome(f"{HOME}{code}{i}", "skipped", reason_code=code) for i in range(n)]
    return out


def test_a_run_that_saw_too_few_pages_fails_the_coverage_gate():
    t = Thresholds(max_critical=0, min_coverage=90)
    result = evaluate([], thresholds=t, pages=pages(1, 19))
    assert not result.passed and [c.name for c in result.failed_checks] == ["min-coverage"]
    assert result.failed_checks[0].detail == "coverage 5% (1 of 20 pages audited) is below 90%"
    assert evaluate([], thresholds=t, pages=pages(3, 4)).failed_checks[0].detail == (
        "coverage 42.8% (3 of 7 pages audited) is below 90%")  # rounded down, never up to the limit
    ok = evaluate([], thresholds=t, pages=pages(9, 1))
    assert ok.passed and ok.checks[0].detail == "coverage 90% (9 of 10 pages audited; minimum 90%)"
    assert not evaluate([], thresholds=Thresholds(min_coverage=90.5), pages=pages(181, 20)).passed  # 90.05%
    almost = evaluate([], thresholds=t, pages=pages(43, 5))  # 89.58%: not rounded up to a pass
    assert almost.failed_checks[0].detail == "coverage 89.5% (43 of 48 pages audited) is below 90%"
    exact = evaluate([], thresholds=Thresholds(min_coverage=29), pages=pages(29, 71))  # 0.29 * 100 < 29 in floats
    assert exact.passed and exact.checks[0].actual == "29%"


def test_coverage_counts_failed_and_unfinished_pages_not_skipped_ones():
    t = Thresholds(min_coverage=90)
    assert evaluate([], thresholds=t, pages=pages(2, robots_disallowed=5, out_of_scope=5, page_budget=9)).passed
    assert not evaluate([], thresholds=t, pages=pages(2, time_budget=1)).passed
    assert not evaluate([], thresholds=t, pages=pages(2, interrupted=1)).passed


def test_the_coverage_gate_fails_closed():
    t = Thresholds(min_coverage=50)
    assert "no page was audited" in evaluate([], thresholds=t, pages=[]).failed_checks[0].detail
    assert "coverage unknown" in evaluate([], thresholds=t).failed_checks[0].detail  # pages not given
    # a coverage minimum alone keeps the strict default for failing elements
    strict = evaluate([finding(impact="minor")], thresholds=t, pages=pages(1))
    assert [c.name for c in strict.failed_checks] == ["max-minor"] and strict.checks[0].name == "min-coverage"


def test_a_sitemap_that_gave_no_page_is_an_error():
    sm = "https://www.example.gov.uk/sitemap.xml"
    home = PageOutcome(HOME, "audited", found_via="start")
    with pytest.raises(CrawlError, match=re.escape(f"sitemap {sm} gave no page to audit")):
        check_sitemaps([home], [sm])
    check_sitemaps([home, PageOutcome(HOME + "a", "failed", found_via="sitemap")], [sm])
    check_sitemaps([home], [])  # no sitemap asked for
    skipped = [PageOutcome(HOME + f"x{i}", "skipped", reason_code=code, found_via="sitemap")
               for i, code in enumerate(["out_of_scope", "out_of_scope", "robots_disallowed"])]
    with pytest.raises(CrawlError, match=re.escape(
            "the 3 URLs listed were all skipped (out_of_scope: 2, robots_disallowed: 1)")):
        check_sitemaps([home, *skipped], [sm])
    check_sitemaps([home, *skipped, PageOutcome(HOME + "y", "skipped", reason_code="page_budget", found_via="sitemap")], [sm])
    with pytest.raises(CrawlError, match="none of the sitemaps"):
        check_sitemaps([home], [sm, sm + ".gz"])


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
    ("my-widget button", [["my-widget", "button.x"]], True),  # so do shadow hosts
    ("footer a", ["footer.legacy > p > a"], True),
    ("footer > p > a", ["footer.legacy > p > a"], True),
    ('a[href$="terms"]', ['a[href$="terms"]'], True),
    ('[href*="term"]', ['a[href$="/terms"]'], True),  # what axe spelt out proves it
    ('[href^="/news"]', ['a[href="/news/2024/"]'], True),
    ('[id="q"]', ["input#q"], True),
    ('[class~="hero"]', ["img.hero.wide"], True),
    ('#\\31 23 img', ['#\\31 23 > img'], True),
    (".--dark a", [".--dark > a"], True),
])
def test_selector_matching_on_axe_targets(selector, target, expected):
    assert selector_matches(selector, target) is expected


@pytest.mark.parametrize("selector, target", [
    # pseudo-classes are never "not checked": the text cannot tell, so nothing matches
    ("img:not([src])", ["main > img.hero"]),
    ("img:not([src])", ["img"]),
    ("a:first-child", ["li > a"]),
    (":is(nav, footer) a", ["footer > a"]),
    # a child combinator needs the parent axe named; siblings cannot be told from a target
    ("footer > a", ["footer.legacy > p > a"]),
    ("footer > a", ["footer a"]),
    ("h2 + p", ["main > h2 + p"]),
    ("h2 ~ p", ["main > p"]),
    # attribute values axe did not spell out
    ('[href="/terms"]', ['a[href$="terms"]']),
    ('[href^="/"]', ['a[href$="terms"]']),
    ('[href$="terms" i]', ['a[href$="TERMS"]']),
    ('[class="hero"]', ["img.hero"]),  # the element may have other classes
    ("svg|a", ["a"]),
    ("IMG.hero", ["img.logo"]),
    (".legacy-footer *", ["footer.legacy-footer"]),  # not inside itself
    ("img", ["<<<"]),  # a target that cannot be read matches nothing
])
def test_what_the_text_cannot_decide_does_not_match(selector, target):
    """Before cssselect, pseudo-classes were dropped ("img:not([src])" ignored every image) and
    every combinator meant "inside" ("footer > a" ignored links deep in the footer)."""
    assert selector_matches(selector, target) is False


def test_undecided_selectors_are_left_to_the_page():
    img = finding("image-alt", target=("main > img.hero",), fp="hero")
    ignore = Ignore(reason="decorative placeholders", rule="image-alt", selector="img:not([src])")
    assert evaluate([img], ignores=[ignore]).counted == (img,)
    assert selector_candidates([img], [ignore]) == [(img, ignore)]  # check asks Chromium
    assert evaluate([img], ignores=[ignore], dom_matches=frozenset({("hero", "img:not([src])")})).passed


@pytest.mark.parametrize("selector", ["<<<", "img:not(", "a[href=1]", "div >", "", "a::before", ".x,"])
def test_a_selector_that_cannot_be_read_is_refused_not_widened(selector):
    with pytest.raises(ConfigError) as exc:
        parse_ignores([{"rule": "image-alt", "selector": selector, "reason": "why"}], "a11ycrawl.toml")
    assert str(exc.value).startswith("a11ycrawl.toml: ignore[0]: selector: ")
    assert repr(selector) in str(exc.value)
    with pytest.raises(ConfigError, match=re.escape(f"a11ycrawl.toml ignore[3]: selector: {selector!r}")):
        Ignore(reason="why", selector=selector, source="a11ycrawl.toml ignore[3]")


def test_a_bad_selector_in_an_ignore_file_names_the_file(tmp_path):
    (tmp_path / "ignores.toml").write_text('[[ignore]]\nselector = "main <<< img"\nreason = "x"\n')
    with pytest.raises(ConfigError, match=r"ignores.toml: ignore\[0\]: selector: 'main <<< img' is not a CSS selector"):
        load_ignores(tmp_path / "ignores.toml", cwd=tmp_path)


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


# -- the text matcher against the browser ----------------------------------------------------------

_ATTRS = {"href": ("/terms", "/news/2024/", "terms", "/a b"), "name": ("q", 'a"b', "x"), "title": ("t", "T", "a.b")}


class _El:
    """An element of a random tree, and axe-like selectors for it."""

    TAGS, LEAVES = ("div", "footer", "nav", "span", "aside", "em", "b"), ("a", "img", "input")
    CLASSES, IDS = ("x", "hero", "legacy", "--dark", "md:flex", "a-b"), ("q", "main", "1st", "n-2")

    def __init__(self, rnd, parent=None, depth=0):
        leaf = depth == 4 or (depth and rnd.random() < 0.2)
        self.tag = rnd.choice(self.LEAVES if leaf else self.TAGS)
        self.parent, self.rnd = parent, rnd
        self.classes = rnd.sample(self.CLASSES, rnd.randint(0, 2))
        self.id = rnd.choice(self.IDS + (None,) * 6)
        self.attrs = {k: rnd.choice(v) for k, v in _ATTRS.items() if rnd.random() < 0.3}
        self.children = [] if leaf else [_El(rnd, self, depth + 1) for _ in range(rnd.randint(0, 3))]

    def html(self) -> str:
        attrs = "".join(f' {k}="{v.replace(chr(34), "&quot;")}"' for k, v in self.attrs.items())
        attrs += f' class="{" ".join(self.classes)}"' * bool(self.classes) + f' id="{self.id}"' * bool(self.id)
        inner = "" if self.tag in ("img", "input") else "".join(c.html() for c in self.children) + f"</{self.tag}>"
        return f"<{self.tag}{attrs}>{inner}"

    def all(self):
        yield self
        for c in self.children:
            yield from c.all()

    def compound(self) -> str:
        from audits.analysis.css import css_escape

        r = self.rnd
        out = self.tag if r.random() < 0.7 else ""
        out += f"#{css_escape(self.id)}" if self.id and r.random() < 0.5 else ""
        out += "".join(f".{css_escape(c)}" for c in self.classes if r.random() < 0.6)
        for k, v in self.attrs.items():
            if r.random() < 0.5:  # axe writes href/src ends with $=
                op, v = ("=", v) if r.random() < 0.5 else ("$=", v[-r.randint(1, len(v)):])
                out += f'[{k}{op}"{v.replace(chr(34), chr(92) + chr(34))}"]'
        if self.parent and r.random() < 0.2:
            out += f":nth-child({self.parent.children.index(self) + 1})"
        return out or self.tag

    def target(self) -> str:
        parts, cur = [self.compound()], self
        while cur.parent and self.rnd.random() < 0.7:
            if self.rnd.random() < 0.6:
                cur, joint = cur.parent, " > "
            else:
                for _ in range(self.rnd.randint(1, 3)):
                    cur = cur.parent or cur
                joint = " "
            parts += [joint, cur.compound()]
        return "".join(reversed(parts))


def _random_selector(rnd) -> str:
    from audits.analysis.css import css_escape

    def compound():
        c = rnd.choice(_El.TAGS + _El.LEAVES + ("*", ""))
        for _ in range(rnd.randint(0, 2)):
            k = rnd.random()
            if k < 0.3:
                c += "." + css_escape(rnd.choice(_El.CLASSES))
            elif k < 0.45:
                c += "#" + css_escape(rnd.choice(_El.IDS))
            elif k < 0.8:
                name = rnd.choice(list(_ATTRS))
                v = rnd.choice(_ATTRS[name])
                op = rnd.choice(["", "=", "$=", "^=", "*=", "~=", "|="])
                c += f'[{name}{op}"{v[:rnd.randint(0, len(v))].replace(chr(34), chr(92) + chr(34))}"]' if op else f"[{name}]"
            else:
                c += rnd.choice([":not(.x)", ":first-child", ":is(a, span)", ":not([href])"])
        return c or "*"

    sel = compound()
    for _ in range(rnd.randint(0, 2)):
        sel = compound() + rnd.choice([" ", " > ", " + ", " ~ "]) + sel
    return sel


@pytest.mark.browser
def test_a_textual_match_is_always_a_match_in_the_browser():
    """Random trees, axe-like targets for their elements (as many ancestors as axe might name,
    joined by > or a space) and random ignore selectors: whenever the text says an ignore covers an
    element, Chromium's element.matches() must say so too (the hand-written matcher did not: it
    dropped pseudo-classes and read every combinator as "inside"). And the text still decides a
    fair share of real matches by itself."""
    import random

    from playwright.sync_api import sync_playwright

    from audits.engine.browser import find_chromium, launch_args

    rnd = random.Random(20260101)
    trees = [_El(rnd) for _ in range(25)]
    cases = []
    for t, tree in enumerate(trees):
        for i, el in enumerate(tree.all()):
            for _ in range(3):
                target = el.target()
                cases += [(t, i, target, _random_selector(rnd)) for _ in range(4)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=launch_args())
        page = browser.new_page()
        page.set_content("<!doctype html><body>" + "".join(f"<section>{t.html()}</section>" for t in trees))
        answers = page.evaluate("""(cases) => {
            const trees = [...document.querySelectorAll('section')].map(s => [s.firstElementChild, ...s.firstElementChild.querySelectorAll('*')]);
            return cases.map(([t, i, target, sel]) => {
                const el = trees[t][i];
                const named = [...el.closest('section').querySelectorAll(target)].includes(el);
                let matches = null;
                try { matches = el.matches(sel); } catch (e) {}
                return [named, matches];
            });
        }""", cases)
        browser.close()
    assert all(named for named, _ in answers)  # the targets are right, so the comparison means something
    said = [(target, sel, matches) for (_, _, target, sel), (_, matches) in zip(cases, answers)
            if selector_matches(sel, [target])]
    wrong = [x for x in said if x[2] is not True]
    assert not wrong, wrong[:5]
    real = sum(1 for _, matches in answers if matches)
    assert len(cases) > 2000 and len(said) > real / 3, (len(cases), len(said), real)
