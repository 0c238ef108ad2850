"""The a11ycrawl score: an open, versioned 0-10 accessibility score for pages and sites.

The score is a pure function of stored raw results (:func:`score_pages` takes plain dataclasses;
no database, no clock, no globals) under a named model. Two models exist side by side:
:data:`MODEL_2` (``a11ycrawl-score/2``), the default (:data:`MODEL_VERSION`) that summaries,
history, the league, the report and the gate show, and :data:`MODEL_1` (``a11ycrawl-score/1``),
kept computing exactly as it always did so that old figures reproduce. Every stored score
records its model and the axe-core version behind it; ``a11ycrawl rescore`` recomputes every
run under both models.

What both models score
----------------------
Only failures of WCAG Level A and AA rules count. A rule's level comes from its axe-core tags
(``wcag2a``, ``wcag21a``, ``wcag22a`` are Level A; ``wcag2aa``, ``wcag21aa``, ``wcag22aa`` are
Level AA); best-practice and AAA rules are stored and reported but not scored, so turning on
extra axe tags cannot move the score, and axe's "needs review" (incomplete) results are never
scored. As in Lighthouse, a rule either passes or fails on a page: ten failing images cost what
one does, and the rule's weight on a page follows its worst axe-core impact there
(:data:`IMPACT_WEIGHTS`, Lighthouse's weights: critical 10, serious 7, moderate 3, minor 1).

Model ``a11ycrawl-score/2`` (the default): 10 minus what each failing rule costs
----------------------------------------------------------------------------------
Over the N audited pages of a run, each failing rule costs a whole number of tenths of a point::

    cost(rule) = 1 + floor( (sum over the pages it fails on of its weight there) / N )   tenths
    score      = max(0, 10 - sum of the costs)

So a rule failing on every page costs 0.1 plus a tenth per weight point (critical 1.1, serious
0.8, moderate 0.4, minor 0.2), whatever the size of the site; one failing on a single page of
many costs 0.1. A page's score is the same formula applied to the page alone (N = 1).

Why each part:

* *Separable* (a sum over rules): what a rule costs is exactly what fixing it everywhere gains,
  each gain shows whatever else is broken, and the gains add up to the whole distance to 10 (as
  long as the score is above 0). That is what a council steers by: fixing its worst template
  error moves the score by the cost printed beside it.
* *Whole tenths* (costs are integers; the sum needs no rounding): the gain printed for a rule is
  the change ``rescore`` shows after fixing it, to the decimal, never lost to rounding.
* *0.1 for failing at all* (the ``1 +``): every fix of a rule shows a step of at least 0.1, and a
  rule on every page costs at least twice what it costs on one page of three or more (minor
  rules included).
* *Rounded down* (``floor``), not up: a rule on one page of two still costs less than the same
  rule on both (and adding a clean page or fixing a page can only lower a cost).
* *Share of pages* (divided by N): a template error on every page costs a 1,000-page site exactly
  what it costs a 50-page site, and failing on every page costs far more than on one.
* *A fixed budget of 10 points*: nine critical template errors and a bit more reach 0. A run
  that loses more than 10 points scores 0.0; its ``lost`` component (the sum of the costs,
  stored with the score) still falls with every fix. No bounded score can promise that the
  single-rule gains add up to half the distance for *every* run: with k rules alike each gain
  must be at least a 2k-th of the distance, which makes the distance grow like the square root
  of k without limit. A linear budget keeps the promise (exactly: the gains add up to the whole
  distance) for every run that loses at most the 10 points.

Fixing a failure, or adding a clean page, never lowers the score.

Model ``a11ycrawl-score/1`` (kept to reproduce old figures)
------------------------------------------------------------
Over the N audited pages of a run::

    free_a   = share of pages with no Level A failure                  (SiteMorse-style)
    free_aa  = share of pages with no Level A or AA failure
    load     = sum over failing rules of weight x prevalence, where prevalence is the share
               of pages the rule fails on (= the mean weight of the rules failing per page)
    impact   = 1 / (1 + load / LOAD_HALF)                               (Silktide-style rate)
    score    = 10 x (0.25 free_a + 0.25 free_aa + 0.5 impact), rounded half up to one decimal

Its page shares move only when a page's last failure goes and its impact part saturates, so on
a poor site fixing one template error barely shows: the reason model 2 replaced it.

Coverage (both models)
----------------------
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

from audits.reasons import UNFINISHED

MODEL_1 = "a11ycrawl-score/1"
MODEL_2 = "a11ycrawl-score/2"
MODEL_VERSION = MODEL_2  # the default: what summaries, history, the league, the report and the gate show
MODELS = (MODEL_1, MODEL_2)
IMPACT_WEIGHTS = {"critical": 10, "serious": 7, "moderate": 3, "minor": 1}
IMPACTS = tuple(IMPACT_WEIGHTS)  # axe-core's impacts, worst first
UNKNOWN_IMPACT_WEIGHT = IMPACT_WEIGHTS["moderate"]
SHARE_WEIGHTS = {"free_a": 0.25, "free_aa": 0.25, "impact": 0.5}
LOAD_HALF = 20.0  # model 1: the load that halves the impact part: two critical failures on every page
BUDGET_TENTHS = 100  # model 2: the 10 points the costs are taken from
FAIL_TENTHS = 1  # model 2: what failing at all costs a rule, before its reach
MIN_COVERAGE = 0.5
SCORED_LEVELS = ("A", "AA")
SCORABLE_RUN_STATUSES = ("complete", "incomplete")

_LEVEL_TAG = re.compile(r"^wcag\d+(a{1,3})$")
_CRITERION_TAG = re.compile(r"^wcag(\d)(\d)(\d{1,2})$")


def wcag_level(tags: Iterable[str]) -> str | None:
    """The WCAG level of an axe-core rule from its tags: ``"A"``, ``"AA"``, ``"AAA"`` or None.

    >>> wcag_level(["cat.text-alternatives", "wcag2a", "wcag111"])
    'A'
    >>> wcag_level(["wcag2aa", "wcag143"]), wcag_level(["best-practice"])
    ('AA', None)
    """
    levels = [m.group(1).upper() for t in tags if (m := _LEVEL_TAG.match(t))]
    return min(levels, key=len) if levels else None


def wcag_criteria(tags: Iterable[str] | None) -> list[str]:
    """WCAG success criteria from axe-core tags, in order: ``wcag111`` -> ``1.1.1``,
    ``wcag1410`` -> ``1.4.10`` (level tags such as ``wcag2aa`` are not criteria).

    >>> wcag_criteria(["cat.color", "wcag2aa", "wcag143", "wcag1411"])
    ['1.4.3', '1.4.11']
    """
    out = []
    for t in tags or ():
        m = _CRITERION_TAG.match(str(t))
        if m and (sc := ".".join(m.groups())) not in out:
            out.append(sc)
    return out


def impact_weight(impact: str | None) -> int:
    return IMPACT_WEIGHTS.get(impact or "", UNKNOWN_IMPACT_WEIGHT)


# -- inputs ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """One failing element (an axe-core node) as the score sees it."""

    rule: str
    impact: str | None = None
    level: str | None = None  # "A" | "AA" | "AAA" | None (best practice)
    criteria: tuple[str, ...] = ()  # WCAG success criteria ("1.1.1"): reported, never scored


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
    load: float  # its part of the site's load: its mean weight over the audited pages
    gain: float  # points the site score would gain were it fixed everywhere
    cost: float | None = None  # model 2: the points it costs (its gain, unless the score is at 0)
    wcag: tuple[str, ...] = ()  # model 2: its WCAG success criteria ("1.4.3")


@dataclass(frozen=True)
class PageScore:
    url: str
    score: float
    free_a: bool
    free_aa: bool
    load: float
    rules: tuple[str, ...]  # scored rules failing on the page
    lost: float | None = None  # model 2: points lost (the sum of the rules' costs)


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
    lost: float | None = None  # model 2: points lost, the sum of the rules' costs (may pass 10)
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


def _score_page_1(page: PageInput) -> PageScore:
    """Model 1: one audited page's score: the site formula applied to the page alone."""
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
        unfinished=sum(p.status == "skipped" and p.reason_code in UNFINISHED for p in pages),
    )


def _score_pages_1(pages: list[PageInput], coverage: Coverage) -> SiteScore:
    """Model 1 (see the module docstring), exactly as it has always computed."""
    audited = [p for p in pages if p.status == "audited"]
    if not audited:
        return SiteScore(score=None, reason="no page could be audited", model_version=MODEL_1, coverage=coverage)
    page_rules = [_failing_rules(p) for p in audited]
    free_a, free_aa, load = _components(page_rules)
    score = round_score(_raw_score(free_a, free_aa, load))
    reason = _coverage_reason(coverage)
    return SiteScore(
        score=None if reason else score, reason=reason, model_version=MODEL_1, coverage=coverage,
        free_a=free_a, free_aa=free_aa, impact=impact_factor(load), load=load,
        rules=_rule_costs(page_rules, score), pages=tuple(_score_page_1(p) for p in audited),
    )


# -- model 2 ----------------------------------------------------------------------------------------

def _impact_order(impact: str | None) -> tuple[int, bool, str]:
    """Worse first by weight; a known impact over none of the same weight (so the worst impact
    shown for a rule never depends on the order of its elements or pages)."""
    return impact_weight(impact), impact is not None, impact or ""


def _rules_with_criteria(page: PageInput) -> dict[str, tuple[str, str | None, tuple[str, ...]]]:
    """Scored rules failing on a page: rule -> (lowest level, worst impact, WCAG criteria)."""
    out: dict[str, tuple[str, str | None, tuple[str, ...]]] = {}
    for f in page.failures:
        if f.level not in SCORED_LEVELS:
            continue
        level, impact, criteria = out.get(f.rule, (f.level, f.impact, ()))
        out[f.rule] = (min(level, f.level, key=len), max(impact, f.impact, key=_impact_order),
                       criteria + tuple(c for c in f.criteria if c not in criteria))
    return out


def rule_tenths(weight_sum: int, n: int) -> int:
    """Model 2: what a failing rule costs, in tenths of a point: 1 for failing at all, plus its
    weights on the pages it fails on over the ``n`` audited pages, rounded down.

    >>> rule_tenths(10 * 42, 42), rule_tenths(10, 42), rule_tenths(1, 2), rule_tenths(2, 2)
    (11, 1, 1, 2)
    """
    return FAIL_TENTHS + weight_sum // n


def score_from_tenths(lost_tenths: int) -> float:
    """Model 2: the score when ``lost_tenths`` tenths are lost (exact: no rounding)."""
    return max(0, BUDGET_TENTHS - lost_tenths) / 10


def _tenths_by_rule(pages: list[dict[str, tuple[str, str | None, tuple[str, ...]]]]) -> dict[str, int]:
    """Each failing rule's summed weight over the pages it fails on (integers: no rounding errors)."""
    weights: dict[str, int] = defaultdict(int)
    for rules in pages:
        for rule, (_, impact, _) in rules.items():
            weights[rule] += impact_weight(impact)
    return dict(weights)


def _score_page_2(page: PageInput) -> PageScore:
    rules = _rules_with_criteria(page)
    lost = sum(rule_tenths(w, 1) for w in _tenths_by_rule([rules]).values())
    return PageScore(url=page.url, score=score_from_tenths(lost),
                     free_a=all(level != "A" for level, _, _ in rules.values()), free_aa=not rules,
                     load=float(sum(impact_weight(impact) for _, impact, _ in rules.values())),
                     rules=tuple(sorted(rules)), lost=lost / 10)


def _score_pages_2(pages: list[PageInput], coverage: Coverage) -> SiteScore:
    """Model 2 (see the module docstring): 10 minus the whole-tenth cost of each failing rule."""
    audited = [p for p in pages if p.status == "audited"]
    if not audited:
        return SiteScore(score=None, reason="no page could be audited", model_version=MODEL_2, coverage=coverage)
    n = len(audited)
    page_rules = [_rules_with_criteria(p) for p in audited]
    weights = _tenths_by_rule(page_rules)
    tenths = {rule: rule_tenths(w, n) for rule, w in weights.items()}
    lost = sum(tenths.values())
    score = score_from_tenths(lost)
    seen: dict[str, list[tuple[str, str | None, tuple[str, ...]]]] = defaultdict(list)
    for rules in page_rules:
        for rule, v in rules.items():
            seen[rule].append(v)
    costs = []
    for rule, vs in seen.items():
        criteria: list[str] = []
        for _, _, cs in vs:
            criteria += [c for c in cs if c not in criteria]
        # the gain is the score rescoring shows without the rule: the others' costs do not change
        gain = (max(0, BUDGET_TENTHS - lost + tenths[rule]) - max(0, BUDGET_TENTHS - lost)) / 10
        costs.append(RuleCost(
            rule=rule, level=min((level for level, _, _ in vs), key=len),
            impact=max((impact for _, impact, _ in vs), key=_impact_order), pages=len(vs), prevalence=len(vs) / n,
            load=weights[rule] / n, gain=gain, cost=tenths[rule] / 10, wcag=tuple(criteria),
        ))
    costs.sort(key=lambda c: (-c.gain, -c.cost, -c.pages, -impact_weight(c.impact), c.rule))  # a total order
    reason = _coverage_reason(coverage)
    return SiteScore(
        score=None if reason else score, reason=reason, model_version=MODEL_2, coverage=coverage,
        load=math.fsum(weights.values()) / n, lost=lost / 10, rules=tuple(costs),
        pages=tuple(_score_page_2(p) for p in audited),
    )


# -- both -------------------------------------------------------------------------------------------

_MODELS = {MODEL_1: (_score_pages_1, _score_page_1), MODEL_2: (_score_pages_2, _score_page_2)}


def _model(model: str):
    try:
        return _MODELS[model]
    except KeyError:
        raise ValueError(f"unknown scoring model {model!r}; known: {', '.join(MODELS)}") from None


def _coverage_reason(coverage: Coverage) -> str | None:
    if coverage.ratio is not None and coverage.ratio < MIN_COVERAGE:
        wanted = coverage.audited + coverage.failed + coverage.unfinished
        return (f"only {coverage.audited} of {wanted} pages could be audited ({coverage.ratio:.0%}); "
                f"a score needs at least {MIN_COVERAGE:.0%}")
    return None


def score_page(page: PageInput, model: str = MODEL_VERSION) -> PageScore:
    """One audited page's score under ``model``: the site formula applied to the page alone."""
    return _model(model)[1](page)


def score_pages(pages: Iterable[PageInput], model: str = MODEL_VERSION) -> SiteScore:
    """Score a run from its pages (all states; only audited pages are scored) under ``model``
    (default: :data:`MODEL_VERSION`).

    >>> from audits.analysis.scoring import MODEL_1, Failure, PageInput, score_pages
    >>> bad = Failure("button-name", "critical", "A")
    >>> run = [PageInput("https://x.test/", failures=(bad,)), PageInput("https://x.test/a")]
    >>> score_pages(run).score, score_pages(run).rules[0].gain, score_pages(run, MODEL_1).score
    (9.4, 0.6, 6.5)
    """
    score = _model(model)[0]
    pages = list(pages)
    return score(pages, coverage_of(pages))


@dataclass(frozen=True)
class ScoreChange:
    run_id: int
    site: str
    before: float | None
    before_model: str | None  # None: the run had no score
    after: float | None


@dataclass(frozen=True)
class RescoreReport:
    """What ``rescore`` did: every run scored again under every model in ``models``; ``changed``
    compares the score shown for each run (under ``model_version``, the default) before and after."""

    model_version: str
    runs: int
    changed: tuple[ScoreChange, ...]  # runs whose score differs from the one shown for them before
    models: tuple[str, ...] = MODELS
