"""Shortlist: a cheap score for every candidate, then the LLM compares the best of them.

Stage 1 spends no LLM tokens: lexical relevance to the editor's profile, code available,
breadth of cross-listing. Stage 2 sends the shortlist to the LLM in batches with a written
rubric and keeps the validated scores and one-line reasons. Paper text only ever reaches the
LLM as data, and only the ids of the batch are accepted back, so an abstract cannot promote
itself or another paper.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field

from flows import prompts
from flows.candidates import Candidate
from flows.config import PROMPTS_DIR
from flows.errors import ConfigError, LLMError

log = logging.getLogger(__name__)

RANK_BATCH = 10


class Profile(BaseModel):
    """The editor's profile (prompts/profile.toml): what the digest covers and for whom."""

    name: str
    tagline: str
    audience: str
    covers: str
    topics: dict[str, float]
    exclude: list[str] = []
    core_categories: list[str] = []

    @classmethod
    def load(cls, path: Path = PROMPTS_DIR / "profile.toml") -> Profile:
        try:
            return cls(**tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
            raise ConfigError(f"editor profile {path}: {exc}") from None

    @cached_property
    def _topic_patterns(self) -> list[tuple[re.Pattern, float]]:
        return [(re.compile(rf"\b{re.escape(t.lower())}s?\b"), w) for t, w in self.topics.items()]

    def relevance(self, text: str) -> float:
        text = text.lower()
        return sum(w * math.log1p(len(p.findall(text))) for p, w in self._topic_patterns)

    def excluded(self, text: str) -> bool:
        text = text.lower()
        return any(word.lower() in text for word in self.exclude)


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    cheap: float
    llm: float | None = None
    reason: str = ""

    def to_json(self) -> dict:
        return {"cheap_score": round(self.cheap, 3), "llm_score": self.llm, "reason": self.reason,
                **self.candidate.to_json()}


@dataclass
class Ranking:
    """The shortlist in final order, plus what the ranking could not do."""

    ranked: list[Scored]
    scored: list[Scored]  # every candidate, cheap score order
    flags: list[str] = field(default_factory=list)

    def picks(self, k: int) -> list[Scored]:
        return self.ranked[:k]

    def runners_up(self, k: int) -> list[Scored]:
        return self.ranked[k : 2 * k]


def cheap_score(cand: Candidate, profile: Profile) -> float:
    """Relevance to the profile (title counts thrice), code, cross-listing; no LLM."""
    text = f"{cand.title} {cand.title} {cand.title} {cand.abstract}"
    score = profile.relevance(text)
    score += 1.5 if cand.code_links else 0.0
    score += min(1.0, 0.3 * (len(cand.categories) - 1))
    if profile.core_categories and not set(cand.categories) & set(profile.core_categories):
        score *= 0.3
    if profile.excluded(f"{cand.title} {cand.abstract} {cand.comment}"):
        score -= 10.0
    return score


def score_all(candidates: list[Candidate], profile: Profile) -> list[Scored]:
    scored = [Scored(c, cheap_score(c, profile)) for c in candidates]
    return sorted(scored, key=lambda s: (-s.cheap, s.candidate.arxiv_id))


class RankItem(BaseModel):
    id: str
    score: float = Field(ge=0, le=10)
    reason: str = Field(max_length=400)


class RankAnswer(BaseModel):
    rankings: list[RankItem]


def rank(scored: list[Scored], profile: Profile, llm, size: int) -> Ranking:
    """The LLM scores the top `size` by cheap score; papers it could not score keep their place behind."""
    shortlist = scored[:size]
    ranking = Ranking(ranked=list(shortlist), scored=scored)
    if llm.offline:
        ranking.flags.append("The offline model cannot rank papers: the order comes from the cheap "
                             "scores alone (keyword relevance to the profile, code, cross-listing).")
        return ranking
    system = prompts.render("rank_system.j2", profile=profile)
    llm_scored: dict[str, RankItem] = {}
    for start in range(0, len(shortlist), RANK_BATCH):
        batch = [s.candidate for s in shortlist[start : start + RANK_BATCH]]
        llm_scored.update(_rank_batch(batch, system, llm, ranking.flags))
    ranking.ranked = _order(shortlist, llm_scored)
    return ranking


def _rank_batch(batch: list[Candidate], system: str, llm, flags: list[str]) -> dict[str, RankItem]:
    messages = [{"role": "system", "content": system},
                {"role": "user", "content": prompts.render("rank_user.j2", papers=batch)}]
    ids = {c.arxiv_id for c in batch}
    try:
        answer = llm.complete_json("rank", messages, RankAnswer)
    except LLMError as exc:
        flags.append(f"Ranking batch of {len(batch)} papers ({', '.join(sorted(ids))}) fell back to "
                     f"cheap scores: {exc.message}")
        return {}
    items = {item.id.strip(): item for item in answer.rankings if item.id.strip() in ids}
    missing = ids - items.keys()
    if missing:
        flags.append(f"The LLM did not score {', '.join(sorted(missing))}; they keep their cheap-score place.")
    return items


def _order(shortlist: list[Scored], llm_scored: dict[str, RankItem]) -> list[Scored]:
    judged = [replace(s, llm=llm_scored[s.candidate.arxiv_id].score,
                      reason=llm_scored[s.candidate.arxiv_id].reason)
              for s in shortlist if s.candidate.arxiv_id in llm_scored]
    unjudged = [s for s in shortlist if s.candidate.arxiv_id not in llm_scored]
    judged.sort(key=lambda s: (-s.llm, -s.cheap, s.candidate.arxiv_id))
    return judged + unjudged
