"""CSS selectors read with cssselect: the stable form fingerprints use, and whether an
``[[ignore]]`` selector covers an element named by axe-core's target.

Selectors are parsed by :func:`cssselect.parse` (a CSS Level 3 parser with some Level 4
pseudo-classes) and worked on as its parse tree: a complex selector is a chain of *compounds*
(``img#hero.card[alt]``) joined by combinators (``" "``, ``>``, ``+``, ``~``); a compound is an
element name (or none) and simple selectors (ids, classes, attribute tests, pseudo-classes).

Two uses, with one rule between them: what is read as text is only ever *narrowed* by what
cannot be decided, never widened.

- :func:`stable_selector` re-serialises a selector without positions (``:nth-child(3)``) and
  without ids, classes and attribute values that look generated, so a fingerprint survives small
  DOM shifts.
- :func:`covers` judges, on the text alone, whether an ignore's selector matches an element that
  axe-core named by its target. Anything the text cannot decide (a pseudo-class, a sibling
  combinator, a namespace, an attribute value axe did not spell out) does not match; the caller
  may still ask the page itself (see :func:`audits.analysis.gate.dom_selector_matches`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import cssselect
from cssselect.parser import Attrib, Class, CombinedSelector, Element, Function, Hash, Pseudo, Selector, Token

POSITIONAL = frozenset({
    "nth-child", "nth-last-child", "nth-of-type", "nth-last-of-type", "first-child", "last-child",
    "only-child", "first-of-type", "last-of-type", "only-of-type",
})
_GENERATED = re.compile(r"\d|\\")


class InvalidSelector(ValueError):
    """A selector cssselect cannot parse (``str()`` says where and why)."""


def generated(value: str) -> bool:
    """Values with digits (or CSS escapes, which axe uses for ids starting with one) are usually
    counters, hashes, dates or ids a framework assigned."""
    return bool(_GENERATED.search(value))


# cssselect (1.2 to 1.6) reads hex escapes before the others, so an escaped backslash followed by
# a hex digit (``.a\\b``) comes out as a control character. Escaped backslashes are swapped for a
# private-use character before parsing and put back in the names and values read from the tree
# (a selector that holds that character itself is read as it is).
_BACKSLASH = "\U0010fffd"


def _masked(text: str) -> str:
    """``text`` as cssselect reads it right: escaped backslashes swapped (see above), and a class
    starting with ``--`` (which CSS.escape leaves as it is, but cssselect's CSS 2.1 tokenizer
    refuses) written ``.\\--x``, the same class."""
    if _BACKSLASH not in text:
        text = text.replace("\\\\", _BACKSLASH)
    return text.replace(".--", ".\\--")


@lru_cache(maxsize=4096)
def parse_selector(text: str) -> tuple[Selector, ...]:
    """A selector list as cssselect parse trees. Raises :class:`InvalidSelector`.

    >>> [s.canonical() for s in parse_selector("nav a, footer > a")]
    ['nav a', 'footer > a']
    """
    masked = _masked(text)
    try:
        selectors = tuple(cssselect.parse(masked))
    except cssselect.SelectorError as exc:
        raise InvalidSelector(f"{text!r} is not a CSS selector ({exc})") from None
    except RecursionError:
        raise InvalidSelector(f"{text[:80]!r} is nested too deeply to read") from None
    if not selectors:
        raise InvalidSelector(f"{text!r} is not a CSS selector (it is empty)")
    if masked != text:
        for sel in selectors:
            for _, compound in chain(sel):
                _unmask(compound)
    return selectors


def _unmask(compound: Any) -> None:
    element, parts = simple_selectors(compound)

    def fix(v: str | None) -> str | None:
        return v.replace(_BACKSLASH, "\\") if isinstance(v, str) else v

    element.element, element.namespace = fix(element.element), fix(element.namespace)
    for node in parts:
        if isinstance(node, Hash):
            node.id = fix(node.id)
        elif isinstance(node, Class):
            node.class_name = fix(node.class_name)
        elif isinstance(node, Attrib):
            node.attrib, node.namespace = fix(node.attrib), fix(node.namespace)
            if node.value is not None:
                node.value = Token(node.value.type, fix(node.value.value), node.value.pos)


# -- the parse tree -------------------------------------------------------------------------------

def chain(selector: Selector) -> list[tuple[str | None, Any]]:
    """The compounds of one complex selector, leftmost first, each with the combinator that joins
    it to the one before (None for the first)."""
    tree, out = selector.parsed_tree, []
    while isinstance(tree, CombinedSelector):
        out.append((tree.combinator, tree.subselector))
        tree = tree.selector
    out.append((None, tree))
    out.reverse()
    return out


def simple_selectors(compound: Any) -> tuple[Element, list]:
    """A compound's element (``Element``, possibly ``*``) and its simple selectors in source order."""
    parts = []
    while not isinstance(compound, Element):
        parts.append(compound)
        compound = compound.selector
    parts.reverse()
    return compound, parts


def _suffix(node: Any) -> str:
    """The text one simple selector adds to its compound (``.card``, ``:not([src])``), from
    cssselect's own serialiser."""
    whole, before = node.canonical(), node.selector.canonical()
    if not whole.startswith(before):  # every cssselect node serialises as its compound + its part
        raise InvalidSelector(f"cannot serialise {whole!r}")
    return whole[len(before):].replace(_BACKSLASH, "\\\\")


def css_escape(ident: str) -> str:
    """An identifier as CSSOM's ``CSS.escape()`` writes it, which is how axe-core writes ids
    and classes in its targets (``123`` -> ``\\31 23``, ``md:flex`` -> ``md\\:flex``).

    >>> css_escape("123"), css_escape("md:flex"), css_escape("--x")
    ('\\\\31 23', 'md\\\\:flex', '--x')
    """
    out = []
    for i, ch in enumerate(ident):
        code = ord(ch)
        if code == 0:
            out.append("\ufffd")
        elif 0x01 <= code <= 0x1F or code == 0x7F or (
                ch.isascii() and ch.isdigit() and (i == 0 or (i == 1 and ident[0] == "-"))):
            out.append(f"\\{code:x} ")
        elif i == 0 and ch == "-" and len(ident) == 1:
            out.append("\\-")
        elif code >= 0x80 or ch in "-_" or (ch.isascii() and ch.isalnum()):
            out.append(ch)
        else:
            out.append("\\" + ch)
    return "".join(out)


def _attr_name(node: Attrib) -> str:
    name = css_escape(node.attrib)
    return f"{'*' if node.namespace == '*' else css_escape(node.namespace)}|{name}" if node.namespace else name


def _css_string(value: str, quote: str) -> str:
    """A CSS string as axe-core writes attribute values: backslash and quote escaped, control
    characters as hex escapes (a tab stays as it is)."""
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return quote + re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", lambda m: f"\\{ord(m.group(0)):x} ", escaped) + quote


def _attr_value(node: Attrib, source: str) -> str:
    """The attribute test's value as written: a string keeps its quote character (axe-core
    writes double quotes), so a fingerprint does not depend on a serialiser's taste."""
    token = node.value
    if token.type != "STRING":
        return css_escape(token.value)
    quote = source[token.pos] if 0 <= token.pos < len(source) and source[token.pos] in "\"'" else '"'
    return _css_string(token.value, quote)


# -- the stable form (fingerprints) -------------------------------------------------------------------

def _stable_compound(compound: Any, source: str) -> str:
    element, parts = simple_selectors(compound)
    out = ""
    if element.namespace:
        out = f"{'*' if element.namespace == '*' else css_escape(element.namespace)}|"
    if element.element or element.namespace:
        out += css_escape(element.element) if element.element else "*"
    for node in parts:
        if isinstance(node, (Function, Pseudo)) and (getattr(node, "name", None) or getattr(node, "ident", "")) in POSITIONAL:
            continue
        if isinstance(node, (Hash, Class)):
            name = css_escape(node.id if isinstance(node, Hash) else node.class_name)
            out += "" if generated(name) else ("#" if isinstance(node, Hash) else ".") + name
        elif isinstance(node, Attrib) and node.operator != "exists":
            value = _attr_value(node, source)
            name = _attr_name(node)
            flag = f" {node.flag}" if getattr(node, "flag", None) else ""
            out += f"[{name}]" if generated(value) else f"[{name}{node.operator}{value}{flag}]"
        else:
            out += _suffix(node)
    return out or "*"


def stable_selector(selector: str) -> str:
    """One CSS selector without ``:nth-*`` positions and without ids, classes and attribute
    values that look generated. A selector cssselect cannot read is kept as it is (whitespace
    collapsed).

    >>> stable_selector("main > div:nth-child(3) > img#hero-4821.css-1x9f.card")
    'main > div > img.card'
    >>> stable_selector("#ember123 a[href='/news/2024/']")
    '* a[href]'
    """
    try:
        selectors = parse_selector(selector)
        out = []
        for sel in selectors:
            text = ""
            for combinator, compound in chain(sel):
                if combinator is not None:
                    text += " " if combinator == " " else f" {combinator} "
                text += _stable_compound(compound, _masked(selector))
            if sel.pseudo_element:
                text += sel.canonical()[len(sel.parsed_tree.canonical()):]
            out.append(text)
        return ", ".join(out)
    except Exception:  # noqa: BLE001 - the target comes from an audited page: never fail a run on it
        return " ".join(selector.split())


def target_selectors(target: Any) -> str:
    """axe-core's target (a list with one selector per frame, shadow roots as nested lists; or
    its JSON text) as one line of stable selectors: frames joined by ``|frame|``, shadow roots by
    ``>>>``."""
    if isinstance(target, str):
        try:
            target = json.loads(target)
        except ValueError:
            return stable_selector(target)
    if isinstance(target, str):
        return stable_selector(target)
    if not isinstance(target, list):
        return ""
    return " |frame| ".join(
        " >>> ".join(stable_selector(s) for s in part) if isinstance(part, list) else stable_selector(str(part))
        for part in target
    )


# -- matching on the text ---------------------------------------------------------------------------

@dataclass
class _Known:
    """What a target's compound says about its element: true facts only, maybe not all of them."""

    tag: str | None = None
    ids: set = field(default_factory=set)
    classes: set = field(default_factory=set)
    attrs: dict = field(default_factory=dict)  # name -> [(operator, value)]


def _known(compound: Any) -> _Known:
    element, parts = simple_selectors(compound)
    k = _Known(tag=element.element.lower() if element.element and not element.namespace else None)
    for node in parts:  # pseudo-classes only narrow the element further: leaving them out is safe
        if isinstance(node, Hash):
            k.ids.add(node.id)
        elif isinstance(node, Class):
            k.classes.add(node.class_name)
        elif isinstance(node, Attrib) and not node.namespace and getattr(node, "flag", None) != "i":
            k.attrs.setdefault(node.attrib.lower(), []).append(
                (node.operator, None if node.value is None else node.value.value))
    for i in k.ids:
        k.attrs.setdefault("id", []).append(("=", i))
    for c in k.classes:
        k.attrs.setdefault("class", []).append(("~=", c))
    return k


def _test(op: str, want: str, value: str) -> bool:
    """Whether an attribute whose value is ``value`` passes ``[name <op> want]``."""
    if op == "=":
        return value == want
    if op == "~=":
        return bool(want) and not any(c.isspace() for c in want) and want in value.split()
    if op == "|=":
        return value == want or value.startswith(want + "-")
    if op == "^=":
        return bool(want) and value.startswith(want)
    if op == "$=":
        return bool(want) and value.endswith(want)
    if op == "*=":
        return bool(want) and want in value
    return False


def _implied(op: str, want: str | None, fact_op: str, fact: str | None) -> bool:
    """Whether a known fact ``[name <fact_op> fact]`` implies ``[name <op> want]``."""
    if fact_op == "!=":  # cssselect's non-standard "not equal" says nothing usable
        return False
    if op == "exists":
        return True
    if want is None or fact is None:
        return False
    if fact_op == "=":
        return _test(op, want, fact)
    # a partial fact: the value ends with, starts with or contains ``fact``, or has it as a word
    if (op, want) == (fact_op, fact):
        return bool(want) or op == "|="
    if op == "*=" and fact_op in ("$=", "^=", "*="):
        return bool(want) and want in fact
    if op == "$=" and fact_op == "$=":
        return bool(want) and fact.endswith(want)
    if op == "^=" and fact_op == "^=":
        return bool(want) and fact.startswith(want)
    return False


def _satisfies(k: _Known, compound: Any) -> bool:
    """Whether the facts known about an element prove it matches ``compound``; False whenever
    the text cannot tell."""
    element, parts = simple_selectors(compound)
    if element.namespace:
        return False
    if element.element and k.tag != element.element.lower():
        return False
    for node in parts:
        if isinstance(node, Hash):
            ok = node.id in k.ids
        elif isinstance(node, Class):
            ok = node.class_name in k.classes
        elif isinstance(node, Attrib) and not node.namespace and getattr(node, "flag", None) in (None, "s"):
            want = None if node.value is None else node.value.value
            ok = any(_implied(node.operator, want, op, v) for op, v in k.attrs.get(node.attrib.lower(), ()))
        else:  # pseudo-classes, :not(), :is(), :has(), namespaces, case-insensitive values
            ok = False
        if not ok:
            return False
    return True


def target_chain(target: Any) -> list[tuple[str | None, Any]] | None:
    """axe-core's target as one chain of compounds, frame levels and shadow roots joined as
    descendants. None when a part cannot be read."""
    out: list[tuple[str | None, Any]] = []

    def walk(t: Any) -> bool:
        if isinstance(t, (list, tuple)):
            return all(walk(x) for x in t)
        if t is None:
            return True
        try:
            selectors = parse_selector(str(t))
        except InvalidSelector:
            return False
        if len(selectors) != 1 or selectors[0].pseudo_element:
            return False
        for i, (combinator, compound) in enumerate(chain(selectors[0])):
            out.append((combinator if i else (" " if out else None), compound))
        return True

    return out if walk(target) and out else None


def covers(selector: str, target: Any) -> bool:
    """Whether ``selector`` (a selector list: any of them) provably matches the element axe-core
    named by ``target``, judged on the text.

    The ignore's last compound must be proved by the target's last compound; its other
    compounds, leftwards, by the target's: ``a > b`` needs the target to name ``b``'s parent
    (a ``>`` in the target), ``a b`` any ancestor it names (frame levels and shadow hosts count
    as ancestors). Sibling combinators in the ignore and anything of
    :func:`_satisfies`'s "cannot tell" never match. An unreadable selector matches nothing.

    >>> covers(".legacy-footer *", ["footer.legacy-footer > p > a"])
    True
    >>> covers("footer > a", ["footer.legacy-footer > p > a"]), covers("img:not([src])", ["img"])
    (False, False)
    """
    try:
        wanted = parse_selector(selector)
        have = target_chain(target)
        facts = [_known(c) for _, c in have or ()]
    except Exception:  # noqa: BLE001 - what cannot be read matches nothing
        return False
    if not have:
        return False
    parent: list[int | None] = []
    ancestors: list[tuple[int, ...]] = []
    for j, (combinator, _) in enumerate(have):
        if combinator in (">", " "):
            parent.append(j - 1 if combinator == ">" else None)
            ancestors.append((j - 1, *ancestors[j - 1]))
        elif combinator in ("+", "~"):  # a sibling: same parent, same ancestors
            parent.append(parent[j - 1])
            ancestors.append(ancestors[j - 1])
        else:
            parent.append(None)
            ancestors.append(())

    def proved(want: list) -> bool:
        """Whether the ignore's chain ``want`` is proved with its last compound at the element."""
        @cache  # one call per (k, j) pair, however deep the chains
        def match(k: int, j: int) -> bool:
            if not _satisfies(facts[j], want[k][1]):
                return False
            if k == 0:
                return True
            combinator = want[k][0]
            if combinator == ">":
                return parent[j] is not None and match(k - 1, parent[j])
            if combinator == " ":
                return any(match(k - 1, a) for a in ancestors[j])
            return False  # + and ~ in the ignore: a target does not say which siblings an element has

        return match(len(want) - 1, len(have) - 1)

    return any(not sel.pseudo_element and proved(chain(sel)) for sel in wanted)
