"""Cross-page checks (audits/analysis/crosspage.py) on hand-made page facts, their properties, and
one audit in Chromium whose facts the checks read back from the store."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audits.analysis.crosspage import CHECKS, check_site, same_order

SITE = "https://www.example.gov.uk/"


def nav(*names, label="Main", kind="nav", hrefs=None):
    hrefs = hrefs or [SITE + n.lower().replace(" ", "-") for n in names]
    return {"kind": kind, "label": label, "links": [[n, h] for n, h in zip(names, hrefs)]}


def pg(path, title=None, blocks=(), **facts):
    return {"url": SITE + path, "title": path or "Home" if title is None else title,
            "facts": {"nav_blocks": list(blocks), **facts}}


def finding(pages, check, start_url=SITE):
    (f,) = [f for f in check_site(pages, start_url) if f.check == check]
    return f


# -- 3.2.3 consistent navigation -----------------------------------------------------------------------

def test_navigation_in_another_order_fails_with_the_evidence():
    main = ("Bins", "Council tax", "Parking", "Contact")
    pages = [pg("", blocks=[nav(*main)]), pg("bins", blocks=[nav(*main)]),
             pg("parking", blocks=[nav("Parking", "Bins", "Council tax", "Contact")]), pg("tax", blocks=[nav(*main)])]
    f = finding(pages, "consistent-navigation")
    assert (f.status, f.pages, f.criteria) == ("fail", (SITE + "parking",), ("3.2.3",))
    (e,) = f.evidence
    assert e["expected"] == list(main) and e["found"] == ["Parking", "Bins", "Council tax", "Contact"]
    assert "Parking / Bins" in f.detail


def test_navigation_with_links_added_or_left_out_keeps_its_order():
    """The links two pages share come in the same order: a section's extra link, or the current
    page shown as text rather than a link, is no inconsistency."""
    pages = [pg("", blocks=[nav("Bins", "Council tax", "Parking")]),
             pg("bins", blocks=[nav("Council tax", "Parking")]),  # the current page is not a link
             pg("parking", blocks=[nav("Bins", "Council tax", "Parking permits", "Parking")])]
    f = finding(pages, "consistent-navigation")
    assert f.status == "pass", f


def test_blocks_are_matched_by_their_links_not_their_position():
    """A breadcrumb trail (an unlabelled nav) before the main navigation on some pages only does not
    make the main navigation compare with the breadcrumb."""
    main = nav("Bins", "Council tax", "Parking", label="")
    crumbs = nav("Home", "Services", label="", hrefs=[SITE, SITE + "services"])
    pages = [pg("", blocks=[main]), pg("bins", blocks=[crumbs, main]), pg("tax", blocks=[crumbs, main])]
    assert finding(pages, "consistent-navigation").status == "pass"
    assert finding(pages[:1], "consistent-navigation").status == "not-applicable"


# -- 3.2.4 consistent identification -----------------------------------------------------------------

def test_one_destination_named_differently_fails():
    pages = [pg("", blocks=[nav("Bins", "Council tax")]), pg("a", blocks=[nav("Bins", "Council tax")]),
             pg("b", blocks=[nav("Rubbish", "Council tax", hrefs=[SITE + "bins", SITE + "council-tax"])])]
    f = finding(pages, "consistent-identification")
    assert (f.status, f.pages) == ("fail", (SITE + "b",))
    assert f.evidence[0]["names"] == {"bins": [SITE, SITE + "a"], "rubbish": [SITE + "b"]}


@pytest.mark.parametrize("other", ["Contact us", "contact (current page)", "CONTACT", "Skip to content", "Contact (3)"])
def test_names_that_agree_pass(other):
    hrefs = [SITE + "contact", SITE + "bins", SITE + "tax"]
    pages = [pg("", blocks=[nav("Contact", "Bins", "Tax", hrefs=hrefs)]),
             pg("x", blocks=[nav(other, "Bins", "Tax", hrefs=hrefs)])]
    assert finding(pages, "consistent-identification").status == "pass"


def test_pages_in_another_language_are_compared_among_themselves():
    """The Welsh pages' menu names the same addresses in Welsh, in its own order."""
    hrefs = [SITE + "bins", SITE + "tax"]
    english = [pg(f"e{i}", blocks=[nav("Bins", "Council tax", label="", hrefs=hrefs)], lang="en") for i in range(2)]
    welsh = [pg(f"c{i}", blocks=[nav("Treth y cyngor", "Biniau", label="", hrefs=hrefs[::-1])], lang="cy")
             for i in range(2)]
    out = {f.check: f.status for f in check_site(english + welsh, SITE)}
    assert out["consistent-identification"] == out["consistent-navigation"] == "pass"
    welsh[1]["facts"]["lang"] = "en"  # declared English: now it is compared with the English pages
    out = {f.check: f.status for f in check_site(english + welsh, SITE)}
    assert out["consistent-identification"] == out["consistent-navigation"] == "fail"


def test_different_blocks_may_name_a_destination_differently():
    """The header's "Contact us" and the footer's "Get in touch" are two components."""
    blocks = [nav("Contact us", "Bins", kind="header", label=""), nav("Get in touch", "Bins", kind="footer", label="",
                                                                      hrefs=[SITE + "contact-us", SITE + "bins"])]
    pages = [pg("", blocks=blocks), pg("x", blocks=blocks)]
    assert finding(pages, "consistent-identification").status == "pass"


# -- what changes from page to page by design is no inconsistency ----------------------------------

MAIN = ("Bins", "Council tax", "Parking", "Contact")


def govuk_pager(page, last=5, label="Pagination"):
    """GOV.UK's numbered pagination on ``news?page={page}``: "Previous page" first, the numbers
    (the current one a link too), "Next page"."""
    url = (SITE + "news?page={}").format
    links = ([["Previous page", url(page - 1)]] if page > 1 else []) + [[f"Page {n}", url(n)] for n in range(1, last + 1)] \
        + ([["Next page", url(page + 1)]] if page < last else [])
    return {"kind": "nav", "label": label, "links": links}


@pytest.mark.parametrize("label", ["Pagination", ""])
def test_numbered_pagination_is_no_navigation_block(label):
    """On page 4, "Previous page" (?page=3) comes before "Page 2": the block's order differs from
    page 2's, and ?page=3 is "Previous page" on one page and "Page 3" on another. Left out by its
    label, and by its links' names when it has no label."""
    pages = [pg("news" + ("" if n == 1 else f"?page={n}"), title="News", blocks=[nav(*MAIN), govuk_pager(n, label=label)])
             for n in range(1, 6)]
    assert finding(pages, "consistent-navigation").status == "pass"
    assert finding(pages, "consistent-identification").status == "pass"


def test_older_and_newer_posts_are_no_navigation_block():
    """WordPress: /news/page/2/ is "Older posts" on page 1 and "Newer posts" on page 3."""
    def posts(n, last=4):
        url = (SITE + "news/page/{}/").format
        return nav(*(["Older posts"] if n < last else []) + (["Newer posts"] if n > 1 else []), label="",
                   hrefs=([url(n + 1)] if n < last else []) + ([url(n - 1) if n > 2 else SITE + "news/"] if n > 1 else []))
    pages = [pg("news/" if n == 1 else f"news/page/{n}/", title="News", blocks=[nav(*MAIN), posts(n)]) for n in (1, 3)]
    assert finding(pages, "consistent-identification").status == "pass"


def test_blocks_sharing_only_half_their_addresses_are_not_one_block():
    """An events list's "Earlier events" / "Later events" (names we do not know as a pager's):
    page 1's block {page 2} and page 3's {page 2, page 4} share exactly half their addresses, which
    is not enough to be one block (nor are two menus of four sharing two)."""
    url = (SITE + "events?page={}").format
    pages = [pg("events", blocks=[nav("Later events", label="", hrefs=[url(2)])]),
             pg("events?page=3", blocks=[nav("Earlier events", "Later events", label="", hrefs=[url(2), url(4)])])]
    assert finding(pages, "consistent-identification").status == "not-applicable"
    # labelled as a pagination block, it is left out whatever its links' names
    for p in pages:
        p["facts"]["nav_blocks"][0]["label"] = "Events pagination"
    pages[0]["facts"]["nav_blocks"][0]["links"].append(["Bins", SITE + "bins"])
    pages[1]["facts"]["nav_blocks"][0]["links"][1:] = [["Bins", SITE + "bins"]]
    assert finding(pages, "consistent-identification").status == "not-applicable"
    pages[0]["facts"]["nav_blocks"][0]["label"] = pages[1]["facts"]["nav_blocks"][0]["label"] = "Events"
    assert finding(pages, "consistent-identification").status == "fail"  # the same block: {page 2, bins}


def test_a_breadcrumb_trail_follows_the_page():
    """A trail names and orders the page's parents, which differ from page to page (a page under
    two sections, a section named by its page's title): not a repeated navigation block."""
    trail = lambda *pairs: nav(*[n for n, _ in pairs], label="Breadcrumb", hrefs=[SITE + h for _, h in pairs])
    pages = [pg("bins/days", blocks=[nav(*MAIN), trail(("Home", ""), ("Services", "services"), ("Bins", "bins"))]),
             pg("bins/missed", blocks=[nav(*MAIN), trail(("Home", ""), ("Services", "services"),
                                                          ("Rubbish and recycling", "bins"))]),
             pg("parking/permits", blocks=[nav(*MAIN), trail(("Home", ""), ("Bins", "bins"), ("Services", "services"))])]
    out = {f.check: f.status for f in check_site(pages, SITE)}
    assert out["consistent-navigation"] == out["consistent-identification"] == "pass"
    for p in pages:
        p["facts"]["nav_blocks"][1]["label"] = "Trail"  # were it a repeated block, both would fail
    out = {f.check: f.status for f in check_site(pages, SITE)}
    assert out["consistent-navigation"] == out["consistent-identification"] == "fail"


def test_the_current_page_may_be_named_otherwise():
    """The current item links the page itself under its heading ("Waste and recycling") or a
    breadcrumb's last item: its name is not compared; its place still is."""
    hrefs = [SITE + "bins", SITE + "council-tax", SITE + "parking"]
    pages = [pg("", blocks=[nav("Bins", "Council tax", "Parking", label="")]),
             pg("bins", blocks=[nav("Waste and recycling", "Council tax", "Parking", label="", hrefs=hrefs)]),
             pg("parking", blocks=[nav("Bins", "Council tax", "You are here: Parking", label="", hrefs=hrefs)])]
    assert finding(pages, "consistent-identification").status == "pass"
    assert finding(pages, "consistent-navigation").status == "pass"
    pages.append(pg("bins/days", blocks=[nav("Rubbish", "Council tax", "Parking", label="", hrefs=hrefs)]))
    assert finding(pages, "consistent-identification").pages == (SITE + "bins/days",)  # not its own page
    pages.append(pg("council-tax", blocks=[nav("Council tax", "Bins", "Parking", label="",
                                                hrefs=[hrefs[1], hrefs[0], hrefs[2]])]))
    assert finding(pages, "consistent-navigation").pages == (SITE + "council-tax",)


def test_a_language_switcher_is_left_out():
    """English/Cymraeg in the header: "Cymraeg" links this page in Welsh (another address on every
    page) and "English" the page itself, ahead of the menu's link to it (which would move the
    page's own address to the front of the header on every page)."""
    paths = {"bins": "biniau", "council-tax": "treth-gyngor", "parking": "parcio", "contact": "cysylltu"}
    header = lambda path: nav("English", "Cymraeg", *MAIN, kind="header", label="",
                              hrefs=[SITE + "en/" + path, SITE + "cy/" + paths[path]] + [SITE + "en/" + p for p in paths])
    pages = [pg("en/" + path, blocks=[header(path)], lang="en") for path in paths]
    out = {f.check: f.status for f in check_site(pages, SITE)}
    assert out["consistent-navigation"] == out["consistent-identification"] == "pass", out


# -- 2.4.5 multiple ways ---------------------------------------------------------------------------------

def test_multiple_ways():
    two = [pg("", links=[]), pg("bins", links=[])]
    assert finding(two[:1], "multiple-ways").status == "not-applicable"
    f = finding(two, "multiple-ways")
    assert f.status == "fail" and "only way" in f.detail
    assert finding([two[0], pg("bins", search=True)], "multiple-ways").status == "pass"
    sitemap = pg("bins", sitemap_links=[{"href": SITE + "sitemap", "text": "Site map"}])
    assert finding([two[0], sitemap], "multiple-ways").status == "pass"
    # a home page that links every other page (a small site) is a way of its own
    home = pg("", links=[SITE + "bins", SITE + "tax"])
    assert finding([home, pg("bins"), pg("tax")], "multiple-ways").status == "pass"
    assert finding([home, pg("bins"), pg("tax"), pg("deep")], "multiple-ways").status == "fail"


def test_runs_stored_before_navigation_blocks_were_gathered_are_not_known():
    """Facts without ``nav_blocks`` (stored before they were gathered): not applicable, and the
    reason said, not that no block repeats."""
    old = [{"url": SITE + p, "title": p, "facts": {"lang": "en"}} for p in ("", "bins")]
    for check in ("consistent-navigation", "consistent-identification", "multiple-ways"):
        f = finding(old, check)
        assert f.status == "not-applicable" and "audit the site again" in f.detail, f
    for check in ("consistent-navigation", "consistent-identification"):
        f = finding([pg(""), pg("bins")], check)  # gathered, and none found
        assert f.status == "not-applicable" and "audit the site again" not in f.detail, f
        assert "before a11ycrawl gathered navigation blocks" in finding(old, check).detail


# -- 2.4.2 titles ------------------------------------------------------------------------------------------

def test_empty_titles_fail():
    f = finding([pg("", title="Home"), pg("a", title="  "), pg("b", title=None)], "page-title-empty")
    assert f.pages == (SITE + "a",) or f.pages == (SITE + "a", SITE + "b")
    assert finding([{"url": SITE, "title": None, "facts": {}}], "page-title-empty").status == "fail"
    assert finding([pg("", title="Home")], "page-title-empty").status == "pass"


def test_duplicate_titles_fail_with_their_groups():
    pages = [pg("", title="Council"), pg("bins", title="Council"), pg("tax", title=" council "), pg("x", title="X")]
    f = finding(pages, "page-title-duplicate")
    assert f.status == "fail" and set(f.pages) == {SITE, SITE + "bins", SITE + "tax"}
    assert f.evidence[0]["count"] == 3 and f.evidence[0]["title"] == "Council"


@pytest.mark.parametrize("paths", [("news", "news?page=2", "news?page=3"), ("news/page/1", "news/page/2"),
                                   ("apply/1", "apply/2"), ("form?step=1", "form?step=2")])
def test_pages_of_one_list_or_form_may_share_a_title(paths):
    pages = [pg(p, title="News") for p in paths] + [pg("other", title="Other")]
    assert finding(pages, "page-title-duplicate").status == "pass"


def test_the_pages_of_a_list_are_one_page():
    """/news/ and /news/page/2/ (WordPress), /apply and /apply/2: one page for the title."""
    for paths in (("news/", "news/page/2/", "news/page/3/"), ("apply", "apply/2"), ("news/page/2", "news/page/3")):
        pages = [pg(p, title="News") for p in paths] + [pg("other", title="Other")]
        assert finding(pages, "page-title-duplicate").status == "pass", paths
    pages = [pg("news/", title="News"), pg("news/archive", title="News")]
    assert finding(pages, "page-title-duplicate").status == "fail"


def test_a_page_and_its_translation_may_share_a_bilingual_title():
    title = "Contact us | Cysylltu \u00e2 ni"
    pages = [pg("en/contact", title=title, lang="en"), pg("cy/cysylltu", title=title, lang="cy-GB"),
             pg("en/bins", title="Bins", lang="en")]
    assert finding(pages, "page-title-duplicate").status == "pass"
    pages.append(pg("en/contact-form", title=title, lang="en-GB"))  # two English pages: a duplicate
    f = finding(pages, "page-title-duplicate")
    assert f.status == "fail" and set(f.pages) == {SITE + "en/contact", SITE + "en/contact-form"}


def test_error_pages_are_not_duplicates():
    pages = [pg("a", title="Page not found"), pg("b", title="Page not found"), pg("c", title="C")]
    assert finding(pages, "page-title-duplicate").status == "pass"


# -- language --------------------------------------------------------------------------------------------

LATIN_TEXT = {"Latin": 900}


def test_a_page_in_another_script_than_its_language_fails():
    pages = [pg("", lang="en", text_scripts=LATIN_TEXT), pg("ru", lang="en", text_scripts={"Cyrillic": 800, "Latin": 40})]
    f = finding(pages, "language-change")
    assert (f.status, f.pages, f.criteria) == ("fail", (SITE + "ru",), ("3.1.1", "3.1.2"))
    assert f.evidence[0]["criterion"] == "3.1.1" and f.evidence[0]["script"] == "Cyrillic"
    pages[1]["facts"]["lang"] = "ru"
    assert finding(pages, "language-change").status == "pass"


def test_a_passage_in_another_script_without_its_lang_fails():
    part = {"text": "العربية", "script": "Arabic", "letters": 7, "lang": "en"}
    page = pg("", lang="en", text_scripts=LATIN_TEXT, lang_parts=[part])
    f = finding([page], "language-change")
    assert f.status == "fail" and f.evidence[0]["criterion"] == "3.1.2" and "العربية" in f.detail
    part["lang"] = "ar"
    assert finding([page], "language-change").status == "pass"


WELSH = ("Mae'r cyngor yn casglu biniau ailgylchu bob pythefnos. Os ydych chi wedi colli casgliad, rhowch wybod i ni "
         "drwy ddefnyddio'r ffurflen ar-lein. Gallwch hefyd ffonio ein canolfan gyswllt rhwng 9am a 5pm. Mae angen i chi "
         "roi eich biniau allan erbyn 7am ar y diwrnod casglu. Ni fyddwn yn casglu gwastraff ychwanegol sydd wedi'i "
         "adael wrth ymyl y bin. Mae gwybodaeth am wasanaethau eraill ar gael ar ein gwefan, gan gynnwys treth y cyngor, "
         "parcio a chynllunio. Rhaid i chi gofrestru ar gyfer y gwasanaeth gwastraff gardd cyn y gallwn gasglu eich bin.")
ENGLISH = ("The council collects recycling bins every two weeks. If you have missed a collection, tell us by using the "
           "online form. You can also call our contact centre from Monday to Friday. You need to put your bins out by "
           "7am on the day of collection. We will not take extra waste that is left beside the bin. Information about "
           "our other services is on our website, which covers council tax, parking and planning. You have to register "
           "for the garden waste service before we can collect your green bin, and it is charged for each year.")


@pytest.mark.parametrize("declared, text, status", [
    ("en", WELSH, "fail"), ("en-GB", WELSH, "fail"), ("cy", ENGLISH, "fail"), ("cy", WELSH, "pass"),
    ("en", ENGLISH, "pass"),
    # (passing below: the writing system is right, and the language is not judged, because...)
    ("en", WELSH[:300], "pass"),  # ...the text is too short
    ("en", ENGLISH + " " + WELSH, "pass"),  # ...it is bilingual: neither language outnumbers the other
    ("en", ENGLISH[:200] + " " + WELSH, "pass"),  # ...nor four times (26 Welsh function words, 12 English)
    ("ro", WELSH, "pass")])  # ...we do not list the declared language's function words
def test_a_page_in_another_language_of_the_same_script(declared, text, status):
    page = pg("", lang=declared, text_scripts={"Latin": len(text)}, text_sample=text)
    f = finding([page], "language-change")
    assert f.status == status, f
    if status == "fail":
        assert f.evidence[0]["language"] == ("cy" if text == WELSH else "en") and "function words" in f.detail


def test_latin_words_in_a_page_of_another_script_are_not_judged():
    """Names, acronyms and addresses in Latin letters inside a Chinese page are exempt."""
    part = {"text": "info@council.gov.uk", "script": "Latin", "letters": 15, "lang": "zh"}
    page = pg("", lang="zh", text_scripts={"Han": 900}, lang_parts=[part])
    assert finding([page], "language-change").status == "pass"


def test_what_cannot_be_judged_is_not_applicable():
    """No lang, a language we do not know the script of, or too little text: never a failure."""
    for facts in ({"text_scripts": {"Cyrillic": 900}}, {"lang": "xx", "text_scripts": {"Cyrillic": 900}},
                  {"lang": "en", "text_scripts": {"Cyrillic": 50}},
                  {"lang": "en", "lang_parts": [{"text": "Да", "script": "Cyrillic", "letters": 2, "lang": None}]}):
        assert finding([pg("", **facts)], "language-change").status == "not-applicable", facts


# -- properties ------------------------------------------------------------------------------------------

junk = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=30)
fact_keys = st.sampled_from(["nav_blocks", "search", "sitemap_links", "text_scripts", "lang_parts", "lang", "links",
                             "title"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({"url": st.text(max_size=30), "title": junk,
                                       "facts": st.dictionaries(fact_keys, junk, max_size=6)}), max_size=5))
def test_any_facts_give_one_finding_per_check(pages):
    """Facts come from audited pages: whatever they hold, every check answers, once, in order."""
    out = check_site(pages, SITE)
    assert [f.check for f in out] == list(CHECKS)
    assert all(f.status in ("pass", "fail", "not-applicable") and f.criteria == CHECKS[f.check] for f in out)
    assert all(f.pages for f in out if f.status == "fail")


names = st.lists(st.sampled_from(["Bins", "Tax", "Parking", "Schools", "Jobs", "Contact"]), min_size=2, max_size=6,
                 unique=True)


@given(names, st.integers(min_value=2, max_value=5))
def test_the_same_navigation_everywhere_never_fails(links, n):
    pages = [pg(f"p{i}", title=f"P{i}", blocks=[nav(*links)]) for i in range(n)]
    out = {f.check: f.status for f in check_site(pages, SITE)}
    assert out["consistent-navigation"] == "pass" and out["consistent-identification"] == "pass"


@given(names, names)
def test_same_order_is_symmetric_and_holds_for_a_list_with_itself(a, b):
    assert same_order(a, b) == same_order(b, a)
    assert same_order(a, a)


@given(names, st.randoms(use_true_random=False))
def test_a_reordered_block_is_reported_on_that_page_only(links, rnd):
    moved = list(links)
    rnd.shuffle(moved)
    pages = [pg(f"p{i}", title=f"P{i}", blocks=[nav(*links)]) for i in range(3)]
    pages.append(pg("moved", title="Moved", blocks=[nav(*moved)]))
    f = finding(pages, "consistent-navigation")
    assert f.status == ("pass" if moved == links else "fail")
    assert f.pages == (() if moved == links else (SITE + "moved",))


# -- in Chromium: facts gathered, stored, checked, attributed and shown ----------------------------

CHAT = ('<!doctype html><html lang="en"><head><title>Chat</title></head><body>'
        '<img src="/agent.png" class="agent"><input id="message"></body></html>')  # image-alt, label


def council_page(title, nav_links, body="", lang="en"):
    links = "".join(f'<li><a href="{h}">{n}</a></li>' for n, h in nav_links)
    return (f'<!doctype html><html lang="{lang}"><head><title>{title}</title></head><body>'
            f'<header><a href="#main">Skip to main content</a><nav aria-label="Main"><ul>{links}</ul></nav></header>'
            f'<main id="main"><h1>{title}</h1>{body}</main>'
            '<footer><a href="/contact">Contact us</a></footer></body></html>')


@pytest.mark.browser
def test_an_audited_site_is_checked_across_pages_and_its_widget_attributed(serve, audit, cli, tmp_path):
    from audits.engine.static_server import Reply
    from audits.results import site_checks, third_party
    from reports.data import run_document
    from reports.export import export_csv

    vendor = serve({"/widget": Reply(body=CHAT), "/agent.png": Reply(404)})
    usual = [("Bins", "/bins"), ("Council tax", "/tax"), ("Contact", "/contact")]
    frame = f'<iframe id="chat" title="Web chat" src="{vendor.origin}/widget"></iframe>'
    site = serve({
        "/": Reply(body=council_page("Home", usual, "<p>Welcome to the council.</p>" + frame)),
        "/bins": Reply(body=council_page("=Council services", usual, '<p><a href="/bins/days">Collection days</a></p>')),
        "/bins/days": Reply(body=council_page("Collection days", usual, "<p>Bins are collected weekly.</p>")),
        "/tax": Reply(body=council_page("=Council services", [usual[1], usual[0], usual[2]],
                                        "<p>Pay your council tax.</p><p>Оплатить муниципальный налог онлайн</p>")),
        "/contact": Reply(body=council_page("Contact", usual, "<p>Write to us.</p>" + frame)),
        "/robots.txt": Reply(404),
    })
    store, outcome = audit(site.url, max_pages=10, sitemaps=False)
    run_id = outcome.run_id
    checks = {f.check: f for f in site_checks(store, run_id)}
    assert checks["consistent-navigation"].status == "fail", checks["consistent-navigation"]
    assert checks["consistent-navigation"].pages == (site.url + "tax",)
    assert checks["consistent-navigation"].evidence[0]["found"] == ["Council tax", "Bins", "Contact"]
    assert checks["consistent-identification"].status == "pass"  # the skip link is no navigation
    assert checks["multiple-ways"].status == "fail"  # no search, no site map, and home does not link every page
    # (were /bins/days not audited, the home page would link every other page: a way of its own)
    store.db.execute("update pages set status = 'skipped' where run_id = ? and url like '%/bins/days'", [run_id])
    assert next(f for f in site_checks(store, run_id) if f.check == "multiple-ways").status == "pass"
    store.db.execute("update pages set status = 'audited' where run_id = ? and url like '%/bins/days'", [run_id])
    assert checks["page-title-empty"].status == "pass"
    assert set(checks["page-title-duplicate"].pages) == {site.url + "bins", site.url + "tax"}
    lang = checks["language-change"]
    assert lang.status == "fail" and lang.pages == (site.url + "tax",) and lang.evidence[0]["script"] == "Cyrillic"

    # the chat widget's failures carry its origin and are grouped under it; the page's own do not
    doc = run_document(store, run_id)
    assert [c["check"] for c in doc["site_checks"]] == list(CHECKS)
    home = next(p for p in doc["pages"] if p["url"] == site.url)
    origins = {(v["rule"], tuple(n["target"])): n["origin"] for v in home["violations"] for n in v["nodes"]}
    assert origins[("image-alt", ("#chat", "img"))] == vendor.origin
    assert origins[("label", ("#chat", "#message"))] == vendor.origin
    assert all(o is None for (rule, target), o in origins.items() if len(target) == 1)
    (group,) = third_party(store, run_id)
    assert group.vendor == vendor.origin.split("//")[1] and group.origins == (vendor.origin,)
    assert group.pages == (site.url, site.url + "contact") and dict(group.rules) == {"image-alt": 2, "label": 2}
    assert doc["third_party"] == [group.as_dict()]
    # the vendor's site was never crawled: only its frame and image were fetched, by the browser
    assert set(vendor.requests) <= {"/widget", "/agent.png"}
    assert not [p for p in doc["pages"] if p["url"].startswith(vendor.origin)]

    # the summary, the HTML report and the CSV show them
    from rich.console import Console
    from reports.terminal import print_summary

    console = Console(record=True, width=200)
    print_summary(console, store, run_id)
    text = console.export_text()
    assert "Across pages: 2 of 6 checks passed" in text
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:4]] for line in text.splitlines()
            if line.startswith("│") and line.count("│") > 4}
    assert rows["consistent-navigation"] == ["3.2.3", "1"] and rows["page-title-duplicate"] == ["2.4.2", "2"]
    assert rows["language-change"] == ["3.1.1, 3.1.2", "1"] and "consistent-identification" not in rows
    assert "Third-party content" in text and rows[group.vendor] == ["2", "4"]
    res = cli("report", "--db", str(tmp_path / "a.db"), "-o", str(tmp_path / "r.html"))
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "r.html").read_text()
    assert 'id="across-pages"' in html and 'id="third-party"' in html and "<code>consistent-navigation</code>" in html
    assert "3.2.3 Consistent Navigation" in html and vendor.origin in html
    assert f"<code>#chat | img</code> (third party: {group.vendor}) on" in html.replace(" &gt;&gt;&gt; ", " | ")
    assert "“=Council services” is the title of 2 different pages" in html
    # and the report, its new sections opened, still passes its own audit
    from helpers import assert_passes_own_audit

    assert_passes_own_audit(audit, serve, html.replace("<details id=", "<details open id="), db=tmp_path / "r.db")
    rows = export_csv(store, run_id).splitlines()
    site_rows = [r for r in rows if ",site:" in r]
    assert any(",site:consistent-navigation," in r and r.startswith(f"{outcome.site},{run_id},{site.url}tax,") for r in site_rows)
    assert any(",'=Council services,site:page-title-duplicate," in r for r in site_rows), site_rows


# -- what the browser gathers --------------------------------------------------------------------------

def site_facts(browser, body, lang="en", head=""):
    """siteFacts() (audits/engine/axe.py) on a page made of ``body``."""
    from audits.engine.axe import site_facts_js
    from helpers import run

    async def go():
        page = await browser.new_page()
        try:
            html = f'<!doctype html><html lang="{lang}"><head><title>T</title>{head}</head><body>{body}</body></html>'
            # an http address (links are resolved against it) answered here: nothing leaves the browser
            await page.route("http://site.test/**", lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"))
            await page.goto("http://site.test/")
            return await page.evaluate(site_facts_js())
        finally:
            await page.close()

    return run(go())


@pytest.mark.browser
def test_navigation_blocks_are_bounded_and_kept_apart(browser):
    many = "".join(f'<nav aria-label="N{i}">' + "".join(f'<a href="/p{i}-{j}">{"x" * 500}{j}</a>' for j in range(200))
                   + "</nav>" for i in range(30))
    facts = site_facts(browser, many)
    assert len(facts["nav_blocks"]) == 12 and all(len(b["links"]) == 60 for b in facts["nav_blocks"])
    assert max(len(name) for b in facts["nav_blocks"] for name, _ in b["links"]) == 120
    facts = site_facts(browser, """
        <header><a href="/">Home</a><nav><a href="/a">A</a><a href="/b#x">B <span>two</span></a></nav></header>
        <nav hidden><a href="/hidden">Hidden</a></nav>
        <main><article><header><a href="/in-article">Not the banner</a></header></article></main>
        <footer><a href="/c" aria-label="Contact us"><img src="x.png" alt="c"></a><a href="mailto:a@b.c">Mail</a></footer>""")
    blocks = [(b["kind"], b["label"], [(n, h.rsplit("/", 1)[1]) for n, h in b["links"]]) for b in facts["nav_blocks"]]
    assert blocks == [("header", "", [("Home", "")]), ("nav", "", [("A", "a"), ("B two", "b")]),
                      ("footer", "", [("Contact us", "c")])]


@pytest.mark.browser
@pytest.mark.parametrize("body, search", [
    ('<form role="search"><input aria-label="Find"></form>', True), ("<search><input></search>", True),
    ('<input type="search" aria-label="Find">', True), ('<form action="/search"><input aria-label="x"></form>', True),
    ('<form><input name="q" aria-label="x"></form>', True), ('<form action="/pay"><input name="card"></form>', False)])
def test_a_search_is_recognised(browser, body, search):
    assert site_facts(browser, body)["search"] is search


@pytest.mark.browser
def test_site_map_links_and_passages_in_another_script(browser):
    facts = site_facts(browser, """<main><p>This council page is written in English for everyone to read.</p>
        <a href="/sitemap">Site map</a> <a href="/services/a-z">A to Z of services</a> <a href="/sitemap.xml">XML</a>
        <a href="/index">Index</a> <a href="/ar">العربية</a> <a href="/pl">Polski</a> <a href="/zh" lang="zh">中文版本</a>
        <p>مرحبا</p></main>""")
    assert [link["text"] for link in facts["sitemap_links"]] == ["Site map", "A to Z of services"]
    parts = {p["text"]: (p["script"], p["lang"]) for p in facts["lang_parts"]}
    assert parts == {"العربية": ("Arabic", "en"), "中文版本": ("Han", "zh"), "مرحبا": ("Arabic", "en")}
    assert facts["text_scripts"]["Latin"] > 40 and facts["text_scripts"]["Arabic"] == 12
    # the text sample leaves out what declares its own language, and scripts
    assert facts["text_sample"].startswith("This council page is written in English for everyone to read. Site map")
    assert "中文" not in facts["text_sample"] and "العربية" in facts["text_sample"]
    facts = site_facts(browser, "<main><script>var secret = 1;</script>" + "<p>word</p>" * 2000 + "</main>")
    assert 2990 <= len(facts["text_sample"]) <= 3000 and "secret" not in facts["text_sample"]


def test_the_fence_lets_frames_from_other_hosts_in_but_not_the_page_nor_private_addresses():
    """A third party's frame is part of the page (loaded and audited with it); the page itself
    stays in scope, and from a public start URL no frame comes from a private address."""
    from audits.engine.auditor import DocumentFence
    from crawler.urls import Scope

    public = DocumentFence(Scope.for_start_url("https://www.example.gov.uk/"))
    assert public.frame_allowed("https://secure.livechatinc.com/widget", main=False)
    assert not public.frame_allowed("https://secure.livechatinc.com/widget", main=True)
    assert public.frame_allowed("https://www.example.gov.uk/form", main=True)
    for private in ("http://127.0.0.1:8080/", "http://10.0.0.1/x", "http://localhost/", "http://[::1]/",
                    "http://169.254.169.254/latest/meta-data/"):
        assert not public.frame_allowed(private, main=False), private
    assert not public.frame_allowed("javascript:alert(1)", main=False)
    assert not public.frame_allowed("ftp://files.example.com/", main=False)
    local = DocumentFence(Scope.for_start_url("http://127.0.0.1:8000/"))
    assert local.frame_allowed("http://127.0.0.1:9000/widget", main=False)
    assert not local.frame_allowed("http://127.0.0.1:9000/widget", main=True)


# -- third-party attribution (audits/analysis/thirdparty.py) ----------------------------------------

def test_an_element_takes_the_origin_of_the_innermost_frame_with_an_address():
    from audits.analysis.thirdparty import third_party_origin

    frames = [{"target": ["#chat"], "url": "https://chat.vendor.example/w"},
              {"target": ["#chat", "iframe.inner"], "url": "about:srcdoc"},
              {"target": ["#chat", "iframe.pay"], "url": "https://pay.other.example:8443/p"},
              {"target": ["#map"], "url": "https://www.example.gov.uk/map"},
              {"target": [["#host", "iframe"]], "url": "https://video.example/v"}]
    page = "https://www.example.gov.uk/contact"
    assert third_party_origin(["#chat", "img"], frames, page) == "https://chat.vendor.example"
    assert third_party_origin(["#chat", "iframe.inner", "img"], frames, page) == "https://chat.vendor.example"
    assert third_party_origin(["#chat", "iframe.pay", "input"], frames, page) == "https://pay.other.example:8443"
    assert third_party_origin(["#map", "img"], frames, page) is None  # the council's own frame
    assert third_party_origin([["#host", "iframe"], "button"], frames, page) == "https://video.example"
    assert third_party_origin(["#unknown", "img"], frames, page) is None
    assert third_party_origin(["img"], frames, page) is None


@settings(max_examples=200, deadline=None)
@given(junk, junk, st.one_of(st.none(), st.text(max_size=40)))
def test_attribution_takes_any_facts(target, frames, page):
    from audits.analysis.thirdparty import origin_of, third_party_origin

    got = third_party_origin(target, frames, page)
    assert got is None or (got.startswith(("http://", "https://")) and got != origin_of(page))


def every_check_failing():
    """Hand-made pages on which every cross-page check fails, with a hostile link name."""
    hrefs = [SITE + "bins", SITE + "tax", SITE + "x"]
    hostile = "<script>alert(1)</script>"
    pages = [pg("", title="Same", blocks=[nav("Bins", "Tax", "X", hrefs=hrefs)], lang="en", text_sample=WELSH,
                text_scripts={"Latin": 900}, links=[]),
             pg("a", title="Same", blocks=[nav("Bins", "Tax", "X", hrefs=hrefs)], lang="en",
                lang_parts=[{"text": "العربية", "script": "Arabic", "letters": 7, "lang": "en"}]),
             pg("b", title=" ", blocks=[nav("Tax", hostile, "X", hrefs=[hrefs[1], hrefs[0], hrefs[2]])], lang="en")]
    return check_site(pages, SITE)


def test_the_html_report_shows_every_kind_of_evidence_escaped(tmp_path):
    from dataclasses import replace

    from helpers import history_store
    from reports.html import build_report, render_report

    findings = every_check_failing()
    assert {f.status for f in findings} == {"fail"}, [(f.check, f.status) for f in findings]
    store = history_store(tmp_path / "h.db")
    html = render_report(replace(build_report(store, site="Westfold County Council"), site_checks=tuple(findings)))
    for f in findings:
        assert f'<details id="across-{f.check}">' in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<dt>function words</dt><dd>“cy”: " in html and "<dt>expected</dt><dd>Bins / Tax / X</dd>" in html
