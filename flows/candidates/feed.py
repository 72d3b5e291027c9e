"""Parsing arXiv API (export.arxiv.org/api/query) Atom pages into candidates.

Feeds are parsed with defusedxml and DTDs are refused outright (arXiv never sends one), so
an entity-expansion or external-entity document fails at once instead of expanding. A feed
that cannot be read at all raises FeedError naming its source; a single entry that cannot
be read is skipped with a reason (`FeedPage.skipped`) and the rest of the page survives.

Lookups are by namespace and tag, never by position: the old (≤2020) and current API
formats order the elements differently and repeat or hoist their namespace declarations.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from flows.candidates.candidate import Candidate, links_kept, within_limits
from flows.errors import FeedError
from flows.text import VERSIONED_ARXIV_ID

log = logging.getLogger(__name__)

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

# arXiv ids: 2306.07400, 0704.0001 (4 digits until 2014), hep-ex/0406020, math.AG/0601001
_ID = VERSIONED_ARXIV_ID
_ID_PREFIX = re.compile(r"^(?:https?://(?:www\.|export\.)?arxiv\.org/abs/|oai:arXiv\.org:|arXiv:)", re.I)
# arXiv taxonomy terms (cs.LG, hep-ex, cond-mat.str-el); ACM/MSC classes (I.2.6, 53C) are not
_CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")

@dataclass(frozen=True)
class FeedPage:
    total_results: int | None  # opensearch:totalResults
    start_index: int
    items_per_page: int
    candidates: tuple[Candidate, ...]
    skipped: tuple[str, ...]  # one reason per entry that could not be read, naming it


class _Skip(Exception):
    """One entry cannot be read; the message says why."""


# -- public API ------------------------------------------------------------------------------


def parse_api_feed(data: bytes, source: str) -> FeedPage:
    """One page of an arXiv API (export.arxiv.org/api/query) Atom response.

    Raises FeedError naming `source` when the feed is unreadable, is not an Atom feed, or
    is arXiv's error feed (quoting arXiv's explanation).
    """
    # Streamed: each entry is read as soon as it is complete, then cleared, so a 2000-entry
    # page never holds 2000 element trees at once (that alone costs ~20% in garbage collection).
    stream = _Stream(data, source)
    candidates, skipped = _read_entries(stream.elements(f"{_ATOM}entry"), _api_entry, source)
    root = stream.root
    if root.tag != f"{_ATOM}feed":
        raise FeedError(f"{source}: not an arXiv API Atom feed (root element <{_local(root.tag)}>)")
    return FeedPage(
        total_results=_opensearch_int(root, "totalResults", source, None),
        start_index=_opensearch_int(root, "startIndex", source, 0),
        items_per_page=_opensearch_int(root, "itemsPerPage", source, stream.count),
        candidates=candidates,
        skipped=skipped,
    )


# -- XML -----------------------------------------------------------------------------------


class _Stream:
    """Elements of a feed as they complete (defusedxml iterparse); `root` once exhausted."""

    def __init__(self, data: bytes, source: str):
        self.data, removed = xml_legal(data.encode() if isinstance(data, str) else data)
        self.source = source
        if removed:
            log.warning("%s: %d character(s) XML 1.0 forbids (control characters) became spaces", source, removed)
        self.root: Element | None = None
        self.count = 0

    def elements(self, tag: str) -> Iterator[Element]:
        events = SafeET.iterparse(io.BytesIO(self.data), events=("end",), forbid_dtd=True)
        try:
            for _, element in events:
                self.root = element  # the last element to end is the root
                if element.tag == tag:
                    self.count += 1
                    yield element
        except (DefusedXmlException, ParseError) as exc:
            raise _unreadable(self.data, self.source, exc) from None
        if self.root is None:
            raise _unreadable(self.data, self.source, ParseError("no element found"))


_FORBIDDEN_RAW = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CHAR_REF = re.compile(rb"&#(?:x([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def xml_legal(data: bytes) -> tuple[bytes, int]:
    """`data` (a UTF-8 feed) with every character XML 1.0 forbids (its production Char, section
    2.2: C0 controls but tab, newline and return; surrogates; U+FFFE, U+FFFF), raw or as a
    character reference (&#x1b;, &#0;), replaced by a space, and how many were. One such character
    in one title would otherwise make the parser refuse the whole page."""
    count = 0

    def space(_match) -> bytes:
        nonlocal count
        count += 1
        return b" "

    def reference(match) -> bytes:
        code = int(match[1], 16) if match[1] else int(match[2])
        legal = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
        return match[0] if legal else space(match)

    data = _FORBIDDEN_RAW.sub(space, data)
    return _CHAR_REF.sub(reference, data), count


def _unreadable(data: bytes, source: str, exc: Exception) -> FeedError:
    if isinstance(exc, DefusedXmlException):
        return FeedError(
            f"{source}: refused to parse the feed: it declares a DTD or entities "
            f"({type(exc).__name__}), which arXiv never sends"
        )
    what = "empty response" if not data or not data.strip() else "malformed or truncated XML"
    return FeedError(f"{source}: {what}, not a readable feed ({exc})")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _raise_if_error_entry(entry: Element, source: str) -> None:
    """arXiv reports a bad query as a feed whose one entry is the error (API manual 3.4)."""
    entry_id = entry.findtext(f"{_ATOM}id") or ""
    if "/api/errors" in entry_id or (
        _normalise(_findtext(entry, f"{_ATOM}title")) == "Error"
        and entry.findtext(f"{_ATOM}author/{_ATOM}name") == "arXiv api core"
    ):
        summary = _normalise(_findtext(entry, f"{_ATOM}summary")) or "no explanation given"
        raise FeedError(f"{source}: arXiv answered with an error: {summary!r}")


def _opensearch_int(root: Element, name: str, source: str, default: int | None) -> int | None:
    text = root.findtext(f"{_OPENSEARCH}{name}")
    if text is None:
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise FeedError(f"{source}: opensearch:{name} is {text.strip()!r}, not a number") from None


def _read_entries(entries: Iterable[Element], read, source: str):
    candidates: list[Candidate] = []
    skipped: list[str] = []
    for number, entry in enumerate(entries, 1):
        _raise_if_error_entry(entry, source)
        try:
            candidates.append(read(entry))
        except _Skip as why:
            reason = f"entry {number} ({_describe(entry)}): {why}"
            skipped.append(reason)
            log.warning("%s: skipped %s", source, reason)
        entry.clear()  # read: free its subtree
    return tuple(candidates), tuple(skipped)


def _describe(entry: Element) -> str:
    for tag in (f"{_ATOM}id", f"{_ATOM}title"):
        text = _normalise(entry.findtext(tag))
        if text:
            return f"{_local(tag)} {text[:80]!r}"
    return "no id or title"


# -- one entry per format ----------------------------------------------------------------------


def _api_entry(entry: Element) -> Candidate:
    fields: dict[str, str] = {}
    authors: list[str] = []
    categories: list[str] = []
    primary = ""
    for child in entry:
        tag = child.tag
        if tag == f"{_ATOM}author":
            name = _normalise(child.findtext(f"{_ATOM}name"))
            if name:
                authors.append(name)
        elif tag == f"{_ATOM}category":
            categories.append(child.get("term", ""))
        elif tag == f"{_ARXIV}primary_category":
            primary = child.get("term", "")
        elif len(child):  # mark-up inside a text field: keep all of its text
            fields[tag] = "".join(child.itertext())
        elif child.text is not None:
            fields[tag] = child.text
    arxiv_id, version = _arxiv_id(fields.get(f"{_ATOM}id"))
    published = _iso_date(fields.get(f"{_ATOM}published"), "published")
    updated_text = fields.get(f"{_ATOM}updated")
    updated = _iso_date(updated_text, "updated") if updated_text else published
    comment = _normalise(fields.get(f"{_ARXIV}comment"))
    abstract = _normalise(fields.get(f"{_ATOM}summary"))
    return within_limits(Candidate(
        arxiv_id=arxiv_id,
        version=version,
        title=_title(fields.get(f"{_ATOM}title")),
        abstract=abstract,
        authors=tuple(authors),
        primary_category=_primary(primary, categories),
        categories=_categories(primary, categories),
        published=published,
        updated=updated,
        comment=comment,
        journal_ref=_normalise(fields.get(f"{_ARXIV}journal_ref")),
        doi=_normalise(fields.get(f"{_ARXIV}doi")),
        links=links_kept(comment, abstract),
    ))


# -- fields --------------------------------------------------------------------------------


def _findtext(entry: Element, path: str) -> str | None:
    """Like findtext, but an element with mark-up inside gives all of its text."""
    element = entry.find(path)
    if element is None:
        return None
    return "".join(element.itertext()) if len(element) else element.text or ""


def _normalise(text: str | None) -> str:
    """Runs of whitespace (newlines, the API's hard wraps) become one space."""
    return " ".join(text.split()) if text else ""


def _title(text: str | None) -> str:
    title = _normalise(text)
    if not title:
        raise _Skip("no title")
    return title


def _arxiv_id(text: str | None) -> tuple[str, int]:
    raw = (text or "").strip()
    if not raw:
        raise _Skip("no id")
    match = _ID.fullmatch(_ID_PREFIX.sub("", raw))
    if match is None:
        raise _Skip(f"id {raw!r} is not an arXiv identifier")
    return match["id"], int(match["version"] or 1)


def _iso_date(text: str | None, name: str) -> datetime:
    text = (text or "").strip()
    if not text:
        raise _Skip(f"no <{name}> date")
    if not _ISO_DATE.match(text):
        raise _Skip(f"<{name}> {text!r} is not an ISO 8601 date-time with a UTC offset")
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        raise _Skip(f"<{name}> {text!r} is not a valid date-time") from None


def _taxonomy_terms(terms: list[str]) -> list[str]:
    """The terms that are arXiv taxonomy categories; anything else (a newline and an instruction
    in a term, an ACM class) is dropped here, before any prompt can see it."""
    return [t.strip() for t in terms if _CATEGORY.fullmatch(t.strip())]


def _primary(primary: str, categories: list[str]) -> str:
    return next(iter(_taxonomy_terms([primary] + categories)), "")


def _categories(primary: str, categories: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_taxonomy_terms([primary] + categories)))
