"""Replaying an editor's weeks in order: how many of their picks each stage-1 ranker keeps.

The rolling protocol is the product's own situation after each merged digest: week t is
ranked by what was learned from weeks before t only (all of them, or the 4 before it for a
cold start), and recall@k is the share of that week's picks in the ranker's top k.
Figures are means over weeks; one editor's week moves by one pick in ten, so never tune to one.
"""

from __future__ import annotations

import logging
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np

from flows.candidates.candidate import split_version
from flows.errors import ConfigError
from flows.shortlist import learned, popularity, prior
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


# A ranker: (the week, what was learned before it) -> one score per candidate
Ranker = Callable[[History, "Learned"], np.ndarray]


@dataclass
class Learned:
    """What a week's rankers share: the taste learned before it, its views' scores of the week,
    the profile similarity, the prior (prior.prior) and whether upvotes are in it, and log
    upvotes (None when the week's upvotes are not known)."""

    taste: learned.LearnedTaste | None
    seconds: float
    views: dict[str, np.ndarray]
    score_seconds: float
    similarity: np.ndarray | None = None
    log_upvotes: np.ndarray | None = None
    before: np.ndarray | None = None
    upvotes_in_prior: bool = False
    unpopular: dict[str, np.ndarray] = field(default_factory=dict)  # the views with nobody listed


def replay(weeks: Sequence[History], rankers: dict[str, Ranker], embedder: Embedder,
           history: int | None = None, first: int = MIN_HISTORY, description: str = "") -> dict[str, Tally]:
    """Rank weeks[first:] with each ranker, learning from the `history` weeks before each one
    (all earlier weeks when None, none at all when 0); weeks without picks are skipped."""
    tallies = {name: Tally() for name in rankers}
    for t in range(first, len(weeks)):
        week = weeks[t]
        if not week.picks:
            continue
        past = weeks[:t] if history is None else weeks[max(0, t - history):t] if history else []
        began = time.perf_counter()
        taste = learned.fit(past, embedder) if past else None
        fitted = time.perf_counter() - began
        began = time.perf_counter()
        views = taste.view_scores(week.candidates, embedder, week.upvotes) if taste else {}
        before, upvotes_in_prior = prior.prior(week.candidates, description, embedder, week.upvotes)
        got = Learned(taste, fitted, views, time.perf_counter() - began,
                      similarity=prior.semantic(week.candidates, description, embedder),
                      log_upvotes=learned.log_upvotes(week.candidates, week.upvotes),
                      unpopular=taste.view_scores(week.candidates, embedder, {}) if taste and week.upvotes else views,
                      before=before, upvotes_in_prior=upvotes_in_prior)
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
    """A fixed-width table: one row per ranker; `R@40 a`/`b` are recall@40 over the first and
    the second half of the weeks measured (weights are chosen on a, b is what holds); "-" for a
    half without weeks (one week measured leaves a empty)."""
    head = (f"{'ranker':<40} {'weeks':>5} {'picks':>5} " + " ".join(f"{'R@' + str(k):>6}" for k in CUTOFFS)
            + f" {'R@40 a':>6} {'R@40 b':>6} {'median rank':>11} {'N for 90%':>9} {'s/week':>7}")
    lines = [head]
    for name, tally in tallies.items():
        if not tally.ranks:
            continue
        r, half = tally.row(), len(tally.recalls[40]) // 2
        a, b = (f"{np.mean(part):>6.3f}" if part else f"{'-':>6}"
                for part in (tally.recalls[40][:half], tally.recalls[40][half:]))
        lines.append(f"{name:<40} {r['weeks']:>5} {r['picks']:>5} "
                     + " ".join(f"{r[f'recall@{k}']:>6.3f}" for k in CUTOFFS)
                     + f" {a} {b} {r['median rank']:>11.0f} {r['N for 90%']:>9} {r['s/week']:>7.2f}")
    return "\n".join(lines)


POPULARITY_GRID = (0.25, 0.5, 1.0, 2.0)  # weights of log upvotes tried without a history


def _fused(words: float | None = None, popularity: float | None = None, fusion: str = "z",
           learned_upvotes: bool = True, upvote_prior: bool = True) -> Ranker:
    """A blend as learned.blend makes it; None for `words` or `popularity` means the product's
    weight, `learned_upvotes` False scores the views with nobody listed, `upvote_prior` False
    uses the profile's similarity alone as the prior."""
    def rank(week: History, got: Learned) -> np.ndarray:
        views = got.views if learned_upvotes else got.unpopular
        weight = learned.semantic_weight(got.taste) if words is None else words
        in_prior = upvote_prior and got.upvotes_in_prior
        added = learned.popularity_weight(got.taste, in_prior) if popularity is None else popularity
        before = got.before if upvote_prior else got.similarity
        return learned.fuse(len(week.candidates), views, before, weight, got.log_upvotes, added, fusion)
    return rank


def _view(name: str) -> Ranker:
    return lambda week, got: got.views.get(name, np.zeros(len(week.candidates)))


def rankers(profile, embedder: Embedder, upvotes: bool = False, history: bool = True,
            keywords: dict[str, np.ndarray] | None = None) -> dict[str, Ranker]:
    """Every stage-1 ranker the eval compares, by the name it prints: today's keyword score,
    the profile's words alone, upvotes alone (when `upvotes`), and with a `history` each
    learned view alone and the blends (upvotes learned, added or left out; the profile's words
    without the upvote prior; reciprocal-rank fusion); without one, the profile's words with log
    upvotes at each weight of POPULARITY_GRID, and the prior with and without added upvotes. The
    product's row ends in "(product)". `keywords` keeps the keyword scores per week between calls."""
    from flows.shortlist.ranking import cheap_score

    keywords = {} if keywords is None else keywords

    def keyword(week: History, got: Learned) -> np.ndarray:
        if week.name not in keywords:
            keywords[week.name] = np.array([cheap_score(c, profile) for c in week.candidates])
        return keywords[week.name]

    chosen: dict[str, Ranker] = {"keyword score (topics)": keyword,
                                 "profile words (semantic)": lambda week, got: got.similarity}
    if upvotes:
        chosen["upvotes alone (log)"] = lambda week, got: got.log_upvotes
    return chosen | (_learned_rankers(upvotes) if history else _new_user_rankers(upvotes))


def _new_user_rankers(upvotes: bool) -> dict[str, Ranker]:
    chosen = {f"words + upvotes x{weight:g}": _fused(popularity=weight, upvote_prior=False)
              for weight in (POPULARITY_GRID if upvotes else ())}
    if upvotes:
        chosen["words + upvotes, reciprocal-rank fusion"] = _fused(fusion="rrf", upvote_prior=False)
        chosen["prior + upvotes x0.5 (added)"] = _fused(popularity=learned.NO_HISTORY_POPULARITY)
    chosen["profile words + upvote prior (product)" if upvotes else "profile words (product)"] = _fused(
        fusion=learned.FUSION)
    return chosen


def _learned_rankers(upvotes: bool) -> dict[str, Ranker]:
    chosen = {f"learned {name}": _view(name) for name in learned.VIEWS}
    chosen["blend (learned views)"] = _fused(words=0.0)
    if upvotes:
        chosen["blend + words, upvotes left out"] = _fused(popularity=0.0, learned_upvotes=False, upvote_prior=False)
        for weight in POPULARITY_GRID[:3]:
            chosen[f"blend + words + upvotes x{weight:g} (added)"] = _fused(popularity=weight, learned_upvotes=False,
                                                                           upvote_prior=False)
        chosen["blend + profile words, no upvote prior"] = _fused(upvote_prior=False)
        chosen["blend, upvotes not learned, + prior"] = _fused(learned_upvotes=False)  # an imported archive
    chosen["blend + prior, z-score sum"] = _fused(fusion="z")
    chosen["blend + prior, rank fusion (product)"] = _fused(fusion=learned.FUSION)
    return chosen


def _with_examples(profile, embedder: Embedder, examples: list[str], upvotes: bool) -> dict[str, Ranker]:
    """The product without a history, without and with `examples` as the picks of a week zero."""
    from flows.shortlist.ranking import score_all

    def product(profile) -> Ranker:
        def rank(week: History, got: Learned) -> np.ndarray:
            by_id = {s.candidate.arxiv_id: s.cheap for s in score_all(week.candidates, profile, None,
                                                                       week.upvotes, embedder)}
            return np.array([by_id.get(c.arxiv_id, -np.inf) for c in week.candidates])
        return rank

    return {"no examples (product)": product(profile.model_copy(update={"examples": []})),
            "examples as week zero (product)": product(profile.model_copy(update={"examples": examples}))}


def with_upvotes(weeks: Sequence[History], featured: Sequence[popularity.Featured]) -> list[History]:
    """`weeks` with the upvotes of their candidates that were featured by the week's Sunday plus
    ANNOUNCEMENT_LAG, as a Monday run would see them (weeks named YYYY-Www). A week the file's
    first..last date does not reach (its Monday after the last, its cutoff before the first) keeps
    upvotes None, unknown (not {}, known zeros); one warning says how many."""
    if not featured:
        return list(weeks)
    by_id: dict[str, list[popularity.Featured]] = {}
    for row in featured:
        by_id.setdefault(split_version(row.id)[0], []).append(row)
    first, last = min(r.date for r in featured), max(r.date for r in featured)
    out, outside = [], []
    for week in weeks:
        year, number = (int(part) for part in week.name.split("-W"))
        cutoff = date.fromisocalendar(year, number, 7) + popularity.ANNOUNCEMENT_LAG
        if cutoff < first or date.fromisocalendar(year, number, 1) > last:
            outside.append(week.name)
            out.append(replace(week, upvotes=None))
            continue
        seen = {c.arxiv_id: max(r.upvotes for r in by_id[c.arxiv_id] if r.date <= cutoff) for c in week.candidates
                if any(r.date <= cutoff for r in by_id.get(c.arxiv_id, ()))}
        out.append(replace(week, upvotes=seen))
    if outside:
        log.warning("upvotes file covers %s to %s: %d weeks outside it have no upvotes known (%s)",
                    first, last, len(outside), ", ".join(outside))
    return out


def report(weeks: Sequence[History], profile, embedder: Embedder, examples: bool = True) -> str:
    """The three tables of `top5 eval`: learning from every earlier week (from week
    MIN_HISTORY + 1 on, or from the second week when there are fewer), a cold start from the
    COLD_WEEKS before each week, and no history at all (a new user: profile words and upvotes,
    every week measured), and unless `examples` is False a new user whose profile's examples are the
    first week's picks. Raises ConfigError when fewer than two weeks have picks."""
    weeks = [w for w in weeks if w.picks]
    if len(weeks) < 2:
        raise ConfigError(f"nothing to evaluate: {len(weeks)} week(s) with the editor's picks "
                          "(need two: one to learn from, one to measure)")
    upvotes = any(w.upvotes is not None for w in weeks)
    keywords: dict[str, np.ndarray] = {}
    with_history = rankers(profile, embedder, upvotes, keywords=keywords)
    without = rankers(profile, embedder, upvotes, history=False, keywords=keywords)
    first, cold = min(MIN_HISTORY, len(weeks) - 1), min(COLD_WEEKS, len(weeks) - 1)
    words = profile.description
    tables = [
        (f"History: every earlier week (weeks {first + 1}-{len(weeks)} of {len(weeks)} measured)",
         replay(weeks, with_history, embedder, history=None, first=first, description=words)),
        (f"Cold start: only the {cold} weeks before (weeks {cold + 1}-{len(weeks)} measured)",
         replay(weeks, with_history, embedder, history=cold, first=cold, description=words)),
        (f"No history: the profile's words{' and upvotes' if upvotes else ''} (weeks 1-{len(weeks)} measured)",
         replay(weeks, without, embedder, history=0, first=0, description=words)),
    ]
    liked = [c.title for c in weeks[0].candidates if c.arxiv_id in weeks[0].picks]
    if examples:
        tables.append((f"A new user who wrote the {len(liked)} titles the editor picked in {weeks[0].name} as the "
                       f"profile's examples (weeks 2-{len(weeks)} measured)",
                       replay(weeks, _with_examples(profile, embedder, liked, upvotes), embedder, history=0, first=1,
                              description=words)))
    note = ("" if upvotes else "\n(no upvotes given: --upvotes FILE replays the popularity signal)")
    return "\n\n".join(f"{title}\n{table(tallies)}" for title, tallies in tables) + note


def upvotes_from(path: str | None, weeks: list[History]) -> list[History]:
    """`weeks` with the upvotes of the JSONL file at `path` (`top5 eval --upvotes`), or as they
    are when `path` is None; the lines ignored are logged as one warning naming the file.
    Raises ConfigError naming the file when it is not there, is a folder, or no line of it is an
    upvote row; a pipe is read like a file (`--upvotes <(zcat upvotes.jsonl.gz)`)."""
    if path is None:
        return weeks
    if not path or not Path(path).exists():  # Path("") is the working folder
        raise ConfigError(f"upvotes file {path!r}: no such file (--upvotes takes a JSONL file)")
    kind = Path(path).stat().st_mode
    if not (stat.S_ISREG(kind) or stat.S_ISFIFO(kind)):
        what = "a folder" if stat.S_ISDIR(kind) else "a device or socket"
        raise ConfigError(f"upvotes file {path!r}: {what}, not a file (--upvotes takes a JSONL file)")
    featured, ignored = popularity.read_featured(Path(path))
    if not featured:
        raise ConfigError(f"upvotes file {path}: no line of it is {{\"id\", \"date\", \"upvotes\"}} "
                          f"({ignored} lines ignored)")
    if ignored:
        log.warning("upvotes file %s: %d lines ignored (not JSON, or values that are no arXiv id, date "
                    "or count)", path, ignored)
    return with_upvotes(weeks, featured)
