"""The a11ycrawl score: an open, versioned 0-10 accessibility score for pages and sites.

The score is a pure function of stored raw results (:func:`score_pages` takes plain dataclasses;
no database, no clock, no globals) under a named model. Three models exist side by side:
:data:`MODEL_3` (``a11ycrawl-score/3``), the default (:data:`MODEL_VERSION`) that summaries,
history, the league, the report and the gate show; :data:`MODEL_2` (``a11ycrawl-score/2``), its
pages part; and :data:`MODEL_1` (``a11ycrawl-score/1``). The older ones keep computing exactly as
they always did so that old figures reproduce. Every stored score records its model and the
axe-core version behind it; ``a11ycrawl rescore`` recomputes every run under every model.

Model ``a11ycrawl-score/3`` (the default): pages, documents, statement, cross-page
---------------------------------------------------------------------------------
A weighted mean of four parts, each scored 0 to 10 (:data:`PART_WEIGHTS`)::

    pages      0.7   model 2's site score, unchanged (page scores are model 2's page scores)
    documents  0.1   mean over the checked PDFs of the share of each one's applicable checks it passes
    statement  0.1   requirements met of the 9 in STATEMENT_REQUIREMENTS (no statement found: 0)
    crosspage  0.1   cross-page checks passed of those that apply

    score = round_half_up( sum over the parts that apply of weight x part / sum of their weights )

A part that does not apply (no PDF checked; no cross-page check applied; no statement looked
for: a run stored before statement facts were recorded, or one that audited a list of URLs or a
sitemap without following links and found none) is left out and the weights of the others are scaled up in
proportion, so they still add up to 1: without documents, pages weigh 0.7/0.9 = 0.778. With none
of the three, model 3 is model 2. The arithmetic is exact (fractions); only the score shown is
rounded, half up, to one decimal, so each part's points (weight used x part, shown to 2
decimals) add up to the score to rounding. A fix's gain is the change of the score shown once
it is made (so it is exactly what ``rescore`` shows); its ``points`` are the unrounded change.
Fixing anything (a rule on a page, a document check, a statement requirement, a cross-page
check) never lowers the score. Coverage rules are model 2's.

What the page models score (all three)
--------------------------------------
Only failures of WCAG Level A and AA rules count. A rule's level comes from its axe-core tags
(``wcag2a``, ``wcag21a``, ``wcag22a`` are Level A; ``wcag2aa``, ``wcag21aa``, ``wcag22aa`` are
Level AA); best-practice and AAA rules are stored and reported but not scored, so turning on
extra axe tags cannot move the score, and axe's "needs review" (incomplete) results are never
scored. As in Lighthouse, a rule either passes or fails on a page: ten failing images cost what
one does, and the rule's weight on a page follows its worst axe-core impact there
(:data:`IMPACT_WEIGHTS`, Lighthouse's weights: critical 10, serious 7, moderate 3, minor 1).

Model ``a11ycrawl-score/2`` (model 3's pages part): 10 minus what each failing rule costs
-----------------------------------------------------------------------------------------
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

Coverage (every model)
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
from dataclasses import asdict, dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Iterable, Protocol, Sequence

from audits.reasons import UNFINISHED

MODEL_1 = "a11ycrawl-score/1"
MODEL_2 = "a11ycrawl-score/2"
MODEL_3 = "a11ycrawl-score/3"
MODEL_VERSION = MODEL_3  # the default: what summaries, history, the league, the report and the gate show
MODELS = (MODEL_1, MODEL_2, MODEL_3)
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
    points: float | None = None  # model 3: exact change of the unrounded score were it fixed (2 decimals)


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
    parts: tuple["ScorePart", ...] = ()  # model 3: pages, documents, statement, cross-page, with weights
    fixes: tuple["PartFix", ...] = ()  # model 3: what meeting each document check, statement requirement
    #                                    or cross-page check adds to the score (page rules are in ``rules``)
    exact: float | None = None  # model 3: the score before rounding to one decimal (4 decimals)

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


# -- model 3 ----------------------------------------------------------------------------------------

PART_WEIGHTS = {"pages": Fraction(7, 10), "documents": Fraction(1, 10), "statement": Fraction(1, 10),
                "crosspage": Fraction(1, 10)}  # model 3: the stated weights (they add up to 1)
PARTS = tuple(PART_WEIGHTS)
STATEMENT_REQUIREMENTS = ("exists", "linked_from_home", "compliance_status", "non_accessible_content", "feedback",
                          "enforcement", "prepared", "reviewed", "consistent_with_audit")
PASS, FAIL = "pass", "fail"  # document and cross-page check outcomes; anything else is not applicable


@dataclass(frozen=True)
class DocumentInput:
    """Model 3: one checked PDF, as its checks' outcomes: (check id, ``pass`` | ``fail`` |
    ``not_applicable``). Documents that were not fetched or could not be read are not inputs."""

    url: str
    checks: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StatementInput:
    """Model 3: the accessibility statement's requirements as (id, ``met`` | ``missing``); empty
    when no statement was found (every requirement is then missing)."""

    requirements: tuple[tuple[str, str], ...] = ()


class SiteCheck(Protocol):
    """Model 3: a cross-page finding (``audits.analysis.crosspage.SiteFinding`` fits): one
    check, ``pass``, ``fail`` or ``not-applicable``."""

    @property
    def check(self) -> str: ...

    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class ScorePart:
    """Model 3: one part of the site score and what it adds to it."""

    name: str  # pages | documents | statement | crosspage
    status: str  # scored | not_applicable
    weight: float  # the stated weight (PART_WEIGHTS)
    applied_weight: float  # after the weights of parts that do not apply are shared out (0 if not applicable)
    score: float | None  # the part on its own, 0 to 10 (pages: the model-2 site score); None if not applicable
    points: float | None  # what it adds to the site score: applied_weight x score, to 2 decimals
    detail: str


@dataclass(frozen=True)
class PartFix:
    """Model 3: one fix outside the page rules and what it adds to the score."""

    part: str  # documents | statement | crosspage
    item: str  # the check or requirement
    gain: float  # what the score shown (one decimal) gains: exactly the change rescoring shows
    points: float  # what the unrounded score gains, to 2 decimals
    count: int  # documents (or cross-page findings) it is fixed on; 1 for a statement requirement
    detail: str


def _tenth_half_up(x: Fraction) -> float:
    return math.floor(x * 10 + Fraction(1, 2)) / 10


def _places(x: Fraction, places: int = 2) -> float:
    scale = 10 ** places
    return math.floor(x * scale + Fraction(1, 2)) / scale


def _combine(values: dict[str, Fraction | None]) -> Fraction:
    """The unrounded site score, 0 to 10: the applicable parts' values (0 to 1) weighted by their
    stated weights, shared out over the parts that apply (so the weights used add up to 1)."""
    applied = {name: PART_WEIGHTS[name] for name, v in values.items() if v is not None}
    total = sum(applied.values())
    return 10 * sum(w * values[name] for name, w in applied.items()) / total


def _documents_value(docs: Sequence[tuple[tuple[str, str], ...]]) -> Fraction | None:
    """The mean over documents of the share of each one's applicable checks it passes."""
    shares = []
    for checks in docs:
        passed = sum(status == PASS for _, status in checks)
        applicable = passed + sum(status == FAIL for _, status in checks)
        if applicable:
            shares.append(Fraction(passed, applicable))
    return sum(shares) / len(shares) if shares else None


def _checks_value(statuses: Sequence[str]) -> Fraction | None:
    passed, failed = statuses.count(PASS), statuses.count(FAIL)
    return Fraction(passed, passed + failed) if passed + failed else None


def _statement_met(statement: StatementInput) -> set[str]:
    return {r for r, status in statement.requirements if status == "met" and r in STATEMENT_REQUIREMENTS}


def _score_pages_3(pages: list[PageInput], coverage: Coverage, documents: Sequence[DocumentInput] | None,
                   statement: StatementInput | None, site_checks: Sequence[SiteCheck] | None) -> SiteScore:
    """Model 3 (see the module docstring): model 2's site score and three parts beyond axe."""
    base = _score_pages_2(pages, coverage)
    doc_checks = [tuple(d.checks) for d in documents or ()]
    cross = [(str(c.check), str(c.status)) for c in site_checks or ()]
    met = _statement_met(statement) if statement is not None else set()
    values: dict[str, Fraction | None] = {
        "pages": None if base.lost is None else Fraction(max(0, BUDGET_TENTHS - round(base.lost * 10)), BUDGET_TENTHS),
        "documents": _documents_value(doc_checks),
        "statement": None if statement is None else Fraction(len(met), len(STATEMENT_REQUIREMENTS)),
        "crosspage": _checks_value([status for _, status in cross]),
    }
    if values["pages"] is None:  # no page audited
        return replace(base, model_version=MODEL_3)
    raw = _combine(values)
    shown = _tenth_half_up(raw)

    def gain(**changed: Fraction) -> tuple[float, float]:
        after = _combine({**values, **changed})
        return round(_tenth_half_up(after) - shown, 1), _places(after - raw)

    lost = round(base.lost * 10)
    rules = []
    for r in base.rules:
        g, pts = gain(pages=Fraction(max(0, BUDGET_TENTHS - lost + round(r.cost * 10)), BUDGET_TENTHS))
        rules.append(replace(r, gain=g, points=pts))
    rules.sort(key=lambda c: (-c.gain, -(c.points or 0), -(c.cost or 0), -c.pages, -impact_weight(c.impact), c.rule))

    fixes = []
    failing_docs: dict[str, int] = defaultdict(int)
    for checks in doc_checks:
        for check in {c for c, status in checks if status == FAIL}:
            failing_docs[check] += 1
    for check, n in failing_docs.items():
        fixed = [tuple((c, PASS if c == check and st == FAIL else st) for c, st in checks) for checks in doc_checks]
        g, pts = gain(documents=_documents_value(fixed))
        fixes.append(PartFix("documents", check, g, pts, n, f"pass the '{check}' check on the {n} "
                             f"document{'s' if n != 1 else ''} failing it"))
    if statement is not None:
        for req in STATEMENT_REQUIREMENTS:
            if req not in met:
                g, pts = gain(statement=Fraction(len(met) + 1, len(STATEMENT_REQUIREMENTS)))
                fixes.append(PartFix("statement", req, g, pts, 1, f"the accessibility statement: meet '{req}'"))
    failing_checks: dict[str, int] = defaultdict(int)
    for check, status in cross:
        failing_checks[check] += status == FAIL
    for check, n in failing_checks.items():
        if n:
            g, pts = gain(crosspage=_checks_value([PASS if c == check and st == FAIL else st for c, st in cross]))
            fixes.append(PartFix("crosspage", check, g, pts, n, f"pass the cross-page check '{check}'"))
    fixes.sort(key=lambda f: (-f.gain, -f.points, PARTS.index(f.part), f.item))

    applied_total = sum(PART_WEIGHTS[n] for n, v in values.items() if v is not None)
    n_docs = len([d for d in doc_checks if any(st in (PASS, FAIL) for _, st in d)])
    details = {
        "pages": f"the model-2 site score: {base.lost:.1f} points lost to {len(base.rules)} failing WCAG A/AA "
                 f"rule{'s' if len(base.rules) != 1 else ''} over {base.coverage.audited} audited "
                 f"page{'s' if base.coverage.audited != 1 else ''}",
        "documents": (f"{n_docs} PDF{'s' if n_docs != 1 else ''} checked: on average "
                      f"{float(values['documents']):.0%} of each one's applicable checks pass"
                      if values["documents"] is not None else
                      "not applicable: no PDF was checked in this run (none linked in scope, none fetched, or none "
                      "readable)"),
        "statement": ("not applicable: the run did not look at a statement (stored before statements were "
                      "checked; a list of URLs or a sitemap audited without following links; a crawl kept in "
                      "the start URL's directory; or the statement linked but left out by the page budget)"
                      if statement is None else
                      f"{len(met)} of {len(STATEMENT_REQUIREMENTS)} requirements met"
                      + ("" if "exists" in met else " (no accessibility statement found)")),
        "crosspage": (f"{sum(st == PASS for _, st in cross)} of "
                      f"{sum(st in (PASS, FAIL) for _, st in cross)} applicable cross-page checks pass"
                      if values["crosspage"] is not None else "not applicable: no cross-page check applied"),
    }
    parts = []
    for name in PARTS:
        v = values[name]
        if v is None:
            parts.append(ScorePart(name, "not_applicable", float(PART_WEIGHTS[name]), 0.0, None, None, details[name]))
        else:
            w = PART_WEIGHTS[name] / applied_total
            parts.append(ScorePart(name, "scored", float(PART_WEIGHTS[name]), _places(w, 4), _places(10 * v),
                                   _places(10 * w * v), details[name]))
    return replace(base, score=None if base.reason else shown, model_version=MODEL_3, rules=tuple(rules),
                   parts=tuple(parts), fixes=tuple(fixes), exact=_places(raw, 4))


# -- both -------------------------------------------------------------------------------------------

_MODELS = {MODEL_1: (lambda pages, coverage, *extras: _score_pages_1(pages, coverage), _score_page_1),
           MODEL_2: (lambda pages, coverage, *extras: _score_pages_2(pages, coverage), _score_page_2),
           MODEL_3: (_score_pages_3, _score_page_2)}  # model 3's page scores are model 2's


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


def score_pages(pages: Iterable[PageInput], model: str = MODEL_VERSION, *,
                documents: Sequence[DocumentInput] | None = None, statement: StatementInput | None = None,
                site_checks: Sequence[SiteCheck] | None = None) -> SiteScore:
    """Score a run from its pages (all states; only audited pages are scored) under ``model``
    (default: :data:`MODEL_VERSION`). Model 3 also scores the run's checked PDFs
    (``documents``; none: not applicable), its accessibility statement (``statement``; None: not
    recorded, so not applicable) and its cross-page findings (``site_checks``; none: not
    applicable); the older models ignore them. With none of the three, model 3 gives model 2's
    score.

    >>> from audits.analysis.scoring import MODEL_1, Failure, PageInput, score_pages
    >>> bad = Failure("button-name", "critical", "A")
    >>> run = [PageInput("https://x.test/", failures=(bad,)), PageInput("https://x.test/a")]
    >>> score_pages(run).score, score_pages(run).rules[0].gain, score_pages(run, MODEL_1).score
    (9.4, 0.6, 6.5)
    """
    score = _model(model)[0]
    pages = list(pages)
    return score(pages, coverage_of(pages), documents, statement, site_checks)


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
