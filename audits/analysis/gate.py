"""The CI gate: a run's failures, thresholds, a baseline and ignores in, pass or fail out.

:func:`evaluate` is a pure function over the dataclasses below: no database, no browser, no
clock. The store's side (:func:`run_findings`, :func:`baseline_from_run`) and the config's side
(:func:`load_ignores`, :func:`read_baseline`) sit at the bottom of the module.

What the gate judges, in order:

1. **Coverage** (``min_coverage``, a percentage): a run that could audit too few of the pages it
   set out to audit (the rest failed: HTTP errors, timeouts, the site going down) fails, whatever
   it found on the pages it saw (:func:`page_coverage`).
2. **Ignores** (``[[ignore]]`` in ``a11ycrawl.toml`` or an ``--ignore-file``, each with a
   ``reason``) take failing elements out of the count. They stay in every output, marked
   ignored with their reason. A selector cssselect cannot read is refused when the ignores are
   loaded, and one the text of axe-core's target cannot decide matches only if the page says so.
3. **Thresholds**: ``min_score`` (the run's stored score, which counts every failure, ignored
   or not: ignores decide what blocks a release, not what a site scores) and a maximum number of
   failing elements per impact.
4. **Baseline** ("no new failures"): findings are matched to the baseline by fingerprint, as
   counts (two identical elements in the baseline and three now is one new failure), then by
   rule, page and stable selector (see :func:`new_flags`).

With no threshold and no baseline the gate is strict: any failing element fails it.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from audits.errors import ConfigError, CrawlError
from audits.analysis.fingerprint import page_key
from audits.analysis.scoring import IMPACTS, Coverage, coverage_of
from audits.analysis.css import InvalidSelector, covers, parse_selector, target_selectors



# -- inputs -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One failing element (an axe-core node) of a run, as the gate and CI outputs see it."""

    fingerprint: str
    rule: str
    impact: str | None
    url: str
    target: tuple = ()  # axe-core's target: one selector per frame level (nested lists: shadow DOM)
    html: str | None = None
    help: str | None = None
    help_url: str | None = None
    tags: tuple[str, ...] = ()
    failure_summary: str | None = None
    page_title: str | None = None

    @property
    def selector(self) -> str:
        """The target as one line: frame levels joined by `` | ``, shadow roots by `` >>> ``."""
        return " | ".join(" >>> ".join(map(str, p)) if isinstance(p, (list, tuple)) else str(p) for p in self.target)


@dataclass(frozen=True)
class PageOutcome:
    """One URL of the run: audited, failed (with a reason) or skipped."""

    url: str
    status: str
    title: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    found_via: str | None = None  # start, link, sitemap, list, ...


@dataclass(frozen=True)
class RunInfo:
    run_id: int
    site: str
    start_url: str
    status: str
    started_at: str
    axe_version: str | None
    tool_version: str | None
    score: float | None
    score_reason: str | None


@dataclass(frozen=True)
class Thresholds:
    """Limits the run must stay within. None: not checked.

    ``min_coverage`` is a percentage of the pages the run set out to audit (see
    :func:`page_coverage`); it guards the others (a site the run could not see does not pass)
    and does not count as a threshold for :meth:`is_empty`.
    """

    min_score: float | None = None
    max_critical: int | None = None
    max_serious: int | None = None
    max_moderate: int | None = None
    max_minor: int | None = None
    min_coverage: float | None = None
    max_broken_links: int | None = None

    def max_for(self, impact: str) -> int | None:
        return getattr(self, f"max_{impact}")

    def is_empty(self) -> bool:
        """No score or failure threshold (``min_coverage`` aside)."""
        return self.min_score is None and all(self.max_for(i) is None for i in IMPACTS)


STRICT = Thresholds(max_critical=0, max_serious=0, max_moderate=0, max_minor=0)


@dataclass(frozen=True)
class Ignore:
    """Failing elements to leave out of the gate, and why.

    ``rule`` is an axe-core rule id; ``url`` a regular expression searched in the page URL;
    ``selector`` a CSS selector the element must match: in the page itself when ``check``
    could ask it (:func:`dom_selector_matches`), else judged on axe-core's target
    (:func:`selector_matches`). Every given part must match; at least one is given.
    """

    reason: str
    rule: str | None = None
    selector: str | None = None
    url: str | None = None
    source: str = ""  # where it was configured, e.g. "a11ycrawl.toml ignore[0]"

    def __post_init__(self) -> None:
        if self.selector is not None:
            try:
                check_selector(self.selector)
            except ValueError as exc:
                raise ConfigError(f"{self.source or 'ignore'}: selector: {exc}") from None

    def matches(self, f: Finding, dom_matches: frozenset = frozenset()) -> bool:
        """Whether the ignore covers ``f``. ``dom_matches`` holds ``(fingerprint, selector)``
        pairs found to match in the page itself (see :func:`dom_selector_matches`)."""
        if not self.matches_page(f):
            return False
        return self.selector is None or (f.fingerprint, self.selector) in dom_matches or selector_matches(
            self.selector, f.target)

    def matches_page(self, f: Finding) -> bool:
        """The rule and URL parts only."""
        if self.rule is not None and f.rule != self.rule:
            return False
        return self.url is None or bool(re.search(self.url, f.url))

    def describe(self) -> str:
        parts = [f"{k} {v!r}" for k, v in (("rule", self.rule), ("selector", self.selector), ("url", self.url)) if v]
        return ", ".join(parts)


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    rule: str
    url: str  # the page, as host and path (see fingerprint.page_key): stable across ports and schemes
    selector: str = ""  # the element's stable selector (see fingerprint.stable_selector)


@dataclass(frozen=True)
class Baseline:
    entries: tuple[BaselineEntry, ...]
    source: str  # "baseline.json" or "run 12"


# -- outputs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One test of the gate, e.g. ``max-serious``: limit 0, found 3."""

    name: str
    passed: bool
    limit: str
    actual: str
    detail: str


@dataclass(frozen=True)
class IgnoredFinding:
    finding: Finding
    ignore: Ignore


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict and everything behind it."""

    passed: bool
    checks: tuple[Check, ...]
    counted: tuple[Finding, ...]  # failing elements the gate counts (not ignored)
    ignored: tuple[IgnoredFinding, ...]
    new_flags: tuple[bool, ...] | None  # per counted finding: not in the baseline; None without one
    counts: dict[str, int]  # counted failing elements per impact
    baseline_source: str | None
    thresholds: Thresholds

    @property
    def new(self) -> tuple[Finding, ...] | None:
        """Counted findings not in the baseline; None without a baseline."""
        if self.new_flags is None:
            return None
        return tuple(f for f, new in zip(self.counted, self.new_flags) if new)

    def states(self) -> list[tuple[Finding, str | None]]:
        """Each counted finding with ``"new"`` or ``"known"`` (None without a baseline)."""
        if self.new_flags is None:
            return [(f, None) for f in self.counted]
        return [(f, "new" if n else "known") for f, n in zip(self.counted, self.new_flags)]

    def flagged(self) -> list[Finding]:
        """The failures CI outputs hold against the run: the new ones when there is a
        baseline (known ones are listed, not failed), else every counted one."""
        return [f for f, state in self.states() if state != "known"]

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


@dataclass(frozen=True)
class CheckReport:
    """Everything CI outputs show about one checked run (see :mod:`reports.ci`)."""

    run: RunInfo
    pages: tuple[PageOutcome, ...]
    gate: GateResult
    rules: dict[str, dict] = field(default_factory=dict)  # rule -> description, help, help_url, tags
    files: dict[str, str] = field(default_factory=dict)  # page URL -> source file (check --dir)

    def location(self, url: str) -> str:
        """Where a page's findings point: its source file when known, else its URL."""
        return self.files.get(url, url)


# -- the gate -----------------------------------------------------------------------------------

def _order(f: Finding) -> tuple:
    return (IMPACTS.index(f.impact) if f.impact in IMPACTS else len(IMPACTS), f.url, f.rule, f.selector, f.fingerprint)


def split_ignored(findings: Iterable[Finding], ignores: Iterable[Ignore],
                  dom_matches: frozenset = frozenset()) -> tuple[list[Finding], list[IgnoredFinding]]:
    ignores = list(ignores)
    counted, ignored = [], []
    for f in findings:
        hit = next((i for i in ignores if i.matches(f, dom_matches)), None)
        if hit is None:
            counted.append(f)
        else:
            ignored.append(IgnoredFinding(f, hit))
    return counted, ignored


def _element_key(rule: str, url_key: str, selector: str) -> tuple[str, str, str]:
    return (rule, url_key, selector)


def new_flags(findings: Iterable[Finding], baseline: Baseline) -> list[bool]:
    """For each finding, in order: is it new?

    Findings are matched to the baseline by fingerprint, as counts; then, as :func:`diff_runs`
    does, a finding whose fingerprint is not in the baseline still matches an unmatched entry
    of the same rule on the same page at the same stable selector (its HTML changed, e.g. an
    attribute added to ``<html>`` must not make a missing title look new).
    """
    findings = list(findings)
    by_fp = Counter(e.fingerprint for e in baseline.entries)
    flags = []
    for f in findings:
        flags.append(by_fp[f.fingerprint] <= 0)
        by_fp[f.fingerprint] -= 1
    # entries no finding took by fingerprint, available to the second pass
    left = Counter(e.fingerprint for e in baseline.entries)
    for f, new in zip(findings, flags):
        if not new:
            left[f.fingerprint] -= 1
    by_element: Counter = Counter()
    for e in baseline.entries:
        if left[e.fingerprint] > 0 and e.selector:
            left[e.fingerprint] -= 1
            by_element[_element_key(e.rule, e.url, e.selector)] += 1
    for i, f in enumerate(findings):
        if flags[i]:
            key = _element_key(f.rule, page_key(f.url), target_selectors(_listed(f.target)))
            if by_element[key] > 0:
                by_element[key] -= 1
                flags[i] = False
    return flags


def page_coverage(pages: Iterable[PageOutcome]) -> Coverage:
    """Pages audited against pages the run set out to audit: the one definition the gate's
    ``min-coverage`` and the score share (:func:`audits.analysis.scoring.coverage_of`). Failed
    pages (HTTP errors, timeouts, the site going down) and pages a time budget or Ctrl-C cut
    short count against it; pages skipped on purpose (robots.txt, scope, --max-pages) do not."""
    return coverage_of(pages)


def _percent(share: Fraction) -> str:
    """A percentage with one decimal, rounded down, so a run just under a minimum never reads as
    meeting it."""
    return f"{math.floor(share * 1000) / 10:g}%"


def coverage_check(pages: Iterable[PageOutcome] | None, minimum: float) -> Check:
    """The ``min-coverage`` check: fails below ``minimum`` percent, and when it cannot tell."""
    limit = f"{minimum:g}%"
    if pages is None:
        return Check("min-coverage", False, limit, "unknown", "coverage unknown: the run's pages were not given")
    cov = page_coverage(pages)
    wanted = cov.audited + cov.failed + cov.unfinished
    if cov.ratio is None:
        return Check("min-coverage", False, limit, "none", "coverage unknown: no page was audited or failed")
    share = Fraction(cov.audited, wanted)  # exact: 29 of 100 meets 29%
    ok = share * 100 >= Fraction(str(minimum))
    pct = _percent(share)
    audited = f"{cov.audited} of {wanted} page{'s' if wanted != 1 else ''} audited"
    detail = (f"coverage {pct} ({audited}; minimum {limit})" if ok
              else f"coverage {pct} ({audited}) is below {limit}")
    return Check("min-coverage", ok, limit, pct, detail)


# Sitemap URLs skipped for these reasons were still given to the run to audit.
_SITEMAP_KEPT = frozenset({"page_budget", "time_budget", "interrupted", "duplicate"})


def broken_links_check(pages: list[PageOutcome] | None, limit: int) -> Check:
    """Linked URLs that answer 404 or 410 (reason ``broken_link``): not counted against coverage,
    but a gate can limit them. Without the pages the check fails (closed)."""
    if pages is None:
        return Check("max-broken-links", False, str(limit), "unknown", "the run's pages were not given")
    broken = sorted(p.url for p in pages if p.reason_code == "broken_link")
    n = len(broken)
    detail = f"{n} broken link{'s' if n != 1 else ''} (404/410; maximum {limit})"
    if broken:
        detail += ": " + ", ".join(broken[:5]) + (f" and {n - 5} more" if n > 5 else "")
    return Check("max-broken-links", n <= limit, str(limit), str(n), detail)


def check_sitemaps(pages: Iterable[PageOutcome], sitemap_urls: Iterable[str]) -> None:
    """Raise :class:`~audits.errors.CrawlError` when the run was asked to audit the URLs of
    sitemaps and none of them gave it a page: the sitemap could not be fetched, was not a sitemap,
    listed nothing, or listed only URLs the run skipped (out of scope, robots.txt, ...). A gate
    must not pass on the home page alone. (A sitemap that lists nothing but the start URL looks
    the same: check that URL instead.)"""
    sitemap_urls = list(sitemap_urls)
    listed = [p for p in pages if p.found_via == "sitemap"]
    if not sitemap_urls or any(p.status != "skipped" or p.reason_code in _SITEMAP_KEPT for p in listed):
        return
    which = f"sitemap {sitemap_urls[0]}" if len(sitemap_urls) == 1 else "none of the sitemaps " + ", ".join(sitemap_urls)
    verb = "gave" if len(sitemap_urls) == 1 else "gave any"
    if listed:
        reasons = Counter(p.reason_code or "skipped" for p in listed)
        why = (f"the {len(listed)} URL{'s' if len(listed) != 1 else ''} listed were all skipped ("
               + ", ".join(f"{code}: {n}" for code, n in sorted(reasons.items())) + ")")
    else:
        why = "it could not be fetched or read as a sitemap, or lists no page of the site"
    raise CrawlError(f"{which} {verb} no page to audit: {why}")


def evaluate(findings: Iterable[Finding], *, score: float | None = None, score_reason: str | None = None,
             thresholds: Thresholds = Thresholds(), baseline: Baseline | None = None,
             ignores: Iterable[Ignore] = (), dom_matches: frozenset = frozenset(),
             pages: Iterable[PageOutcome] | None = None) -> GateResult:
    """Judge a run's failing elements. With no threshold and no baseline, :data:`STRICT` applies.
    ``dom_matches``: see :meth:`Ignore.matches`. ``pages``: the run's pages, for
    ``thresholds.min_coverage`` (without them that check fails: the gate fails closed)."""
    counted, ignored = split_ignored(findings, ignores, dom_matches)
    counted.sort(key=_order)
    ignored.sort(key=lambda i: _order(i.finding))
    if thresholds.is_empty() and baseline is None:
        thresholds = replace(STRICT, min_coverage=thresholds.min_coverage, max_broken_links=thresholds.max_broken_links)
    counts = {i: 0 for i in IMPACTS}
    for f in counted:
        counts[f.impact if f.impact in counts else "moderate"] += 1
    checks = []
    if thresholds.min_coverage is not None:
        checks.append(coverage_check(None if pages is None else list(pages), thresholds.min_coverage))
    if thresholds.max_broken_links is not None:
        checks.append(broken_links_check(None if pages is None else list(pages), thresholds.max_broken_links))
    if thresholds.min_score is not None:
        ok = score is not None and score >= thresholds.min_score
        detail = (f"score {score:.1f} (minimum {thresholds.min_score:.1f})" if score is not None
                  else f"the run has no score: {score_reason or 'not scored'}")
        checks.append(Check("min-score", ok, f"{thresholds.min_score:.1f}",
                            "none" if score is None else f"{score:.1f}", detail))
    for impact in IMPACTS:
        limit = thresholds.max_for(impact)
        if limit is not None:
            n = counts[impact]
            checks.append(Check(f"max-{impact}", n <= limit, str(limit), str(n),
                                f"{n} {impact} failing element{'s' if n != 1 else ''} (maximum {limit})"))
    flags = None
    if baseline is not None:
        flags = new_flags(counted, baseline)
        new = [f for f, n in zip(counted, flags) if n]
        rules = sorted({f.rule for f in new})
        detail = (f"no new failures since {baseline.source}" if not new else
                  f"{len(new)} new failing element{'s' if len(new) != 1 else ''} since {baseline.source}: "
                  + ", ".join(rules))
        checks.append(Check("no-new-failures", not new, "0", str(len(new)), detail))
    return GateResult(
        passed=all(c.passed for c in checks), checks=tuple(checks), counted=tuple(counted),
        ignored=tuple(ignored), new_flags=None if flags is None else tuple(flags), counts=counts,
        baseline_source=baseline.source if baseline else None, thresholds=thresholds,
    )


def baseline_entries(findings: Iterable[Finding]) -> list[dict]:
    """A baseline file's content: one entry per failing element (fingerprint, rule, page as host
    and path, stable selector), sorted, so that the committed file changes only when the
    failures do."""
    rows = [{"fingerprint": f.fingerprint, "rule": f.rule, "url": page_key(f.url),
             "selector": target_selectors(_listed(f.target))} for f in findings]
    return sorted(rows, key=lambda r: (r["url"], r["rule"], r["fingerprint"]))


# -- selectors ----------------------------------------------------------------------------------

def check_selector(selector: str) -> str:
    """An ignore's selector, refused (ValueError with the reason) when cssselect cannot read it
    or it names a pseudo-element (which no failing element is)."""
    try:
        parsed = parse_selector(selector)
    except InvalidSelector as exc:
        raise ValueError(f"{exc}; write a CSS selector such as \".legacy-footer a\" or \"img.hero\"") from None
    if any(s.pseudo_element for s in parsed):
        raise ValueError(f"{selector!r} names a pseudo-element, never a failing element")
    return selector


def selector_matches(selector: str, target: Any) -> bool:
    """Whether an ignore's CSS ``selector`` matches an element named by axe-core's ``target``.

    Judged on the selectors' text (both parsed by cssselect), since the page is gone by the time
    the gate runs; see :func:`audits.analysis.css.covers`. What the text cannot decide
    (pseudo-classes such as ``:not()``, sibling combinators, an attribute value axe-core did not
    spell out) does not match here, so an ignore never covers more than it says; ``check`` then
    asks the page itself (:func:`dom_selector_matches`). A comma means "any of".

    >>> selector_matches(".legacy-footer *", ["footer.legacy-footer > p > a"])
    True
    >>> selector_matches("img.hero", ["main > img.hero.wide"]), selector_matches("img.hero", ["img.logo"])
    (True, False)
    >>> selector_matches("img:not([src])", ["main > img.hero"])
    False
    """
    return covers(selector, target)


# -- the store's side -----------------------------------------------------------------------------

def _listed(v: Any) -> Any:
    return [_listed(x) for x in v] if isinstance(v, (list, tuple)) else v


# -- the browser's side ------------------------------------------------------------------------------

def selector_candidates(findings: Iterable[Finding], ignores: Iterable[Ignore]) -> list[tuple[Finding, Ignore]]:
    """Findings an ignore's rule and URL cover but whose selector its text does not match: the
    ones worth asking the page about."""
    ignores = [i for i in ignores if i.selector]
    return [(f, i) for f in findings for i in ignores
            if i.matches_page(f) and not selector_matches(i.selector, f.target)]


def read_baseline(path: str | Path) -> Baseline:
    """Read a baseline file (as written by ``check --write-baseline``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"baseline file {path} does not exist (write one with 'a11ycrawl check ... "
                          f"--write-baseline {path}')") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"baseline file {path} is not readable JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("findings")
    if not isinstance(data, list):
        raise ConfigError(f"baseline file {path}: expected a JSON list of {{fingerprint, rule, url}} objects")
    entries = []
    for i, e in enumerate(data):
        if not isinstance(e, dict) or not isinstance(e.get("fingerprint"), str):
            raise ConfigError(f"baseline file {path}: entry {i} has no \"fingerprint\" string")
        entries.append(BaselineEntry(fingerprint=e["fingerprint"], rule=str(e.get("rule", "")),
                                     url=str(e.get("url", "")), selector=str(e.get("selector", ""))))
    return Baseline(tuple(entries), source=path.name)


def write_baseline(path: str | Path, findings: Iterable[Finding]) -> int:
    entries = baseline_entries(findings)
    Path(path).write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    return len(entries)


class IgnoreEntry(BaseModel):
    """One ``[[ignore]]`` table."""

    model_config = ConfigDict(extra="forbid")
    reason: str
    rule: str | None = None
    selector: str | None = None
    url: str | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("say why it is ignored (reason = \"...\")")
        return v.strip()

    @field_validator("selector")
    @classmethod
    def _selector(cls, v: str | None) -> str | None:
        return None if v is None else check_selector(v)

    @field_validator("url")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return v

    @model_validator(mode="after")
    def _something(self) -> "IgnoreEntry":
        if not (self.rule or self.selector or self.url):
            raise ValueError("give at least one of rule, selector or url")
        return self


def parse_ignores(entries: Any, source: str) -> tuple[Ignore, ...]:
    """``[[ignore]]`` tables as :class:`Ignore` objects; errors name the source, entry and key."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: ignore must be a list of [[ignore]] tables")
    out = []
    for i, entry in enumerate(entries):
        try:
            e = IgnoreEntry.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "?"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key; known keys: reason, rule, selector, url"
            raise ConfigError(f"{source}: ignore[{i}]: {key}: {msg}") from None
        out.append(Ignore(reason=e.reason, rule=e.rule, selector=e.selector, url=e.url, source=f"{source} ignore[{i}]"))
    return tuple(out)


def load_ignores(ignore_file: str | Path | None = None, config_file: str | Path | None = None,
                 cwd: Path | None = None) -> tuple[Ignore, ...]:
    """Ignores from the config file (``[[ignore]]`` in ``a11ycrawl.toml``, or
    ``[[tool.a11ycrawl.ignore]]`` in ``pyproject.toml``) plus those of ``ignore_file``."""
    from audits.config import find_config_file, read_toml as _read_toml

    out: list[Ignore] = []
    if config_file:
        path = Path(config_file)
        data = _read_toml(path)
        if path.name == "pyproject.toml":
            data = data.get("tool", {}).get("a11ycrawl", {})
        out += parse_ignores(data.get("ignore"), path.name)
    else:
        found = find_config_file(cwd)
        if found:
            out += parse_ignores(found[1].get("ignore"), found[0].name)
    if ignore_file:
        path = Path(ignore_file)
        out += parse_ignores(_read_toml(path, "ignore file").get("ignore"), path.name)
    return tuple(out)
