"""Accessibility checks of one PDF: a pure function of its bytes (no network, no store).

:func:`check_pdf` parses a PDF with pypdf and returns a :class:`PdfReport`: whether it could be
read (and why not), its page count, creation date, whether it is *possibly exempt* under the UK
Public Sector Bodies Accessibility Regulations 2018 (published before 23 September 2018), and a
list of :class:`PdfCheck` results. Each check names the WCAG 2.2 success criterion it supports
and, where there is one, the PDF/UA-1 (ISO 14289-1:2014) clause and the Matterhorn Protocol 1.1
failure condition. Matterhorn numbers are given only where we are sure of them.

A check's ``status`` is ``pass``, ``fail`` or ``not_applicable`` (nothing to check: a document
with no tables has no table headers to miss; an untagged document fails ``tagged`` once, and the
checks of what its structure would hold are not applicable).

Few false alarms above all. What each check asks, and where it stops:

- ``tagged``: a StructTreeRoot and /MarkInfo /Marked true (PDF/UA 7.1).
- ``title``: /Title in the Info dictionary or dc:title in XMP (7.1; Matterhorn 06-003 when
  neither); ``display_doc_title``: /ViewerPreferences /DisplayDocTitle true (07-001 missing,
  07-002 false).
- ``language``: /Lang in the catalog, or on the outermost structure element, or on structure
  elements below it (7.2).
- ``text_layer``: pages that paint an image (directly, in a form XObject, or inline) and have no
  extractable text look scanned (WCAG 1.1.1, 1.4.5); not a failure when the document is tagged and
  every Figure has alternate text; not applicable to a file with neither text nor images.
- ``figure_alt``: every Figure (after the role map) has /Alt or /ActualText (7.3, 13-004).
- ``headings``: numbered headings start at H1 and skip no level going down (7.4.2, 14-002 and
  14-003); a tagged document of ``HEADINGS_FROM_PAGES`` (3) pages or more with no heading at all
  fails WCAG 1.3.1/2.4.6 only (PDF/UA does not require headings, so no clause is claimed).
- ``table_headers``: a document with Table elements has TH cells (WCAG 1.3.1 only: Matterhorn has
  no failure condition for it, so no PDF/UA clause is claimed).
- ``form_field_names``: every visible terminal field has /TU, or /Alt on the Form element that
  holds its widget (7.18.1); /T alone is an internal name and does not count; hidden fields
  (annotation flag bit 2, or no area) are skipped.
- ``bookmarks``: a document of more than ``LONG_DOCUMENT_PAGES`` (20) pages has an outline (WCAG
  2.4.5 only, as above).
- ``encryption``: an encrypted file allows extraction for accessibility, permission bit 10
  (7.16; 26-001 no /P, 26-002 bit 10 off). The checks read the document's own claims (tags,
metadata); they cannot say whether alternate text is *good*, only whether it is there.

Nothing in the file is trusted: every structure walk is bounded, every lookup tolerates a missing
or wrongly typed object, and a file pypdf cannot read becomes ``parsed=False`` with a reason.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date

EXEMPTION_CUTOFF = date(2018, 9, 23)
LONG_DOCUMENT_PAGES = 20  # bookmarks are expected above this many pages
HEADINGS_FROM_PAGES = 3  # a tagged document of this many pages or more is expected to have headings
MAX_STRUCT_NODES = 50_000  # a bound on the structure tree walk (a hostile file can nest deeply)
MAX_TEXT_PAGES = 50  # text extraction is the slow part (~35 ms a page): pages beyond this are not read
MAX_FIELDS = 5_000

# PDF encryption permission bit 10 (1-based): "extract text and graphics for accessibility".
_ACCESSIBILITY_BIT = 1 << 9

HEADING_TYPES = {"H", "H1", "H2", "H3", "H4", "H5", "H6"}

# What each check is called in reports (the HTML report, CSV), by check id.
CHECK_NAMES = {
    "tagged": "Tagged (structure tree, /MarkInfo /Marked)",
    "title": "Document title",
    "display_doc_title": "Title shown by the viewer (/DisplayDocTitle)",
    "language": "Document language",
    "text_layer": "Real text, not a scanned image",
    "figure_alt": "Figures with alternate text",
    "headings": "Headings in the structure",
    "table_headers": "Table header cells",
    "form_field_names": "Form fields with names",
    "bookmarks": "Bookmarks on a long document",
    "encryption": "Encryption allows assistive technology",
}


@dataclass
class PdfCheck:
    """One check's outcome, with what it is measured against."""

    id: str
    status: str  # pass | fail | not_applicable
    detail: str
    wcag: str
    pdf_ua: str | None = None
    matterhorn: str | None = None


@dataclass
class PdfReport:
    parsed: bool
    reason: str | None = None
    pages: int | None = None
    created: str | None = None  # ISO date from /CreationDate (or the XMP create date)
    possibly_exempt: bool = False
    checks: list[PdfCheck] = field(default_factory=list)

    @property
    def failed(self) -> list[PdfCheck]:
        return [c for c in self.checks if c.status == "fail"]

    def to_dict(self) -> dict:
        return asdict(self)


def check_pdf(data: bytes) -> PdfReport:
    """Parse ``data`` as a PDF and run every check; never raises for a bad file.

    >>> check_pdf(b"not a pdf").parsed
    False
    """
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - a dependency of the package
        return PdfReport(False, "the PDF library (pypdf) is not installed")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a malformed file is data, not a log flood
    if not data.startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        return PdfReport(False, "not a PDF (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # an unsupported cipher, say
                return PdfReport(False, f"encrypted and cannot be opened ({_short(exc)})")
            if not ok:
                return PdfReport(False, "encrypted with a password to open it: no one can read it without the password")
        return _checks(reader, encrypted)
    except RecursionError:
        return PdfReport(False, "cannot be parsed: its objects nest too deeply")
    except Exception as exc:  # pypdf raises many types for broken files; all are data here
        return PdfReport(False, f"cannot be parsed: {_short(exc)}")


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:200]


def _get(obj, key, default=None):
    """``obj[key]`` resolved, or ``default`` when obj is not a dictionary or lacks the key."""
    try:
        value = obj.get(key, default) if hasattr(obj, "get") else default
        return value.get_object() if hasattr(value, "get_object") else value
    except Exception:
        return default


def _text(value) -> str:
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:
        return ""


_DATE = re.compile(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?")
_XMP_DATE = re.compile(rb"<xmp:CreateDate>\s*(\d{4})-(\d{2})-(\d{2})|xmp:CreateDate=\"(\d{4})-(\d{2})-(\d{2})")


def parse_pdf_date(value: str) -> date | None:
    """A PDF date string (``D:20170301120000Z``) as a date, or None.

    >>> parse_pdf_date("D:20170301120000+01'00'")
    datetime.date(2017, 3, 1)
    >>> parse_pdf_date("yesterday") is None
    True
    """
    m = _DATE.match(value.strip()) if value else None
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        return None


def _xmp_bytes(root) -> bytes:
    meta = _get(root, "/Metadata")
    try:
        return meta.get_data()[:1_000_000] if meta is not None else b""
    except Exception:
        return b""


def _walk_structure(root) -> tuple[list[tuple[str, object]], bool]:
    """Every structure element under the StructTreeRoot as (role-mapped type, element), and
    whether the walk stopped at the bound."""
    tree = _get(root, "/StructTreeRoot")
    role_map = _get(tree, "/RoleMap") or {}
    out: list[tuple[str, object]] = []
    seen: set[int] = set()
    stack = [_get(tree, "/K")]
    while stack:
        node = stack.pop()
        if len(out) >= MAX_STRUCT_NODES:
            return out, True
        try:
            node = node.get_object() if hasattr(node, "get_object") else node
        except Exception:
            continue
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not hasattr(node, "get"):
            continue  # a marked-content id (an integer): content, not structure
        if id(node) in seen:
            continue
        seen.add(id(node))
        stype = _text(_get(node, "/S")).lstrip("/")
        if not stype and _get(node, "/Type") in ("/MCR", "/OBJR"):
            continue
        mapped, hops = stype, 0
        while hops < 10:  # role maps may chain; stop at standard types or a loop
            nxt = _text(_get(role_map, "/" + mapped)).lstrip("/") if mapped else ""
            if not nxt or nxt == mapped:
                break
            mapped, hops = nxt, hops + 1
        out.append((mapped, node))
        kids = _get(node, "/K")
        if kids is not None:
            stack.append(kids)
    return out, False


def _fields(root) -> list[object]:
    """Terminal form fields (those with no /Kids that are fields) of the AcroForm."""
    form = _get(root, "/AcroForm")
    stack = list(_get(form, "/Fields") or [])
    out: list[object] = []
    while stack and len(out) < MAX_FIELDS:
        f = stack.pop()
        try:
            f = f.get_object()
        except Exception:
            continue
        kids = [k for k in (_get(f, "/Kids") or []) if _get(k.get_object() if hasattr(k, "get_object") else k, "/T") is not None]
        if kids:
            stack.extend(kids)
        else:
            out.append(f)
    return out


def _has_images(page, depth: int = 0) -> bool:
    """Whether a page (or a form XObject it draws, two levels down) paints an image XObject or an
    inline image."""
    resources = _get(page, "/Resources")
    xobjects = _get(resources, "/XObject") or {}
    try:
        for k in list(xobjects.keys())[:200]:
            x = _get(xobjects, k)
            sub = _get(x, "/Subtype")
            if sub == "/Image":
                return True
            if sub == "/Form" and depth < 2 and _has_images(x, depth + 1):
                return True
    except Exception:
        return False
    if depth == 0:
        try:
            contents = page.get_contents()
            data = contents.get_data()[:2_000_000] if contents is not None else b""
        except Exception:
            data = b""
        if re.search(rb"(^|\s)BI\s.*?\sID[\s]", data, re.S):
            return True
    return False


def _named_widgets(nodes) -> set[int]:
    """Object numbers of the widget annotations that a Form structure element with /Alt refers to
    (an alternative description, which PDF/UA accepts in place of /TU)."""
    out: set[int] = set()
    for t, node in nodes:
        if t != "Form" or not _text(_get(node, "/Alt")):
            continue
        kids = _get(node, "/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            try:
                kid = kid.get_object() if hasattr(kid, "get_object") else kid
                ref = kid.get("/Obj") if hasattr(kid, "get") else None
                if ref is not None and hasattr(ref, "idnum"):
                    out.add(ref.idnum)
            except Exception:
                continue
    return out


def _field_ids(field) -> set[int]:
    """The object numbers of a terminal field and of its widget kids."""
    ids = set()
    ref = getattr(field, "indirect_reference", None)
    if ref is not None:
        ids.add(ref.idnum)
    for kid in (_get(field, "/Kids") or [])[:50]:
        if hasattr(kid, "idnum"):
            ids.add(kid.idnum)
    return ids


def _hidden(field) -> bool:
    """A field whose widgets are all hidden (annotation flag bit 2) or have no area needs no name."""
    widgets = [field] + [k.get_object() if hasattr(k, "get_object") else k for k in (_get(field, "/Kids") or [])[:50]]
    widgets = [w for w in widgets if _get(w, "/Subtype") == "/Widget"]
    if not widgets:
        return False

    def invisible(w) -> bool:
        try:
            if int(_get(w, "/F", 0) or 0) & 2:
                return True
            rect = [float(v) for v in (_get(w, "/Rect") or [])]
            return len(rect) == 4 and (rect[2] - rect[0] == 0 or rect[3] - rect[1] == 0)
        except (TypeError, ValueError):
            return False
    return all(invisible(w) for w in widgets)


def _heading_order(types: list[str]) -> tuple[str, str] | None:
    """A Matterhorn checkpoint 14 failure in the numbered headings (H1-H6), in document order:
    ("14-002", why) when the first is not H1, ("14-003", why) when a level is skipped going down."""
    levels = [int(t[1]) for t in types if len(t) == 2 and t[0] == "H" and t[1] in "123456"]
    if not levels:
        return None
    if levels[0] != 1:
        return "14-002", f"the first numbered heading is H{levels[0]}, not H1"
    for a, b in zip(levels, levels[1:]):
        if b > a + 1:
            return "14-003", f"H{b} follows H{a}: heading level {a + 1} is skipped"
    return None


def _checks(reader, encrypted: bool) -> PdfReport:
    root = reader.trailer["/Root"].get_object()
    n_pages = len(reader.pages)
    info = {}
    try:
        info = reader.metadata or {}
    except Exception:
        pass
    xmp = _xmp_bytes(root)
    report = PdfReport(True, pages=n_pages)

    created = parse_pdf_date(_text(_get(info, "/CreationDate")))
    if created is None and xmp:
        m = _XMP_DATE.search(xmp)
        if m:
            y, mo, d = (g for g in m.groups() if g)
            try:
                created = date(int(y), int(mo), int(d))
            except ValueError:
                created = None
    if created is not None:
        report.created = created.isoformat()
        report.possibly_exempt = created < EXEMPTION_CUTOFF
    add = report.checks.append

    # Tagged: a structure tree and the claim that it is used.
    mark_info = _get(root, "/MarkInfo")
    marked = bool(_get(mark_info, "/Marked", False))
    has_tree = _get(root, "/StructTreeRoot") is not None
    if has_tree and marked:
        add(PdfCheck("tagged", "pass", "tagged (StructTreeRoot and /MarkInfo /Marked true)", "1.3.1", "7.1"))
    else:
        missing = [x for x, ok in (("no StructTreeRoot", has_tree), ("/MarkInfo /Marked not true", marked)) if not ok]
        add(PdfCheck("tagged", "fail", "untagged: " + ", ".join(missing)
                     + "; screen readers get no headings, lists, tables or reading order", "1.3.1", "7.1"))

    # Title, and the viewer told to show it instead of the file name.
    title = _text(_get(info, "/Title"))
    xmp_title = bool(re.search(rb"<dc:title>\s*<rdf:Alt>\s*<rdf:li[^>]*>\s*[^<\s]", xmp))
    if title or xmp_title:
        add(PdfCheck("title", "pass", f"title: {title[:120]}" if title else "title in XMP dc:title", "2.4.2", "7.1"))
    else:
        add(PdfCheck("title", "fail", "no document title (/Title in Info or dc:title in XMP)", "2.4.2", "7.1",
                     "06-003"))
    display = _get(_get(root, "/ViewerPreferences"), "/DisplayDocTitle")
    if display is True or _text(display).lower() == "true":
        add(PdfCheck("display_doc_title", "pass", "/DisplayDocTitle true", "2.4.2", "7.1", "07-001"))
    elif display is None:
        add(PdfCheck("display_doc_title", "fail", "no /DisplayDocTitle: viewers show the file name, not the title",
                     "2.4.2", "7.1", "07-001"))
    else:
        add(PdfCheck("display_doc_title", "fail", "/DisplayDocTitle is false: viewers show the file name",
                     "2.4.2", "7.1", "07-002"))

    nodes, cut = _walk_structure(root) if has_tree else ([], False)
    types = [t for t, _ in nodes]
    bound = f" (structure read up to {MAX_STRUCT_NODES} elements)" if cut else ""

    # Language of the document: the catalog's /Lang, or else the outermost structure element's.
    lang = _text(_get(root, "/Lang"))
    top_lang = _text(_get(nodes[0][1], "/Lang")) if nodes else ""
    some_lang = next((_text(_get(n, "/Lang")) for _, n in nodes if _text(_get(n, "/Lang"))), "")
    if lang:
        add(PdfCheck("language", "pass", f"/Lang {lang[:20]}", "3.1.1", "7.2"))
    elif top_lang:
        add(PdfCheck("language", "pass", f"/Lang {top_lang[:20]} on the {types[0] or 'top'} structure element", "3.1.1",
                     "7.2"))
    elif some_lang:  # set element by element: the language can be determined, if not for the whole file
        add(PdfCheck("language", "pass", f"no /Lang in the catalog, but structure elements declare one "
                     f"({some_lang[:20]})", "3.1.1", "7.2"))
    else:
        add(PdfCheck("language", "fail", "no document language (/Lang in the catalog)", "3.1.1", "7.2"))

    # A real text layer: pages with images but no text look scanned.
    text_pages, image_only, read = 0, [], min(n_pages, MAX_TEXT_PAGES)
    for i in range(read):
        page = reader.pages[i]
        try:
            text = page.extract_text() or ""
        except Exception:
            text = ""
        if text.strip():
            text_pages += 1
        elif _has_images(page):
            image_only.append(i + 1)
    scope = f" (first {read} pages read)" if read < n_pages else ""
    figures = [n for t, n in nodes if t == "Figure"]
    described = bool(figures) and marked and all(_text(_get(n, "/Alt")) or _text(_get(n, "/ActualText"))
                                                  for n in figures)
    if image_only and described:
        add(PdfCheck("text_layer", "pass", f"{len(image_only)} page(s) are images with no text, described by tagged "
                     "figures' alternate text" + scope, "1.1.1, 1.4.5"))
    elif image_only:
        shown = ", ".join(map(str, image_only[:10])) + ("..." if len(image_only) > 10 else "")
        add(PdfCheck("text_layer", "fail", f"{len(image_only)} page(s) are images with no text (scanned?): page {shown}"
                     + scope, "1.1.1, 1.4.5"))
    elif read and not text_pages:
        add(PdfCheck("text_layer", "not_applicable", "no text and no images: nothing to read" + scope, "1.1.1"))
    else:
        add(PdfCheck("text_layer", "pass", f"text on {text_pages} of {read} page(s){scope}", "1.1.1"))

    # Figures with alternate text.
    no_alt = [n for n in figures if not _text(_get(n, "/Alt")) and not _text(_get(n, "/ActualText"))]
    if not has_tree:
        add(PdfCheck("figure_alt", "not_applicable", "untagged: no figures to check (see 'tagged')", "1.1.1", "7.3",
                     "13-004"))
    elif not figures:
        add(PdfCheck("figure_alt", "not_applicable", "no Figure elements" + bound, "1.1.1", "7.3", "13-004"))
    elif no_alt:
        add(PdfCheck("figure_alt", "fail", f"{len(no_alt)} of {len(figures)} Figure elements have no /Alt" + bound,
                     "1.1.1", "7.3", "13-004"))
    else:
        add(PdfCheck("figure_alt", "pass", f"all {len(figures)} Figure elements have /Alt" + bound, "1.1.1", "7.3",
                     "13-004"))

    # Headings: numbered ones in order (PDF/UA 7.4.2, Matterhorn 14-002/14-003); and some at all in
    # a tagged document of HEADINGS_FROM_PAGES pages or more (WCAG only: PDF/UA does not require
    # headings, so that failure names no PDF/UA clause).
    headings = sum(1 for t in types if t in HEADING_TYPES)
    order = _heading_order(types)
    if not has_tree:
        add(PdfCheck("headings", "not_applicable", "untagged: no structure to hold headings (see 'tagged')",
                     "1.3.1, 2.4.6", "7.4"))
    elif order:
        add(PdfCheck("headings", "fail", order[1] + bound, "1.3.1, 2.4.6", "7.4.2", order[0]))
    elif headings:
        add(PdfCheck("headings", "pass", f"{headings} heading elements (H, H1-H6), in order" + bound, "1.3.1, 2.4.6",
                     "7.4"))
    elif n_pages < HEADINGS_FROM_PAGES:
        add(PdfCheck("headings", "not_applicable", f"{n_pages} page(s) and no headings: expected from "
                     f"{HEADINGS_FROM_PAGES} pages", "1.3.1, 2.4.6", "7.4"))
    else:
        add(PdfCheck("headings", "fail", f"{n_pages} pages and no heading elements (H, H1-H6) in the structure" + bound,
                     "1.3.1, 2.4.6"))

    # Tables with header cells: WCAG 1.3.1 only. The Matterhorn Protocol has no failure condition
    # for a table without header cells (PDF/UA 7.5 is about how they are tagged), so no PDF/UA
    # clause is claimed: a file that conforms to PDF/UA is never failed against it here.
    tables, headers = types.count("Table"), types.count("TH")
    if not tables:
        add(PdfCheck("table_headers", "not_applicable", "no Table elements", "1.3.1"))
    elif headers:
        add(PdfCheck("table_headers", "pass", f"{tables} table(s), {headers} TH cells", "1.3.1"))
    else:
        add(PdfCheck("table_headers", "fail", f"{tables} table(s) and no TH header cells", "1.3.1"))

    # Form fields with accessible names (/TU).
    # A field's /T is its internal name ("Text1"), not one for people: PDF/UA wants /TU (or /Alt on
    # the Form structure element). Hidden fields need no name.
    fields = [f for f in _fields(root) if not _hidden(f)]
    alt_named = _named_widgets(nodes)
    unnamed = [f for f in fields if not _text(_get(f, "/TU")) and not (_field_ids(f) & alt_named)]
    if not fields:
        add(PdfCheck("form_field_names", "not_applicable", "no visible form fields", "4.1.2, 3.3.2", "7.18.1"))
    elif unnamed:
        only_t = sum(1 for f in unnamed if _text(_get(f, "/T")))
        add(PdfCheck("form_field_names", "fail", f"{len(unnamed)} of {len(fields)} form fields have no /TU name "
                     "(nor /Alt on their Form element)" + (f"; {only_t} have only an internal /T name" if only_t else ""),
                     "4.1.2, 3.3.2", "7.18.1"))
    else:
        add(PdfCheck("form_field_names", "pass", f"all {len(fields)} form fields have a /TU name or /Alt",
                     "4.1.2, 3.3.2", "7.18.1"))

    # Bookmarks on long documents: WCAG 2.4.5 (technique PDF2). The Matterhorn Protocol has no
    # failure condition for a missing outline, so no PDF/UA clause is claimed.
    outlines = _get(_get(root, "/Outlines"), "/First") is not None
    if n_pages <= LONG_DOCUMENT_PAGES:
        add(PdfCheck("bookmarks", "not_applicable", f"{n_pages} page(s): bookmarks expected above "
                     f"{LONG_DOCUMENT_PAGES}", "2.4.5"))
    elif outlines:
        add(PdfCheck("bookmarks", "pass", "has bookmarks (/Outlines)", "2.4.5"))
    else:
        add(PdfCheck("bookmarks", "fail", f"{n_pages} pages and no bookmarks (/Outlines)", "2.4.5"))

    # Encryption that shuts out assistive technology.
    if not encrypted:
        add(PdfCheck("encryption", "not_applicable", "not encrypted", "1.3.1, 4.1.2", "7.16"))
    else:
        p = _get(_get(reader.trailer, "/Encrypt"), "/P")
        try:
            perms = int(p) if p is not None else None
        except (TypeError, ValueError):
            perms = None
        if perms is None:
            add(PdfCheck("encryption", "fail", "encrypted with no /P permissions entry", "1.3.1, 4.1.2", "7.16",
                         "26-001"))
        elif perms & _ACCESSIBILITY_BIT:
            add(PdfCheck("encryption", "pass", "encrypted, but extraction for accessibility is allowed (bit 10)",
                         "1.3.1, 4.1.2", "7.16", "26-002"))
        else:
            add(PdfCheck("encryption", "fail", "encrypted and bit 10 (extract for accessibility) is off: assistive "
                         "technology may be refused the text", "1.3.1, 4.1.2", "7.16", "26-002"))
    return report
