"""`top5 eval` on the project's own recorded weeks: the drafts against the editor's picks.

Only weeks whose final digest the editor merged or edited count: a draft nobody touched says
nothing about their taste. For each such week, stage 1 is run again on the recorded
candidates with today's profile and the taste learned from the weeks *before* it, and we
report how many of the editor's final picks it keeps in the shortlist; the top-5 recall
compares the draft's picks (as recorded) with the editor's final picks. The ranker-by-ranker
replay (replay.py) runs on the same weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.shortlist import learned, taste
from flows.shortlist import ranking as shortlist
from flows.shortlist.embeddings import Embedder


@dataclass(frozen=True)
class WeekScore:
    week: str
    candidates: int
    editor_picks: int
    in_shortlist: int
    in_draft: int
    tokens: dict

    @property
    def shortlist_recall(self) -> float:
        return self.in_shortlist / self.editor_picks if self.editor_picks else 1.0

    @property
    def top5_recall(self) -> float:
        return self.in_draft / self.editor_picks if self.editor_picks else 1.0


def evaluate(digests_dir: Path, profile: shortlist.Profile, size: int,
             merged: dict[str, str] | None = None, embedder: Embedder | None = None) -> list[WeekScore]:
    weeks = taste.edited_weeks(digests_dir, merged)
    embedder = embedder or Embedder()
    scores = []
    for t, week in enumerate(weeks):
        taste_so_far = learned.fit([w.history() for w in weeks[:t]], embedder)
        ranked = shortlist.score_all(week.candidates, profile, taste_so_far, embedder=embedder)
        kept = {s.candidate.arxiv_id for s in ranked[:size]}
        picks = set(week.editor_picks)
        scores.append(WeekScore(week.name, len(week.candidates), len(picks), len(picks & kept),
                                len(picks & set(week.draft_picks)), week.run.get("tokens", {})))
    return scores


def report(scores: list[WeekScore], size: int) -> str:
    if not scores:
        return ("no recorded weeks the editor merged or edited: a week needs digests/<week>/candidates.json "
                "and a README.md merged into the base branch or edited by the editor")
    lines = [f"{'week':<12} {'candidates':>10} {'picks':>5} {'shortlist@' + str(size):>13} {'top-5':>6} "
             f"{'rank tokens':>11} {'summary tokens':>14}"]
    for s in scores:
        lines.append(f"{s.week:<12} {s.candidates:>10} {s.editor_picks:>5} {s.shortlist_recall:>13.2f} "
                     f"{s.top5_recall:>6.2f} {_tokens(s.tokens, 'rank'):>11} {_tokens(s.tokens, 'summarize'):>14}")
    picks = sum(s.editor_picks for s in scores) or 1
    lines.append(f"{'all':<12} {sum(s.candidates for s in scores):>10} {picks:>5} "
                 f"{sum(s.in_shortlist for s in scores) / picks:>13.2f} {sum(s.in_draft for s in scores) / picks:>6.2f}")
    return "\n".join(lines)


def _tokens(tokens: dict, stage: str) -> int:
    usage = tokens.get(stage, {})
    return usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
