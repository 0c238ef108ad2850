"""The accessibility statement: find it among a run's pages and check what it must say.

Pure functions over page facts (see ``statement_links`` and ``statement_text`` in
audits/engine/axe.py). What is checked follows the Public Sector Bodies (Websites and Mobile
Applications) (No. 2) Accessibility Regulations 2018 and the GOV.UK sample accessibility
statement:

- ``exists``: a statement page was found (by link text or a usual path) and audited;
- ``linked_from_home``: the home page (the start URL) links to it;
- ``compliance_status``: it says fully, partially or not compliant with WCAG 2.1 or 2.2 AA;
- ``non_accessible_content``: it lists the content that is not accessible;
- ``feedback``: it gives a way to report problems or ask for another format (email, phone, form);
- ``enforcement``: it names the enforcement procedure (EHRC, or ECNI in Northern Ireland; EASS);
- ``prepared``: it says when it was prepared;
- ``reviewed``: it says when it was last reviewed, less than a year before the run;
- ``consistent_with_audit``: it does not claim full compliance while the audit found Level A or
  AA failures.

Each requirement is ``met`` or ``missing`` with the sentence found as evidence. Words on a page
are a weak signal: a requirement met here means the statement *says* it, not that it is true.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

STATEMENT_PATHS = ("/accessibility-statement", "/accessibility", "/accessibility-statement.html",
                   "/accessibility.html", "/accessibility-statement.aspx", "/accessibility.aspx")
STALE_AFTER = timedelta(days=365)

MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"), 1)}
_DATE_WORDS = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.I)
_DATE_MONTH = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I)
_DATE_NUM = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_YEAR = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.I)

_STATUS = re.compile(r"\b(fully compliant|partially compliant|not compliant|non-compliant)\b", re.I)
_WCAG = re.compile(r"(wcag|web content accessibility guidelines)[^.]{0,40}?\b2\.[12]\b", re.I)
_NON_ACCESSIBLE = re.compile(r"non[- ]accessible content|not accessible|non[- ]compliance with the accessibility"
                             r"|disproportionate burden|not within the scope", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(\+44\s?|\b0)\d[\d ]{8,12}\d\b")
_FEEDBACK_WORDS = re.compile(r"(contact|report|tell us|different format|alternative format|feedback)", re.I)
_FORM = re.compile(r"\b(contact|feedback|online) form\b", re.I)
_ENFORCEMENT = re.compile(r"equality and human rights commission|\bEHRC\b|equality advisory and support service"
                          r"|\bEASS\b|equality commission for northern ireland|\bECNI\b", re.I)
_PREPARED = re.compile(r"\bprepared\b", re.I)
_REVIEWED = re.compile(r"\b(last )?(reviewed|updated|revised)\b", re.I)


# What each requirement is called in reports (the HTML report, CSV), by id.
REQUIREMENT_NAMES = {
    "exists": "A statement exists",
    "linked_from_home": "Reachable from the home page",
    "compliance_status": "Compliance status (fully, partially or not compliant with WCAG 2.1 or 2.2 AA)",
    "non_accessible_content": "Content that is not accessible is listed",
    "feedback": "A way to report problems and ask for alternative formats",
    "enforcement": "The enforcement procedure (EHRC, EASS or ECNI)",
    "prepared": "When it was prepared",
    "reviewed": "When it was last reviewed (within a year)",
    "consistent_with_audit": "No claim of full compliance while the audit found Level A/AA failures",
}


@dataclass
class Requirement:
    id: str
    status: str  # met | missing
    evidence: str | None  # the sentence found, or why it is missing


def sentences(text: str) -> list[str]:
    """The text as sentences (lines first, then full stops followed by a capital)."""
    out = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line) if s.strip())
    return out


def dates_in(sentence: str) -> list[date]:
    """Dates written the usual UK ways (23 September 2024, 23/09/2024, 2024-09-23, September 2024).

    >>> dates_in("prepared on 23 September 2024 and reviewed on 1/2/2025")
    [datetime.date(2024, 9, 23), datetime.date(2025, 2, 1)]
    """
    found: list[tuple[int, date]] = []
    taken: list[tuple[int, int]] = []

    def add(m, y, mo, d):
        if any(a < m.end() and m.start() < b for a, b in taken):
            return
        try:
            found.append((m.start(), date(int(y), int(mo), int(d))))
            taken.append((m.start(), m.end()))
        except ValueError:
            pass
    for m in _DATE_WORDS.finditer(sentence):
        add(m, m.group(3), MONTHS[m.group(2).lower()], m.group(1))
    for m in _DATE_MONTH.finditer(sentence):
        add(m, m.group(3), MONTHS[m.group(1).lower()], m.group(2))
    for m in _DATE_NUM.finditer(sentence):
        add(m, m.group(3), m.group(2), m.group(1))
    for m in _DATE_ISO.finditer(sentence):
        add(m, m.group(1), m.group(2), m.group(3))
    for m in _MONTH_YEAR.finditer(sentence):
        add(m, m.group(2), MONTHS[m.group(1).lower()], 1)
    return [d for _, d in sorted(found)]


def _path(url: str) -> str:
    try:
        return urlsplit(url).path.rstrip("/").lower()
    except ValueError:
        return ""


def _same(a: str, b: str) -> bool:
    try:
        sa, sb = urlsplit(a), urlsplit(b)
    except ValueError:
        return False
    return (sa.netloc.lower(), sa.path.rstrip("/")) == (sb.netloc.lower(), sb.path.rstrip("/"))


def find_statement(pages: list[dict], home_url: str) -> dict | None:
    """The statement page among ``pages`` (dicts with ``url``, ``title`` and ``facts``), or None.

    A page counts when it has statement text (the browser kept its text because its URL or title
    mentions accessibility) and either a page links to it with "accessibility statement" in the
    link text, its title says "accessibility statement", or its path is a usual one. Linked from
    the home page first, then the shortest URL.
    """
    named: set[str] = set()
    home_links: list[str] = []
    for p in pages:
        for link in (p.get("facts") or {}).get("statement_links") or []:
            href, text = str(link.get("href") or ""), str(link.get("text") or "")
            if re.search(r"accessibility\s+statement", text, re.I) or re.search(r"accessibility", text, re.I) and \
                    _path(href) in STATEMENT_PATHS:
                named.add(href)
                if _same(p["url"], home_url):
                    home_links.append(href)
    candidates = []
    for p in pages:
        facts = p.get("facts") or {}
        if not facts.get("statement_text"):
            continue
        by_link = any(_same(p["url"], h) for h in named)
        by_title = bool(re.search(r"accessibility\s+statement", p.get("title") or "", re.I))
        by_path = _path(p["url"]) in STATEMENT_PATHS
        if by_link or by_title or by_path:
            from_home = any(_same(p["url"], h) for h in home_links)
            candidates.append((not from_home, len(p["url"]), p["url"], p, from_home))
    if not candidates:
        return None
    *_, page, from_home = min(candidates, key=lambda c: c[:3])
    return {"url": page["url"], "title": page.get("title"), "text": page["facts"]["statement_text"],
            "linked_from_home": from_home}


def check_statement(found: dict | None, run_date: date, level_a_aa_failures: int) -> dict:
    """What the statement says, requirement by requirement (see the module docstring)."""
    if found is None:
        reqs = [Requirement("exists", "missing", "no page linked as 'accessibility statement' or at a usual path "
                            "(/accessibility, /accessibility-statement) was audited")]
        return {"url": None, "compliance": None, "requirements": [asdict(r) for r in reqs]}
    sents = sentences(found["text"])
    reqs = [Requirement("exists", "met", found["url"])]
    reqs.append(Requirement("linked_from_home", "met" if found["linked_from_home"] else "missing",
                            "the home page links to it" if found["linked_from_home"]
                            else "no link to it on the home page"))

    def first(pred) -> str | None:
        return next((s[:300] for s in sents if pred(s)), None)

    status_sentence = first(lambda s: _STATUS.search(s) and _WCAG.search(s)) or first(lambda s: _STATUS.search(s))
    compliance = None
    if status_sentence:
        word = _STATUS.search(status_sentence).group(1).lower()
        compliance = {"fully compliant": "fully", "partially compliant": "partially"}.get(word, "not")
    reqs.append(Requirement("compliance_status", "met" if status_sentence and _WCAG.search(status_sentence)
                            else "missing", status_sentence or "no 'fully/partially/not compliant' with WCAG 2.1 or "
                            "2.2 AA"))
    listed = first(lambda s: bool(_NON_ACCESSIBLE.search(s)))
    reqs.append(Requirement("non_accessible_content", "met" if listed or compliance == "fully" else "missing",
                            listed or ("not needed: full compliance claimed" if compliance == "fully"
                                       else "no list of content that is not accessible")))
    feedback = first(lambda s: bool(_EMAIL.search(s) or _PHONE.search(s) or _FORM.search(s))
                     and bool(_FEEDBACK_WORDS.search(s) or _EMAIL.search(s)))
    reqs.append(Requirement("feedback", "met" if feedback else "missing",
                            feedback or "no email address, phone number or form to report problems"))
    enforcement = first(lambda s: bool(_ENFORCEMENT.search(s)))
    reqs.append(Requirement("enforcement", "met" if enforcement else "missing",
                            enforcement or "no mention of the EHRC, EASS or ECNI enforcement procedure"))
    prepared = first(lambda s: bool(_PREPARED.search(s) and dates_in(s)))
    reqs.append(Requirement("prepared", "met" if prepared else "missing", prepared or "no date of preparation"))
    reviewed = first(lambda s: bool(_REVIEWED.search(s) and dates_in(s)))
    latest = max((d for s in (prepared, reviewed) if s for d in dates_in(s)), default=None)
    if reviewed is None:
        reqs.append(Requirement("reviewed", "missing", "no date of last review"
                                + (f" (latest date given: {latest.isoformat()})" if latest else "")))
    elif latest is not None and run_date - latest > STALE_AFTER:
        reqs.append(Requirement("reviewed", "missing", f"last reviewed more than a year before the audit: {reviewed}"))
    else:
        reqs.append(Requirement("reviewed", "met", reviewed))
    if compliance == "fully" and level_a_aa_failures:
        reqs.append(Requirement("consistent_with_audit", "missing",
                                f"claims full compliance, but the audit found {level_a_aa_failures} Level A/AA "
                                f"failure(s): {status_sentence}"))
    else:
        reqs.append(Requirement("consistent_with_audit", "met", None))
    stale = latest is not None and run_date - latest > STALE_AFTER
    return {"url": found["url"], "compliance": compliance, "latest_date": latest.isoformat() if latest else None,
            "over_a_year_old": stale, "requirements": [asdict(r) for r in reqs]}
