"""Linked documents and the accessibility statement in the HTML report and the CSV exports: each
document with every page that links it, its checks with WCAG criterion, PDF/UA clause and
Matterhorn condition, "possibly exempt" marks, unreadable files with their reason; the statement's
requirements with their evidence, the staleness and full-compliance flags. Everything taken from
the site is escaped (HTML) or neutralised (CSV). The store is built directly (no browser)."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from audits.analysis.documents import check_pdf
from audits.store import PageRecord, open_store
from crawler.urls import normalise_url
from helpers import NOW, RULES, Tags, add_run, assert_passes_own_audit, logo
from reports.cli import cli as a11ycrawl
from reports.export import export_table_csv
from reports.html import build_report, render_report
from pdf_files import raw_pdf, scanned_pdf

BASE = "https://www.fenside.example.gov.uk/"
SITE = "Fenside Council"
EVIL = '<script>window.__pwned=4</script>'
STATEMENT = """Accessibility statement for Fenside Council
This website is fully compliant with the Web Content Accessibility Guidelines version 2.2 AA standard.
=HYPERLINK("http://x") If you need information in a different format, email access@fenside.example.gov.uk.
This statement was prepared on 1 March 2024. It was last reviewed on 1 March 2024."""


def _checks(data: bytes) -> dict:
    report = check_pdf(data)
    return {"check_status": "checked", "check_reason": None, "pages": report.pages, "created": report.created,
            "possibly_exempt": int(report.possibly_exempt), "checks": [vars(c) for c in report.checks]}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = open_store(tmp_path_factory.mktemp("docs") / "d.db")
    s.save_rules("4.12.1", RULES)
    run_id = add_run(s, SITE, BASE, "01-30", {"": [logo()], "papers/": []})
    links = [BASE + "docs/scan.pdf", BASE + "docs/" + EVIL + ".pdf#page=2", BASE + "docs/broken.pdf"]
    for path, title, facts in (
            ("accessibility-statement/", "Accessibility statement",
             {"statement_text": STATEMENT, "statement_links": [], "links": []}),
            ("committee/", "Committee", {"links": links[:2], "statement_links": []})):
        s.save_page(run_id, PageRecord(url=BASE + path, status="audited", title=title, facts=facts))
    # the home page links the statement and the scanned PDF
    s.db.execute("update pages set facts = ? where run_id = ? and url = ?", [
        '{"links": ["%sdocs/scan.pdf", "%saccessibility-statement/"], "statement_links": '
        '[{"href": "%saccessibility-statement/", "text": "Accessibility statement"}]}' % (BASE, BASE, BASE),
        run_id, BASE])
    s.db.conn.commit()
    s.save_document(run_id, {"url": links[0], "page_url": BASE, "kind": "pdf", "content_type": "application/pdf",
                             "size": 1, **_checks(scanned_pdf(b"D:20170301000000Z"))})
    # the crawler first saw it on papers/ (say, through a redirect); committee/ is what links it
    # (stored under its normalised URL, as the crawl stores documents)
    s.save_document(run_id, {"url": normalise_url(BASE + "docs/" + EVIL + ".pdf"), "page_url": BASE + "papers/",
                             "kind": "pdf",
                             "content_type": "application/pdf", "size": 1,
                             **_checks(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                                b"<< /Type /Pages /Kids [] /Count 0 >>"],
                                               info=b"<< /Title (=HYPERLINK(\"http://x\")) >>"))})
    s.save_document(run_id, {"url": links[2], "page_url": BASE + "committee/", "kind": "pdf",
                             "content_type": "application/pdf", "size": 1, "check_status": "unparsed",
                             "check_reason": "not a PDF (no %PDF- header) " + EVIL})
    s.save_document(run_id, {"url": BASE + "docs/budget.xlsx", "page_url": BASE, "kind": "excel",
                             "content_type": "application/vnd.ms-excel", "size": 1, "check_status": None,
                             "check_reason": "excel documents are listed, not checked"})
    yield s, run_id
    s.close()


@pytest.fixture(scope="module")
def report_html(store):
    s, run_id = store
    report = build_report(s, run_id=run_id, now=NOW)
    return report, render_report(report)


def _section(html: str, name: str) -> str:
    part = html[html.index(f'<section aria-labelledby="{name}">'):]
    return part[:part.index("</section>")]


def test_documents_section_lists_each_document_with_its_checks(report_html):
    report, html = report_html
    docs = {d.url.rsplit("/", 1)[-1]: d for d in report.document_list}
    scan = docs["scan.pdf"]
    assert scan.possibly_exempt and scan.created == "2017-03-01"
    assert {c.id for c in scan.failed} == {"tagged", "display_doc_title", "language", "text_layer"}
    assert scan.linked_from == (BASE, BASE + "committee/")  # every page that links it
    evil = next(d for k, d in docs.items() if "script" in k)
    assert evil.linked_from == (BASE + "committee/",)  # the link had a #page=2 fragment
    assert docs["broken.pdf"].check_status == "unparsed"
    # failing documents first, then the unreadable one, then what was only listed
    assert [d.url.rsplit("/", 1)[-1] for d in report.document_list][-2:] == ["broken.pdf", "budget.xlsx"]
    section = _section(html, "documents")
    assert '<a href="#documents">Documents</a>' in html
    assert "Possibly exempt" in section and "published before 23 September 2018" in section
    assert "1.1.1 Non-text Content" in section and "ISO 14289-1 7.1" in section and "07-001" in section
    assert "Could not be read as a PDF:" in section and "not a PDF (no %PDF- header)" in section
    assert "excel documents are listed, not checked" in section
    assert "Real text, not a scanned image" in section


def test_statement_section_shows_requirements_evidence_and_flags(report_html):
    report, html = report_html
    st = report.statement
    assert st.url == BASE + "accessibility-statement/" and st.compliance == "fully"
    assert st.over_a_year_old and st.full_claim_contradicted  # run of 30 Jan 2027, reviewed 1 March 2024
    missing = {q.id for q in st.missing}
    assert missing == {"enforcement", "reviewed", "consistent_with_audit"}
    section = _section(html, "statement")
    assert "Claims full compliance, but Level A/AA failures were found" in section
    assert "Out of date:" in section and "2024-03-01" in section
    assert "“=HYPERLINK(&#34;http://x&#34;) If you need information in a different format, email " \
           "access@fenside.example.gov.uk.”" in section
    assert "6 of 9 requirements met" in section


def test_no_statement_says_so(tmp_path):
    s = open_store(tmp_path / "n.db")
    run_id = add_run(s, SITE, BASE, "01-30", {"": []})
    html = render_report(build_report(s, run_id=run_id, now=NOW))
    assert "No accessibility statement was found." in _section(html, "statement")
    assert '<a href="#documents">' not in html  # no documents, no section


def test_what_comes_from_the_site_is_escaped(report_html):
    _, html = report_html
    assert EVIL not in html and "&lt;script&gt;window.__pwned=4&lt;/script&gt;" in html
    assert [t for t, _ in Tags(html).tags].count("script") == 1  # the print helper only


def _csv(store, kind):
    s, run_id = store
    return list(csv.DictReader(io.StringIO(export_table_csv(s, run_id, kind))))


def test_documents_csv_has_a_row_per_check(store):
    rows = _csv(store, "documents")
    scan = [r for r in rows if r["document_url"].endswith("scan.pdf")]
    assert len(scan) == 11 and {r["check"] for r in scan} >= {"tagged", "text_layer", "encryption"}
    tagged = next(r for r in scan if r["check"] == "tagged")
    assert tagged["result"] == "fail" and tagged["wcag"] == "1.3.1" and tagged["pdf_ua"] == "7.1"
    assert tagged["possibly_exempt"] == "1" and tagged["linked_from"] == f"{BASE} {BASE}committee/"
    broken = [r for r in rows if r["document_url"].endswith("broken.pdf")]
    assert len(broken) == 1 and broken[0]["check_status"] == "unparsed" and broken[0]["check"] == ""
    title = next(r for r in rows if "script" in r["document_url"] and r["check"] == "title")
    assert title["detail"].startswith("title: =HYPERLINK")  # inside the cell, not at its start
    for r in rows:
        assert not any(v.startswith(("=", "+", "@")) for v in r.values())


def test_statement_csv_has_a_row_per_requirement(store):
    rows = _csv(store, "statement")
    assert [r["requirement"] for r in rows][:3] == ["exists", "linked_from_home", "compliance_status"]
    feedback = next(r for r in rows if r["requirement"] == "feedback")
    assert feedback["result"] == "met" and feedback["evidence"].startswith("'=HYPERLINK")  # neutralised
    assert {r["compliance"] for r in rows} == {"fully"} and {r["over_a_year_old"] for r in rows} == {"1"}


def test_export_command_chooses_the_csv(store, tmp_path):
    s, run_id = store
    runner = CliRunner()
    res = runner.invoke(a11ycrawl, ["export", "--db", str(s.path), "--format", "csv", "--csv", "statement",
                                    "--run", str(run_id), "-o", "-"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("site,run,statement_url,")
    res = runner.invoke(a11ycrawl, ["export", "--db", str(s.path), "--format", "json", "--csv", "documents",
                                    "--run", str(run_id), "-o", "-"])
    assert res.exit_code == 2
    assert "--csv documents" in runner.invoke(a11ycrawl, ["export", "--help"]).output


@pytest.mark.browser
def test_the_sections_pass_our_own_audit(audit, serve, report_html):
    _, html = report_html
    assert_passes_own_audit(audit, serve, html)


def test_every_page_linking_a_document_is_found_however_the_link_is_written():
    """Documents are stored under their normalised URL; a page linking ``?v=2&file=a.pdf``, with a
    fragment or a tracking parameter, links the same document (and a page is listed once)."""
    from crawler.urls import normalise_url
    from reports.data import pages_linking

    doc = normalise_url("https://c.example/get?file=a.pdf&v=2")
    links = [("https://c.example/", "https://c.example/get?v=2&file=a.pdf"),
             ("https://c.example/papers", "https://c.example/get?file=a.pdf&v=2#page=3"),
             ("https://c.example/papers", "https://c.example/get?file=a.pdf&v=2"),
             ("https://c.example/news", "https://c.example/get?file=a.pdf&v=2&utm_source=news"),
             ("https://c.example/other", "https://c.example/get?file=b.pdf"),
             ("https://c.example/bad", "http://[bad")]
    assert pages_linking(links, {doc}) == {doc: ["https://c.example/", "https://c.example/papers",
                                                 "https://c.example/news"]}
