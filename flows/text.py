"""Text helpers every stage shares: arXiv ids, one-line clips, token estimates, secret redaction.

One copy of each: the arXiv id pattern follows arXiv's identifier scheme
(https://info.arxiv.org/help/arxiv_identifier.html): 2306.07400 (YYMM.NNNNN, four digits
before 2015) and the old archive form hep-ex/0406020 or math.AG/0601001, each with an
optional version suffix v<N>.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})"
"""An arXiv id without its version, as a regular expression fragment."""

VERSIONED_ARXIV_ID = re.compile(rf"(?P<id>{ARXIV_ID})(?:v(?P<version>\d+))?")
"""An arXiv id with its optional version: groups `id` and `version`."""

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
