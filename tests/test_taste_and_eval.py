"""The learned taste and `top5 eval`, on recorded weeks written by the digest stage itself."""

from __future__ import annotations

import subprocess
import sys

from flows.digest import write
from flows.run_record import RunRecord
from flows.shortlist.evaluation import evaluate, report
from flows.shortlist.ranking import Profile, Ranking, cheap_score, score_all
from flows.shortlist.taste import learn, recorded_weeks
from flows.summaries.section import Section
from tests.conftest import REPO
from tests.helpers import candidate

PROFILE = Profile.load()


def _record_week(digests, week: str, cands, picks: list[str], editor_swap: tuple[str, str] | None = None):
    """Write a week as the pipeline would, then let the editor swap one pick for another paper."""
    by_id = {c.arxiv_id: c for c in cands}
    scored = score_all(cands, PROFILE)
    picked = [next(s for s in scored if s.candidate.arxiv_id == i) for i in picks]
    ranking = Ranking(ranked=picked + [s for s in scored if s not in picked], scored=scored,
                      picks=picked, runners_up=[s for s in scored if s not in picked][:5])
    sections = [Section(i, by_id[i].title, "p", "i", "r", "t") for i in picks]
    folder = digests / week
    write(folder, profile=PROFILE, ranking=ranking, sections=sections,
          record=RunRecord(week, ("a", "b"), ["cs.LG"], tokens={"rank": {"prompt_tokens": 900, "completion_tokens": 100}}),
          offline=False)
    if editor_swap:
        old, new = editor_swap
        for page in ("README.md", "papers.md"):
            path = folder / page
            path.write_text(path.read_text().replace(f"abs/{old}", f"abs/{new}"))


def _week(prefix: str):
    gnn = [candidate(f"{prefix}.0010{i}", f"Graph neural network message passing {i}", "Graph neural networks on molecules.") for i in range(3)]
    llm = [candidate(f"{prefix}.0020{i}", f"Large language model prompting {i}", "Large language models and prompting.") for i in range(6)]
    return gnn + llm


def test_taste_learns_what_the_editor_keeps_picking(tmp_path):
    for n in (1, 2):
        week = _week(f"260{n}")
        _record_week(tmp_path, f"2026-W0{n}", week, picks=[c.arxiv_id for c in week[:3]])
    taste = learn(recorded_weeks(tmp_path))
    new_gnn = candidate("2611.1", "Graph neural network for proteins", "Graph neural networks.")
    new_llm = candidate("2611.2", "Large language model prompting tricks", "Large language models and prompting.")
    assert taste.bonus(new_gnn) > 0 > taste.bonus(new_llm)
    assert cheap_score(new_gnn, PROFILE, taste) - cheap_score(new_gnn, PROFILE) > 0


def test_eval_reports_recall_of_the_editors_final_picks(tmp_path):
    week = _week("2601")
    draft_picks = [c.arxiv_id for c in week[3:8]]
    _record_week(tmp_path, "2026-W01", week, picks=draft_picks, editor_swap=(draft_picks[4], week[8].arxiv_id))
    scores = evaluate(tmp_path, PROFILE, size=40)
    assert len(scores) == 1
    assert scores[0].editor_picks == 5 and scores[0].in_draft == 4  # the editor swapped one pick
    assert scores[0].shortlist_recall == 1.0  # 9 candidates all fit a shortlist of 40
    narrow = evaluate(tmp_path, PROFILE, size=2)[0]
    assert narrow.in_shortlist <= 2
    text = report(scores, 40)
    assert "2026-W01" in text and "0.80" in text and "1000" in text


def test_eval_from_the_command_line(tmp_path):
    _record_week(tmp_path, "2026-W01", _week("2601"), picks=[c.arxiv_id for c in _week("2601")[:5]])
    result = subprocess.run([sys.executable, "-m", "flows.cli", "eval", "--digests-dir", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "2026-W01" in result.stdout and "shortlist@40" in result.stdout


def test_the_digest_merged_on_main_is_the_editors_final_word(tmp_path):
    week = _week("2601")
    draft_picks = [c.arxiv_id for c in week[3:8]]
    _record_week(tmp_path, "2026-W01", week, picks=draft_picks)  # the working tree: the tool's draft
    merged = (tmp_path / "2026-W01" / "README.md").read_text().replace(f"abs/{draft_picks[0]}", f"abs/{week[0].arxiv_id}")

    assert recorded_weeks(tmp_path)[0].editor_picks == draft_picks
    assert recorded_weeks(tmp_path, {"2026-W01": merged})[0].editor_picks == [week[0].arxiv_id] + draft_picks[1:]
    assert evaluate(tmp_path, PROFILE, 40, {"2026-W01": merged})[0].in_draft == 4
