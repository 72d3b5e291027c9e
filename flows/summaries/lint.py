"""Lint: does a drafted section, and the whole rendered draft, keep to the house structure?

`lint_section` checks the fields the LLM returned for one paper before they are laid out;
`lint_draft` checks the rendered README.md. Both return problems (an empty list when all is
well) and never raise on bad text: the caller decides whether to regenerate or flag.

The bounds come from the editor's published issue (../shared/house-style/weekly-top5-digest.md):
its short names are 3–7 words and at most 52 characters; its paragraphs run from 14 words
("Results: CNNs are better able to handle occlusions ...") to about 110 (one list paragraph
reaches 138). So: name at most 60 characters and 8 words; problem and idea 15–120 words;
results and take 10–120 words (a one-line result or take is house style).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from dataclasses import field as _field
from functools import cached_property

from flows.text import ARXIV_ID

PARTS = ("name", "problem", "idea", "results", "take")
SELECTION_LINE = "Here is my selection of the top 5 AI papers this week."
FOOTER = "#weeklytop5"

_TEMPLATE_MARKUP = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}|<\|[\w.-]{1,30}\|>|\[/?INST\]|</?s>")
# Template delimiters are named, never quoted: a note quoting one would itself be leftover markup in the draft
_DELIMITER_NAMES = {"{{": "double opening braces", "}}": "double closing braces", "{%": "a brace-percent tag",
                    "%}": "a percent-brace tag end", "{#": "a brace-hash comment", "#}": "a hash-brace comment end"}
_DELIMITERS = re.compile("|".join(map(re.escape, _DELIMITER_NAMES)))
_HEADING = re.compile(r"(?m)^[ \t]{0,3}#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r"(?m)^[ \t]*(?:```|~~~)")
_HTML = re.compile(r"</?(?:img|br|hr|p|div|span|a|b|i|u|em|strong|sub|sup|table|tr|td|th|ul|ol|li|h[1-6]|pre|code"
                   r"|details|summary|figure|figcaption|iframe|script|style)\b[^<>]*>", re.I)
# Text about the answer or addressed to the person asking, not about the paper; a phrase the
# paper itself says (a paper on "one-sentence summaries") is left alone (see _markup).
_META = re.compile(
    r"\bas an? (?:ai|artificial intelligence)\b|\bas a (?:large )?language model\b|\bI(?:'m| am) an AI\b"
    r"|\bI(?:'m| am) sorry,? but\b|\bI apologi[sz]e\b|\b(?:sure|certainly)[,!]\s+here(?:'s| is| you go)\b"
    r"|\bhere(?:'s| is) (?:the|a|an|your) (?:\w+ ){0,2}(?:section|summary|draft|json|paragraph|version|answer|detail"
    r"|details|explanation)\b|\bhere you go\b|\bbelow is (?:a|an|the|my) (?:\w+ ){0,2}(?:summary|section|version"
    r"|answer|explanation)\b|\bas requested\b"
    r"|\b(?:let me know|feel free to|(?:would|'d) like me to)\b|\byou(?:'re| are) (?:looking for|talking about"
    r"|asking|targeting)\b|\byou(?:'d| would) like (?:me|to know|to focus)\b|\byour (?:specific )?(?:questions?"
    r"|requests?)\b"
    r"|\bin (?:a single|one|two|three|one or two|two or three|\d+(?:\s*[-–]\s*\d+)?) (?:short )?sentences?\b"
    r"|^\s*(?:assistant|user)\s*:|\bI hope this helps\b"
    r"|\[(?:insert|your|todo|placeholder)\b|\blorem ipsum\b",
    re.I | re.M)
_EMPTY_LINK = re.compile(r"!?\[\s*\]\(")
_JSON_LEFTOVER = re.compile(r'"(?:name|problem|idea|results|take)"\s*:')
_FIRST_PERSON = re.compile(r"\bI\b|\bI['’](?:m|d|ve|ll)\b|\b(?:my|me|mine|myself)\b", re.I)
_PAPER_HEADING = re.compile(r"^## Paper (\d+):[ \t]*(.*?)[ \t]*$")
_ARXIV_LINK = re.compile(rf"https://arxiv\.org/abs/({ARXIV_ID}(?:v\d+)?)\b")


@dataclass(frozen=True)
class LintProblem:
    field: str  # the part ("take"), or the place in the draft ("header", "paper 3")
    message: str
    severity: str = "error"  # "error": break the house structure; "warning": worth a look
    # the text cannot stand in a draft at all (gibberish, markup, empty); not part of equality
    unusable: bool = _field(default=False, compare=False)


@dataclass(frozen=True)
class LintRules:
    name_max_chars: int = 60
    name_max_words: int = 8
    words: dict[str, tuple[int, int]] = field(default_factory=lambda: {
        "problem": (15, 120), "idea": (15, 120), "results": (10, 120), "take": (10, 120)})


DEFAULT_RULES = LintRules()


def _words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def lint_section(fields: dict[str, str], *, rules: LintRules = DEFAULT_RULES,
                 source: str | None = None, prompt: str = "") -> list[LintProblem]:
    """Problems with one section's parts (name, problem, idea, results, take). With `source`
    (the paper's text), names and codes the paper itself uses are never taken for gibberish, and
    template markup the paper itself contains (a title with `{{`) is no leftover. With `prompt`
    (what the model was told besides the paper, one instruction or example per line), a part
    that repeats it echoes its instructions."""
    known = frozenset(re.findall(r"[@\w]+", source.lower())) if source else frozenset()
    echoes = _Echoes(prompt, source or "")
    problems: list[LintProblem] = []
    for part in PARTS:
        text = (fields.get(part) or "").strip()
        if part not in fields:
            problems.append(LintProblem(part, f"the {part} is missing", unusable=True))
        elif not text:
            problems.append(LintProblem(part, f"the {part} is empty", unusable=True))
        else:
            problems += _markup(part, text, source or "")
            problems += _gibberish(part, text, known)
            problems += echoes.find(part, text)
            problems += _name(text, rules) if part == "name" else _length(part, text, rules)
    take = (fields.get("take") or "").strip()
    if take and not _FIRST_PERSON.search(take):
        problems.append(LintProblem("take", "the take does not read as the editor's own opinion "
                                    "(no first person: I, my, me)", "warning"))
    return problems


def _name(text: str, rules: LintRules) -> list[LintProblem]:
    problems = []
    if "\n" in text:
        problems.append(LintProblem("name", "the name spans more than one line"))
    if len(text) > rules.name_max_chars or _words(text) > rules.name_max_words:
        problems.append(LintProblem("name", f"the name is too long ({_words(text)} words, {len(text)} characters; "
                                    f"at most {rules.name_max_words} words and {rules.name_max_chars} characters)"))
    return problems


def _length(part: str, text: str, rules: LintRules) -> list[LintProblem]:
    low, high = rules.words.get(part, (1, 10**6))
    count = _words(text)
    if count < low:  # under half the least the house style writes is no paragraph at all
        return [LintProblem(part, f"the {part} is too short ({count} words, at least {low})", unusable=count < low / 2)]
    if count > high:
        return [LintProblem(part, f"the {part} is too long ({count} words, at most {high})")]
    return []


def _markup(part: str, text: str, source: str = "") -> list[LintProblem]:
    """Text outside the house structure: template leftovers (not those the paper's `source` has
    too), headings, code, HTML, meta talk."""
    leftover = next((m for m in _TEMPLATE_MARKUP.finditer(text) if m.group(0) not in source), None)
    found = [] if leftover is None else [LintProblem(
        part, f"the {part} contains leftover template markup: "
              f"{_DELIMITER_NAMES.get(leftover.group(0)) or repr(leftover.group(0))}", unusable=True)]
    checks = [  # (pattern, what it finds, whether the paper saying the same phrase excuses it)
        (_HEADING, "a markdown heading (the template writes the headings)", False),
        (_FENCE, "a code fence", False),
        (_HTML, "HTML (the template places the figures)", False),
        (_META, "text about writing the draft, not about the paper (\"As an AI ...\", \"Here is the summary\")",
         True),
        (_JSON_LEFTOVER, "leftover JSON keys from the answer format", False),
        (_EMPTY_LINK, "a link with no text", False),
    ]
    for pattern, what, excused in checks:
        m = next((m for m in pattern.finditer(text) if not (excused and _says(source, m.group(0)))), None)
        if m:
            shown = _DELIMITERS.sub("…", m.group(0).strip())  # '<img src="{{ x }}">' quoted without its braces
            found.append(LintProblem(part, f"the {part} contains {what}: {shown!r}", unusable=True))
    return found


def _says(source: str, phrase: str) -> bool:
    """Whether the paper's text has `phrase` (case and spacing aside)."""
    return bool(source) and " ".join(phrase.lower().split()) in " ".join(source.lower().split())


# Gibberish a small model writes: letters that form no word, @handles, invented codes. Tuned on
# the editor's published digest and a week of arXiv abstracts (no false alarm there):
# acronyms (CNNs, BLSTM), CamelCase names (DeepSeekMath) and model names (GSM8K, Qwen2.5-7B) pass.
_HANDLE = re.compile(r"@[A-Za-z0-9_]{2,}")
_WORD = re.compile(r"[A-Za-z]+")
_CODE = re.compile(r"(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,}")
_CONSONANTS = re.compile(r"[^aeiouy]{6,}", re.I)
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_LINK = re.compile(r"https?://\S+|www\.\S+")


def _gibberish(part: str, text: str, known: frozenset[str] = frozenset()) -> list[LintProblem]:
    """Letters that form no words (a 30-letter random string, a vowel-less run, case soup),
    @handles and invented letter-digit codes, unless the paper (`known`: its lowercased tokens)
    uses them too. Links are left to the other checks."""
    text = _LINK.sub(" ", text)
    new = [t for t in re.findall(r"[@\w]+", text) if t.lower().strip("_") not in known]
    handle = next((t for t in new if _HANDLE.fullmatch(t)), None)
    odd = handle or next((w for t in new for w in _WORD.findall(t) if _no_word(w)), None)
    odd = odd or next((t for t in new if _CODE.fullmatch(t) and len(re.findall(r"\d+|[A-Za-z]+", t)) >= 4), None)
    if odd is None:
        return []
    return [LintProblem(part, f"the {part} contains gibberish (no word, a handle or an invented code): {odd!r}",
                        unusable=True)]


def _no_word(token: str) -> bool:
    if len(token) < 5 or sum(c.isupper() for c in token) >= 0.6 * len(token):
        return False  # short, or an acronym (CNNs, BLSTM)
    segments = _CAMEL.findall(token)
    if len(segments) > 1:  # CamelCase names (DeepSeekMath, ConvNeXt) are words joined; case soup is not
        return sum(1 for s in segments if len(s) > 1 and not s.isupper() and _not_word_like(s)) >= 2
    return _not_word_like(token)


def _not_word_like(token: str) -> bool:
    # the longest words in 60,000 arXiv abstracts have 28 letters (stereoelectroencephalography)
    return len(token) > 28 or not re.search(r"[aeiouy]", token, re.I) or bool(_CONSONANTS.search(token))


class _Echoes:
    """Runs of words a model copied from its instructions: six words in a row of one line of the
    prompt (all of a shorter line, from four words), unless the paper says them too."""

    RUN = 6

    def __init__(self, prompt: str, source: str):
        self._runs: set[tuple[str, ...]] = set()
        for line in prompt.splitlines():
            words = _lower_words(line)
            size = min(self.RUN, len(words))
            if size >= 4:
                self._runs |= {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}
        self._sizes = {len(run) for run in self._runs}
        self._source_text = source

    @cached_property
    def _source(self) -> str:
        """The paper's words, read only once a run matches (a whole PDF is long, echoes are rare)."""
        return " " + " ".join(_lower_words(self._source_text)) + " "

    def find(self, part: str, text: str) -> list[LintProblem]:
        words = _lower_words(text)
        for size in sorted(self._sizes):
            for i in range(len(words) - size + 1):
                run = tuple(words[i:i + size])
                if run in self._runs and f" {' '.join(run)} " not in self._source:
                    return [LintProblem(part, f"the {part} repeats its instructions, not the paper: "
                                              f"{' '.join(run)!r}", unusable=True)]
        return []


def _lower_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['’][a-z]+)?", text.lower())


def lint_draft(markdown: str, *, expected_papers: int) -> list[LintProblem]:
    """Problems with a rendered draft (digests/<week>/README.md)."""
    if expected_papers < 1:
        raise ValueError(f"expected_papers must be at least 1, not {expected_papers}")
    lines = markdown.splitlines()
    content = [line.strip() for line in lines if line.strip()]
    problems: list[LintProblem] = []
    if not content or not re.match(r"# \S", content[0]):
        problems.append(LintProblem("header", "the draft does not start with the digest's '# ' title"))
    headings = [(i, _PAPER_HEADING.match(line)) for i, line in enumerate(lines) if line.startswith("## Paper")]
    first_paper = headings[0][0] if headings else len(lines)
    if SELECTION_LINE not in (line.strip() for line in lines[:first_paper]):
        problems.append(LintProblem("header", f"the line {SELECTION_LINE!r} is missing before the papers"))
    problems += _papers(lines, headings, expected_papers)
    if not content or content[-1] != FOOTER:
        problems.append(LintProblem("footer", f"the draft does not end with {FOOTER}"))
    m = _TEMPLATE_MARKUP.search(markdown)
    if m:
        line_no = markdown.count("\n", 0, m.start()) + 1
        problems.append(LintProblem("markup", f"leftover template markup {m.group(0)!r} on line {line_no}"))
    title = next((i for i, line in enumerate(lines) if line.strip()), -1)
    for i, line in enumerate(lines):
        if _HEADING.match(line) and i != title and not line.startswith("## Paper"):
            problems.append(LintProblem("markup", f"a heading outside the house structure on line {i + 1}: "
                                        f"{line.strip()!r}"))
    return problems


def _papers(lines: list[str], headings: list[tuple[int, re.Match | None]], expected: int) -> list[LintProblem]:
    problems: list[LintProblem] = []
    if len(headings) != expected:
        problems.append(LintProblem("papers", f"{len(headings)} '## Paper N: name' sections, expected {expected}"))
    seen: dict[str, int] = {}
    for place, (start, m) in enumerate(headings, 1):
        where = f"paper {place}"
        if m is None or not m.group(2):
            problems.append(LintProblem(where, f"line {start + 1} is not '## Paper N: <short name>': "
                                               f"{lines[start]!r}"))
        elif int(m.group(1)) != place:
            problems.append(LintProblem(where, f"numbered {m.group(1)}, expected {place} (line {start + 1})"))
        end = headings[place][0] if place < len(headings) else len(lines)
        link = _ARXIV_LINK.search("\n".join(lines[start:end]))
        if link is None:
            problems.append(LintProblem(where, "no https://arxiv.org/abs/<id> link"))
        elif link.group(1) in seen:
            problems.append(LintProblem(where, f"links the same paper ({link.group(1)}) as paper "
                                               f"{seen[link.group(1)]}"))
        else:
            seen[link.group(1)] = place
    return problems
