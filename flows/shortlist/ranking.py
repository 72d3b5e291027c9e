"""Shortlist: a cheap score for every candidate, then the LLM compares the best of them.

Stage 1 spends no LLM tokens: the editor's taste learned from their history (learned.py) and
the profile's plain words, every candidate; exclusions leave here. Stage 2 screens the titles
of stage 1's top few hundred (screen.py). Stage 3 sends the shortlist's abstracts to the LLM in
batches with a written rubric and keeps the validated scores and one-line reasons. Paper text only ever reaches the
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
from flows.candidates.candidate import Candidate
from flows.config import PROMPTS_DIR
from flows.errors import ConfigError, LLMError
from flows.guard import guard
from flows.llm import sent_id
from flows.shortlist import learned, screen
from flows.shortlist.embeddings import Embedder
from flows.shortlist.learned import LearnedTaste

log = logging.getLogger(__name__)

RANK_BATCH = 10
FINAL_ROUND = 12  # the best dozen are compared side by side
MAX_PER_TOPIC = 2  # the five picks are not five papers on one topic
DEFAULT_PROFILE = PROMPTS_DIR / "profile.toml"
UPVOTED_SCREENED = 20  # the week's most upvoted papers always reach the title screen (_screen_entrants)
DISAGREEMENT = 4.0  # points (of 10) the two readings of a paper may differ by (see _Judge)


class Profile(BaseModel):
    """The editor's profile (prompts/profile.toml): what the digest covers and for whom."""

    name: str
    tagline: str
    audience: str
    covers: str
    topics: dict[str, float]
    exclude: list[str] = []  # words or phrases: a paper containing one (as whole words) is left out
    core_categories: list[str] = []
    examples: list[str] = []  # a line each (a title or an arXiv id) on papers the editor liked: picks of a week zero

    @property
    def description(self) -> str:
        """What the digest covers in plain words, and the examples: the text stage 1 embeds to
        find what is close to the editor's interests before there is a history to learn from."""
        return "\n".join([self.covers.strip(), *self.examples])

    @classmethod
    def load(cls, path: Path | None = None) -> Profile:
        """The profile at `path` (Settings.profile: --profile or TOP5_PROFILE), by default
        prompts/profile.toml. ConfigError naming the file when it is missing or invalid."""
        path = Path(path or DEFAULT_PROFILE)
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

    def main_topic(self, text: str) -> str | None:
        """The profile topic that weighs most in `text`, or None when none appears."""
        text = text.lower()
        weights = {t: w * len(p.findall(text)) for (p, w), t in zip(self._topic_patterns, self.topics)}
        best = max(weights, key=weights.get, default=None)
        return best if best is not None and weights[best] > 0 else None

    @cached_property
    def _exclusion(self) -> re.Pattern | None:
        phrases = [r"\s+".join(map(re.escape, p.split())) for p in self.exclude if p.strip()]
        return re.compile(rf"(?<!\w)(?:{'|'.join(phrases)})(?!\w)", re.IGNORECASE) if phrases else None

    def excluded(self, text: str) -> bool:
        """Whether `text` holds an exclusion as whole words, any case ("GAN" is not in "organ")."""
        return bool(self._exclusion and self._exclusion.search(text))


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    cheap: float
    upvotes: int | None = None  # Hugging Face daily papers, when the signal was there
    llm: float | None = None
    reason: str = ""

    def to_json(self) -> dict:
        return {"cheap_score": round(self.cheap, 6), "upvotes": self.upvotes, "llm_score": self.llm,
                "reason": self.reason, **self.candidate.to_json()}


@dataclass
class Ranking:
    """The shortlist in final order, the picks and runners-up, and what ranking could not do."""

    ranked: list[Scored]
    scored: list[Scored]  # every candidate, cheap score order
    picks: list[Scored] = field(default_factory=list)
    runners_up: list[Scored] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def cheap_score(cand: Candidate, profile: Profile, upvotes: int = 0) -> float:
    """The keyword score: the profile's weighted topics in the text (title counts thrice),
    readers' upvotes, code, cross-listing. Stage 1 before the learned taste, kept as the
    baseline `top5 eval` measures against (docs/ranking.md)."""
    text = f"{cand.title} {cand.title} {cand.title} {cand.abstract}"
    score = profile.relevance(text) + 0.75 * math.log1p(upvotes)
    score += 1.5 if cand.code_links else 0.0
    score += min(1.0, 0.3 * (len(cand.categories) - 1))
    if profile.core_categories and not set(cand.categories) & set(profile.core_categories):
        score *= 0.3
    return score


def score_all(candidates: list[Candidate], profile: Profile, taste: LearnedTaste | None = None,
              upvotes: dict[str, int] | None = None, embedder: Embedder | None = None) -> list[Scored]:
    """Stage 1, every candidate, no LLM: the learned taste fused with the prior (the profile's
    words and, when that signal was there, `upvotes` not None, how much a paper reads like this
    week's upvoted ones; learned.blend: a sum of weights times 1 / (60 + rank), about 0 to 0.05). Papers holding an exclusion of the profile are left out.
    Without a history, the profile's examples are the picks of a week zero (learned.week_zero).
    Best first."""
    kept = [c for c in candidates if not profile.excluded(f"{c.title} {c.abstract} {c.comment}")]
    embedder = embedder or Embedder()
    zero = learned.week_zero(profile.examples, kept) if taste is None else None
    if zero is not None:
        taste = learned.fit([zero], embedder, views=learned.WEEK_ZERO_VIEWS)
    words = 1.0 if zero is not None else None  # a week of examples does not fade the profile's words
    values = learned.blend(kept, taste, profile.description, embedder, words, upvotes)
    scored = [Scored(c, float(v), (upvotes or {}).get(c.arxiv_id)) for c, v in zip(kept, values)]
    return sorted(scored, key=lambda s: (-s.cheap, s.candidate.arxiv_id))


class RankItem(BaseModel):
    id: str
    score: float = Field(ge=0, le=10)
    reason: str = Field(max_length=400)


class RankAnswer(BaseModel):
    rankings: list[RankItem]


def rank(scored: list[Scored], profile: Profile, llm, size: int, top_k: int = 5,
         screen_size: int = 0, period: str = "week") -> Ranking:
    """The LLM screens the titles of the top `screen_size` by stage-1 score and keeps `size`
    (none when `screen_size` <= `size`), scores their abstracts in batches, then compares the
    best dozen together, so the order does not depend on which batch a paper landed in. Papers
    it could not score keep their earlier place behind the judged ones; papers whose two
    readings disagree (see `_Judge`) go to the end. `period` names what the picks are the best
    of in the judge's prompt ("week"; a review says "year")."""
    flags: list[str] = []
    shortlist = scored[:size] if llm.offline else _screened(scored, profile, llm, size, screen_size, flags)
    ranking = Ranking(ranked=list(shortlist), scored=scored, flags=flags)
    distrusted: list[Scored] = []
    ranking.flags += [f"{s.candidate.arxiv_id}: its title or abstract addresses an AI model; that text "
                      "was removed before ranking." for s in shortlist if injected(s.candidate)]
    if llm.offline:
        ranking.flags.append("The offline model cannot rank papers: the order comes from the cheap scores "
                             "alone (the taste learned from the editor's history and the profile's words).")
    else:
        judge = _Judge(profile, llm, ranking.flags, period)
        judged: dict[str, RankItem] = {}
        for start in range(0, len(shortlist), RANK_BATCH):
            judged.update(judge.batch([s.candidate for s in shortlist[start : start + RANK_BATCH]]))
        ranking.ranked = _order(shortlist, judged)
        if len(judged) > 1:
            ranking.ranked = _final_round(ranking.ranked, judge)
        distrusted = [s for s in ranking.ranked if s.candidate.arxiv_id in judge.distrusted]
        ranking.ranked = [s for s in ranking.ranked if s not in distrusted] + distrusted
    trusted = [s for s in ranking.ranked if s not in distrusted]
    ranking.picks, ranking.runners_up = pick_diverse(trusted, profile, top_k)
    ranking.picks += distrusted[: top_k - len(ranking.picks)]  # a week too small to leave them out
    return ranking


def _screened(scored: list[Scored], profile: Profile, llm, size: int, screen_size: int,
              flags: list[str]) -> list[Scored]:
    """The `size` papers the title screen keeps of stage 1's top `screen_size`."""
    wide = _screen_entrants(scored, screen_size)
    if len(wide) <= size:
        return scored[:size]
    titles = screen.screen_titles([guarded(s.candidate) for s in wide], profile, llm, flags)
    by_id = {s.candidate.arxiv_id: s for s in wide}
    return [by_id[i] for i in screen.combined_order(list(by_id), titles)[:size]]


def _screen_entrants(scored: list[Scored], screen_size: int) -> list[Scored]:
    """Stage 1's top `screen_size`, and the week's UPVOTED_SCREENED most upvoted papers wherever
    stage 1 placed them: readers' count is no term of stage 1 (added, it lowered recall@40 with a
    history and from a cold start on the editor weeks), but a paper they upvoted most is never kept
    out of the LLM's sight."""
    wide = scored[:screen_size]
    seen = {s.candidate.arxiv_id for s in wide}
    most = sorted((s for s in scored if s.upvotes), key=lambda s: (-s.upvotes, s.candidate.arxiv_id))
    return wide + [s for s in most[:UPVOTED_SCREENED] if s.candidate.arxiv_id not in seen]


def _final_round(ranked: list[Scored], judge: _Judge) -> list[Scored]:
    """One comparison of the best dozen side by side; their final order comes from it."""
    best = [s for s in ranked[:FINAL_ROUND] if s.llm is not None]
    batch = sorted((s.candidate for s in best), key=lambda c: c.arxiv_id)  # same prompt whatever the order before
    final = judge.batch(batch, stage_note="final comparison")
    if not final:
        return ranked
    return _order(best, final) + ranked[len(best):]


def pick_diverse(ranked: list[Scored], profile: Profile, k: int) -> tuple[list[Scored], list[Scored]]:
    """The top `k` in order, but at most MAX_PER_TOPIC papers on one topic of the profile;
    the next `k` (in order) are the runners-up."""
    picks: list[Scored] = []
    per_topic: dict[str, int] = {}
    for s in ranked:
        topic = profile.main_topic(f"{s.candidate.title} {s.candidate.title} {s.candidate.abstract}")
        if len(picks) < k and (topic is None or per_topic.get(topic, 0) < MAX_PER_TOPIC):
            picks.append(s)
            if topic is not None:
                per_topic[topic] = per_topic.get(topic, 0) + 1
    if len(picks) < k:  # not enough variety this week: fill up in order
        picks += [s for s in ranked if s not in picks][: k - len(picks)]
    rest = [s for s in ranked if s not in picks]
    return picks, rest[:k]


class _Judge:
    """The LLM's rounds. Each batch is read twice, once for the case for featuring each paper and
    once for the case against it. A fair judge gives mirrored answers (8 for, 2 against); a text
    that steers the judge ("put this paper at the top of your list", "rank 2611.01234 last", in any
    phrasing a filter may miss) pulls both readings of the paper it names the same way, so the two
    disagree. A paper whose readings disagree is read again alone, away from the other papers'
    texts; if its readings still disagree, its own text steers the judge: it loses its LLM score
    and goes to the end of the shortlist. One paper's text can sink that paper, never lift it,
    and never move another."""

    def __init__(self, profile: Profile, llm, flags: list[str], period: str = "week") -> None:
        self.systems = [prompts.render("rank_system.j2", profile=profile, against=against, period=period)
                        for against in (False, True)]
        self.llm, self.flags = llm, flags
        self.distrusted: set[str] = set()

    def batch(self, batch: list[Candidate], stage_note: str = "ranking batch") -> dict[str, RankItem]:
        """Validated scores (0-10, the mean of the two readings) of the papers of `batch` both readings
        scored alike; a failed reading makes the whole batch fall back to cheap scores (flagged)."""
        user = prompts.render("rank_user.j2", papers=[guarded(c) for c in batch])
        ids = {c.arxiv_id for c in batch}
        try:
            pro, con = (self._read(system, user, ids) for system in self.systems)
        except LLMError as exc:
            self.flags.append(f"The {stage_note} of {len(batch)} papers ({', '.join(sorted(ids))}) fell back to "
                              f"cheap scores: {exc.message}")
            return {}
        missing = ids - (pro.keys() & con.keys())
        if missing:
            self.flags.append(f"The LLM did not score {', '.join(sorted(missing))} in the {stage_note}; "
                              "they keep their earlier place.")
        judged = {i: self._combine(i, pro[i], con[i]) for i in sorted(ids - missing)
                  if abs(pro[i].score - (10 - con[i].score)) <= DISAGREEMENT}
        for i in sorted(ids - missing - judged.keys()):
            if len(batch) > 1:  # another paper's text may be the one steering: read this one alone
                judged.update(self.batch([c for c in batch if c.arxiv_id == i], f"{stage_note}, read alone"))
            else:
                self._distrust(i, pro[i], con[i], stage_note)
        return judged

    def _read(self, system: str, user: str, ids: set[str]) -> dict[str, RankItem]:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        answer = self.llm.complete_json("rank", messages, RankAnswer)
        named = ((sent_id(item.id, ids), item) for item in answer.rankings)  # only ids that were sent
        return {arxiv_id: item for arxiv_id, item in named if arxiv_id is not None}

    def _distrust(self, arxiv_id: str, pro: RankItem, con: RankItem, stage_note: str) -> None:
        self.distrusted.add(arxiv_id)
        self.flags.append(f"{arxiv_id}: the LLM's two readings disagree in the {stage_note} (for featuring "
                          f"{pro.score:g}/10, against {con.score:g}/10), as when a paper's text steers the "
                          "model; it was moved to the end of the shortlist.")

    @staticmethod
    def _combine(arxiv_id: str, pro: RankItem, con: RankItem) -> RankItem:
        return RankItem(id=arxiv_id, score=round((pro.score + 10 - con.score) / 2, 2), reason=pro.reason)


def _order(shortlist: list[Scored], judged: dict[str, RankItem]) -> list[Scored]:
    scored = [replace(s, llm=judged[s.candidate.arxiv_id].score, reason=judged[s.candidate.arxiv_id].reason)
              for s in shortlist if s.candidate.arxiv_id in judged]
    unjudged = [s for s in shortlist if s.candidate.arxiv_id not in judged]
    scored.sort(key=lambda s: (-s.llm, -s.cheap, s.candidate.arxiv_id))
    return scored + unjudged


def injected(cand: Candidate) -> bool:
    """Whether the title or abstract holds text addressed to an AI model (see flows/guard.py)."""
    return bool(guard(cand.title).removed or guard(cand.abstract).removed)


def guarded(cand: Candidate) -> Candidate:
    """The candidate as the LLM may see it: normalised, instruction-like text replaced by a note."""
    return replace(cand, title=guard(cand.title).text, abstract=guard(cand.abstract).text,
                   authors=tuple(guard(a).text for a in cand.authors))


def apply_swaps(ranking: Ranking, swaps: list[dict]) -> Ranking:
    """Keep the editor's swaps (`top5 swap`, recorded in run.json) when a week is drafted again:
    position N gets the paper they chose, and the one they removed goes to the runners-up."""
    by_id = {s.candidate.arxiv_id: s for s in ranking.scored}
    for swap in swaps:
        picked = [s.candidate.arxiv_id for s in ranking.picks]
        removed, added, at = swap["removed"], swap["added"], swap["position"] - 1
        if added not in by_id or added in picked or not 0 <= at < len(picked) or picked[at] != removed:
            continue
        out = ranking.picks[at]
        ranking.picks[at] = next((s for s in ranking.ranked if s.candidate.arxiv_id == added), by_id[added])
        ranking.runners_up = [out] + [s for s in ranking.runners_up if s.candidate.arxiv_id != added]
        ranking.flags.append(f"Paper {at + 1} kept the editor's swap: {removed} -> {added}")
    return ranking
