"""What the learned ranker reads of a candidate: its text, and metadata the listing carries.

Metadata columns earned their place on real editors' weeks (docs/ranking.md): who the paper
is by (many authors, authors the editor picked before), where it is listed (primary category,
cross-listing), code or project pages, the size of title and abstract, and names of well-known
model families in the abstract.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from flows.candidates.candidate import TEXT_LIMITS, Candidate
from flows.shortlist import count_store
from flows.text import without_nul

MAIN_CATEGORIES = ("cs.AI", "cs.LG", "cs.CL", "cs.CV")
_MODEL_FAMILIES = re.compile(  # matched in the lower-cased abstract: IGNORECASE made it 3 times slower
    r"\b(?:gpt-?\d|gpt-?4o|o1|o3|o4-mini|llama|qwen|gemini|gemma|claude|deepseek|mistral|mixtral|phi-\d|"
    r"grok|kimi|glm|olmo|chatgpt)\b")
METADATA_COLUMNS = (
    ["log authors", "ten or more authors", "authors picked before", "code link", "project link",
     "categories", "log title words", "log abstract words", "model families"]
    + [f"primary {c}" for c in MAIN_CATEGORIES] + [f"listed in {c}" for c in MAIN_CATEGORIES]
)


def text_of(cand: Candidate) -> str:
    """Title twice (it is what the editor reads first), then the abstract: at most
    2 * TEXT_LIMITS["title"] + TEXT_LIMITS["abstract"] + 4 characters, whatever made `cand`
    (candidates from outside are cut to those limits already, flows/candidates/candidate.py)."""
    title, abstract = cand.title[:TEXT_LIMITS["title"]], cand.abstract[:TEXT_LIMITS["abstract"]]
    return f"{title}. {title}. {abstract}"


# Hashed word and word-pair counts: stateless, so a week is counted once and reused by every
# fit that learns from it; the IDF weighting is fitted on the history (learned.py).
N_FEATURES = 2**20
_HASHER = HashingVectorizer(ngram_range=(1, 2), stop_words="english", alternate_sign=False, norm=None,
                            n_features=N_FEATURES, dtype=np.float32)


def word_counts(cands: list[Candidate], cache_dir: Path | None = None) -> sparse.csr_matrix:
    """Counts of words and word pairs of text_of(c), shape (len(cands), N_FEATURES), float32;
    kept in memory, and with `cache_dir` on disk too (count_store.py) so that no week is hashed twice."""
    return _counts(tuple(text_of(c) for c in cands), cache_dir)


@lru_cache(maxsize=32)  # a week is about 8 MB
def _counts(texts: tuple[str, ...], cache_dir: Path | None) -> sparse.csr_matrix:
    texts = without_nul(texts)  # NUL separates the texts in the cache's key
    if cache_dir is None:
        return _HASHER.transform(texts)
    return count_store.cached_counts(cache_dir / count_store.FOLDER, texts, repr(_HASHER.get_params()),
                                     _HASHER.transform, N_FEATURES)


def picked_authors(picked: Iterable[Candidate]) -> Counter:
    """How many past picks each author name is on."""
    return Counter(a.strip().lower() for c in picked for a in c.authors)


def metadata(cands: list[Candidate], known: Counter, upvotes: dict[str, int] | None = None) -> np.ndarray:
    """One row of len(METADATA_COLUMNS) + len(POPULARITY_COLUMNS) floats per candidate; `known`
    from picked_authors(), `upvotes` as popularity() reads them (None: nobody listed)."""
    rows = np.array([_row(c, known) for c in cands], dtype=np.float64).reshape(len(cands), len(METADATA_COLUMNS))
    return np.hstack([rows, popularity(cands, upvotes or {})])


def _row(cand: Candidate, known: Counter) -> list[float]:
    authors = [a.strip().lower() for a in cand.authors]
    return [
        math.log1p(len(authors)),
        float(len(authors) >= 10),
        math.log1p(sum(known.get(a, 0) for a in authors)),
        float(bool(cand.code_links)),
        float(bool(cand.project_links)),
        float(len(cand.categories)),
        math.log1p(len(cand.title.split())),
        math.log1p(len(cand.abstract.split())),
        math.log1p(len(_MODEL_FAMILIES.findall(cand.abstract.lower()))),
        *(float(cand.primary_category == c) for c in MAIN_CATEGORIES),
        *(float(c in cand.categories) for c in MAIN_CATEGORIES),
    ]


POPULARITY_COLUMNS = ("log upvotes", "listed at all", "rank within the week")


def popularity(cands: list[Candidate], upvotes: dict[str, int]) -> np.ndarray:
    """Readers' upvotes (arXiv id -> count, validated by popularity.py) as len(POPULARITY_COLUMNS)
    floats per candidate: log(1 + upvotes), 1 when the paper was listed at all, and its place
    among the week's listed candidates (1 for the most upvoted, towards 0 for the least, 0 when
    not listed)."""
    counts = [upvotes.get(c.arxiv_id) for c in cands]
    listed = sorted((n for n in counts if n is not None), reverse=True)
    rows = [[math.log1p(n), 1.0, 1.0 - listed.index(n) / len(listed)] if n is not None else [0.0, 0.0, 0.0]
            for n in counts]
    return np.array(rows, dtype=np.float64).reshape(len(cands), len(POPULARITY_COLUMNS))
