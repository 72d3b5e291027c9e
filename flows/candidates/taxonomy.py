"""arXiv's category taxonomy: which categories exist, and a user's spelling of them made exact.

The list ships with the package (arxiv_categories.txt, from https://arxiv.org/category_taxonomy).
A category is matched without regard to case or separators ("cs.cl", "CS CL", "q_bio.nc" are
cs.CL and q-bio.NC), so a typo cannot silently become a query that finds no papers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

from flows.errors import ConfigError

_SEPARATORS = re.compile(r"[\s._\-]+")
_LIST = re.compile(r"[,+;]")  # between categories: commas, arXiv's own "+", semicolons


@cache
def categories() -> dict[str, str]:
    """Every arXiv category, keyed by its spelling without case or separators ("qbionc")."""
    text = resources.files("flows.candidates").joinpath("arxiv_categories.txt").read_text(encoding="utf-8")
    codes = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {_key(code): code for code in codes}


def parse_categories(value: str | Iterable[str]) -> list[str]:
    """arXiv categories from a comma- (or +, ;, space-) separated string or a list, spelled as arXiv
    spells them, without duplicates, in the order given. Raises ConfigError naming the first
    unknown category and the closest valid ones, or when none is given."""
    found: list[str] = []
    for chunk in _chunks(value):
        for code in _codes(chunk):
            if code not in found:
                found.append(code)
    if not found:
        raise ConfigError("no arXiv category given: name at least one, e.g. cs.AI,cs.LG")
    return found


def _chunks(value: str | Iterable[str]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    return [chunk.strip() for item in items for chunk in _LIST.split(str(item)) if chunk.strip()]


def _codes(chunk: str) -> list[str]:
    """The categories in one chunk: the whole chunk ("cs AI") or its words ("cs.AI cs.LG")."""
    known = categories()
    if _key(chunk) in known:
        return [known[_key(chunk)]]
    words = chunk.split()
    for word in words:
        if _key(word) not in known:
            raise ConfigError(f"unknown arXiv category {_shown(word if len(words) > 1 else chunk)}: "
                              f"closest valid ones: {', '.join(closest(word))} "
                              "(see https://arxiv.org/category_taxonomy)")
    return [known[_key(word)] for word in words]


def closest(text: str, count: int = 3) -> list[str]:
    """The `count` valid categories spelled most like `text`."""
    known = categories()
    matches = difflib.get_close_matches(_key(text), list(known), n=count, cutoff=0.0)
    return [known[m] for m in matches]


def _key(text: str) -> str:
    return _SEPARATORS.sub("", text).lower()


def _shown(text: str) -> str:
    return repr(text[:40] + ("…" if len(text) > 40 else ""))
