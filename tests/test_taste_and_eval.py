"""The learned taste and `top5 eval`, on recorded weeks written by the digest stage itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from flows.digest import write
from flows.run_record import RunRecord
from flows.shortlist import learned
from flows.shortlist.embeddings import Embedder
from flows.shortlist.evaluation import evaluate, report
from flows.shortlist.ranking import Profile, Ranking, score_all
from flows.shortlist.taste import recorded_weeks
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
    embedder = Embedder()
    taste = learned.fit([w.history() for w in recorded_weeks(tmp_path)], embedder)
    new_gnn = candidate("2611.1", "Graph neural network for proteins", "Graph neural networks.")
    new_llm = candidate("2611.2", "Large language model prompting tricks", "Large language models and prompting.")
    views = taste.view_scores([new_gnn, new_llm], embedder)
    for view in ("tfidf", "embedding"):  # the two differ in their words only
        assert views[view][0] > views[view][1], view
    gnn, llm = learned.blend([new_gnn, new_llm], taste, PROFILE.description, embedder)
    assert gnn > llm  # the editor's history outweighs the profile's words


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


def _eval_command(digests) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", "eval", "--digests-dir", str(digests)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_eval_from_the_command_line_counts_only_weeks_the_editor_touched(tmp_path):
    week = _week("2601")
    _record_week(tmp_path, "2026-W01", week, picks=[c.arxiv_id for c in week[:5]])
    untouched = _eval_command(tmp_path)
    assert untouched.returncode == 1 and "nothing to evaluate" in untouched.stderr
    _record_week(tmp_path, "2026-W01", week, picks=[c.arxiv_id for c in week[:5]], editor_swap=(week[4].arxiv_id, week[8].arxiv_id))
    result = _eval_command(tmp_path)
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


def test_eval_of_a_missing_digests_folder_is_a_usage_error_naming_it(tmp_path):
    result = _eval_command(tmp_path / "nowhere")
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"top5: no such folder: {tmp_path / 'nowhere'}\n"


def _editor_weeks(folder, weeks: int = 2):
    """A history folder as `top5 taste import` writes it: each week's listing, the graph papers picked."""
    from flows.shortlist import archive

    picks = {}
    for n in range(1, weeks + 1):
        week = _week(f"260{n}")
        archive.write_listing(folder / f"2026-W0{n}.jsonl.gz", week)
        picks[f"2026-W0{n}"] = {"picks": [c.arxiv_id for c in week[:3]]}
    (folder / "picks.json").write_text(json.dumps(picks), encoding="utf-8")


def test_eval_of_one_measured_week_prints_a_dash_for_the_empty_first_half(tmp_path, settings_env, capsys):
    from flows.cli import main

    _editor_weeks(tmp_path)  # the history tables measure week 2 alone: R@40 a has no week
    assert main(["eval", "--editor-weeks", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("ranker"))
    end = header.index("R@40 a") + len("R@40 a")
    rows = [line for line in lines if re.match(r".{40} +\d+ +\d+ ", line)]
    one_week = [line for line in rows if line[40:46].strip() == "1"]
    assert one_week and all(line[end - 6:end] == "     -" for line in one_week), one_week
    assert all(re.fullmatch(r" +\d\.\d{3}", line[end - 7:end]) for line in rows if line not in one_week)


@pytest.mark.parametrize("where, missing", [("nowhere", "no such folder"), ("a-file", "not a folder"),
                                            ("empty", "no picks.json")])
def test_editor_weeks_that_are_no_history_folder_are_one_line_naming_it(tmp_path, settings_env, capsys, where,
                                                                         missing):
    from flows.cli import main

    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    assert main(["eval", "--editor-weeks", str(tmp_path / where)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"top5: editor weeks folder {tmp_path / where}: {missing}")
    assert captured.err.count("\n") == 1 and captured.err.endswith("\n") and captured.out == ""


@pytest.mark.parametrize("args, expected", [
    (["--editor-weeks", ""], "top5: editor weeks folder .: no picks.json"),  # "" is the folder it was run in
    (["--upvotes", ""], "top5: upvotes file '': no such file"),
    (["--upvotes", "nowhere.jsonl"], "top5: upvotes file 'nowhere.jsonl': no such file"),
    (["--upvotes", "digests"], "top5: upvotes file 'digests': a folder, not a file"),
    (["--upvotes", "/dev/zero"], "top5: upvotes file '/dev/zero': a device or socket, not a file")])
def test_an_empty_or_missing_eval_path_is_one_line_naming_it(tmp_path, settings_env, capsys, args, expected):
    """Never a silent fall back to another mode or to no upvotes."""
    from flows.cli import main

    settings_env.chdir(tmp_path)
    (tmp_path / "digests").mkdir()
    assert main(["eval", "--digests-dir", str(tmp_path / "digests"), *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(expected) and captured.err.count("\n") == 1 and captured.out == ""


def test_an_upvotes_file_past_its_limit_is_one_line_not_a_read_of_it_all(tmp_path, monkeypatch):
    from flows.errors import ConfigError
    from flows.shortlist import popularity
    from flows.shortlist.replay import upvotes_from

    monkeypatch.setattr(popularity, "UPVOTES_FILE_LIMIT", 1000)
    big = tmp_path / "upvotes.jsonl"
    big.write_text('{"id": "2501.00001", "date": "2025-01-08", "upvotes": 1}\n' * 100, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"upvotes file .*upvotes.jsonl: larger than 0 MB"):
        upvotes_from(str(big), [])


def test_eval_reads_upvotes_from_a_pipe(tmp_path):
    """`--upvotes <(zcat upvotes.jsonl.gz)`: a pipe is read like a file, not refused as missing."""
    import threading

    from flows.shortlist.learned import History
    from flows.shortlist.replay import upvotes_from

    pipe = tmp_path / "upvotes.pipe"
    os.mkfifo(pipe)
    week = History("2025-W02", _week("2501"), frozenset())
    row = json.dumps({"id": week.candidates[0].arxiv_id, "date": "2025-01-08", "upvotes": 12})
    writer = threading.Thread(target=lambda: pipe.write_text(row + "\n", encoding="utf-8"), daemon=True)
    writer.start()
    [read] = upvotes_from(str(pipe), [week])
    writer.join(timeout=10)
    assert read.upvotes == {week.candidates[0].arxiv_id: 12}


def test_a_first_run_without_a_digests_folder_learns_from_nothing(tmp_path):
    from flows.config import Settings
    from flows.shortlist.taste import editor_taste

    settings = Settings(history_dir=tmp_path / "history", cache_dir=tmp_path / "cache")
    assert editor_taste(settings, tmp_path / "digests", {}, "2026-W01", Embedder()) is None


def test_a_swapped_out_pick_becomes_a_hard_negative_in_the_next_fit(tmp_path, monkeypatch):
    week = _week("2601")  # three graph papers, six on prompting
    gnn, prompting = week[:3], week[3:]
    swapped_out = prompting[0]
    _record_week(tmp_path, "2026-W01", week, picks=[gnn[0].arxiv_id, gnn[1].arxiv_id, swapped_out.arxiv_id],
                 editor_swap=(swapped_out.arxiv_id, gnn[2].arxiv_id))
    _record_week(tmp_path, "2026-W02", _week("2602"), picks=[c.arxiv_id for c in _week("2602")[:3]])
    history = [w.history() for w in recorded_weeks(tmp_path)]
    assert swapped_out.arxiv_id in history[0].seen and swapped_out.arxiv_id not in history[0].picks
    embedder = Embedder()

    def score(weight: float) -> float:
        monkeypatch.setattr(learned, "HARD_NEGATIVE", weight)
        taste = learned.fit(history, embedder, views=("tfidf",))
        values = taste.view_scores(week, embedder)["tfidf"]
        return float(np.mean(values[3:]) - np.mean(values[:3]))  # papers like the swapped-out one, against picks

    assert score(learned.HARD_NEGATIVE) < score(1.0) - 0.05


def test_eval_with_an_upvotes_file_of_no_upvotes_is_one_line_not_tables_of_nothing(tmp_path):
    from tests.conftest import FIXTURES, require_shared

    weeks = require_shared(FIXTURES / "editor-weeks")
    junk = tmp_path / "upvotes.jsonl"
    junk.write_text("root:x:0:0:root:/root:/bin/bash\n{\"id\": \"2506.00001\", \"upvotes\": -3}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "flows.cli", "eval", "--editor-weeks", str(weeks),
                             "--upvotes", str(junk)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-500:]
    assert result.stdout == "" and str(junk) in result.stderr and "2 lines ignored" in result.stderr
    assert "Traceback" not in result.stderr
