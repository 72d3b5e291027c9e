"""Text helpers every stage shares: arXiv ids, one-line clips, token estimates, secret redaction,
and the one finder of code and project links (in arXiv metadata and in paper text).

One copy of each: the arXiv id pattern follows arXiv's identifier scheme
(https://info.arxiv.org/help/arxiv_identifier.html): 2306.07400 (YYMM.NNNNN, four digits
before 2015) and the old archive form hep-ex/0406020 or math.AG/0601001, each with an
optional version suffix v<N>.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})"
"""An arXiv id without its version, as a regular expression fragment."""

VERSIONED_ARXIV_ID = re.compile(rf"(?P<id>{ARXIV_ID})(?:v(?P<version>\d+))?")
"""An arXiv id with its optional version: groups `id` and `version`."""

ARXIV_URL = r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/+"
"""The start of a link to an arXiv paper page (abs, pdf or html; export.arxiv.org too), as a
regular expression fragment: the id follows it."""

_PAPER_REFERENCE = re.compile(
    rf"(?:{ARXIV_URL}|(?:https?://)?(?:www\.)?alphaxiv\.org/(?:abs|overview)/+"
    rf"|(?:https?://)?(?:www\.)?huggingface\.co/papers/+|\barxiv:[ \t]?|\b10\.48550/arxiv\.)"
    rf"(?P<id>{ARXIV_ID})(?:v\d+)?(?!\d)", re.IGNORECASE)


def arxiv_ids(text: str) -> list[str]:
    """Every arXiv paper `text` names, in order, each once, without version: links to arxiv.org
    (abs, pdf, html; export.arxiv.org), alphaxiv.org/abs, huggingface.co/papers, `arXiv:ID`, and
    arXiv DOIs (10.48550/arXiv.ID, doi.org links); new ids (2506.06105) and old ones (cs/0601001)."""
    ids: dict[str, None] = {}
    for match in _PAPER_REFERENCE.finditer(text):
        ids.setdefault(match.group("id"))
    return list(ids)


CHARS_PER_TOKEN = 4
"""OpenAI's rule of thumb for English text (about 4 characters a token); used only where a
server gives no token count or before a request is sent."""

# API keys and credentials as they appear in text: OpenAI/OpenRouter (sk-...), GitHub (ghp_,
# github_pat_, gho_, ...), Hugging Face (hf_...), and whatever follows Bearer / Authorization.
SECRET_PATTERNS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"\bhf_[A-Za-z0-9]{20,}"),
    re.compile(r"(?i)(bearer\s+)[^\s\"',}]+"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"',}]+"),
)
REDACTED = "***"


def whole_characters(value: object) -> object:
    """`value`, a JSON value as json.loads() gives it, with each lone UTF-16 surrogate replaced by
    U+FFFD: JSON may escape half of a pair alone ("\\ud800"), json reads it, and no text holding it
    can be encoded as UTF-8 (hashed, cached, written). Pairs were already joined by json, so only
    lone halves change; a value without any comes back as it is. Raises RecursionError for a value
    nested deeper than json can write back (the callers take it for no value)."""
    text = json.dumps(value, ensure_ascii=False)  # RecursionError when nested deeper than json can write
    if not _SURROGATE.search(text):
        return value
    return json.loads(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_nul(texts: Iterable[str]) -> tuple[str, ...]:
    """`texts` with each NUL character as a space: what a cache keyed by the texts joined with
    NUL embeds or counts, so that no two different lists of texts share a key."""
    return tuple(text.replace("\0", " ") for text in texts)


def clip(text: str, limit: int = 300) -> str:
    """`text` on one line (runs of white space folded), at most `limit` characters ("…" ends a cut)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def estimate_tokens(text: str) -> int:
    """A token count estimated from `text`'s length (CHARS_PER_TOKEN characters a token)."""
    return len(text) // CHARS_PER_TOKEN


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with each of `secrets` and anything shaped like a key or credential replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    return text


# Links: URLs with a scheme, and bare code-host paths. Scanning every abstract with one
# clever regex is slow (a look-behind tried at each character); instead cheap substring
# checks decide whether to look at all, and bare hosts are found from their literal name.
CODE_HOSTS = ("github.com", "gitlab.com", "huggingface.co", "bitbucket.org", "codeberg.org")
"""Hosts whose pages are code, models or data; *.github.io and sites.google.com pages are projects."""
_URL_CHAR = r"[^\s<>\"'{}|\\^`]"
_SCHEME_URL = re.compile(rf"https?://{_URL_CHAR}+")
_HOST_NAME = re.compile("|".join(re.escape(h) for h in CODE_HOSTS) + r"|github\.io")
_BARE_URL = re.compile(
    rf"(?:[\w-]+\.)*(?:(?:{'|'.join(re.escape(h) for h in CODE_HOSTS)})/{_URL_CHAR}*"
    rf"|(?:[\w-]+\.)+github\.io\b{_URL_CHAR}*)"
)
_HOST_HINTS = tuple(h.split(".")[0] for h in CODE_HOSTS)
_PROJECT_HOSTS = re.compile(r"(?:[\w-]+\.github\.io|sites\.google\.com)$")
_PROJECT_CUE = re.compile(r"(code|project|page|demo|available|released|website|repository|data ?set|models?)\b", re.I)
_TRAILING = ".,;:!?*'\""
_NOT_PROJECT_HOSTS = ("arxiv.org", "doi.org")


def find_links(text: str, *, cue_for_other_sites: bool = False) -> tuple[str, ...]:
    """Code and project URLs in `text`, in order, de-duplicated, without trailing punctuation.

    Catches http(s) URLs and bare paths on CODE_HOSTS and *.github.io pages (given https://).
    Links to arXiv and DOIs are left out: they point at papers, not at code or projects. With
    `cue_for_other_sites` (a paper's body, full of cited sites), a URL on any other site is kept
    only when a word like code, project, demo or dataset comes in the 80 characters before it.
    """
    found: list[str] = []
    seen: set[str] = set()
    for start, raw in _raw_links(text or ""):
        url = _clean_url(raw)
        if not url.lower().startswith(("http://", "https://")):
            url = "https://" + url
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        if not _is_project(url, host) or (cue_for_other_sites and not _code_or_cued(host, text, start)):
            continue
        key = host + url.split(host, 1)[-1].rstrip("/").removesuffix(".git")
        if key not in seen:
            seen.add(key)
            found.append(url)
    return tuple(found)


def _is_project(url: str, host: str) -> bool:
    if "." not in host or any(host == h or host.endswith("." + h) for h in _NOT_PROJECT_HOSTS):
        return False
    return not (host in CODE_HOSTS and urlsplit(url).path.strip("/") == "")  # a code host's front page


def _code_or_cued(host: str, text: str, start: int) -> bool:
    if host in CODE_HOSTS or _PROJECT_HOSTS.match(host):
        return True
    return _PROJECT_CUE.search(text[max(0, start - 80):start]) is not None


def _raw_links(text: str) -> list[tuple[int, str]]:
    # Case-sensitive patterns on the lower-cased text are several times faster than
    # re.IGNORECASE; positions carry over as lower() kept the length (it nearly always does).
    lowered = text.lower()
    scheme_url, host_name, bare_url = _SCHEME_URL, _HOST_NAME, _BARE_URL
    haystack = lowered
    if len(lowered) != len(text):
        haystack = text
        scheme_url, host_name, bare_url = (re.compile(p.pattern, re.I) for p in (scheme_url, host_name, bare_url))
    hits = [(m.start(), m.end()) for m in scheme_url.finditer(haystack)] if "http" in lowered else []
    if any(hint in lowered for hint in _HOST_HINTS):
        hits += _bare_hits(text, haystack, host_name, bare_url)
    return [(start, text[start:end]) for start, end in sorted(hits)]


def _bare_hits(text: str, haystack: str, host_name: re.Pattern, bare_url: re.Pattern) -> list[tuple[int, int]]:
    hits = []
    for m in host_name.finditer(haystack):
        left = m.start()
        while left and (text[left - 1].isalnum() or text[left - 1] in "-_."):
            left -= 1
        if left and text[left - 1] in "/@:":  # inside a URL with a scheme, or an e-mail
            continue
        bare = bare_url.match(haystack, left)
        if bare and bare.end() >= m.end():
            hits.append((left, bare.end()))
    return hits


def _clean_url(url: str) -> str:
    url = re.sub(r"\.\d*[A-Z][a-z]\w*$", "", url)  # a footnote mark or the next sentence glued on by a PDF
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last == ")" and url.count("(") < url.count(")"):
            url = url[:-1]
        elif last == "]" and url.count("[") < url.count("]"):
            url = url[:-1]
        else:
            break
    return url
