"""Grounding: every number and every name in a draft section must appear in the paper.

A draft is for the editor to finish, so what it could not ground is flagged, never trusted.
`check_section` finds the claims in each field of a section and looks each one up in the
paper's extracted text; `mark_inline` writes a visible marker after each claim it could not
find. Three kinds of claim are checked:

number
    Every number, percentage, multiplier and range end. Forms are normalised before they are
    compared: 16x = 16× = 16-fold = 16 times; 55% = 55 % = 55 percent; 1,000 = 1 000 (thin or
    no-break space) = 1000; 0.30 = .3 = 0.3; 175B = 175 billion; "~55x" is 55; "16-37x" needs
    both 16 and 37. Only the value is compared, not the unit (tables print 21.99 where the text
    says 21.99%), and not the sign (a draft says "drops by 2.3" for the paper's −2.3). A rounded
    number ("22%" for 21.99%) is flagged: the draft must quote the paper. Years are numbers like
    any other (a year the paper gives is found; "2048 tokens" must not slip through as a year).
    Not numbers: digits inside names (GPT-4), "Paper 1", list markers "(1)", ordinals "2nd",
    URLs, and numbers written as words ("three").
name
    Tokens that look like names of datasets, models or methods: ALLCAPS (BERT, GSM8K), CamelCase
    or lowerCamel (ImageNet, StrategyQA, iPhone), a mix of letters and digits (T5, ResNet50,
    wav2vec), or a capitalised word joined to a number (Llama-2). Matched case-insensitively,
    ignoring hyphens and spaces (T5-XXL = "T5 XXL" = T5XXL), allowing a plural "s" and a
    possessive "'s". Ordinary capitalised words ("The", "Meta") are not names: that keeps false
    alarms low at the cost of missing plain-word names. A few generic acronyms (AI, LLM, GPU,
    ...) are never checked. The section's short name is the editor's coinage ("FasterSAM"), so
    only its numbers are checked.
reference
    "Figure 3", "Table 2", "Section 4", "Appendix B", "Eq. 2", "Algorithm 1": the paper must
    have that figure, table, section (a "Section 4" reference or a heading numbered 4), ...
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cached_property

from flows.pdf import layer

NAME_FIELD = "name"
MARKER = "⚠️ not found in the paper"

# Acronyms a plain-language explanation uses without the paper having to: never checked.
GENERIC_NAMES = frozenset({
    "AI", "ML", "DL", "LLM", "LM", "NLP", "CV", "RL", "GPU", "CPU", "TPU", "API", "SOTA", "PDF", "URL",
    "HTML", "JSON", "OK", "FAQ", "TLDR", "IMO", "IMHO", "TBH", "FYI", "DIY", "PHD", "USA", "US", "UK",
    "EU", "ARXIV", "GITHUB", "YOUTUBE",
})

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"
_GROUP_SEP = ",\u2009\u202f\u00a0"  # thousands separators a draft may use
_SCALES = {"k": 3, "thousand": 3, "m": 6, "million": 6, "b": 9, "bn": 9, "billion": 9, "t": 12, "trillion": 12}
# Units after a number that make it no name ("16GB" is a number, "GSM8K" is a name).
_UNIT_WORDS = frozenset({"x", "k", "m", "b", "bn", "t", "gb", "mb", "kb", "tb", "ms", "s", "h", "hz", "ghz",
                         "mhz", "fps", "px", "bit", "bits", "d", "w", "kw", "gw", "min", "hrs", "hr", "ep"})

_MARKER_SPAN = re.compile(r"\[⚠️[^\]\n]*\]")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_NUM = r"(?:\d{1,3}(?:[" + _GROUP_SEP + r"]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_UNIT = (r"(?:\s?[×]|x(?![A-Za-z0-9])|\s?%|[\s-]?fold\b|\s(?:times|percent|per\s?cent)\b"
         r"|[kKMBT](?![A-Za-z0-9])|bn\b|\s(?:thousand|million|billion|trillion)\b)")
_ONE = rf"{_NUM}{_UNIT}?"
# A number claim: an optional "~"/"≈" (not part of the number), one number or a range "16-37x".
_NUMBER_GROUP = re.compile(
    rf"(?<![\w.])(?P<lead>[~≈]\s?)?(?P<a>{_ONE})(?:\s?[-{_DASHES}]\s?(?P<b>{_ONE}))?")
# "10^6.6": PDFs lose the superscript, so the paper has "106.6" where it printed 10 to the 6.6.
_POWER = re.compile(r"(?<![\w.])(?P<base>\d+)\s?\^\s?\{?(?P<exp>[-−]?\d+(?:\.\d+)?)\}?")
_WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[-.](?=[A-Za-z0-9]))*(?:['’]s\b)?")
_REFERENCE = re.compile(
    r"(?<![A-Za-z])(?:(?P<kind>(?i:figure|figs?\.|table|tab\.|section|sec\.|§|equation|eqs?\.|algorithm|alg\.))"
    r"\s?(?P<open>\()?(?P<id>\d+(?:\.\d+)*)[a-z]?(?(open)\))"
    r"|(?i:appendix|app\.)\s?(?P<letter>[A-Z](?:\.\d+)*|\d+))(?![A-Za-z0-9])")
_NOT_CLAIMS = re.compile(r"\bPaper\s+\d+\b|\(\d{1,2}\)|\b\d+(?:st|nd|rd|th)\b", re.I)
_REF_WORDS = {
    "figure": r"(?:figure|fig\.?)", "table": r"(?:table|tab\.?)", "section": r"(?:section|sec\.?|§)",
    "appendix": r"(?:appendix|app\.?)", "equation": r"(?:equation|eqs?\.?)", "algorithm": r"(?:algorithm|alg\.?)",
}
_REF_KIND = {"figure": "figure", "fig.": "figure", "figs.": "figure", "table": "table", "tab.": "table",
             "section": "section", "sec.": "section", "§": "section", "equation": "equation", "eq.": "equation",
             "eqs.": "equation", "algorithm": "algorithm", "alg.": "algorithm"}


@dataclass(frozen=True)
class Ungrounded:
    field: str  # which section field ("results", "problem", ...)
    claim: str  # the claim as written in the draft: "37x", "21.99%", "GSM8K", "Figure 9"
    kind: str  # "number" | "name" | "reference"


@dataclass(frozen=True)
class _Claim:
    kind: str
    text: str  # as written (a name without its possessive)
    key: str  # what is looked up: a canonical value, a name, a reference
    start: int  # the span of the whole range, word or reference the claim sits in;
    end: int  # a marker goes after it


# --------------------------------------------------------------------------- numbers

def _parse(token: str) -> tuple[Decimal, str]:
    """(value with any scale applied, unit "x" | "%" | "") of one number as written."""
    text = unicodedata.normalize("NFKC", token).strip().lstrip("~≈").strip()
    sign = ""
    if text and text[0] in "-+" + _DASHES:
        sign, text = ("-" if text[0] != "+" else ""), text[1:].lstrip()
    m = re.fullmatch(r"(\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*-?\s*([A-Za-z%×]*(?:\s?cent)?)",
                     text.replace("\u2009", " ").replace("\u202f", " ").replace("\u00a0", " "))
    if not m:
        raise ValueError(f"not a number: {token!r}")
    digits, unit = m.group(1).replace(",", "").replace(" ", ""), m.group(2).lower()
    try:
        value = Decimal(sign + digits)
    except InvalidOperation:
        raise ValueError(f"not a number: {token!r}") from None
    if unit in ("x", "×", "fold", "times"):
        return value, "x"
    if unit in ("%", "percent", "per cent"):
        return value, "%"
    if unit in _SCALES:
        return value.scaleb(_SCALES[unit]), ""
    if unit:
        raise ValueError(f"not a number: {token!r} (unknown unit {unit!r})")
    return value, ""


def _canonical(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def normalise_number(token: str) -> str:
    """Canonical form for comparison: "16×" → "16x", "55 percent" → "55%", "1,000" → "1000",
    ".30" → "0.3", "175B" → "175000000000", "~55x" → "55x". Raises ValueError for a non-number."""
    value, unit = _parse(token)
    return _canonical(value) + unit


def _paper_numbers(text: str) -> frozenset[str]:
    """Every value the paper states, canonical and unsigned, generously: a value that may be
    read two ways (a thousands group or two table cells) is added both ways."""
    found: set[str] = set()
    for m in re.finditer(r"(?<![\d.])(\d+(?:\.\d+)?|\.\d+)(?:\s?(k|m|b|bn|t|thousand|million|billion|trillion)"
                         r"(?![a-z0-9]))?", text, re.I):
        value = Decimal(m.group(1))
        found.add(_canonical(value))
        if m.group(2):
            found.add(_canonical(value.scaleb(_SCALES[m.group(2).lower()])))
    for m in re.finditer(r"(?<![\d.])\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?(?![\d])", text):
        found.add(_canonical(Decimal(re.sub(r"[ ,]", "", m.group(0)))))
    return frozenset(found)


# --------------------------------------------------------------------------- names

def _name_kind(part: str) -> str:
    """What one hyphen-separated part of a word is: num, lower, cap or name."""
    if re.fullmatch(r"\d+(?:\.\d+)*|\d+[x×]\d+", part):  # "4x1 blocks" is a shape
        return "num"
    m = re.fullmatch(r"\d+(?:\.\d+)?([A-Za-z]+)", part)
    if m and m.group(1).lower() in _UNIT_WORDS:
        return "num"
    if re.fullmatch(r"[a-z]+", part):
        return "lower"
    if re.fullmatch(r"[A-Z][a-z]+", part):
        return "cap"
    if re.search(r"[A-Za-z]", part) and (re.search(r"\d", part) or re.search(r"[A-Z].*[A-Z]|[a-z][A-Z]", part)):
        return "name"
    return "lower"


def _name_in(word: str) -> str | None:
    """The name a word carries ("BERT-like" → "BERT", "T5-XXL" → "T5-XXL"), or None."""
    word = re.sub(r"['’]s$", "", word)
    parts = word.split("-")
    kinds = [_name_kind(p.strip(".")) for p in parts]
    if "name" not in kinds and not ("cap" in kinds and "num" in kinds):
        return None
    while kinds and kinds[-1] == "lower":  # "BERT-like", "GPT-4-based"
        parts, kinds = parts[:-1], kinds[:-1]
    while kinds and kinds[0] == "lower":  # "non-BERT"
        parts, kinds = parts[1:], kinds[1:]
    name = "-".join(parts).strip(".")
    if re.fullmatch(r"\w*[A-Z]s", name):  # a plural: "CNNs", "LLMs", "ViTs"
        name = name[:-1]
    return None if _compact(name).upper() in GENERIC_NAMES else name


def _compact(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", name)


def _name_pattern(name: str) -> re.Pattern:
    """Case- and separator-insensitive: chunks split at hyphens, spaces, dots and letter/digit
    changes may be joined in the paper by nothing, a space or any hyphen."""
    chunks = re.findall(r"[A-Za-z]+|\d+", name)
    sep = rf"[\s\-_.{_DASHES}]*"
    body = sep.join(re.escape(c) for c in chunks)
    # A name that ends in a capital may be glued to the next word by the PDF ("FLANbased").
    tail = r"(?![A-Z0-9])" if name[-1:].isupper() else r"(?![A-Za-z0-9])"
    return re.compile(rf"(?<![A-Za-z0-9])(?i:{body})(?i:e?s)?{tail}")


# --------------------------------------------------------------------------- references

def _reference_key(m: re.Match) -> str:
    if m.group("letter"):
        return f"appendix {m.group('letter')}"
    return f"{_REF_KIND[m.group('kind').lower()]} {m.group('id')}"


def _reference_found(key: str, text: str) -> bool:
    kind, ident = key.split(" ", 1)
    # "Figure 3" is there if the paper has "Fig. 3", "Figure 3:" or "Figure 3a", not only "Figure 31".
    word = _REF_WORDS.get(kind, re.escape(kind))
    pattern = rf"(?<![A-Za-z]){word}\s?\(?{re.escape(ident)}[a-z]?(?![\d.]\d)(?![A-Za-z0-9])"
    if re.search(pattern, text, re.I):
        return True
    if kind == "section":  # a numbered heading: "4 Experimental Setup", "4.1 Benchmarks"
        return re.search(rf"(?m)^\s*{re.escape(ident)}\.?\s+[A-Z]", text) is not None
    if kind == "equation":  # equations are numbered "(2)" at the line end
        return re.search(rf"\({re.escape(ident)}\)\s*$", text, re.M) is not None
    return False


# --------------------------------------------------------------------------- claims

class _Spans:
    """The spans of a field already read as a claim (or as no claim): none is read twice."""

    def __init__(self, text: str) -> None:
        self.taken = [(m.start(), m.end()) for pat in (_MARKER_SPAN, _URL) for m in pat.finditer(text)]

    def take(self, m: re.Match) -> bool:
        if any(m.start() < e and m.end() > s for s, e in self.taken):
            return False
        self.taken.append((m.start(), m.end()))
        return True


def _claims(text: str, *, names: bool = True) -> list[_Claim]:
    """Every claim in one field, in text order. References are found first, then names, then
    numbers, and a span taken by one is not read again (the 4 in GPT-4 is no number claim)."""
    spans = _Spans(text)
    claims = [_Claim("reference", m.group(0), _reference_key(m), m.start(), m.end())
              for m in _REFERENCE.finditer(text) if spans.take(m)]
    for m in _NOT_CLAIMS.finditer(text):
        spans.take(m)
    claims += [_Claim("number", m.group(0), f"{m.group('base')}^{m.group('exp').replace('−', '-')}", m.start(), m.end())
               for m in _POWER.finditer(text) if spans.take(m)]
    for m in _WORD.finditer(text):
        name = _name_in(m.group(0))
        if name is not None and spans.take(m) and names:
            claims.append(_Claim("name", name, name, m.start(), m.end()))
    claims += [claim for m in _NUMBER_GROUP.finditer(text) if spans.take(m) for claim in _number_claims(m)]
    return sorted(claims, key=lambda c: c.start)


def _number_claims(m: re.Match) -> list[_Claim]:
    """One claim per end of a number or range ("16-37x" is 16 and 37)."""
    written = [m.group(end).strip() for end in ("a", "b") if m.group(end)]
    return [_Claim("number", w, _canonical(abs(_parse(w)[0])), m.start(), m.end()) for w in written]


class _Paper:
    """One paper's text, indexed once for all the fields of a section."""

    def __init__(self, text: str) -> None:
        self.text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
        self.numbers = _paper_numbers(self.text)
        self._names: dict[str, bool] = {}
        # A degenerate text layer ("8 7 . 5 %", "onGSM8K") is also read with its spacing ignored.
        self.unspaced = "".join(self.text.split()) if layer.problem(self.text) else None

    def has(self, claim: _Claim) -> bool:
        return self._has(claim) or (self.unspaced is not None and self._has_unspaced(claim))

    def _has_unspaced(self, claim: _Claim) -> bool:
        if claim.kind == "number" and "^" not in claim.key:
            return claim.key in self._unspaced_numbers
        return _compact(claim.key).lower() in self._unspaced_letters

    @cached_property
    def _unspaced_numbers(self) -> frozenset[str]:
        return _paper_numbers(self.unspaced)

    @cached_property
    def _unspaced_letters(self) -> str:
        return _compact(self.unspaced).lower()

    def _has(self, claim: _Claim) -> bool:
        if claim.kind == "number" and "^" in claim.key:
            base, exp = (re.escape(part) for part in claim.key.split("^"))
            return re.search(rf"(?<![\d.]){base}\s?\^?\s?\{{?{exp}(?!\d)", self.text) is not None
        if claim.kind == "number":
            return claim.key in self.numbers
        if claim.kind == "reference":
            return _reference_found(claim.key, self.text)
        if claim.key not in self._names:
            self._names[claim.key] = self._find_name(claim.key)
        return self._names[claim.key]

    def _find_name(self, name: str) -> bool:
        matches = (m.group(0) for m in _name_pattern(name).finditer(self.text))
        if re.fullmatch(r"[A-Z]{2,}", name):  # "MATH" is not found by "math word problems"
            return any(not found.islower() for found in matches)
        return next(matches, None) is not None


def check_section(section_fields: dict[str, str], paper_text: str) -> list[Ungrounded]:
    """Claims in the fields that the paper's text does not contain, in field and text order.

    `paper_text` is everything the draft may be grounded in (see `grounding_source`). A claim
    is reported once per field even if it is written there twice. The field called "name" (the
    editor's short name for the paper) is checked for numbers and references only.
    """
    paper = _Paper(paper_text)
    out: list[Ungrounded] = []
    for field, text in section_fields.items():
        seen: set[tuple[str, str]] = set()
        for claim in _claims(text or "", names=field != NAME_FIELD):
            if (claim.kind, claim.text) in seen or paper.has(claim):
                continue
            seen.add((claim.kind, claim.text))
            out.append(Ungrounded(field, claim.text, claim.kind))
    return out


def mark_inline(text: str, ungrounded: list[Ungrounded]) -> str:
    """`text` with a marker after each claim of `ungrounded` it contains:
    "37x [⚠️ not found in the paper]", "16-37x [⚠️ 16 not found in the paper]".

    Claims are matched by kind and text whatever their field (grounding is per paper, so a
    claim missing from one field is missing from all). Marking twice adds nothing."""
    wanted = {(u.kind, u.claim) for u in ungrounded}
    groups: dict[tuple[int, int], list[str]] = {}
    for claim in _claims(text):
        if (claim.kind, claim.text) in wanted:
            found = groups.setdefault((claim.start, claim.end), [])
            if claim.text not in found:
                found.append(claim.text)
    out = text
    for (start, end), found in sorted(groups.items(), reverse=True):
        if text.startswith(" [⚠️", end):
            continue  # marked already
        whole = re.sub(r"['’]s$", "", text[start:end].lstrip("~≈").strip())
        label = MARKER if found == [whole] else f"⚠️ {', '.join(found)} not found in the paper"
        out = f"{out[:end]} [{label}]{out[end:]}"
    return out


def grounding_source(*texts: str | None) -> str:
    """Join what a draft may be grounded in (the paper's body, its captions, title, abstract)."""
    return "\n\n".join(t for t in texts if t)
