"""Stage 2 of the cascade: the LLM reads the titles of stage 1's top few hundred.

Stage 1 keeps about 90% of an editor's picks in its top 300-500 but only about half in its
top 40 (docs/ranking.md), and what it misses is mostly what a reader sees at a glance: who
and what a paper is about. A title costs about 25 tokens, an abstract about 350, so the LLM
screens the titles of that wider set in batches and the best `keep` go on to the abstract
round. Titles reach the LLM as data, already guarded by the caller, and only the batch's
ids are accepted back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import BaseModel, Field

from flows import prompts
from flows.candidates.candidate import Candidate
from flows.errors import LLMError
from flows.llm import sent_id

log = logging.getLogger(__name__)

SCREEN_BATCH = 60  # titles per request: about 2,000 tokens in and out
# Stage 1's rank against the title score: a title 3 points better overtakes the whole width of
# stage 1. A judgement, not a measurement: the screen needs a real model to be measured.
STAGE_ONE_WEIGHT = 0.3


class TitleScore(BaseModel):
    id: str
    score: float = Field(ge=0, le=10)


class ScreenAnswer(BaseModel):
    scores: list[TitleScore]


def screen_titles(cands: Sequence[Candidate], profile, llm, flags: list[str]) -> dict[str, float]:
    """arXiv id -> title score 0-10 for `cands` (in stage-1 order), in batches of SCREEN_BATCH;
    a batch the LLM could not answer is flagged and left out (its papers keep stage 1's order)."""
    system = prompts.render("screen_system.j2", profile=profile)
    scores: dict[str, float] = {}
    for start in range(0, len(cands), SCREEN_BATCH):
        batch = list(cands[start : start + SCREEN_BATCH])
        scores.update(_screen_batch(batch, system, llm, flags))
    return scores


def batch_messages(batch: list[Candidate], system: str) -> list[dict]:
    """One title-screen request's messages (`system`: screen_system.j2 rendered for the profile)."""
    return [{"role": "system", "content": system},
            {"role": "user", "content": prompts.render("screen_user.j2", papers=batch)}]


def _screen_batch(batch: list[Candidate], system: str, llm, flags: list[str]) -> dict[str, float]:
    messages = batch_messages(batch, system)
    ids = {c.arxiv_id for c in batch}
    try:
        answer = llm.complete_json("rank", messages, ScreenAnswer)  # the ranking model, its budget
    except LLMError as exc:
        flags.append(f"The title screen of {len(batch)} papers ({batch[0].arxiv_id} ... {batch[-1].arxiv_id}) "
                     f"fell back to stage 1's order: {exc.message}")
        return {}
    named = ((sent_id(item.id, ids), item.score) for item in answer.scores)  # only ids that were sent
    return {arxiv_id: score for arxiv_id, score in named if arxiv_id}


def combined_order(ids: Sequence[str], title_scores: dict[str, float]) -> list[str]:
    """`ids` (stage-1 order) reordered by title score (0-10, scaled to 0-1) plus STAGE_ONE_WEIGHT
    times stage 1's rank percentile (1 for the first, 0 for the last): the LLM's reading leads,
    stage 1 breaks its many ties and keeps some weight of the editor's history. Unscreened ids
    count a title score of 5."""
    n = max(1, len(ids) - 1)
    value = {i: title_scores.get(i, 5.0) / 10 + STAGE_ONE_WEIGHT * (1 - position / n) for position, i in enumerate(ids)}
    return sorted(ids, key=lambda i: -value[i])
