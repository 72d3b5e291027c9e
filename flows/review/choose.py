"""Choosing the ten: a first order from the signals, then the LLM's tournament.

The first order adds, in within-period standard deviations, the learned taste blended with the
profile's words and readers' upvotes (flows/shortlist: score_all), the editor's own order
within each week (their paper 1 of 5 scores 1, their paper 5 scores 0.2) and the citations of
a paper by later picks of the period where their text shows them (its arXiv id or its full
title in a later pick's abstract, the editor's text of it, or its PDF text when a weekly run
left it in the cache). The LLM then judges the candidates in batches and compares the best
side by side in a final round (flows.shortlist.rank: the weekly tournament, asked for the
period's papers); the offline model cannot judge, so the order is the signals' alone.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from flows import shortlist
from flows.config import Settings
from flows.files import parse_json, read_back
from flows.pdf.paper import extraction_from_json
from flows.review.candidates import YearPick
from flows.shortlist.prior import standardised
from flows.shortlist.ranking import Ranking, Scored

TEN, RUNNERS_UP = 10, 5
ORDER_WEIGHT = 1.0  # the editor's own order within a week, worth one standard deviation of taste
CITATION_WEIGHT = 1.0  # per log(1 + citing later picks)
TOURNAMENT_SIZE = 60  # entrants of the LLM's rounds, best first order first; the rest keep that order
MIN_TITLE_WORDS = 4  # a shorter title ("Attention") is found in too many texts to count as a citation


@dataclass(frozen=True)
class Signals:
    """One candidate's signals: the parts of its first-order score."""

    taste: float
    editor_order: float
    citations: int

    @property
    def first_order(self) -> float:
        return self.taste + ORDER_WEIGHT * self.editor_order + CITATION_WEIGHT * math.log1p(self.citations)

    def describe(self, pick: YearPick) -> str:
        place = (f"the editor's paper {pick.position} of {pick.of} in {pick.week}" if pick.position
                 else f"an imported pick of {pick.week}")
        cited = f", cited by {self.citations} later pick{'s' * (self.citations != 1)}" if self.citations else ""
        return f"{place}{cited}, taste {self.taste:+.2f}"


@dataclass
class Choice:
    """The tournament's outcome: the ten, five runners-up, every candidate with its signals."""

    ranking: Ranking
    signals: dict[str, Signals]


def choose(picks: list[YearPick], profile, llm, settings: Settings, digests_dir: Path, merged: dict[str, str],
           period_label: str) -> Choice:
    """The ten papers of the period among `picks` (see the module doc); `merged` (week -> merged
    README) and the history feed the learned taste. With fewer than ten candidates all are chosen."""
    embedder = shortlist.Embedder(settings.cache_dir)
    taste = shortlist.editor_taste(settings, digests_dir, merged, period_label, embedder)
    cands = [p.candidate for p in picks]
    upvotes = {p.arxiv_id: p.upvotes for p in picks if p.upvotes}
    taste_z = taste_scores(shortlist.score_all(cands, profile, taste, upvotes, embedder))
    cites = citations(picks, settings.cache_dir / "text")
    signals = {p.arxiv_id: Signals(taste_z.get(p.arxiv_id, 0.0), _order(p), cites.get(p.arxiv_id, 0)) for p in picks}
    scored = sorted((Scored(p.candidate, signals[p.arxiv_id].first_order, p.upvotes) for p in picks),
                    key=lambda s: (-s.cheap, s.candidate.arxiv_id))
    by_id = {p.arxiv_id: p for p in picks}
    ranking = shortlist.rank(scored, profile, llm, min(len(scored), TOURNAMENT_SIZE), TEN, period="year")
    entered = {s.candidate.arxiv_id for s in ranking.ranked}
    ranking.ranked += [s for s in scored if s.candidate.arxiv_id not in entered]
    ranking.scored = scored
    ranking.picks = [_reasoned(s, signals, by_id) for s in ranking.picks]
    ranking.runners_up = [_reasoned(s, signals, by_id) for s in ranking.runners_up[:RUNNERS_UP]]
    return Choice(ranking, signals)


def taste_scores(scored: list[Scored]) -> dict[str, float]:
    """arXiv id -> stage 1's score in standard deviations among the period's candidates (0 for
    the mean): stage 1 fuses by rank, so its raw scores have no scale of their own. A paper stage 1
    left out (an exclusion of the profile) is absent."""
    values = standardised(np.array([s.cheap for s in scored], dtype=float))
    return {s.candidate.arxiv_id: float(v) for s, v in zip(scored, values)}


def citations(picks: list[YearPick], text_cache: Path) -> dict[str, int]:
    """arXiv id -> how many later picks (a later week) cite the paper in the text the tool has
    of them: abstract, the editor's text, and the PDF text a weekly run cached."""
    texts = {p.arxiv_id: _text_of(p, text_cache) for p in picks}
    counts: dict[str, int] = {}
    for cited in picks:
        title = " ".join(cited.candidate.title.lower().split())
        needles = [cited.arxiv_id] + ([title] if len(title.split()) >= MIN_TITLE_WORDS else [])
        counts[cited.arxiv_id] = sum(1 for later in picks if later.week > cited.week
                                     and any(n in texts[later.arxiv_id] for n in needles))
    return counts


def _text_of(pick: YearPick, text_cache: Path) -> str:
    cand = pick.candidate
    cached = read_back(text_cache / f"{cand.versioned_id.replace('/', '_')}.json",
                       lambda data: extraction_from_json(parse_json(data, "cached PDF text")), "cached PDF text")
    body = cached.text.body if cached is not None and cached.text is not None else ""
    return " ".join(re.sub(r"\s+", " ", f"{cand.abstract} {pick.editor_text} {body}").lower().split())


def _order(pick: YearPick) -> float:
    """1 for the editor's first paper of a week down to 1/of for the last; 0.5 when unknown."""
    if not pick.position:
        return 0.5
    return 1 - (pick.position - 1) / max(pick.of, 1)


def _reasoned(scored: Scored, signals: dict[str, Signals], by_id: dict[str, YearPick]) -> Scored:
    """The pick with its reason: the LLM's, then the signals' own words (the offline order has no other)."""
    said = signals[scored.candidate.arxiv_id].describe(by_id[scored.candidate.arxiv_id])
    reason = f"{scored.reason} (signals: {said})" if scored.reason else f"Signals: {said}."
    return replace(scored, reason=reason)
