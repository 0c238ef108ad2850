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
from pdf_files import raw_pdf, scanned_pdf, scanned_pdf_objects

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
    assert s["display_doc_title"] == "pass" and report.failed == []  # no false alarm on a good file
    assert not report.possibly_exempt  # printed today


def test_untagged_chromium_pdf_fails_tagging_and_language(browser):
    report = check_pdf(_printed(browser, PAGE))
    s = _statuses(report)
    assert s["tagged"] == "fail" and s["language"] == "fail"
    # untagged: one failure for the missing structure, not one more for each thing it would hold
    assert s["headings"] == s["figure_alt"] == "not_applicable"
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
    table = next(c for c in check_pdf(tagged_pdf(b"<< /S /Table >>")).checks if c.id == "table_headers")
    assert table.status == "fail" and table.wcag == "1.3.1" and table.pdf_ua is None  # no PDF/UA clause claimed
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
    assert with_outline.failed == []  # Chromium's tagged print with an outline: nothing to report


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


@pytest.mark.parametrize("variant", ["before", "after"])
@pytest.mark.parametrize("key", ["northbrook", "eastmarsh", "westfold"])
def test_demo_committee_papers_fail_exactly_their_planted_checks(key, variant):
    from audits.demo.councils import build_site, expected_document_failures

    files = build_site(key, variant)
    expected = expected_document_failures(key, variant)
    assert set(expected) == {p for p, (ct, _) in files.items() if ct == "application/pdf"}
    for path, (failures, exempt) in expected.items():
        report = check_pdf(files[path][1])
        assert report.parsed, path
        assert {c.id for c in report.failed} == failures, path
        assert report.possibly_exempt == exempt, path
    kinds = {k for k, _ in expected.values()}
    if key == "northbrook":
        assert kinds == {frozenset()}  # clean: nothing to find


def test_demo_plants_every_kind_of_document():
    from audits.demo.councils import DEMO_KEYS, document_plan
    from audits.demo.documents import KINDS

    planted = {kind for key in DEMO_KEYS for v in ("before", "after") for kind in document_plan(key, v).values()}
    assert planted >= set(KINDS) - {"tagged-old"}



# -- no false alarms on a good file; the finer points of each check ---------------------------------

XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
       b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">'
       b'<pdfuaid:part>1</pdfuaid:part><dc:title><rdf:Alt><rdf:li xml:lang="x-default">Planning committee'
       b'</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


def pdf_ua(kids: bytes = b"", catalog: bytes = b"/Lang (en-GB)", field: bytes = b"/TU (Your name)",
           pages: int = 1) -> bytes:
    """A small PDF/UA-1 file as a careful author writes it: tagged, marked content tied to the
    structure, XMP with dc:title and the PDF/UA identifier, DisplayDocTitle, language, a heading, a
    described figure, a table with header cells and a named form field."""
    content = (b"/H1 <</MCID 0>> BDC BT /F1 18 Tf 72 760 Td (Planning committee) Tj ET EMC "
               b"/P <</MCID 1>> BDC BT /F1 11 Tf 72 730 Td (The committee met on Tuesday.) Tj ET EMC "
               b"/Figure <</MCID 2>> BDC q 50 0 0 50 72 600 cm /Im1 Do Q EMC")
    img = b"\x00\x00\xff" * 4
    more = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 7 0 R >> >> "
            b"/Contents 4 0 R >>"] * (pages - 1)
    kid_refs = b" ".join(b"%d 0 R" % n for n in [3] + list(range(11, 11 + pages - 1)))
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /MarkInfo << /Marked true >> /StructTreeRoot 5 0 R " + catalog +
        b" /ViewerPreferences << /DisplayDocTitle true >> /Metadata 8 0 R /AcroForm << /Fields [9 0 R] >> >>",
        b"<< /Type /Pages /Kids [" + kid_refs + b"] /Count %d >>" % pages,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 7 0 R >> "
        b"/XObject << /Im1 10 0 R >> >> /Contents 4 0 R /StructParents 0 /Annots [9 0 R] /Tabs /S >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /StructTreeRoot /K 6 0 R >>",
        b"<< /Type /StructElem /S /Document /P 5 0 R /K [<< /S /H1 /K 0 /Pg 3 0 R >> << /S /P /K 1 /Pg 3 0 R >> "
        b"<< /S /Figure /Alt (Council crest) /K 2 /Pg 3 0 R >> "
        b"<< /S /Table /K [<< /S /TR /K [<< /S /TH >> << /S /TH >>] >> << /S /TR /K [<< /S /TD >> << /S /TD >>] >>] >> "
        b"<< /S /Form /K << /Type /OBJR /Obj 9 0 R >> >> " + kids + b"] >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(XMP) + XMP + b"\nendstream",
        b"<< /FT /Tx /T (name) " + field + b" /Subtype /Widget /Rect [72 500 200 520] /P 3 0 R /F 4 >>",
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n" % len(img) + img + b"\nendstream",
        *more,
    ])


def test_a_careful_pdf_ua_file_has_no_failures():
    report = check_pdf(pdf_ua())
    assert report.parsed and report.failed == [], [(c.id, c.detail) for c in report.failed]
    s = _statuses(report)
    assert s["tagged"] == s["title"] == s["display_doc_title"] == s["language"] == s["text_layer"] == "pass"
    assert s["figure_alt"] == s["headings"] == s["table_headers"] == s["form_field_names"] == "pass"
    # rewritten by pypdf (another writer, its own xref and object order), still nothing to report
    rewritten = _rewrite(pdf_ua(), lambda w: w.add_metadata({"/Title": "Planning committee"}))
    assert check_pdf(rewritten).failed == []


def test_heading_order_follows_matterhorn_14():
    first = check_pdf(pdf_ua().replace(b"/S /H1 /K 0", b"/S /H2 /K 0"))
    c = next(c for c in first.checks if c.id == "headings")
    assert (c.status, c.matterhorn, c.pdf_ua) == ("fail", "14-002", "7.4.2")
    skipped = check_pdf(pdf_ua(kids=b"<< /S /H3 >>"))
    c = next(c for c in skipped.checks if c.id == "headings")
    assert (c.status, c.matterhorn) == ("fail", "14-003") and "H3 follows H1" in c.detail
    assert _statuses(check_pdf(pdf_ua(kids=b"<< /S /H2 >> << /S /H3 >> << /S /H2 >>")))["headings"] == "pass"


def test_headings_expected_only_in_longer_tagged_documents():
    def without(pages):
        return check_pdf(pdf_ua(pages=pages).replace(b"/S /H1 /K 0", b"/S /P /K 0"))
    assert _statuses(without(2))["headings"] == "not_applicable"
    c = next(c for c in without(3).checks if c.id == "headings")
    assert c.status == "fail" and c.pdf_ua is None  # PDF/UA does not require headings: WCAG alone


def test_form_field_names_tu_alt_or_hidden():
    assert _statuses(check_pdf(pdf_ua(field=b"")))["form_field_names"] == "fail"
    only_t = next(c for c in check_pdf(pdf_ua(field=b"")).checks if c.id == "form_field_names")
    assert "internal /T name" in only_t.detail and only_t.pdf_ua == "7.18.1"
    # /Alt on the Form element that holds the widget names it
    alt = pdf_ua(field=b"").replace(b"<< /S /Form /K", b"<< /S /Form /Alt (Your name) /K")
    assert _statuses(check_pdf(alt))["form_field_names"] == "pass"
    hidden = pdf_ua(field=b"").replace(b"/F 4 >>", b"/F 6 >>")  # the Hidden flag (bit 2)
    assert _statuses(check_pdf(hidden))["form_field_names"] == "not_applicable"


def test_language_on_the_document_element_counts():
    data = pdf_ua(catalog=b"").replace(b"/S /Document /P 5 0 R", b"/S /Document /Lang (cy) /P 5 0 R")
    c = next(c for c in check_pdf(data).checks if c.id == "language")
    assert c.status == "pass" and "cy" in c.detail
    assert _statuses(check_pdf(pdf_ua(catalog=b"")))["language"] == "fail"
    deeper = pdf_ua(catalog=b"").replace(b"<< /S /P /K 1", b"<< /S /P /Lang (en-GB) /K 1")
    assert _statuses(check_pdf(deeper))["language"] == "pass"


def test_text_layer_judgements():
    # a tagged image page whose figure is described is not a failed scan
    described = raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /MarkInfo << /Marked true >> /StructTreeRoot 6 0 R /Lang (en) >>",
        *scanned_pdf_objects()[1:],
        b"<< /Type /StructTreeRoot /K << /S /Figure /Alt (Map of the ward boundaries) >> >>"])
    assert _statuses(check_pdf(described))["text_layer"] == "pass"
    # an image drawn inside a form XObject still makes an image-only page
    nested = raw_pdf([*scanned_pdf_objects()[:2],
                      scanned_pdf_objects()[2].replace(b"/Im1 5 0 R", b"/Fm1 6 0 R"),
                      b"<< /Length 34 >>\nstream\nq 500 0 0 700 40 60 cm /Fm1 Do Q\nendstream",
                      scanned_pdf_objects()[4],
                      b"<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /Im1 5 0 R >> >> "
                      b"/Length 8 >>\nstream\n/Im1 Do\nendstream"])
    assert _statuses(check_pdf(nested))["text_layer"] == "fail"
    # nothing at all on the page: not a scan
    blank = raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"])
    assert _statuses(check_pdf(blank))["text_layer"] == "not_applicable"
