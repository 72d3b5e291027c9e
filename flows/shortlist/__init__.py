"""Candidates -> shortlist -> picks: the cheap score of every candidate (profile, learned taste,
popularity), then the LLM's ranking of the shortlist, and the replay of recorded weeks (eval)."""

from flows.shortlist.embeddings import Embedder
from flows.shortlist.popularity import upvotes
from flows.shortlist.ranking import (
                                     Profile,
                                     RankAnswer,
                                     Ranking,
                                     Scored,
                                     apply_swaps,
                                     cheap_score,
                                     injected,
                                     rank,
                                     score_all,
)
from flows.shortlist.taste import Week, editor_taste, recorded_weeks

__all__ = ["Embedder", "Profile", "RankAnswer", "Ranking", "Scored", "Week", "apply_swaps", "cheap_score", "editor_taste",
           "injected", "rank", "recorded_weeks", "score_all", "upvotes"]
