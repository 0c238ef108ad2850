"""The a11ycrawl score: an open, versioned 0-10 accessibility score for pages and sites.

The score is a pure function of stored raw results (:func:`score_pages` takes plain dataclasses;
no database, no clock, no globals) under a model named by :data:`MODEL_VERSION`. Every stored
score records the model and the axe-core version behind it, and ``a11ycrawl rescore`` recomputes
history when the model changes.

Model ``a11ycrawl-score/1``
---------------------------
Only failures of WCAG Level A and AA rules count. A rule's level comes from its axe-core tags
(``wcag2a``, ``wcag21a``, ``wcag22a`` are Level A; ``wcag2aa``, ``wcag21aa``, ``wcag22aa`` are
Level AA); best-practice and AAA rules are stored and reported but not scored, so turning on
extra axe tags cannot move the score. As in Lighthouse, a rule either passes or fails on a page:
ten failing images cost what one does, and the rule's weight follows its worst axe-core impact
(:data:`IMPACT_WEIGHTS`, Lighthouse's weights: critical 10, serious 7, moderate 3, minor 1).

Over the N audited pages of a run::

    free_a   = share of pages with no Level A failure                  (SiteMorse-style)
    free_aa  = share of pages with no Level A or AA failure
    load     = sum over failing rules of weight x prevalence, where prevalence is the share
               of pages the rule fails on (= the mean weight of the rules failing per page)
    impact   = 1 / (1 + load / LOAD_HALF)                               (Silktide-style rate)
    score    = 10 x (0.25 free_a + 0.25 free_aa + 0.5 impact), rounded half up to one decimal

A page's score is the same formula applied to that page alone (its shares are 0 or 1).

Every part is a *share of pages*, never a count, so a template error on every page costs a
1,000-page site exactly what it costs a 50-page site; and a failure on every page costs far more
than the same failure on one page. Fixing a failure, or adding a clean page, never lowers the
score.

A run gets no score (``None``, with a reason) when no page was audited or when fewer than
:data:`MIN_COVERAGE` of the pages it set out to audit were audited (failed pages and pages left
when a time budget ran out or the run was interrupted count against it; pages outside the page
budget or scope do not).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

MODEL_VERSION = "a11ycrawl-score/1"
IMPACT_WEIGHTS = {"critical": 10, "serious": 7, "moderate": 3, "minor": 1}
UNKNOWN_IMPACT_WEIGHT = IMPACT_WEIGHTS["moderate"]
SHARE_WEIGHTS = {"free_a": 0.25, "free_aa": 0.25, "impact": 0.5}
LOAD_HALF = 20.0  # the load that halves the impact part: two critical failures on every page
MIN_COVERAGE = 0.5
SCORED_LEVELS = ("A", "AA")
UNFINISHED_REASONS = frozenset({"time_budget", "interrupted"})
SCORABLE_RUN_STATUSES = ("complete", "incomplete")

_LEVEL_TAG = re.compile(r"^wcag\d+(a{1,3})$")


def wcag_level(tags: Iterable[str]) -> str | None:
    """The WCAG level of an axe-core rule from its tags: ``"A"``, ``"AA"``, ``"AAA"`` or None.

    >>> wcag_level(["cat.text-alternatives", "wcag2a", "wcag111"])
    'A'
    >>> wcag_level(["wcag2aa", "wcag143"]), wcag_level(["best-practice"])
    ('AA', None)
    """
    levels = [m.group(1).upper() for t in tags if (m := _LEVEL_TAG.match(t))]
    return min(levels, key=len) if levels else None


def impact_weight(impact: str | None) -> int:
    return IMPACT_WEIGHTS.get(impact or "", UNKNOWN_IMPACT_WEIGHT)


# -- inputs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """One failing element (an axe-core node) as the score sees it."""

    rule: str
    impact: str | None = None
    level: str | None = None  # "A" | "AA" | "AAA" | None (best practice)


@dataclass(frozen=True)
class PageInput:
    """One URL of a run: its state and, if audited, its failing elements."""

    url: str
    status: str = "audited"  # audited | failed | skipped
    reason_code: str | None = None
    failures: tuple[Failure, ...] = ()


# -- outputs --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Coverage:
    """Pages audited against pages the run set out to audit."""

    audited: int
    failed: int
    unfinished: int

    @property
    def ratio(self) -> float | None:
        wanted = self.audited + self.failed + self.unfinished
        return self.audited / wanted if wanted else None


@dataclass(frozen=True)
class RuleCost:
    """What one failing rule costs the site."""

    rule: str
    level: str
    impact: str | None  # the worst impact seen
    pages: int
    prevalence: float  # share of audited pages it fails on
    load: float  # its part of the site's load
    gain: float  # points the site score would gain were it fixed everywhere


@dataclass(frozen=True)
class PageScore:
    url: str
    score: float
    free_a: bool
    free_aa: bool
    load: float
    rules: tuple[str, ...]  # scored rules failing on the page


@dataclass(frozen=True)
class SiteScore:
    """A site's score for one run, with the components behind it."""

    score: float | None
    reason: str | None
    model_version: str
    coverage: Coverage
    free_a: float | None = None
    free_aa: float | None = None
    impact: float | None = None
    load: float | None = None
    rules: tuple[RuleCost, ...] = ()
    pages: tuple[PageScore, ...] = ()

    def components(self) -> dict:
        """The components as stored with the score (page scores are left out: recompute them)."""
        d = asdict(self)
        d.pop("pages")
        d.pop("score")
        d["coverage"]["ratio"] = self.coverage.ratio
        return d


# -- the model ------------------------------------------------------------------------------------

def round_score(raw: float) -> float:
    """Half up to one decimal, as people round (``8.25 -> 8.3``); monotone, so it keeps every
    property of the raw score."""
    return float(Decimal(repr(raw)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def impact_factor(load: float) -> float:
    """1 for no failures, 1/2 at :data:`LOAD_HALF`, 1/4 at three times that: it keeps falling
    however bad a site is, so fixing a template error always shows, even at the bottom."""
    return 1.0 / (1.0 + load / LOAD_HALF)


def _raw_score(free_a: float, free_aa: float, load: float) -> float:
    impact = impact_factor(load)
    w = SHARE_WEIGHTS
    return min(10.0, 10.0 * (w["free_a"] * free_a + w["free_aa"] * free_aa + w["impact"] * impact))


def _failing_rules(page: PageInput) -> dict[str, tuple[str, str | None]]:
    """Scored rules failing on a page: rule -> (lowest level, worst impact) over its elements."""
    out: dict[str, tuple[str, str | None]] = {}
    for f in page.failures:
        if f.level not in SCORED_LEVELS:
            continue
        level, impact = out.get(f.rule, (f.level, f.impact))
        out[f.rule] = (min(level, f.level, key=len), max(impact, f.impact, key=impact_weight))
    return out


def _components(pages: list[dict[str, tuple[str, str | None]]]) -> tuple[float, float, float]:
    """(free_a, free_aa, load) over pages given as their failing rules. ``math.fsum`` keeps the
    load exactly rounded, so removing a failure can never raise it by a rounding error."""
    n = len(pages)
    free_a = sum(1 for rules in pages if all(level != "A" for level, _ in rules.values())) / n
    free_aa = sum(1 for rules in pages if not rules) / n
    load = math.fsum(impact_weight(impact) for rules in pages for _, impact in rules.values()) / n
    return free_a, free_aa, load


def score_page(page: PageInput) -> PageScore:
    """One audited page's score: the site formula applied to the page alone."""
    rules = _failing_rules(page)
    free_a, free_aa, load = _components([rules])
    return PageScore(url=page.url, score=round_score(_raw_score(free_a, free_aa, load)), free_a=bool(free_a),
                     free_aa=bool(free_aa), load=load, rules=tuple(sorted(rules)))


def _rule_costs(pages: list[dict[str, tuple[str, str | None]]], score: float) -> tuple[RuleCost, ...]:
    n = len(pages)
    by_rule: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for rules in pages:
        for rule, seen in rules.items():
            by_rule[rule].append(seen)
    costs = []
    for rule, seen in by_rule.items():
        without = [{r: v for r, v in rules.items() if r != rule} for rules in pages]
        worst = max((impact for _, impact in seen), key=impact_weight)
        costs.append(RuleCost(
            rule=rule, level=min((level for level, _ in seen), key=len), impact=worst, pages=len(seen),
            prevalence=len(seen) / n, load=math.fsum(impact_weight(i) for _, i in seen) / n,
            gain=round(round_score(_raw_score(*_components(without))) - score, 1),
        ))
    return tuple(sorted(costs, key=lambda c: (-c.gain, -c.load, c.rule)))


def coverage_of(pages: Iterable[PageInput]) -> Coverage:
    pages = list(pages)
    return Coverage(
        audited=sum(p.status == "audited" for p in pages),
        failed=sum(p.status == "failed" for p in pages),
        unfinished=sum(p.status == "skipped" and p.reason_code in UNFINISHED_REASONS for p in pages),
    )


def score_pages(pages: Iterable[PageInput]) -> SiteScore:
    """Score a run from its pages (all states; only audited pages are scored).

    >>> from audits.analysis.scoring import Failure, PageInput, score_pages
    >>> bad = Failure("button-name", "critical", "A")
    >>> score_pages([PageInput("https://x.test/", failures=(bad,)), PageInput("https://x.test/a")]).score
    6.5
    """
    pages = list(pages)
    coverage = coverage_of(pages)
    audited = [p for p in pages if p.status == "audited"]
    if not audited:
        return SiteScore(score=None, reason="no page could be audited", model_version=MODEL_VERSION, coverage=coverage)
    page_rules = [_failing_rules(p) for p in audited]
    free_a, free_aa, load = _components(page_rules)
    score = round_score(_raw_score(free_a, free_aa, load))
    reason = None
    if coverage.ratio is not None and coverage.ratio < MIN_COVERAGE:
        wanted = coverage.audited + coverage.failed + coverage.unfinished
        reason = (f"only {coverage.audited} of {wanted} pages could be audited ({coverage.ratio:.0%}); "
                  f"a score needs at least {MIN_COVERAGE:.0%}")
    return SiteScore(
        score=None if reason else score, reason=reason, model_version=MODEL_VERSION, coverage=coverage,
        free_a=free_a, free_aa=free_aa, impact=impact_factor(load), load=load,
        rules=_rule_costs(page_rules, score), pages=tuple(score_page(p) for p in audited),
    )


@dataclass(frozen=True)
class ScoreChange:
    run_id: int
    site: str
    before: float | None
    before_model: str | None  # None: the run had no score
    after: float | None


@dataclass(frozen=True)
class RescoreReport:
    """What ``rescore`` did: every run scored again under ``model_version``."""

    model_version: str
    runs: int
    changed: tuple[ScoreChange, ...]  # runs whose score differs from the one shown for them before
