"""The editor's taste, learned from their history: the papers they picked against every other
candidate of the same weeks, with scikit-learn.

Linear models read three views of a paper (TF-IDF words and word pairs, a WordLlama embedding,
listing metadata from features.py with readers' upvotes among its columns); each one's ranks
within the week are fused (reciprocal-rank fusion), which beat one model over all views and the
sum of z-scores
on real editors' weeks (docs/ranking.md). A prior (prior.py: the profile's words and how much a
paper looks like this week's upvoted ones) adds to them, alone when there is no history yet and
fading as weeks accrue; bare upvotes count with the weight the replay chose
(NO_HISTORY_POPULARITY) only when neither the taste nor the prior holds them. Papers the editor was shown and
did not keep (a draft's picks swapped out, runners-up not taken) weigh HARD_NEGATIVE times an
unseen paper as negatives. No LLM tokens; a fit takes seconds and is cached by its history
(taste_store.py: arrays and JSON, never code).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from flows.candidates.candidate import Candidate
from flows.files import read_back, sha256_text, write_atomic
from flows.shortlist import features, prior, taste_store
from flows.shortlist.embeddings import Embedder
from flows.text import VERSIONED_ARXIV_ID

log = logging.getLogger(__name__)

VIEWS = ("tfidf", "embedding", "metadata")
WEIGHTS = {"tfidf": 1.0, "embedding": 1.0, "metadata": 1.0}
PRIOR_WEEKS = 4  # weeks of history the profile's words are worth (semantic_weight)
HARD_NEGATIVE = 3.0  # weight of a paper the editor was shown and did not keep, against 1 for the rest
NO_HISTORY_POPULARITY = 0.5  # z(log upvotes) against z(profile words) without a learned popularity view
RRF_K = 60  # reciprocal-rank fusion's constant (Cormack et al., SIGIR 2009)
FUSION = "rrf"  # reciprocal-rank fusion beat the z-score sum once the prior held upvotes (docs/ranking.md)
MODEL_VERSION = 3  # bump when a cached fit must not be reused


@dataclass(frozen=True)
class History:
    """One past week: every candidate it listed, the arXiv ids the editor picked of them, those
    they were shown and did not keep (`seen`: hard negatives), and readers' upvotes of the week's
    candidates (arXiv id -> count; None when the signal is not known for that week)."""

    name: str
    candidates: list[Candidate]
    picks: frozenset[str]
    seen: frozenset[str] = frozenset()
    upvotes: dict[str, int] | None = None


@dataclass
class LearnedTaste:
    """Fitted models per view; `seconds` is the fit time per view."""

    models: dict[str, object]
    known_authors: dict[str, int]
    weeks: int
    picks: int
    seconds: dict[str, float] = field(default_factory=dict)
    upvote_weeks: int = 0  # weeks of the history whose upvotes were known

    def view_scores(self, cands: list[Candidate], embedder: Embedder,
                    upvotes: dict[str, int] | None = None) -> dict[str, np.ndarray]:
        """Per view, one decision value per candidate (higher: more like the editor's picks);
        `upvotes` None or {} reads as nobody listed, the same for every candidate of the week.
        Empty arrays for no candidates (the models cannot be asked about none)."""
        if not cands:
            return {view: np.zeros(0) for view in self.models}
        with threadpool_limits(1):  # threaded BLAS is 20x slower on a loaded 2-core machine
            return {view: model.decision_function(_inputs(view, cands, embedder, self.known_authors, upvotes))
                    for view, model in self.models.items()}


def fit(weeks: Sequence[History], embedder: Embedder, views: Sequence[str] = VIEWS) -> LearnedTaste | None:
    """Fit one classifier per view on `weeks` (picks = 1, other candidates = 0, those the editor
    saw and did not keep weighted HARD_NEGATIVE); None when the history has no pick or nothing
    but picks. Linear models with balanced class weights, since picks are about 0.2% of
    candidates. The metadata view learns upvotes from the weeks whose upvotes are known (in the
    other weeks nobody reads as listed)."""
    known = dict(features.picked_authors(c for w in weeks for c in w.candidates if c.arxiv_id in w.picks))
    models, seconds = {}, {}
    for view in views:
        used = list(weeks)
        labels = np.array([c.arxiv_id in w.picks for w in used for c in w.candidates], dtype=np.int8)
        if not labels.any() or labels.all():
            continue
        weights = np.array([HARD_NEGATIVE if c.arxiv_id in w.seen and c.arxiv_id not in w.picks else 1.0
                            for w in used for c in w.candidates])
        began = time.perf_counter()
        with threadpool_limits(1):
            model = _model(view)
            last = model.steps[-1][0] if hasattr(model, "steps") else None
            model.fit(_train_inputs(view, embedder, known, used), labels,
                      **{f"{last}__sample_weight" if last else "sample_weight": weights})
        models[view], seconds[view] = model, time.perf_counter() - began
    if not models:
        return None
    picks = sum(len(w.picks & {c.arxiv_id for c in w.candidates}) for w in weeks)
    return LearnedTaste(models, known, len(weeks), picks, seconds, sum(w.upvotes is not None for w in weeks))


WEEK_ZERO_VIEWS = ("tfidf", "embedding")  # an example is often a title alone: no metadata to learn from


def week_zero(examples: Sequence[str], cands: list[Candidate]) -> History | None:
    """The profile's `examples` as the picks of a week zero, against the week's `cands` as its
    other candidates: an example that is an arXiv id of `cands` is that paper, any other line is a
    paper of that title. None without examples."""
    by_id = {c.arxiv_id: c for c in cands}
    picked, written = [], []
    for line in (e.strip() for e in examples if e.strip()):
        match = VERSIONED_ARXIV_ID.fullmatch(line.removeprefix("arXiv:").removeprefix("arxiv:"))
        if match and match.group("id") in by_id:
            picked.append(by_id[match.group("id")])
        elif not match:
            written.append(replace(_EXAMPLE, arxiv_id=f"example-{len(written) + 1}", title=line[:300]))
    if not picked and not written:
        return None
    return History("week zero", written + list(cands), frozenset(c.arxiv_id for c in picked + written))


_EXAMPLE = Candidate("example", 1, "", "", (), "", (), datetime.min, datetime.min)


def _model(view: str):
    """The unfitted model of a view (taste_store.py rebuilds fitted ones from their arrays)."""
    if view == "tfidf":
        # liblinear's dual solver: the same optimum (the same top 40 on the editor weeks), three times
        # faster with a million word columns and 60,000 papers
        return make_pipeline(TfidfTransformer(sublinear_tf=True),
                             LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear", dual=True))
    if view == "embedding":
        return LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000)
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000))


def _train_inputs(view, embedder, known, weeks):
    if view == "tfidf":
        return sparse.vstack([features.word_counts(w.candidates, embedder.cache_dir) for w in weeks]).tocsr()
    if view == "embedding":
        return np.vstack([embedder.embed([features.text_of(c) for c in w.candidates]) for w in weeks])
    # An author's earlier picks, not the pick being learned: count each paper's own authors out.
    rows = []
    for week in weeks:
        own = features.picked_authors(c for c in week.candidates if c.arxiv_id in week.picks)
        earlier = {a: n - own.get(a, 0) for a, n in known.items()}
        rows.append(features.metadata(week.candidates, earlier, week.upvotes))
    return np.vstack(rows)


def _inputs(view: str, cands: list[Candidate], embedder: Embedder, known: dict[str, int],
            upvotes: dict[str, int] | None = None):
    if view == "tfidf":
        return features.word_counts(cands, embedder.cache_dir)
    if view == "embedding":
        return embedder.embed([features.text_of(c) for c in cands])
    return features.metadata(cands, known, upvotes)


def semantic_weight(taste: LearnedTaste | None) -> float:
    """How much the prior (the profile's words and what readers upvoted, prior.py) counts against
    the learned views: all of it without a history, fading as weeks accrue (1 at PRIOR_WEEKS
    weeks, 0.25 at four times as many), like a prior the evidence outweighs (docs/ranking.md has
    the figures behind it)."""
    return 1.0 if taste is None else min(1.0, PRIOR_WEEKS / max(1, taste.weeks))


def blend(cands: list[Candidate], taste: LearnedTaste | None, description: str, embedder: Embedder,
          words: float | None = None, upvotes: dict[str, int] | None = None, fusion: str = FUSION,
          popularity: float | None = None) -> np.ndarray:
    """The stage-1 score of each candidate: the learned views (the week's `upvotes` among the
    metadata's columns), the prior (prior.prior) weighted by `words` (default:
    semantic_weight(taste)) and log upvotes weighted by `popularity` (default: popularity_weight);
    see fuse()."""
    views = taste.view_scores(cands, embedder, upvotes) if taste is not None else {}
    words = semantic_weight(taste) if words is None else words
    before, upvoted = prior.prior(cands, description, embedder, upvotes) if words else (None, False)
    popularity = popularity_weight(taste, upvoted) if popularity is None else popularity
    return fuse(len(cands), views, before, words, log_upvotes(cands, upvotes), popularity, fusion)


def popularity_weight(taste: LearnedTaste | None, in_prior: bool = False) -> float:
    """The weight of z(log upvotes) outside the learned views: none once the taste learned
    upvotes from its history or the prior holds them (`in_prior`), NO_HISTORY_POPULARITY otherwise
    (a week with too few listed papers to learn from; chosen on the replay, docs/ranking.md)."""
    return 0.0 if in_prior or (taste is not None and taste.upvote_weeks) else NO_HISTORY_POPULARITY


def log_upvotes(cands: list[Candidate], upvotes: dict[str, int] | None) -> np.ndarray | None:
    """log(1 + upvotes) of each candidate (0 when not listed), shape (len(cands),); None when the
    week's upvotes are not known."""
    return None if upvotes is None else features.popularity(cands, upvotes)[:, 0]


def fuse(n: int, views: dict[str, np.ndarray], before: np.ndarray | None, words: float,
         log_upvotes: np.ndarray | None, popularity: float = 0.0, fusion: str = "z",
         weights: dict[str, float] | None = None) -> np.ndarray:
    """Late fusion of the scores of `n` candidates: each learned view times its weight (`weights`, default
    WEIGHTS), the prior (or the profile similarity) `before` times `words`, and log upvotes times
    `popularity`. `fusion` "z" sums within-week z-scores, "rrf" (the product's, FUSION) sums the
    same weights times 1 / (RRF_K + rank)."""
    weights = weights or WEIGHTS
    terms = [(weights[view], values) for view, values in views.items()]
    if before is not None:
        terms.append((words, before))
    if log_upvotes is not None:
        terms.append((popularity, log_upvotes))
    fused = prior.standardised if fusion == "z" else reciprocal_ranks
    total = np.zeros(n)
    for weight, values in terms:
        if weight:
            total = total + weight * fused(values)
    return total


def reciprocal_ranks(values: np.ndarray) -> np.ndarray:
    """1 / (RRF_K + rank) of each value, rank 1 the highest; ties share the best rank."""
    ranks = len(values) - np.searchsorted(np.sort(values), values, side="right") + 1
    return 1.0 / (RRF_K + ranks)


def fit_cached(weeks: Sequence[History], embedder: Embedder, cache_dir: Path | None) -> LearnedTaste | None:
    """fit(), reused while the history is the same: the key is every week's candidates, picks,
    papers seen and upvotes, so a merged digest that adds or edits a week retrains the taste. The
    entry holds arrays and JSON (taste_store.py); a damaged one is a warning naming it and a refit."""
    if cache_dir is None:
        return fit(weeks, embedder)
    key = sha256_text(repr((MODEL_VERSION, [(w.name, sorted(c.arxiv_id for c in w.candidates), sorted(w.picks),
                                             sorted(w.seen), sorted((w.upvotes or {}).items()), w.upvotes is None)
                                            for w in weeks])))
    path = cache_dir / "taste" / f"{key}.npz"
    stored = read_back(path, lambda data: taste_store.load(data, LearnedTaste, _model, embedder), "cached taste")
    if stored is not None:
        return stored
    taste = fit(weeks, embedder)
    if taste is not None:
        write_atomic(path, taste_store.dump(taste))
    return taste
