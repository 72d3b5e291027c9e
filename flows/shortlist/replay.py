"""Replaying an editor's weeks in order: how many of their picks each stage-1 ranker keeps.

The rolling protocol is the product's own situation after each merged digest: week t is
ranked by what was learned from weeks before t only (all of them, or the 4 before it for a
cold start), and recall@k is the share of that week's picks in the ranker's top k.
Figures are means over weeks; one editor's week moves by one pick in ten, so never tune to one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from flows.errors import ConfigError
from flows.shortlist import learned
from flows.shortlist.embeddings import Embedder
from flows.shortlist.learned import History

log = logging.getLogger(__name__)

CUTOFFS = (40, 100, 200, 300)
MIN_HISTORY = 8  # weeks of history before a week counts in the "history" table
COLD_WEEKS = 4


@dataclass
class Tally:
    """One ranker over the replayed weeks: recall per week and cutoff, every pick's rank."""

    recalls: dict[int, list[float]] = field(default_factory=lambda: {k: [] for k in CUTOFFS})
    ranks: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, scores: np.ndarray, week: History, seconds: float) -> None:
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], week.candidates[i].arxiv_id))
        position = {week.candidates[i].arxiv_id: rank for rank, i in enumerate(order, start=1)}
        ranks = [position[p] for p in week.picks]
        for k in CUTOFFS:
            self.recalls[k].append(sum(r <= k for r in ranks) / len(ranks))
        self.ranks += ranks
        self.seconds.append(seconds)

    def row(self) -> dict:
        ranks = np.array(self.ranks)
        return {**{f"recall@{k}": float(np.mean(v)) for k, v in self.recalls.items()},
                "median rank": float(np.median(ranks)), "N for 90%": int(np.ceil(np.quantile(ranks, 0.9))),
                "s/week": float(np.mean(self.seconds)), "weeks": len(self.seconds), "picks": len(self.ranks)}


# A ranker: (the week, what was learned before it, when learning began) -> one score per candidate
Ranker = Callable[[History, "Learned"], np.ndarray]


@dataclass
class Learned:
    taste: learned.LearnedTaste | None
    seconds: float
    views: dict[str, np.ndarray]
    score_seconds: float


def replay(weeks: Sequence[History], rankers: dict[str, Ranker], embedder: Embedder,
           history: int | None = None, first: int = MIN_HISTORY) -> dict[str, Tally]:
    """Rank weeks[first:] with each ranker, learning from the `history` weeks before each one
    (all earlier weeks when None); weeks without picks are skipped."""
    tallies = {name: Tally() for name in rankers}
    for t in range(first, len(weeks)):
        week = weeks[t]
        if not week.picks:
            continue
        past = weeks[:t] if history is None else weeks[max(0, t - history):t]
        began = time.perf_counter()
        taste = learned.fit(past, embedder)
        fitted = time.perf_counter() - began
        began = time.perf_counter()
        views = taste.view_scores(week.candidates, embedder) if taste else {}
        got = Learned(taste, fitted, views, time.perf_counter() - began)
        log.info("%s: learned from %d weeks in %.1f s", week.name, len(past), fitted)
        for name, ranker in rankers.items():
            began = time.perf_counter()
            scores = ranker(week, got)
            tallies[name].add(scores, week, time.perf_counter() - began + _learning_seconds(name, got))
    return tallies


def _learning_seconds(name: str, got: Learned) -> float:
    """What learning cost a ranker: its own view's fit, or all of them for a blend."""
    seconds = got.taste.seconds if got.taste else {}
    view = name.removeprefix("learned ")
    if view in seconds:
        return seconds[view] + got.score_seconds / max(1, len(seconds))
    return got.seconds + got.score_seconds if name.startswith("blend") else 0.0


def table(tallies: dict[str, Tally]) -> str:
    """A fixed-width table: one row per ranker."""
    head = (f"{'ranker':<32} {'weeks':>5} {'picks':>5} " + " ".join(f"{'R@' + str(k):>6}" for k in CUTOFFS)
            + f" {'median rank':>11} {'N for 90%':>9} {'s/week':>7}")
    lines = [head]
    for name, tally in tallies.items():
        if not tally.ranks:
            continue
        r = tally.row()
        lines.append(f"{name:<32} {r['weeks']:>5} {r['picks']:>5} "
                     + " ".join(f"{r[f'recall@{k}']:>6.3f}" for k in CUTOFFS)
                     + f" {r['median rank']:>11.0f} {r['N for 90%']:>9} {r['s/week']:>7.2f}")
    return "\n".join(lines)


def rankers(profile, embedder: Embedder) -> dict[str, Ranker]:
    """Every stage-1 ranker the eval compares, by the name it prints: today's keyword score,
    each learned view alone, the profile's words alone, and the blends."""
    from flows.shortlist.ranking import cheap_score

    def keyword(week: History, got: Learned) -> np.ndarray:
        return np.array([cheap_score(c, profile) for c in week.candidates])

    def view(name: str) -> Ranker:
        return lambda week, got: got.views.get(name, np.zeros(len(week.candidates)))

    def blend(words: float | None) -> Ranker:
        return lambda week, got: learned.blend(week.candidates, got.taste, profile.description, embedder, words)

    def with_keyword(week: History, got: Learned) -> np.ndarray:
        return blend(None)(week, got) + learned.standardised(keyword(week, got))

    return {"keyword score (topics)": keyword, "profile words (semantic)": _semantic(profile, embedder),
            **{f"learned {name}": view(name) for name in learned.VIEWS},
            "blend (learned views)": blend(0.0), "blend + profile words (product)": blend(None),
            "blend + words + keywords": with_keyword}


def _semantic(profile, embedder: Embedder) -> Ranker:
    return lambda week, got: learned.semantic(week.candidates, profile.description, embedder)


def report(weeks: Sequence[History], profile, embedder: Embedder) -> str:
    """Both tables of `top5 eval`: learning from every earlier week (from week MIN_HISTORY + 1
    on, or from the second week when there are fewer), and a cold start from the COLD_WEEKS
    before each week. Raises ConfigError when fewer than two weeks have picks."""
    weeks = [w for w in weeks if w.picks]
    if len(weeks) < 2:
        raise ConfigError(f"nothing to evaluate: {len(weeks)} week(s) with the editor's picks "
                          "(need two: one to learn from, one to measure)")
    chosen = rankers(profile, embedder)
    first = min(MIN_HISTORY, len(weeks) - 1)
    cold = min(COLD_WEEKS, len(weeks) - 1)
    full_table = table(replay(weeks, chosen, embedder, history=None, first=first))
    cold_table = table(replay(weeks, chosen, embedder, history=cold, first=cold))
    return (f"History: every earlier week (weeks {first + 1}-{len(weeks)} of {len(weeks)} measured)\n{full_table}\n\n"
            f"Cold start: only the {cold} weeks before (weeks {cold + 1}-{len(weeks)} measured)\n{cold_table}")
