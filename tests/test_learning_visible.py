"""The learning is visible: after a merge, what the taste learned (weeks, picks, where stage 1
ranked the editor's last picks before and after the refit) is in run.json, the pull request's
body and `top5 show`. Real fits (scikit-learn, WordLlama) on project-made weeks."""

from __future__ import annotations

import json

from flows.config import Settings
from flows.digest import show, what_was_learned
from flows.pull_request import pull_request_body
from flows.shortlist import Embedder, Profile
from tests.helpers import candidate
from tests.test_pull_request import write_draft

TOPICS = ["graph coloring heuristics", "protein folding kinetics", "tax law corpora", "soil moisture sensing",
          "compiler register allocation", "bird song classification", "retail demand forecasting", "ocean waves"]


def _week(folder, week: str, picks: int) -> list[str]:
    """A recorded week: 40 candidates, the first `picks` on state-space language models (the editor's taste)."""
    cands = [candidate(f"{week[2:4]}{week[-2:]}.{i:05d}",
                       f"State space language model variant {i}" if i < picks else f"A study of {TOPICS[i % 8]} {i}",
                       "We train a state space language model for long context." if i < picks else
                       f"We study {TOPICS[i % 8]} with classical methods, case {i}.") for i in range(40)]
    (folder / week).mkdir(parents=True)
    (folder / week / "candidates.json").write_text(json.dumps({
        "week": week, "picks": [], "runners_up": [], "shortlist": [],
        "candidates": [c.to_json() for c in cands]}))
    return [c.arxiv_id for c in cands[:picks]]


def test_the_last_merge_is_learned_and_said(tmp_path, monkeypatch):
    monkeypatch.setenv("TOP5_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TOP5_HISTORY_DIR", str(tmp_path / "history"))
    digests = tmp_path / "digests"
    merged = {}
    for week in ("2026-W45", "2026-W46"):
        picks = _week(digests, week, 3)
        merged[week] = "".join(f"## Paper {i}\n\n[Paper](https://arxiv.org/abs/{a})\n\n" for i, a in enumerate(picks, 1))

    learned = what_was_learned(Settings(), digests, merged, "2026-W47", Profile.load(), Embedder(tmp_path / "cache"))

    assert (learned["weeks"], learned["picks"], learned["last_week"], learned["candidates"]) == (2, 6, "2026-W46", 40)
    assert len(learned["before"]) == len(learned["after"]) == 3
    assert sum(learned["after"]) <= sum(learned["before"])  # learning the week moved its picks up, or kept them
    assert max(learned["after"]) <= 3

    folder = write_draft(tmp_path / "draft" / "2026-W47")
    run = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**run, "learned": learned}))
    ranks = ", ".join(map(str, learned["after"]))
    for text in (pull_request_body(folder), show(folder)):
        assert "learned from 2 weeks (6 picks)" in text and f"{ranks} after" in text and "2026-W46" in text
