"""Escaping: text from arXiv, papers and the LLM made inert for the page it lands in.

One helper per destination, each registered as a jinja2 filter in flows/prompts.py, so a
template says where a value goes (`{{ paper.title | md }}`) and no template or caller escapes
by hand:

md
    GitHub-flavoured markdown text: paragraphs, headings, link text and table cells (README.md,
    papers.md, the pull request's body). One line; every ASCII punctuation mark that can start
    markup (links, images, emphasis, code, HTML, table pipes; a heading or list marker at the
    start) gets CommonMark's backslash escape (https://spec.commonmark.org/0.31.2/#backslash-escapes),
    so "[x](https://evil)", "![](...)", "<script>" and "a | b" read as the characters they are; "@"
    is written &#64;, so "@name" notifies nobody.
html
    HTML element text and attribute values: markupsafe's escape (& < > " ').
jekyll
    Text in a page that Jekyll renders with Liquid and then kramdown (the bookmarks style).
    kramdown passes HTML through and reads "{:" and "$$"; Liquid runs "{{" and "{%" before
    kramdown sees anything, so a backslash cannot protect them: every character that either
    reads is written as an HTML character reference, which both pass on as text.
url
    An http(s) URL for a link target or src attribute; anything else (javascript:, data:) becomes
    "#". Characters that would end a markdown link or an HTML attribute are percent-encoded.
data
    Paper text inside a prompt: < > & escaped, so a field cannot close the <paper> element it sits
    in or open another one (the LLM reads &lt; as <).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

import markupsafe

from flows.text import clip

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=#])|^(\s*\d+)([.)])(?=\s|$)")
_JEKYLL_SPECIAL = re.compile(r"[&<>\"'{}\[\]|$*_`\\]")
_URL_UNSAFE = "()<>\"' `[]{}|\\^"


def shown(value: object) -> str:
    """`value` as text to show a person (a page, a terminal, a pull request): without Unicode
    format characters (category Cf: the bidi controls U+202A-U+202E and U+2066-U+2069, zero-width
    characters, soft hyphens), which make a text display as something else ("Trojan Source",
    CVE-2021-42574). Every destination filter below applies it."""
    return "".join(ch for ch in str(value) if unicodedata.category(ch) != "Cf")


def _one_line(value: object) -> str:
    return " ".join(shown(value).split())


def md(value: object, limit: int | None = None) -> str:
    """`value` as literal text on one line of GitHub-flavoured markdown, first cut to `limit`
    characters ("…" ends a cut) when one is given."""
    text = _MD_SPECIAL.sub(r"\\\1", clip(shown(value), limit) if limit else _one_line(value)).replace("@", "&#64;")
    return _MD_LINE_START.sub(lambda m: f"{m[1] or m[3] or ''}\\{m[2] or m[4]}", text)  # "- x", "1. x", "# x", "= x" would start a block


def html(value: object) -> str:
    """`value` as HTML text or attribute value (markupsafe.escape, as a plain str)."""
    return str(markupsafe.escape(shown(value)))


def jekyll(value: object) -> str:
    """`value` as literal text on one line of a Jekyll page (Liquid, then kramdown)."""
    return _JEKYLL_SPECIAL.sub(lambda m: f"&#{ord(m.group(0))};", _one_line(value))


def url(value: object) -> str:
    """`value` if it is an http(s) URL, with characters that could end a link percent-encoded;
    else "#"."""
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "#"
    return "".join(quote(ch, safe="") if ch in _URL_UNSAFE or not ch.isprintable() else ch for ch in text)


def data(value: object) -> str:
    """`value` for the inside of a prompt's data element: < > & escaped."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FILTERS = {"md": md, "html": html, "jekyll": jekyll, "url": url, "data": data}
"""The filters flows/prompts.py registers, by name."""
