"""PDF accessibility checks (audits/analysis/documents.py) on PDFs the tests make themselves:
Chromium prints tagged and untagged ones, pypdf and a small writer here make the rest."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from audits.analysis.documents import check_pdf, parse_pdf_date
from audits.demo.councils import pdf as demo_pdf
from helpers import run

PAGE = """<!doctype html><html lang="en-GB"><head><title>Planning committee minutes</title></head><body>
<h1>Planning committee</h1><h2>Minutes</h2><p>The committee met on Tuesday.</p>
<img alt="Council crest" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==">
<table><tr><th>Item</th><th>Decision</th></tr><tr><td>1</td><td>Approved</td></tr></table>
<p style="break-before: page">Second page.</p></body></html>"""


def _statuses(report):
    return {c.id: c.status for c in report.checks}


def _printed(browser, html, **opts) -> bytes:
    async def go():
        page = await browser.new_page()
        try:
            await page.set_content(html)
            return await page.pdf(**opts)
        finally:
            await page.close()
    return run(go())


def raw_pdf(objects: list[bytes], info: bytes | None = None) -> bytes:
    """A PDF from numbered object bodies (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    if info is not None:
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (len(objects) + 1) + info + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer_info = b" /Info %d 0 R" % len(offsets) if info is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, trailer_info, xref)
    return bytes(out)


def scanned_pdf(created: bytes = b"D:20240101000000Z") -> bytes:
    """One page that is only an image (a 'scan'), no text at all."""
    img = b"\xff\x00\x00" * 4
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length 34 >>\nstream\nq 500 0 0 700 40 60 cm /Im1 Do Q\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n" % len(img) + img + b"\nendstream",
    ], info=b"<< /Title (Scanned letter) /CreationDate (" + created + b") >>")


def _rewrite(data: bytes, edit) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    edit(writer)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# -- Chromium's PDFs ----------------------------------------------------------------------------

def test_tagged_chromium_pdf_passes_structure_checks(browser):
    report = check_pdf(_printed(browser, PAGE, tagged=True, outline=True))
    s = _statuses(report)
    assert report.parsed and report.pages == 2
    assert s["tagged"] == "pass" and s["title"] == "pass" and s["language"] == "pass"
    assert s["text_layer"] == "pass" and s["figure_alt"] == "pass"
    assert s["headings"] == "pass" and s["table_headers"] == "pass"
    assert s["encryption"] == "not_applicable" and s["bookmarks"] == "not_applicable"
    assert not report.possibly_exempt  # printed today


def test_untagged_chromium_pdf_fails_tagging_and_language(browser):
    report = check_pdf(_printed(browser, PAGE))
    s = _statuses(report)
    assert s["tagged"] == "fail" and s["language"] == "fail"
    # multi-page and untagged: no headings in a structure that does not exist
    assert s["headings"] == "fail"
    tagged = next(c for c in report.checks if c.id == "tagged")
    assert tagged.wcag == "1.3.1" and tagged.pdf_ua == "7.1"


def tagged_pdf(kids: bytes, role_map: bytes = b"") -> bytes:
    """A one-page tagged PDF whose structure tree's root element has ``kids`` (objects 6 on)."""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /MarkInfo << /Marked true >> /StructTreeRoot 5 0 R /Lang (en) >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
        b"<< /Type /StructTreeRoot " + role_map + b" /K << /S /Document /K [" + kids + b"] >> >>",
    ])


def test_figure_without_alt_and_table_without_headers():
    s = _statuses(check_pdf(tagged_pdf(b"<< /S /Figure >> << /S /Figure /Alt (Crest) >> "
                                       b"<< /S /Table /K [<< /S /TR /K [<< /S /TD >>] >>] >>")))
    assert s["tagged"] == "pass" and s["figure_alt"] == "fail" and s["table_headers"] == "fail"
    s = _statuses(check_pdf(tagged_pdf(b"<< /S /Figure /Alt (Crest) >> "
                                       b"<< /S /Table /K [<< /S /TR /K [<< /S /TH >>] >>] >>")))
    assert s["figure_alt"] == "pass" and s["table_headers"] == "pass"


def test_role_map_is_followed_and_cycles_end():
    data = tagged_pdf(b"<< /S /Picture >>", role_map=b"/RoleMap << /Picture /Figure /A /B /B /A >>")
    assert _statuses(check_pdf(data))["figure_alt"] == "fail"
    looped = tagged_pdf(b"<< /S /A >>", role_map=b"/RoleMap << /A /B /B /A >>")
    assert check_pdf(looped).parsed


def test_long_document_needs_bookmarks(browser):
    long = "<html lang='en'><title>Local plan</title>" + "".join(
        f"<h1 style='break-before: page'>Chapter {i}</h1><p>Text {i}</p>" for i in range(22))
    with_outline = check_pdf(_printed(browser, long, tagged=True, outline=True))
    without = check_pdf(_printed(browser, long, tagged=True))
    assert with_outline.pages > 20
    assert _statuses(with_outline)["bookmarks"] == "pass"
    assert _statuses(without)["bookmarks"] == "fail"


# -- pypdf-made and hand-made PDFs ------------------------------------------------------------------

def test_demo_pdf_is_untagged_but_has_title_language_and_text():
    s = _statuses(check_pdf(demo_pdf("Budget 2024", ["Line one", "Line two"])))
    assert s["tagged"] == "fail"
    assert s["title"] == "pass" and s["language"] == "pass" and s["text_layer"] == "pass"
    assert s["display_doc_title"] == "fail"


def test_no_title_and_no_language():
    data = _rewrite(demo_pdf("Budget", ["x"]), lambda w: (
        w._root_object.pop(NameObject("/Lang")), w.add_metadata({"/Title": ""})))
    report = check_pdf(data)
    title = next(c for c in report.checks if c.id == "title")
    assert title.status == "fail" and title.wcag == "2.4.2"
    assert _statuses(report)["language"] == "fail"


def test_display_doc_title_false_is_its_own_failure_condition():
    from pypdf.generic import BooleanObject, DictionaryObject

    data = _rewrite(demo_pdf("Budget", ["x"]), lambda w: w._root_object.__setitem__(
        NameObject("/ViewerPreferences"), DictionaryObject({NameObject("/DisplayDocTitle"): BooleanObject(False)})))
    check = next(c for c in check_pdf(data).checks if c.id == "display_doc_title")
    assert check.status == "fail" and check.matterhorn == "07-002"


def test_scanned_page_has_no_text_layer():
    report = check_pdf(scanned_pdf())
    check = next(c for c in report.checks if c.id == "text_layer")
    assert check.status == "fail" and "page 1" in check.detail


def test_before_september_2018_is_possibly_exempt_not_hidden():
    report = check_pdf(scanned_pdf(b"D:20170301120000+01'00'"))
    assert report.created == "2017-03-01" and report.possibly_exempt
    assert report.failed  # still checked and reported
    assert not check_pdf(scanned_pdf(b"D:20180923000000Z")).possibly_exempt
    assert parse_pdf_date("D:2018") is not None and parse_pdf_date("nonsense") is None


@pytest.mark.parametrize("permissions, status", [(-1, "pass"), (-1 & ~(1 << 9), "fail")])
def test_encryption_and_the_accessibility_permission(permissions, status):
    def enc(w):
        w.encrypt(user_password="", owner_password="owner", permissions_flag=permissions, algorithm="AES-128")
    report = check_pdf(_rewrite(demo_pdf("Budget", ["x"]), enc))
    check = next(c for c in report.checks if c.id == "encryption")
    assert report.parsed and check.status == status and check.matterhorn == "26-002"


def test_password_to_open_is_recorded_not_dropped():
    report = check_pdf(_rewrite(demo_pdf("Budget", ["x"]), lambda w: w.encrypt("secret", algorithm="AES-128")))
    assert not report.parsed and "password" in report.reason


def test_form_fields_need_names():
    def field(tu: bytes) -> bytes:
        return b"<< /FT /Tx /T (name) " + tu + b" /Rect [0 0 10 10] /Subtype /Widget /P 3 0 R >>"
    for tu, status in ((b"/TU (Your name)", "pass"), (b"", "fail")):
        data = raw_pdf([
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
            field(tu),
        ])
        assert _statuses(check_pdf(data))["form_field_names"] == status


@pytest.mark.parametrize("data", [b"", b"<html>not a pdf</html>", b"%PDF-1.4\n1 0 obj << /Type /Catalog", 
                                  b"%PDF-1.7\n" + b"[" * 100000])
def test_unparseable_pdf_has_a_reason(data):
    report = check_pdf(data)
    assert not report.parsed and report.reason


# -- through the crawler, the store and the reports ---------------------------------------------------

def _site(browser, serve, big: int = 0):
    from audits.engine.static_server import Reply

    tagged = _printed(browser, PAGE, tagged=True, outline=True)
    home = ("<!doctype html><html lang='en'><head><title>Committees</title></head><body><main><h1>Papers</h1>"
            "<a href='/tagged.pdf'>Minutes</a> <a href='/scan.pdf'>Letter</a> <a href='/broken.pdf'>Broken</a> "
            "<a href='/big.pdf'>Big</a> <a href='/agenda'>Agenda</a> <a href='/missing.pdf'>Missing</a>"
            "<a href='/budget.docx'>Budget</a> <a href='/moved.pdf'>Moved</a></main></body></html>")
    return serve({
        "/": Reply(body=home),
        "/tagged.pdf": Reply(body=tagged, ctype="application/pdf"),
        "/scan.pdf": Reply(body=scanned_pdf(b"D:20160101000000Z"), ctype="application/pdf"),
        "/broken.pdf": Reply(body=b"%PDF-1.4\nthis is not really a PDF", ctype="application/pdf"),
        "/big.pdf": Reply(body=b"%PDF-1.4\n" + b"0" * big, ctype="application/pdf"),
        "/agenda": Reply(body=demo_pdf("Agenda", ["Item 1"]), ctype="application/pdf"),  # no .pdf name
        "/budget.docx": Reply(body=b"PK", ctype="application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "/moved.pdf": Reply(302, headers={"Location": "http://localhost:9/elsewhere.pdf"}),
        "/robots.txt": Reply(404),
    })


def test_linked_pdfs_are_fetched_checked_stored_and_reported(browser, serve, audit):
    from reports.data import document_counts, run_document

    server = _site(browser, serve, big=300_000)
    store, outcome = audit(server.url, max_pages=5, max_document_bytes=200_000)
    docs = {d["url"].rsplit("/", 1)[1]: d for d in run_document(store, outcome.run_id)["documents"]}
    assert set(docs) == {"tagged.pdf", "scan.pdf", "broken.pdf", "big.pdf", "agenda", "missing.pdf", "budget.docx",
                         "moved.pdf"}
    # the scope middleware refuses the redirect before anything is downloaded
    assert docs["moved.pdf"]["check_status"] == "fetch_failed" and "out of scope" in docs["moved.pdf"]["check_reason"]
    assert all(d["linked_from"] == server.url for d in docs.values())
    tagged = docs["tagged.pdf"]
    assert tagged["check_status"] == "checked" and tagged["failed"] == [] and tagged["pages"] == 2
    assert {c["id"] for c in tagged["checks"]} >= {"tagged", "title", "language", "figure_alt", "encryption"}
    scan = docs["scan.pdf"]
    assert scan["possibly_exempt"] and scan["created"] == "2016-01-01"
    assert {"tagged", "text_layer", "language"} <= set(scan["failed"])
    assert docs["broken.pdf"]["check_status"] == "unparsed" and docs["broken.pdf"]["check_reason"]
    assert docs["big.pdf"]["check_status"] == "fetch_failed" and "max_document_bytes" in docs["big.pdf"]["check_reason"]
    assert docs["missing.pdf"]["check_status"] == "fetch_failed" and "404" in docs["missing.pdf"]["check_reason"]
    assert docs["agenda"]["check_status"] == "checked" and "tagged" in docs["agenda"]["failed"]
    assert docs["budget.docx"]["check_status"] is None
    assert server.requests["/tagged.pdf"] == 1  # fetched once
    counts = document_counts(store, outcome.run_id)
    assert counts == {"listed": 8, "checked": 3, "with_failures": 2, "unparsed": 1, "fetch_failed": 3,
                      "possibly_exempt": 1}


def test_document_budget_lists_the_rest_without_fetching(browser, serve, audit):
    from reports.data import run_document

    server = _site(browser, serve)
    store, outcome = audit(server.url, max_pages=5, max_documents=0)
    docs = run_document(store, outcome.run_id)["documents"]
    assert {d["check_status"] for d in docs if d["kind"] == "pdf" and not d["url"].endswith("/agenda")} == {"not_fetched"}
    assert server.requests["/tagged.pdf"] == 0 and server.requests["/scan.pdf"] == 0


def test_cli_summary_has_a_pdf_line_and_help_names_the_option(browser, serve, cli, tmp_path):
    server = _site(browser, serve)
    res = cli("audit", server.url, "--db", str(tmp_path / "c.db"), "--max-pages", "3", "--max-documents", "2")
    assert res.returncode == 0, res.stderr
    assert "PDFs: 2 checked" in res.stderr
    assert "--max-documents" in cli("audit", "--help").stdout


@pytest.mark.parametrize("key", ["northbrook", "eastmarsh", "westfold"])
def test_demo_committee_papers_are_checked_and_fail_as_untagged(key):
    from audits.demo.councils import build_site

    pdfs = {p: b for p, (ct, b) in build_site(key).items() if ct == "application/pdf"}
    assert pdfs
    for path, body in pdfs.items():
        report = check_pdf(body)
        assert report.parsed, path
        assert {c.id for c in report.failed} == {"tagged", "display_doc_title"}, path
