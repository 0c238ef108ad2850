"""The accessibility statement: finding it among page facts and checking what it says
(audits/analysis/statement.py), then end to end through the browser's facts and the reports."""

from __future__ import annotations

from datetime import date

import pytest

from audits.analysis.statement import check_statement, dates_in, find_statement, sentences

HOME = "https://www.example.gov.uk/"
URL = "https://www.example.gov.uk/accessibility-statement/"

MODEL = """Accessibility statement for Example Council
This accessibility statement applies to the Example Council website.
Compliance status
This website is partially compliant with the Web Content Accessibility Guidelines version 2.2 AA standard, due to the non-compliances listed below.
Non-accessible content
The content listed below is non-accessible for the following reasons.
Feedback and contact information
If you need information on this website in a different format, email access@example.gov.uk or call 01632 960 000.
Enforcement procedure
The Equality and Human Rights Commission (EHRC) is responsible for enforcing the accessibility regulations.
Preparation of this statement
This statement was prepared on 23 September 2024. It was last reviewed on 1 March 2025."""


def _status(report):
    return {r["id"]: r["status"] for r in report["requirements"]}


def _evidence(report, rid):
    return next(r["evidence"] for r in report["requirements"] if r["id"] == rid)


def _found(text=MODEL, from_home=True):
    return {"url": URL, "title": "Accessibility statement", "text": text, "linked_from_home": from_home}


def test_the_model_statement_meets_every_requirement():
    report = check_statement(_found(), date(2025, 6, 1), level_a_aa_failures=3)
    assert set(_status(report).values()) == {"met"}, report
    assert report["compliance"] == "partially"
    assert _evidence(report, "feedback").startswith("If you need information")
    assert "Equality and Human Rights Commission" in _evidence(report, "enforcement")
    assert _evidence(report, "reviewed") == "It was last reviewed on 1 March 2025."
    assert report["latest_date"] == "2025-03-01" and not report["over_a_year_old"]


@pytest.mark.parametrize("cut, rid", [
    ("This website is partially compliant with the Web Content Accessibility Guidelines version 2.2 AA standard, "
     "due to the non-compliances listed below.", "compliance_status"),
    ("Non-accessible content\nThe content listed below is non-accessible for the following reasons.\n",
     "non_accessible_content"),
    ("email access@example.gov.uk or call 01632 960 000", "feedback"),
    ("The Equality and Human Rights Commission (EHRC) is responsible", "enforcement"),
    ("This statement was prepared on 23 September 2024.", "prepared"),
    ("It was last reviewed on 1 March 2025.", "reviewed"),
])
def test_each_requirement_goes_missing_when_its_sentence_does(cut, rid):
    text = MODEL.replace(cut, "")
    assert text != MODEL
    status = _status(check_statement(_found(text), date(2025, 6, 1), 0))
    assert status[rid] == "missing"
    assert [k for k, v in status.items() if v == "missing"] == [rid]


def test_a_review_more_than_a_year_old_is_flagged():
    report = check_statement(_found(), date(2026, 3, 2), 0)
    assert _status(report)["reviewed"] == "missing" and report["over_a_year_old"]
    assert "more than a year" in _evidence(report, "reviewed")


def test_full_compliance_claimed_against_audit_failures():
    text = MODEL.replace("partially compliant", "fully compliant")
    assert _status(check_statement(_found(text), date(2025, 6, 1), 0))["consistent_with_audit"] == "met"
    report = check_statement(_found(text), date(2025, 6, 1), 4)
    assert report["compliance"] == "fully"
    assert _status(report)["consistent_with_audit"] == "missing"
    assert "4 Level A/AA" in _evidence(report, "consistent_with_audit")


def test_no_statement_and_not_linked_from_home():
    assert _status(check_statement(None, date(2025, 6, 1), 0)) == {"exists": "missing"}
    assert _status(check_statement(_found(from_home=False), date(2025, 6, 1), 0))["linked_from_home"] == "missing"


def test_find_statement_by_footer_link_text_and_usual_path():
    home = {"url": HOME, "title": "Home", "facts": {"statement_links": [{"href": URL, "text": "Accessibility statement"}]}}
    st = {"url": URL, "title": "Accessibility", "facts": {"statement_text": MODEL}}
    other = {"url": HOME + "help/accessibility-tools", "title": "Accessibility tools",
             "facts": {"statement_text": "Zoom and contrast tools."}}
    found = find_statement([home, other, st], HOME)
    assert found["url"] == URL and found["linked_from_home"]
    # not linked from anywhere, but at a usual path: found, and not linked from home
    found = find_statement([{"url": HOME, "title": "Home", "facts": {}}, st, other], HOME)
    assert found["url"] == URL and not found["linked_from_home"]
    # a page about accessibility tools is not a statement
    assert find_statement([other], HOME) is None


def test_dates_and_sentences():
    assert dates_in("reviewed on 3rd March 2025") == [date(2025, 3, 3)]
    assert dates_in("updated 2025-01-31, and on March 4, 2025") == [date(2025, 1, 31), date(2025, 3, 4)]
    assert dates_in("reviewed in January 2025") == [date(2025, 1, 1)]
    assert dates_in("on 31/02/2025") == []
    assert sentences("One. Two\n\nThree.") == ["One.", "Two", "Three."]


# -- through the browser and the reports ------------------------------------------------------------

def test_statement_found_and_checked_in_an_audit(serve, audit):
    from audits.engine.static_server import Reply
    from reports.data import run_document

    def page(title, body):
        return (f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><main><h1>{title}</h1>"
                f"{body}</main><footer><a href='/accessibility-statement/'>Accessibility statement</a></footer>"
                "</body></html>")
    paras = "".join(f"<p>{line}</p>" for line in MODEL.replace("partially", "fully").splitlines()[1:])
    server = serve({
        "/": Reply(body=page("Home", "<p>Welcome</p><img src='/x.png'>")),  # image-alt: a Level A failure
        "/accessibility-statement/": Reply(body=page("Accessibility statement", paras)),
        "/robots.txt": Reply(404),
    })
    store, outcome = audit(server.url, max_pages=5)
    report = run_document(store, outcome.run_id)["statement"]
    assert report["url"] == server.url + "accessibility-statement/"
    status = _status(report)
    assert status["exists"] == status["linked_from_home"] == status["enforcement"] == "met"
    assert report["compliance"] == "fully" and status["consistent_with_audit"] == "missing"


@pytest.mark.parametrize("variant", ["before", "after"])
@pytest.mark.parametrize("key, compliance", [("northbrook", "partially"), ("eastmarsh", "partially"),
                                             ("westfold", None)])
def test_demo_statements(key, compliance, variant):
    """Each council's statement misses exactly what it was built to miss (Northbrook's is complete,
    Eastmarsh's has no enforcement procedure and a stale review until the fixes, Westfold has none),
    judged on today's date as a demo run is."""
    from html.parser import HTMLParser

    from audits.demo.councils import STATEMENT_PATH, build_site, expected_statement

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.parts = []

        def handle_data(self, data):
            self.parts.append(data)

        def handle_starttag(self, tag, attrs):
            if tag in ("p", "h1", "h2", "li", "br"):
                self.parts.append("\n")

    files = build_site(key, variant)
    want = expected_statement(key, variant)
    if want is None:
        assert STATEMENT_PATH not in files and STATEMENT_PATH.encode() not in files["/"][1]
        report = check_statement(None, date.today(), 10)
        assert [k for k, v in _status(report).items() if v == "missing"] == ["exists"]
        return
    parser = Text()
    parser.feed(files[STATEMENT_PATH][1].decode())
    report = check_statement(_found("".join(parser.parts)), date.today(), 10)
    assert report["compliance"] == compliance
    assert {k for k, v in _status(report).items() if v == "missing"} == want
    assert report["over_a_year_old"] == ("reviewed" in want)
