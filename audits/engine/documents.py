"""Linked documents as the store records them: a crawler :class:`~crawler.items.Document` and, for a
fetched PDF, the outcome of :func:`audits.analysis.documents.check_pdf`.

``check_status`` says how far a document got: ``checked`` (its checks are stored), ``unparsed``
(fetched but not readable as a PDF; ``check_reason`` says why), ``fetch_failed`` (within the
budget but not downloaded: too large, HTTP error, refused), ``not_fetched`` (a PDF beyond
``max_documents``) or None (not a PDF: listed only).
"""

from __future__ import annotations

from crawler.items import Document

from audits.analysis.documents import check_pdf


def document_state(item: Document) -> dict:
    """The check columns of a document that was not (or could not be) checked."""
    if item.fetch_error:
        return {"check_status": "fetch_failed", "check_reason": item.fetch_error}
    if item.kind == "pdf":
        return {"check_status": "not_fetched", "check_reason": "beyond max_documents, or listed only"}
    return {"check_status": None, "check_reason": f"{item.kind} documents are listed, not checked"}


def check_document(item: Document) -> dict:
    """Check a fetched document's bytes (blocking: run it in a thread)."""
    report = check_pdf(item.body or b"")
    if not report.parsed:
        return {"check_status": "unparsed", "check_reason": report.reason, "checks": []}
    return {"check_status": "checked", "check_reason": None, "pages": report.pages, "created": report.created,
            "possibly_exempt": int(report.possibly_exempt), "checks": [vars(c) for c in report.checks]}
