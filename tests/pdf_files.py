"""PDFs the tests write themselves, byte by byte: a small writer with a correct xref table, and
a one-page "scan" (an image, no text). Used by the PDF checks' and the reports' tests."""

from __future__ import annotations


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


def scanned_pdf_objects() -> list[bytes]:
    """The objects of :func:`scanned_pdf` (object 1 the catalog, 5 the image)."""
    img = b"\xff\x00\x00" * 4
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length 34 >>\nstream\nq 500 0 0 700 40 60 cm /Im1 Do Q\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n" % len(img) + img + b"\nendstream",
    ]


def scanned_pdf(created: bytes = b"D:20240101000000Z") -> bytes:
    """One page that is only an image (a 'scan'), no text at all."""
    return raw_pdf(scanned_pdf_objects(), info=b"<< /Title (Scanned letter) /CreationDate (" + created + b") >>")
