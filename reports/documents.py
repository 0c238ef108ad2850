"""Linked documents and the accessibility statement as reporters show them: the HTML report's
Documents and Accessibility statement sections (:func:`document_views`, :func:`statement_view`:
plain dataclasses the template draws) and the CSV exports' rows (:func:`document_rows`,
:func:`statement_rows`). Reads the store through :mod:`reports.data`; everything from the site
stays data (the template autoescapes it, the CSV writer neutralises it)."""

from __future__ import annotations

from dataclasses import dataclass

from audits.analysis.documents import CHECK_NAMES
from audits.analysis.statement import REQUIREMENT_NAMES

from reports.data import document_out, pages_linking, statement_report, wcag_label

DOCUMENT_COLUMNS = ("site", "run", "document_url", "linked_from", "check_status", "check_reason", "pages", "created",
                    "possibly_exempt", "check", "check_name", "result", "detail", "wcag", "pdf_ua", "matterhorn")
STATEMENT_COLUMNS = ("site", "run", "statement_url", "compliance", "latest_date", "over_a_year_old", "requirement",
                     "requirement_name", "result", "evidence")


def documents_report(store, run_id: int) -> list[dict]:
    """Every linked document of a run as :func:`document_out`, with ``linked_from_pages``: every
    audited page that links it (``linked_from`` is the page the crawler first found it on)."""
    docs = [document_out(d) for d in store.documents(run_id)]
    linkers = pages_linking(store.page_links(run_id), {d["url"] for d in docs})
    for d in docs:
        d["linked_from_pages"] = linkers.get(d["url"]) or ([d["linked_from"]] if d["linked_from"] else [])
    return docs

@dataclass(frozen=True)
class DocumentCheckView:
    id: str
    name: str
    status: str  # pass | fail | not_applicable
    detail: str
    wcag: tuple[str, ...]  # "1.3.1 Info and Relationships"
    pdf_ua: str | None
    matterhorn: str | None


@dataclass(frozen=True)
class DocumentView:
    """One linked document as the report shows it."""

    url: str
    kind: str
    check_status: str | None  # checked | unparsed | fetch_failed | not_fetched | None (listed only)
    check_reason: str | None
    pages: int | None
    created: str | None
    possibly_exempt: bool
    linked_from: tuple[str, ...]
    checks: tuple[DocumentCheckView, ...]

    @property
    def failed(self) -> tuple[DocumentCheckView, ...]:
        return tuple(c for c in self.checks if c.status == "fail")


@dataclass(frozen=True)
class RequirementView:
    id: str
    name: str
    met: bool
    evidence: str | None


@dataclass(frozen=True)
class StatementView:
    url: str | None
    compliance: str | None  # fully | partially | not | None
    latest_date: str | None
    over_a_year_old: bool
    full_claim_contradicted: bool  # claims full compliance, but Level A/AA failures were found
    requirements: tuple[RequirementView, ...]

    @property
    def missing(self) -> tuple[RequirementView, ...]:
        return tuple(q for q in self.requirements if not q.met)


def _criteria(text: str | None) -> tuple[str, ...]:
    return tuple(wcag_label(c.strip()) for c in (text or "").split(",") if c.strip())


def document_views(store, run_id: int) -> dict:
    """``{"document_list": ...}`` for :class:`reports.html.Report`: the run's documents
    (:func:`documents_report`), the ones with failed checks first (most failures
    first), then unreadable ones, then the rest, by URL."""
    docs = documents_report(store, run_id)
    out = []
    for d in docs:
        checks = tuple(DocumentCheckView(
            id=str(c.get("id")), name=CHECK_NAMES.get(str(c.get("id")), str(c.get("id"))),
            status=str(c.get("status")), detail=str(c.get("detail") or ""), wcag=_criteria(c.get("wcag")),
            pdf_ua=c.get("pdf_ua"), matterhorn=c.get("matterhorn")) for c in d.get("checks") or [])
        out.append(DocumentView(
            url=d["url"], kind=d["kind"], check_status=d.get("check_status"), check_reason=d.get("check_reason"),
            pages=d.get("pages"), created=d.get("created"), possibly_exempt=bool(d.get("possibly_exempt")),
            linked_from=tuple(d.get("linked_from_pages") or ([d["linked_from"]] if d.get("linked_from") else [])),
            checks=checks))
    order = {"unparsed": 1, "fetch_failed": 2, "checked": 3, "not_fetched": 4}
    out.sort(key=lambda v: (0 if v.failed else order.get(v.check_status or "", 5), -len(v.failed), v.url))
    return {"document_list": tuple(out)}


def statement_view(store, run_id: int) -> dict:
    """``{"statement": ...}`` for :class:`reports.html.Report`: the statement check
    (:func:`reports.data.statement_report`)."""
    st = statement_report(store, run_id)
    if not st:
        return {"statement": None}
    reqs = tuple(RequirementView(id=q["id"], name=REQUIREMENT_NAMES.get(q["id"], q["id"]), met=q["status"] == "met",
                                 evidence=q.get("evidence")) for q in st.get("requirements") or [])
    contradicted = any(q.id == "consistent_with_audit" and not q.met for q in reqs)
    return {"statement": StatementView(
        url=st.get("url"), compliance=st.get("compliance"), latest_date=st.get("latest_date"),
        over_a_year_old=bool(st.get("over_a_year_old")), full_claim_contradicted=contradicted, requirements=reqs)}


def document_rows(store, run_id: int) -> list[dict]:
    """One row per check of each linked document (one row for a document with no checks);
    ``linked_from`` is every audited page that links it, joined by spaces."""
    run = store.get_run(run_id)
    out = []
    for d in documents_report(store, run_id):
        base = {"site": run["site"], "run": run_id, "document_url": d["url"],
                "linked_from": " ".join(d["linked_from_pages"]), "check_status": d["check_status"],
                "check_reason": d["check_reason"], "pages": d["pages"], "created": d["created"],
                "possibly_exempt": int(d["possibly_exempt"])}
        for c in d["checks"] or [{}]:
            cid = c.get("id")
            out.append({**base, "check": cid, "check_name": CHECK_NAMES.get(cid, cid) if cid else None,
                        "result": c.get("status"), "detail": c.get("detail"), "wcag": c.get("wcag"),
                        "pdf_ua": c.get("pdf_ua"), "matterhorn": c.get("matterhorn")})
    return out


def statement_rows(store, run_id: int) -> list[dict]:
    """One row per requirement of the accessibility statement (just ``exists``, missing, when
    none was found)."""
    run = store.get_run(run_id)
    st = statement_report(store, run_id)
    return [{"site": run["site"], "run": run_id, "statement_url": st.get("url"), "compliance": st.get("compliance"),
             "latest_date": st.get("latest_date"), "over_a_year_old": int(bool(st.get("over_a_year_old"))),
             "requirement": q["id"], "requirement_name": REQUIREMENT_NAMES.get(q["id"], q["id"]),
             "result": q["status"], "evidence": q.get("evidence")} for q in st["requirements"]]
