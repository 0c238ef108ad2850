"""The demo councils' PDFs: written here, byte by byte, when a site is built (never downloaded,
never committed), each of a known *kind* with the checks it is built to fail.

A small writer of our own rather than a browser: ``build_site`` is pure and runs without Chromium
(tests build every site many times; it is cached per process), and each kind must differ from a
good file by exactly its planted faults. Chromium's own tagged and untagged prints are checked in
tests/test_documents.py. Kinds (``KINDS``: kind -> the checks of
:func:`audits.analysis.documents.check_pdf` it fails)::

    tagged          tagged, marked content tied to a structure tree (Document, H1, P, Figure with
                    /Alt), title in Info and XMP, /DisplayDocTitle, /Lang: no failure
    tagged-old      the same, created in 2017: no failure, "possibly exempt"
    figure-no-alt   tagged, but its Figure has no /Alt                      figure_alt
    untagged        text, title and /Lang, no structure, no DisplayDocTitle tagged, display_doc_title
    untagged-old    the same, created in 2016: "possibly exempt", failures still reported
    untitled        untagged, no title, no language           tagged, title, display_doc_title, language
    scanned         one page that is only an image (no text layer), a title, nothing else
                                                               tagged, display_doc_title, language, text_layer
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

__all__ = ["KINDS", "document_pdf", "pdf"]

KINDS: Mapping[str, frozenset[str]] = MappingProxyType({
    "tagged": frozenset(),
    "tagged-old": frozenset(),
    "figure-no-alt": frozenset({"figure_alt"}),
    "untagged": frozenset({"tagged", "display_doc_title"}),
    "untagged-old": frozenset({"tagged", "display_doc_title"}),
    "untitled": frozenset({"tagged", "title", "display_doc_title", "language"}),
    "scanned": frozenset({"tagged", "display_doc_title", "language", "text_layer"}),
})
POSSIBLY_EXEMPT = frozenset({"tagged-old", "untagged-old"})


def _s(text: str) -> str:
    """A PDF literal string (ASCII; parentheses and backslashes escaped)."""
    text = text.encode("ascii", "replace").decode()
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _stream(data: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"


def _write(objects: list[bytes], info: int | None) -> bytes:
    """The file: numbered objects (1 is the catalog), a correct xref table and trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer_info = b" /Info %d 0 R" % info if info else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_info, xref)
    return bytes(out)


def _info(title: str | None, created: str) -> bytes:
    t = f"/Title {_s(title)} " if title else ""
    return f"<< {t}/CreationDate (D:{created.replace('-', '')}090000Z) /Producer (a11ycrawl demo sites) >>".encode()


def _crest(size: int = 24) -> bytes:
    """A tiny RGB image (the council crest): raw, deflated."""
    raw = b"".join(bytes((40 + (x * 7) % 180, 90, 160 - (y * 5) % 120)) for y in range(size) for x in range(size))
    return _stream(zlib.compress(raw, 9), f" /Type /XObject /Subtype /Image /Width {size} /Height {size} "
                   "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode")


def pdf(title: str, lines: Iterable[str]) -> bytes:
    """A minimal valid one-page untagged PDF (Helvetica text, /Title in /Info, /Lang)."""
    return document_pdf("untagged", title, lines, "2025-01-01")


def document_pdf(kind: str, title: str, lines: Iterable[str], created: str) -> bytes:
    """A one-page PDF of ``kind`` (see ``KINDS``) with ``title`` and ``lines`` of text, created on
    ``created`` (ISO date; the "-old" kinds are dated before 23 September 2018 whatever it says)."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    lines = list(lines)
    if kind == "tagged-old":
        created = "2017-03-14"
    elif kind == "untagged-old":
        created = "2016-11-02"
    if kind == "scanned":
        return _scanned(title, created)
    if kind in ("tagged", "tagged-old", "figure-no-alt"):
        return _tagged(title, lines, created, alt=kind != "figure-no-alt")
    ops = [f"BT /F1 16 Tf 72 770 Td {_s(title)} Tj ET"]
    ops += [f"BT /F1 11 Tf 72 {740 - 18 * i} Td {_s(line)} Tj ET" for i, line in enumerate(lines)]
    stream = "\n".join(ops).encode()
    lang = b"" if kind == "untitled" else b" /Lang (en-GB)"
    return _write([
        b"<< /Type /Catalog /Pages 2 0 R" + lang + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(stream),
        _info(None if kind == "untitled" else title, created),
    ], info=6)


def _tagged(title: str, lines: list[str], created: str, alt: bool) -> bytes:
    """Tagged as a careful author tags: every piece of content in marked content tied to a
    structure element, XMP with dc:title and the PDF/UA identifier."""
    ops = [f"/H1 <</MCID 0>> BDC BT /F1 16 Tf 72 770 Td {_s(title)} Tj ET EMC"]
    elements = [b"<< /Type /StructElem /S /H1 /P 7 0 R /Pg 3 0 R /K 0 >>"]
    for i, line in enumerate(lines, 1):
        ops.append(f"/P <</MCID {i}>> BDC BT /F1 11 Tf 72 {740 - 18 * (i - 1)} Td {_s(line)} Tj ET EMC")
        elements.append(b"<< /Type /StructElem /S /P /P 7 0 R /Pg 3 0 R /K %d >>" % i)
    crest = len(lines) + 1
    ops.append(f"/Figure <</MCID {crest}>> BDC q 48 0 0 48 475 750 cm /Im1 Do Q EMC")
    alt_text = b" /Alt (Council crest)" if alt else b""
    elements.append(b"<< /Type /StructElem /S /Figure%s /P 7 0 R /Pg 3 0 R /K %d >>" % (alt_text, crest))
    first = 11  # object number of the first element
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(len(elements)))
    safe = title.encode("ascii", "replace").replace(b"&", b"&amp;").replace(b"<", b"&lt;")
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
           b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">'
           b'<pdfuaid:part>1</pdfuaid:part><dc:title><rdf:Alt><rdf:li xml:lang="x-default">' + safe +
           b'</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    parents = b"[" + b" ".join(b"%d 0 R" % (first + i) for i in range(len(elements))) + b"]"
    return _write([
        b"<< /Type /Catalog /Pages 2 0 R /Lang (en-GB) /MarkInfo << /Marked true >> /StructTreeRoot 6 0 R "
        b"/ViewerPreferences << /DisplayDocTitle true >> /Metadata 9 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> "
        b"/XObject << /Im1 10 0 R >> >> /Contents 5 0 R /StructParents 0 /Tabs /S >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream("\n".join(ops).encode()),
        b"<< /Type /StructTreeRoot /K 7 0 R /ParentTree 8 0 R /ParentTreeNextKey 1 >>",
        b"<< /Type /StructElem /S /Document /P 6 0 R /K [" + kids + b"] >>",
        b"<< /Nums [0 " + parents + b"] >>",
        _stream(xmp, " /Type /Metadata /Subtype /XML"),
        _crest(),
        *elements,
        _info(title, created),
    ], info=first + len(elements))


def _scanned(title: str, created: str) -> bytes:
    """A 'scanned' letter: one page that paints a grey image of lines of text, no text at all."""
    width, height = 124, 176
    rows = []
    for y in range(height):
        ink = 12 <= y % 14 <= 13 or y < 20 or y > height - 16
        rows.append(bytes(200 if ink or x < 12 or x > width - 12 else 250 for x in range(width)))
    image = _stream(zlib.compress(b"".join(rows), 9), f" /Type /XObject /Subtype /Image /Width {width} "
                    f"/Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode")
    return _write([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        _stream(b"q 535 0 0 782 30 30 cm /Im1 Do Q"),
        image,
        _info(title, created),
    ], info=6)
