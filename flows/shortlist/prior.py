"""What stage 1 knows of a paper before it knows the editor: how close it is to the profile's
words, and how much it looks like the papers readers upvoted this week.

Readers' upvotes reach about 4% of a week's candidates (the Hugging Face daily papers listing
features a few dozen a day), and what the listing misses is often "not featured yet", not "not
popular". So the week's own listing is a label: two small models, fitted on this week's candidates
alone (listed or not), read every candidate's WordLlama embedding and listing metadata, and score
how much it looks like the listed ones. No editor's picks are needed, so a new user has it on
their first Monday; on a real editor's weeks it moved recall@100 without a history from 0.32 to
0.45 (docs/ranking.md). The prior is one within-week z-score: the profile's similarity plus the
two models' scores, standardised again so it weighs like one learned view.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from flows.candidates.candidate import Candidate
from flows.shortlist import features
from flows.shortlist.embeddings import Embedder

MIN_LISTED = 5  # fewer listed papers than this teach a model nothing: the prior is the profile's words alone
SAME = 1e-5  # a spread within this (times the largest magnitude, at least 1) is float rounding, not a spread


def standardised(values: np.ndarray) -> np.ndarray:
    """Within-week z-scores of `values` (shape kept, float64), so terms with different scales add up
    fairly. Zeros when the values are equal up to float rounding, a spread within SAME times
    max(1, their largest magnitude): identical papers' float32 cosine similarities differ by ~1e-8
    (absolute, so near zero too), and z-scores of that noise would be about +-1. The floor of 1
    assumes values of order 1, as all given here are (cosines, decision values, z-scores, log
    upvotes; stage 1's reciprocal-rank scores are ~1e-2, but two ranks apart already spread
    more than 1e-4). Empty for no values, without numpy's warnings."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.zeros_like(values)
    spread = values.std()
    if spread <= SAME * max(1.0, np.abs(values).max()):
        return np.zeros_like(values)
    return (values - values.mean()) / spread


def semantic(cands: list[Candidate], description: str, embedder: Embedder) -> np.ndarray:
    """Cosine similarity of each candidate to the profile's plain-words description, shape (len(cands),)."""
    if not cands or not description.strip():
        return np.zeros(len(cands))
    vectors = embedder.embed([features.text_of(c) for c in cands])
    target = embedder.embed([description])[0]
    return vectors @ target


def looks_upvoted(cands: list[Candidate], embedder: Embedder, upvotes: dict[str, int] | None) -> np.ndarray | None:
    """How much each candidate looks like the week's papers on the readers' listing: the sum of
    the z-scored decision values of two logistic regressions (balanced classes) fitted on this
    week with label "listed", one on the WordLlama embedding (C=1), one on the standardised
    listing metadata without the upvote columns (C=0.1). Shape (len(cands),); None when the
    signal is missing, fewer than MIN_LISTED candidates are listed, or all of them are."""
    listed = np.array([c.arxiv_id in (upvotes or {}) for c in cands])
    if upvotes is None or listed.sum() < MIN_LISTED or listed.all():
        return None
    vectors = embedder.embed([features.text_of(c) for c in cands])
    listing = features.metadata(cands, Counter(), {})  # upvotes left out: they are the label
    with threadpool_limits(1):
        by_text = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(vectors, listed)
        by_listing = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced",
                                                                        max_iter=2000)).fit(listing, listed)
        return standardised(by_text.decision_function(vectors)) + standardised(by_listing.decision_function(listing))


def prior(cands: list[Candidate], description: str, embedder: Embedder,
          upvotes: dict[str, int] | None) -> tuple[np.ndarray, bool]:
    """The prior of each candidate as one within-week z-score, shape (len(cands),), and whether
    readers' upvotes are part of it (looks_upvoted); without them it is the profile's similarity."""
    similarity = standardised(semantic(cands, description, embedder))
    upvoted = looks_upvoted(cands, embedder, upvotes) if cands else None
    if upvoted is None:
        return similarity, False
    return standardised(similarity + upvoted), True
