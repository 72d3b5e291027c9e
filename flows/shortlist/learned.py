"""The editor's taste, learned from their history: the papers they picked against every other
candidate of the same weeks, with scikit-learn.

Three linear models read three views of a paper (TF-IDF words and word pairs, a WordLlama
embedding, listing metadata from features.py); each one's scores are standardised within the
week and summed (late fusion), which beat one model over all views on real editors' weeks
(docs/ranking.md). A profile written in plain words adds its embedding similarity, alone when
there is no history yet. No LLM tokens; a fit takes seconds and is cached by its history.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from flows.candidates.candidate import Candidate
from flows.files import sha256_text, write_atomic
from flows.shortlist import features
from flows.shortlist.embeddings import Embedder

log = logging.getLogger(__name__)

VIEWS = ("tfidf", "embedding", "metadata")
WEIGHTS = {"tfidf": 1.0, "embedding": 1.0, "metadata": 1.0}
PRIOR_WEEKS = 4  # weeks of history the profile's words are worth (semantic_weight)
MODEL_VERSION = 1  # bump when a cached fit must not be reused


@dataclass(frozen=True)
class History:
    """One past week: every candidate it listed and the arXiv ids the editor picked of them."""

    name: str
    candidates: list[Candidate]
    picks: frozenset[str]


@dataclass
class LearnedTaste:
    """Fitted models per view; `seconds` is the fit time per view."""

    models: dict[str, object]
    known_authors: dict[str, int]
    weeks: int
    picks: int
    seconds: dict[str, float] = field(default_factory=dict)

    def view_scores(self, cands: list[Candidate], embedder: Embedder) -> dict[str, np.ndarray]:
        """Per view, one decision value per candidate (higher: more like the editor's picks)."""
        with threadpool_limits(1):  # threaded BLAS is 20x slower on a loaded 2-core machine
            return {view: model.decision_function(_inputs(view, cands, embedder, self.known_authors))
                    for view, model in self.models.items()}


def fit(weeks: Sequence[History], embedder: Embedder, views: Sequence[str] = VIEWS) -> LearnedTaste | None:
    """Fit one classifier per view on `weeks` (picks = 1, other candidates = 0); None when the
    history has no pick or nothing but picks. Linear models with balanced class weights,
    since picks are about 0.2% of candidates."""
    labels = np.array([c.arxiv_id in w.picks for w in weeks for c in w.candidates], dtype=np.int8)
    if not labels.any() or labels.all():
        return None
    known = dict(features.picked_authors(c for w in weeks for c in w.candidates if c.arxiv_id in w.picks))
    models, seconds = {}, {}
    for view in views:
        began = time.perf_counter()
        with threadpool_limits(1):
            models[view] = _model(view).fit(_train_inputs(view, embedder, known, weeks), labels)
        seconds[view] = time.perf_counter() - began
    return LearnedTaste(models, known, len(weeks), int(labels.sum()), seconds)


def _model(view: str):
    if view == "tfidf":
        return make_pipeline(TfidfTransformer(sublinear_tf=True),
                             LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear"))
    if view == "embedding":
        return LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000)
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000))


def _train_inputs(view, embedder, known, weeks):
    if view == "tfidf":
        return sparse.vstack([features.word_counts(w.candidates) for w in weeks]).tocsr()
    if view == "embedding":
        return np.vstack([embedder.embed([features.text_of(c) for c in w.candidates]) for w in weeks])
    # An author's earlier picks, not the pick being learned: count each paper's own authors out.
    rows = []
    for week in weeks:
        own = features.picked_authors(c for c in week.candidates if c.arxiv_id in week.picks)
        earlier = {a: n - own.get(a, 0) for a, n in known.items()}
        rows.append(features.metadata(week.candidates, earlier))
    return np.vstack(rows)


def _inputs(view: str, cands: list[Candidate], embedder: Embedder, known: dict[str, int]):
    if view == "tfidf":
        return features.word_counts(cands)
    if view == "embedding":
        return embedder.embed([features.text_of(c) for c in cands])
    return features.metadata(cands, known)


def standardised(values: np.ndarray) -> np.ndarray:
    """Within-week z-scores, so views with different scales add up fairly."""
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def semantic(cands: list[Candidate], description: str, embedder: Embedder) -> np.ndarray:
    """Cosine similarity of each candidate to the profile's plain-words description."""
    if not cands or not description.strip():
        return np.zeros(len(cands))
    vectors = embedder.embed([features.text_of(c) for c in cands])
    target = embedder.embed([description])[0]
    return vectors @ target


def semantic_weight(taste: LearnedTaste | None) -> float:
    """How much the profile's words count against the learned views: all of it without a
    history, fading as weeks accrue (1 at PRIOR_WEEKS weeks, 0.25 at four times as many), like a
    prior the evidence outweighs (docs/ranking.md has the figures behind it)."""
    return 1.0 if taste is None else min(1.0, PRIOR_WEEKS / max(1, taste.weeks))


def blend(cands: list[Candidate], taste: LearnedTaste | None, description: str, embedder: Embedder,
          words: float | None = None) -> np.ndarray:
    """The stage-1 score of each candidate: the sum of the learned views' within-week z-scores
    and the profile similarity's z-score weighted by `words` (default: semantic_weight(taste))."""
    total = np.zeros(len(cands))
    if taste is not None:
        for view, values in taste.view_scores(cands, embedder).items():
            total += WEIGHTS[view] * standardised(values)
    words = semantic_weight(taste) if words is None else words
    if description.strip() and words:
        total += words * standardised(semantic(cands, description, embedder))
    return total


def fit_cached(weeks: Sequence[History], embedder: Embedder, cache_dir: Path | None) -> LearnedTaste | None:
    """fit(), reused while the history is the same: the key is every week's candidates and picks,
    so a merged digest that adds or edits a week retrains the taste."""
    if cache_dir is None:
        return fit(weeks, embedder)
    key = sha256_text(repr((MODEL_VERSION, [(w.name, sorted(c.arxiv_id for c in w.candidates), sorted(w.picks))
                                            for w in weeks])))
    path = cache_dir / "taste" / f"{key}.pickle"
    if path.is_file():
        try:
            return pickle.loads(path.read_bytes())
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            log.warning("cached taste %s unreadable (%s): fitting again", path.name, type(exc).__name__)
    taste = fit(weeks, embedder)
    write_atomic(path, pickle.dumps(taste))
    return taste
