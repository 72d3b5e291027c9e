"""What the taste learned from the editor's last merge, for the pull request's body and `top5 show`:
how many weeks and picks it is learned from, and where stage 1 ranked the picks of the last week
the editor merged before the refit (learned without that week) and after (learned with it)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flows.candidates.ledger import ordered_ids
from flows.shortlist import editor_taste, score_all
from flows.shortlist.taste import recorded_weeks


def what_was_learned(settings, digests_dir: Path, merged: Mapping[str, str], week: str, profile,
                     embedder) -> dict:
    """{'weeks', 'picks', 'last_week', 'candidates', 'before', 'after'} (before/after: the 1-based
    stage-1 rank of each of the last merged week's picks, in the editor's order), or {} while
    nothing the editor merged (besides `week`) has a candidates.json here."""
    if not Path(digests_dir).is_dir():
        return {}
    last = next((w for w in reversed(recorded_weeks(digests_dir, merged)) if w.name in merged and w.name != week), None)
    taste = editor_taste(settings, digests_dir, merged, week, embedder)
    if last is None or taste is None:
        return {}
    before = editor_taste(settings, digests_dir, {k: v for k, v in merged.items() if k != last.name}, last.name,
                          embedder)
    picks = [i for i in ordered_ids(merged[last.name]) if i in {c.arxiv_id for c in last.candidates}]
    return {"weeks": taste.weeks, "picks": taste.picks, "last_week": last.name, "candidates": len(last.candidates),
            "before": _ranks(last.candidates, picks, profile, before, embedder),
            "after": _ranks(last.candidates, picks, profile, taste, embedder)}


def _ranks(cands, picks: list[str], profile, taste, embedder) -> list[int]:
    order = [s.candidate.arxiv_id for s in score_all(cands, profile, taste, {}, embedder)]
    return [order.index(i) + 1 if i in order else 0 for i in picks]


def describe(learned: dict | None) -> str:
    """One line: 'learned from 12 weeks (58 picks); the editor's picks of 2026-W46 ranked 3, 18, 41
    of 812 by stage 1 before the refit, 1, 2, 5 after (learned from them)'; '' when nothing was learned."""
    if not learned:
        return ""
    ranks = (", ".join(str(r) if r else "-" for r in learned.get(key, [])) for key in ("before", "after"))
    return (f"learned from {learned.get('weeks', '?')} weeks ({learned.get('picks', '?')} picks); the editor's picks "
            f"of {learned.get('last_week', '?')} ranked {next(ranks)} of {learned.get('candidates', '?')} by stage 1 "
            f"before the refit, {next(ranks)} after (learned from them)")
