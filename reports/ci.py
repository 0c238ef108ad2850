"""What ``a11ycrawl check`` tells a CI system: JUnit XML, SARIF 2.1.0, GitHub Actions
annotations and a GitHub job summary.

Reporters are small functions chosen by name (:data:`REPORTERS`), each ``CheckReport -> str``;
pure: they render a :class:`~audits.analysis.gate.CheckReport` (the run, its pages and the gate's
verdict) and never touch the store, the network or the clock. JUnit and SARIF hold no time and no
run id, so two checks that find the same give byte-identical files (the run id is in the job
summary and on the terminal).

What counts as a failure in every output is the gate's ``flagged()``: with a baseline, the
failing elements that are new (known ones are listed, not failed); without, every failing
element the gate counts. Ignored elements are shown with their reason and never fail.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Callable, Iterable

from audits.analysis.gate import IMPACTS, CheckReport, Finding

from reports.data import wcag_criteria, wcag_label

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/a11ycrawl/a11ycrawl"
SARIF_LEVEL = {"critical": "error", "serious": "error", "moderate": "warning", "minor": "note"}
MAX_ANNOTATIONS = 50  # GitHub shows at most 50 annotations per job step


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _by_page_rule(findings: Iterable[tuple[Finding, str | None]]) -> dict[str, dict[str, list]]:
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for f, state in findings:
        out[f.url][f.rule].append((f, state))
    return out


def _impact(items) -> str | None:
    impacts = [f.impact for f, _ in items if f.impact in IMPACTS]
    return min(impacts, key=IMPACTS.index) if impacts else None


def verdict_line(report: CheckReport) -> str:
    g, run = report.gate, report.run
    word = "PASSED" if g.passed else "FAILED"
    score = "no score" if run.score is None else f"score {run.score:.1f}"
    failed = "; ".join(c.detail for c in g.failed_checks)
    return f"a11ycrawl check {word}: {run.site}, run {run.run_id}, {score}" + (f": {failed}" if failed else "")


# -- JUnit XML --------------------------------------------------------------------------------------

# Characters XML 1.0 forbids (C0 controls but tab, newline and carriage return; surrogates; U+FFFE
# and U+FFFF) and those it discourages (DEL and the C1 controls): an audited page can put any of
# them in an element's HTML or its title, and one of them makes the whole file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids or discourages written as a visible escape
    (``\\x1b``, ``\\ud800``), so the file stays well formed and the reader sees it was there.

    >>> xml_text("a\\x1b[31mb\\ud800")
    'a\\\\x1b[31mb\\\\ud800'
    """
    return _NOT_XML.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def _xml_safe(root: ET.Element) -> ET.Element:
    """Every text, tail and attribute value of the tree through :func:`xml_text`."""
    for el in root.iter():
        if el.text:
            el.text = xml_text(el.text)
        if el.tail:
            el.tail = xml_text(el.tail)
        for key, value in el.attrib.items():
            el.set(key, xml_text(value))
    return root


def junit_xml(report: CheckReport) -> str:
    """JUnit XML: one testcase per gate check, one per page (audited or failed); a failure per
    rule that fails the gate on a page, an error for a page that could not be audited. Well
    formed whatever the pages held (see :func:`xml_text`)."""
    g, run = report.gate, report.run
    suite = ET.Element("testsuite", name=f"a11ycrawl: {run.site}")
    props = ET.SubElement(suite, "properties")
    for name, value in (("start_url", run.start_url), ("score", run.score),
                        ("axe_version", run.axe_version), ("baseline", g.baseline_source)):
        if value is not None:
            ET.SubElement(props, "property", name=name, value=str(value))
    tests = failures = errors = 0
    for c in g.checks:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname="a11ycrawl.gate", name=c.name)
        if not c.passed:
            failures += 1
            ET.SubElement(case, "failure", message=c.detail, type=c.name).text = c.detail
    by_page = _by_page_rule(g.states())
    ignored = defaultdict(list)
    for i in g.ignored:
        ignored[i.finding.url].append(i)
    for page in report.pages:
        if page.status == "skipped":
            continue
        tests += 1
        case = ET.SubElement(suite, "testcase", classname="a11ycrawl.pages", name=page.url)
        if report.files.get(page.url):
            case.set("file", report.files[page.url])
        if page.status == "failed":
            errors += 1
            ET.SubElement(case, "error", message=f"{page.reason_code}: {page.reason}", type=page.reason_code or "failed")
            continue
        rules = by_page.get(page.url, {})
        notes = []
        # new failures first: tools that show one failure per testcase show the one that matters
        ordered = sorted(rules.items(), key=lambda kv: (not any(s == "new" for _, s in kv[1]),
                                                        IMPACTS.index(_impact(kv[1]) or "minor"), kv[0]))
        failed_here = False
        for rule, items in ordered:
            failing = [(f, s) for f, s in items if s != "known"]
            known = len(items) - len(failing)
            if known:
                notes.append(f"{rule}: {_plural(known, 'failing element')} already in the baseline")
            if not failing:
                continue
            failed_here = True
            f0 = failing[0][0]
            new = " NEW since " + g.baseline_source if failing[0][1] == "new" else ""
            message = f"{rule} ({_impact(failing) or 'unknown'}, {_plural(len(failing), 'element')}){new}: {f0.help or ''}"
            lines = [f"{f0.help or rule}", f"More: {f0.help_url}" if f0.help_url else "",
                     "WCAG: " + ", ".join(wcag_label(c) for c in wcag_criteria(f0.tags)) if f0.tags else ""]
            for f, state in failing:
                lines += ["", f"element: {f.selector}" + (" (new)" if state == "new" else ""),
                          f"html: {f.html or ''}", f"fingerprint: {f.fingerprint}",
                          (f.failure_summary or "").strip()]
            ET.SubElement(case, "failure", message=message, type=rule).text = "\n".join(x for x in lines if x is not None)
        for i in ignored.get(page.url, []):
            notes.append(f"{i.finding.rule} at {i.finding.selector}: ignored ({i.ignore.reason})")
        if failed_here:
            failures += 1
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(notes)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    root = ET.Element("testsuites", name="a11ycrawl", tests=str(tests), failures=str(failures), errors=str(errors))
    root.append(suite)
    ET.indent(_xml_safe(root))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- SARIF 2.1.0 ------------------------------------------------------------------------------------

def _sarif_rule(rule: str, texts: dict, sample: Finding | None) -> dict:
    help_text = texts.get("help") or (sample.help if sample else None) or rule
    help_url = texts.get("help_url") or (sample.help_url if sample else None)
    tags = texts.get("tags") or (list(sample.tags) if sample else [])
    out = {
        "id": rule,
        "shortDescription": {"text": help_text},
        "fullDescription": {"text": texts.get("description") or help_text},
        "help": {"text": help_text + (f" ({help_url})" if help_url else "")},
        "properties": {"tags": ["accessibility", *(f"WCAG {c}" for c in wcag_criteria(tags)), *tags]},
    }
    if help_url:
        out["helpUri"] = help_url
    if sample and sample.impact in SARIF_LEVEL:
        out["defaultConfiguration"] = {"level": SARIF_LEVEL[sample.impact]}
    return out


def sarif_log(report: CheckReport) -> dict:
    """The run as a SARIF 2.1.0 log: a result per failing element, with ``baselineState``
    (``new``/``unchanged``) when there is a baseline and an accepted ``suppression`` for ignored
    ones. Locations are the page URL (or, for ``check --dir``, the source file, with the HTML as
    the region's snippet) and the element's selector as a logical location; the element's HTML
    is in the result's properties."""
    g, run = report.gate, report.run
    entries = [(f, state, None) for f, state in g.states()] + [(i.finding, None, i.ignore) for i in g.ignored]
    samples: dict[str, Finding] = {}
    for f, _, _ in entries:
        samples.setdefault(f.rule, f)
    rule_ids = sorted(samples)
    index = {r: i for i, r in enumerate(rule_ids)}
    results = []
    for f, state, ignore in entries:
        loc = report.location(f.url)
        physical: dict = {"artifactLocation": {"uri": loc}}
        if loc != f.url:  # a source file (check --dir): a region needs a line, and we know no better
            physical["region"] = {"startLine": 1, **({"snippet": {"text": f.html}} if f.html else {})}
        page = f" on {f.page_title!r}" if f.page_title else ""
        text = f"{f.help or f.rule}{page} ({f.url}): {f.selector}"
        if state == "new":
            text = f"NEW since {g.baseline_source}: " + text
        result = {
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": SARIF_LEVEL.get(f.impact or "", "warning"),
            "message": {"text": text},
            "locations": [{"physicalLocation": physical,
                           "logicalLocations": [{"fullyQualifiedName": f.selector, "kind": "element"}]}],
            "partialFingerprints": {"a11ycrawl/v1": f.fingerprint},
            "properties": {"impact": f.impact, "pageUrl": f.url, "pageTitle": f.page_title, "html": f.html,
                           "wcag": wcag_criteria(f.tags)},
        }
        if state is not None:
            result["baselineState"] = "new" if state == "new" else "unchanged"
        if ignore is not None:
            result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": ignore.reason}]
        results.append(result)
    sarif_run = {
        "tool": {"driver": {
            "name": "a11ycrawl", "version": run.tool_version or "unknown", "informationUri": INFORMATION_URI,
            "rules": [_sarif_rule(r, report.rules.get(r, {}), samples[r]) for r in rule_ids],
        }},
        "automationDetails": {"id": f"a11ycrawl/{run.site}/"},  # a category; no run id (see the module doc)
        "invocations": [{"executionSuccessful": True,
                         "toolExecutionNotifications": [
                             {"level": "error", "message": {"text": c.detail}} for c in g.failed_checks]}],
        "results": results,
        "properties": {"site": run.site, "startUrl": run.start_url, "score": run.score,
                       "axeVersion": run.axe_version, "gate": "passed" if g.passed else "failed",
                       "checks": [{"name": c.name, "passed": c.passed, "limit": c.limit, "actual": c.actual}
                                  for c in g.checks]},
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [sarif_run]}


def sarif_json(report: CheckReport) -> str:
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


# -- GitHub Actions -----------------------------------------------------------------------------------

def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(report: CheckReport) -> str:
    """Workflow commands (``::error file=...,title=...::message``), one per failing rule per
    page, new failures first; then one per failed gate check. At most :data:`MAX_ANNOTATIONS`."""
    g = report.gate
    lines = []
    groups = _by_page_rule((f, s) for f, s in g.states() if s != "known")
    ordered = sorted(((url, rule, items) for url, rules in groups.items() for rule, items in rules.items()),
                     key=lambda x: (not any(s == "new" for _, s in x[2]), IMPACTS.index(_impact(x[2]) or "minor"),
                                    x[0], x[1]))
    for url, rule, items in ordered:
        f = items[0][0]
        new = any(s == "new" for _, s in items)
        title = f"a11ycrawl: {rule} ({_impact(items) or 'unknown'})" + (" NEW" if new else "")
        msg = (f"{f.help or rule}: {_plural(len(items), 'element')} on {url}"
               + (f" (new since {g.baseline_source})" if new else "")
               + ": " + "; ".join(x.selector for x, _ in items[:5]) + (" ..." if len(items) > 5 else "")
               + (f". {f.help_url}" if f.help_url else ""))
        props = f"file={_gh_prop(report.location(url))}"
        if url in report.files:
            props += ",line=1"
        lines.append(f"::error {props},title={_gh_prop(title)}::{_gh_data(msg)}")
    extra = max(0, len(lines) - MAX_ANNOTATIONS)
    lines = lines[:MAX_ANNOTATIONS]
    if extra:
        lines.append(f"::notice title=a11ycrawl::{extra} more failing rules/pages: see the job summary or the JUnit/SARIF files")
    for c in g.failed_checks:
        lines.append(f"::error title={_gh_prop('a11ycrawl gate: ' + c.name)}::{_gh_data(c.detail)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _md(text: object) -> str:
    """Text from audited pages, safe in a Markdown table cell (GitHub renders HTML in Markdown)."""
    s = html_lib.escape(str(text if text is not None else ""), quote=False)
    return " ".join(s.replace("|", "\\|").replace("`", "'").replace("*", "\\*").replace("_", "\\_").replace(
        "[", "\\[").split())


def markdown_summary(report: CheckReport, limit: int = 30) -> str:
    """The job summary (Markdown, for ``$GITHUB_STEP_SUMMARY``): verdict, checks, new failures,
    failing rules and ignored elements."""
    g, run = report.gate, report.run
    out = [f"## a11ycrawl check {'passed ✅' if g.passed else 'FAILED ❌'}: {_md(run.site)}", ""]
    score = "no score" + (f" ({_md(run.score_reason)})" if run.score_reason else "") if run.score is None else f"**{run.score:.1f}** / 10"
    audited = sum(p.status == "audited" for p in report.pages)
    failed = sum(p.status == "failed" for p in report.pages)
    out.append(f"Score {score} · {_plural(audited, 'page')} audited"
               + (f", {failed} could not be audited" if failed else "")
               + f" · run {run.run_id} · axe-core {_md(run.axe_version)}")
    out += ["", "| check | limit | found | result |", "|---|---:|---:|---|"]
    out += [f"| {c.name} | {c.limit} | {c.actual} | {'pass' if c.passed else '**FAIL**'} |" for c in g.checks]
    new = g.new
    if new:
        out += ["", f"### New failures since {_md(g.baseline_source)} ({len(new)})", "",
                "| impact | rule | page | element |", "|---|---|---|---|"]
        out += [f"| {f.impact} | {f.rule} | {_md(f.url)} | {_md(f.selector)} |" for f in new[:limit]]
        if len(new) > limit:
            out.append(f"\n…and {len(new) - limit} more (see the SARIF or JUnit file).")
    rules: dict[str, list[Finding]] = defaultdict(list)
    for f in g.counted:
        rules[f.rule].append(f)
    if rules:
        out += ["", f"### Failing rules ({len(rules)})", "", "| rule | impact | pages | elements | WCAG |",
                "|---|---|---:|---:|---|"]
        ordered = sorted(rules.items(), key=lambda kv: (IMPACTS.index(_impact([(f, None) for f in kv[1]]) or "minor"),
                                                        -len({f.url for f in kv[1]}), kv[0]))
        for rule, fs in ordered[:limit]:
            out.append(f"| {rule} | {_impact([(f, None) for f in fs]) or ''} | {len({f.url for f in fs})} | {len(fs)} | "
                       f"{', '.join(wcag_criteria(fs[0].tags))} |")
    if g.ignored:
        out += ["", f"### Ignored ({len(g.ignored)})", "", "| rule | page | element | reason |", "|---|---|---|---|"]
        out += [f"| {i.finding.rule} | {_md(i.finding.url)} | {_md(i.finding.selector)} | {_md(i.ignore.reason)} |"
                for i in g.ignored[:limit]]
    return "\n".join(out) + "\n"


REPORTERS: dict[str, Callable[[CheckReport], str]] = {
    "junit": junit_xml,
    "sarif": sarif_json,
    "github": github_annotations,
    "summary": markdown_summary,
}


# -- stable names (check --dir) -----------------------------------------------------------------------

def site_path(url: str | None, root: str) -> str | None:
    """A URL under ``root`` (the temporary server of ``check --dir``, whose port changes every
    run) as its path on the site: ``http://127.0.0.1:46789/contact.html`` -> ``/contact.html``.
    Other URLs are returned as they are."""
    if url and url.startswith(root):
        return "/" + url[len(root):]
    return url


def with_site_paths(report: CheckReport, root: str | None = None) -> CheckReport:
    """The report with pages in URL order and, given ``root``, every page named by its path on
    the site (:func:`site_path`) rather than by the temporary server's URL, so that test names,
    annotations, SARIF locations and the summary are the same on every run."""
    from dataclasses import replace

    def name(url):
        return site_path(url, root) if root else url

    def rename(f: Finding) -> Finding:
        return replace(f, url=name(f.url))

    g = report.gate
    gate = replace(g, counted=tuple(rename(f) for f in g.counted),
                   ignored=tuple(replace(i, finding=rename(i.finding)) for i in g.ignored))
    pages = sorted((replace(p, url=name(p.url)) for p in report.pages), key=lambda p: p.url)
    return replace(report, run=replace(report.run, start_url=name(report.run.start_url)), pages=tuple(pages),
                   gate=gate, files={name(u): f for u, f in report.files.items()})
