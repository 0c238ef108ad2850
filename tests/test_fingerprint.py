"""Fingerprints survive small DOM changes; diffs name new, fixed and unchanged findings."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.cli import cli as a11ycrawl
from audits.analysis.fingerprint import (
    compare_findings, finding_fingerprint, normalise_snippet, stable_selector, target_selectors,
)
from audits.results import diff_runs
from audits.store import PageRecord
from helpers import make_run, violation

PAGE = PageRecord(url="https://www.example.gov.uk/contact/", status="audited")


def row(target, html="<img src=\"/logo.png\">", rule="image-alt"):
    """A findings row as Store.save_page builds it (target is JSON text)."""
    return {"rule": rule, "target": json.dumps(target), "html": html}


def fp(target, html="<img src=\"/logo.png\">", rule="image-alt", page=PAGE):
    return finding_fingerprint(row(target, html, rule), page)


def test_fingerprint_survives_positions_generated_ids_classes_and_whitespace():
    base = fp(["header > a.logo > img"])
    assert fp(["header > a:nth-child(2).logo > img:first-child"]) == base
    assert fp(["header > a.logo.css-1x9f3 > img#img-4821"]) == base
    assert fp(["header>a.logo>img"]) == base
    assert fp(["header > a.logo > img"], html="<img\n   src=\"/logo.png\"   data-v-7a9=\"\" style=\"x\">") == fp(
        ["header > a.logo > img"], html="<img src=\"/logo.png\" data-v-7a9 style>")


def test_fingerprint_tells_apart_rule_page_element_and_content():
    base = fp(["header > a.logo > img"])
    assert fp(["header > a.logo > img"], rule="link-name") != base
    assert fp(["footer > a.logo > img"]) != base
    assert fp(["header > a.logo > img"], html="<img src=\"/crest.png\">") != base
    other_page = PageRecord(url="https://www.example.gov.uk/news/", status="audited")
    assert fp(["header > a.logo > img"], page=other_page) != base


def test_fingerprint_uses_the_normalised_url():
    a = PageRecord(url="HTTPS://WWW.Example.gov.uk:443/contact/?utm_source=mail#top", status="audited")
    assert fp(["img"], page=a) == fp(["img"])
    assert fp(["img"], page={"url": "https://www.example.gov.uk/contact/"}) == fp(["img"])


def test_frames_and_shadow_roots_are_part_of_the_selector():
    assert fp(["iframe#chat-3", "button"]) == fp(["iframe", "button"])
    assert fp(["iframe", "button"]) != fp(["button"])
    assert fp([["my-widget", "button.x"]]) != fp(["my-widget", "button.x"])


def test_stable_selector_keeps_meaningful_names_and_brackets_whole():
    assert stable_selector("#main-nav > ul > li:nth-of-type(4) > a") == "#main-nav > ul > li > a"
    assert stable_selector('a[title="a > b"] + span') == 'a[title="a > b"] + span'
    assert stable_selector("input[name='q']") == "input[name='q']"
    assert stable_selector("input[id='field-17']") == "input[id]"
    assert stable_selector("#\\31 23 > a") == "* > a"


# axe-core targets (as axe 4.12 wrote them for a page of awkward ids, classes and attribute values)
# and their stable form, as the hand-written tokenizer made it before cssselect: fingerprints and
# committed baselines must not change with the parser.
AXE_TARGETS = [
    ("#\\31 23", "*"),  # CSS.escape of an id starting with a digit
    ("#--x", "#--x"),  # cssselect's tokenizer alone refuses "--" names
    (".--b[src=\"/p.png\"]", ".--b[src=\"/p.png\"]"),
    (".md\\:flex[src=\"/p.png\"]", "[src=\"/p.png\"]"),  # escaped: generated
    ("#a\\.b", "*"),
    (".w-1\\/2", "*"),
    ('a[href$="a\\\\b"]', "a[href]"),  # an escaped backslash
    ('input[name="a\\"b"]', "input[name]"),
    ("#x\\\\b1Z", "*"),  # the id x\b1Z (cssselect alone reads "x±Z", no escape, so it would be kept)
    ("button[name=\"tab\there\"]", "button[name=\"tab\there\"]"),
    ('img[src$="x]y"] > img', 'img[src$="x]y"] > img'),
    ("a[href$=\"a'b\"]", "a[href$=\"a'b\"]"),
    ('li:nth-child(3) > img[width="320"][height="180"]', "li > img[width][height]"),
    ('.footer-nav > ul > li:nth-child(5) > a[href$="contact-us/"]', '.footer-nav > ul > li > a[href$="contact-us/"]'),
    ('input[value="visitor permit book"]', 'input[value="visitor permit book"]'),
    ("#\u00e9-\u00fcn\u00ef", "#\u00e9-\u00fcn\u00ef"),
]


@pytest.mark.parametrize("target, stable", AXE_TARGETS)
def test_stable_selectors_of_axe_targets_are_what_they_were(target, stable):
    assert stable_selector(target) == stable


def test_attribute_values_are_read_whole():
    """The hand-written tokenizer took ".mp4" in a quoted value for a class and cut it off."""
    assert stable_selector('a[href$="intro.mp4"]') == "a[href]"
    assert stable_selector('a[title="see p.12"] > img') == "a[title] > img"
    assert stable_selector('input[placeholder="e.g. name"]') == 'input[placeholder="e.g. name"]'


def test_target_selectors_joins_frames_and_shadow_roots():
    assert target_selectors('["iframe#chat-3", ["my-el", "button:nth-child(2)"]]') == "iframe |frame| my-el >>> button"
    assert target_selectors(["<<<"]) == "<<<"  # an unreadable target is kept as it is


def test_snippets_are_cut():
    assert len(normalise_snippet("<p>" + "word " * 100 + "</p>")) == 120


names = st.from_regex(r"[a-z][a-z-]{0,8}", fullmatch=True)
compound = st.tuples(st.sampled_from(["div", "a", "li", "img", "button"]), st.lists(names, max_size=2))


# deadline=None on every @given: timings vary on a busy machine (browser tests run alongside)
@settings(deadline=None)
@given(st.lists(compound, min_size=1, max_size=5), st.data())
def test_positions_and_generated_names_never_change_a_fingerprint(parts, data):
    plain = " > ".join(tag + "".join(f".{c}" for c in classes) for tag, classes in parts)
    noisy = " > ".join(
        tag + "".join(f".{c}" for c in classes)
        + data.draw(st.sampled_from(["", ":nth-child(3)", ":first-child", "#x-91", ".c-0ab1"]))
        for tag, classes in parts
    )
    html = "<a href=\"/x\">Read more</a>"
    spaced = data.draw(st.sampled_from([html, "<a  href=\"/x\">\n Read   more </a>"]))
    assert fp([noisy], html=spaced) == fp([plain], html=html)


def test_compare_findings_counts_identical_elements():
    def rows(n):
        return [{**row(["li > a"], "<a>Read more</a>", "link-name"), "url": "https://x/"} for _ in range(n)]

    new, fixed, unchanged = compare_findings(rows(2), rows(3))
    assert (len(new), len(fixed), len(unchanged)) == (1, 0, 2)
    new, fixed, unchanged = compare_findings(rows(3), rows(1))
    assert (len(new), len(fixed), len(unchanged)) == (0, 2, 1)


def two_runs(store):
    home, contact, news = "https://c.example/", "https://c.example/contact/", "https://c.example/news/"
    a = make_run(store, "Council", {
        home: [violation("image-alt", "critical", targets=("main > div:nth-child(2) > img#hero-17",),
                         html='<img src="/hero.png" id="hero-17">')],
        contact: [violation("label", "critical", targets=("#q",), html='<input id="q">')],
        news: [violation("link-name", "serious", targets=("a.more",), html="<a class=more></a>")],
    }, started_at="2026-01-01T09:00:00+00:00")
    b = make_run(store, "Council", {
        # a banner was inserted above the hero: its position and generated id changed
        home: [violation("image-alt", "critical", targets=("main > div:nth-child(3) > img#hero-52",),
                         html='<img src="/hero.png"  id="hero-52">')],
        contact: [violation("select-name", "critical", targets=("#topic",), html='<select id="topic">')],
    }, failed=[news], started_at="2026-02-01T09:00:00+00:00")
    return a, b


def test_diff_runs_names_new_fixed_and_unchanged(store):
    a, b = two_runs(store)
    d = diff_runs(store, a, b)
    assert [(f.rule, f.url) for f in d.new] == [("select-name", "https://c.example/contact/")]
    assert [(f.rule, f.url) for f in d.fixed] == [("label", "https://c.example/contact/")]
    assert [(f.rule, f.url) for f in d.unchanged] == [("image-alt", "https://c.example/")]
    assert d.pages_compared == 2 and d.pages_only_a == ("https://c.example/news/",) and d.pages_only_b == ()
    assert d.new[0].target == ["#topic"]


def test_diff_command(store):
    a, b = two_runs(store)
    runner = CliRunner()
    res = runner.invoke(a11ycrawl, ["diff", str(a), str(b), "--db", store.path, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [f["rule"] for f in doc["new"]] == ["select-name"]
    assert [f["rule"] for f in doc["fixed"]] == ["label"]
    res = runner.invoke(a11ycrawl, ["diff", str(a), str(b), "--db", store.path])
    assert res.exit_code == 0 and res.stderr == ""
    assert "1 new" in res.stdout and "1 fixed" in res.stdout and "select-name" in res.stdout
    res = runner.invoke(a11ycrawl, ["diff", str(a), "999", "--db", store.path])
    assert "no run 999" in str(res.exception)


def test_a_changed_or_moved_element_is_still_present_not_fixed_and_new(store):
    """Adding lang to <html> fixes html-has-lang; the document-title failure on the same element
    stays (its snippet changed). A failing link that moved into a new wrapper stays too."""
    page = "http://127.0.0.1:8001/search/"
    a = make_run(store, "Westfold", {page: [
        violation("html-has-lang", "serious", targets=("html",), html="<html>"),
        violation("document-title", "serious", targets=("html",), html="<html>"),
        violation("link-name", "serious", targets=("footer > a.social",), html='<a class="social" href="/x"></a>'),
    ]})
    # served again on another port, as the demo does
    b = make_run(store, "Westfold", {page.replace("8001", "8002"): [
        violation("document-title", "serious", targets=("html",), html='<html lang="en-GB">'),
        violation("link-name", "serious", targets=("footer > div.icons > a.social",),
                  html='<a class="social" href="/x"></a>'),
    ]})
    d = diff_runs(store, a, b)
    assert d.pages_compared == 1
    assert [f.rule for f in d.fixed] == ["html-has-lang"]
    assert d.new == ()
    assert sorted(f.rule for f in d.unchanged) == ["document-title", "link-name"]


def test_diff_prints_selectors_and_site_names_as_text_not_markup(store):
    """Selectors and URLs hold square brackets (``a[href="/x"]``) that rich would read as markup
    and drop; a site name like ``[bold]x`` must not style, nor ``[/x]`` crash the command."""
    url = "https://c.example/?f[0]=[/x]"
    a = make_run(store, "[bold]Odd[/] council", {url: []})
    b = make_run(store, "[bold]Odd[/] council", {url: [
        violation("link-name", "serious", targets=('a[href="/x"]',), html='<a href="/x"></a>')]})
    res = CliRunner().invoke(a11ycrawl, ["diff", str(a), str(b), "--db", store.path], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert 'a[href="/x"]' in res.stdout and "[bold]Odd[/] council" in res.stdout
