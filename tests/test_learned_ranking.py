"""Stage 1 of the ranking: the profile's words, exclusions, the learned taste on a real
editor's weeks, and `top5 taste import` against arXiv served on loopback."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from flows.shortlist import archive, learned, prior, replay
from flows.shortlist.embeddings import Embedder
from flows.shortlist.ranking import Profile, score_all
from tests.conftest import FIXTURES, require_shared
from tests.helpers import candidate

EDITOR_WEEKS = FIXTURES / "editor-weeks"
PROFILE = Profile.load()


def _profile(covers: str, exclude=()) -> Profile:
    return PROFILE.model_copy(update={"covers": covers, "exclude": list(exclude), "topics": {}})


@pytest.fixture(scope="module")
def editor_weeks():
    return archive.read_history(require_shared(EDITOR_WEEKS))


def test_two_plain_words_profiles_give_two_shortlists_on_the_same_week(editor_weeks):
    week = editor_weeks[10].candidates
    robots = _profile("Robots that learn to grasp and manipulate objects; robot learning and embodied control.")
    medicine = _profile("Medical imaging: radiology, pathology slides and clinical diagnosis with deep learning.")
    embedder = Embedder()
    top = {name: [s.candidate for s in score_all(week, p, embedder=embedder)[:40]]
           for name, p in (("robots", robots), ("medicine", medicine))}
    assert len({c.arxiv_id for c in top["robots"]} & {c.arxiv_id for c in top["medicine"]}) < 5

    def share(cands, pattern):
        return sum(bool(re.search(pattern, f"{c.title} {c.abstract}", re.IGNORECASE)) for c in cands) / 40

    assert share(top["robots"], r"\brobot") > 0.5 > share(top["medicine"], r"\brobot")
    assert share(top["medicine"], r"medical|clinical|patholog|radiolog") > 0.5 > share(top["robots"], r"medical|clinical")


def test_exclusions_remove_the_papers_they_name_as_whole_words_or_phrases():
    profile = _profile("Language models.", exclude=["withdrawn", "protein folding", "GAN"])
    cands = [
        candidate("2611.00001", "Withdrawn: a language model study", "A language model."),
        candidate("2611.00002", "Scaling language models", "We study protein folding with language models."),
        candidate("2611.00003", "A GAN for images", "Generative adversarial nets."),
        candidate("2611.00004", "Organ segmentation with language models", "Organs, proteins and folding."),
        candidate("2611.00005", "Language model reasoning", "Reasoning in language models."),
    ]
    kept = [s.candidate.arxiv_id for s in score_all(cands, profile)]
    assert sorted(kept) == ["2611.00004", "2611.00005"]  # "organ" is not "GAN"; "proteins and folding" is no phrase


def _small_taste(embedder: Embedder) -> learned.LearnedTaste:
    graphs = [candidate(f"2601.0010{i}", f"Graph neural network message passing {i}", "Graph networks.") for i in range(3)]
    soil = [candidate(f"2601.0020{i}", f"Soil survey {i}", "Soil maps and crops.") for i in range(9)]
    week = learned.History("2026-W01", graphs + soil, frozenset(c.arxiv_id for c in graphs),
                           upvotes={graphs[0].arxiv_id: 30})
    return learned.fit([week], embedder)


def test_a_week_without_candidates_scores_nothing_quietly():
    embedder = Embedder()
    taste = _small_taste(embedder)
    withdrawn = [candidate("2611.00001", "Withdrawn", "Withdrawn paper.")]  # every paper left out by the profile
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Mean of empty slice" would fail here
        for cands in ([], withdrawn):
            for upvotes in (None, {}, {"2611.00009": 3}):
                assert score_all(cands, _profile("Language models.", exclude=["withdrawn"]), None, upvotes,
                                 embedder) == []
                assert score_all(cands, PROFILE.model_copy(update={"exclude": ["withdrawn"]}), taste, upvotes,
                                 embedder) == []
        for fusion in ("z", "rrf"):
            assert learned.blend([], taste, PROFILE.description, embedder, upvotes={}, fusion=fusion).shape == (0,)


def test_identical_papers_score_alike_whatever_the_float_rounding():
    for title, abstract in (("", ""), ("Same title", "Same abstract")):  # thirty copies of one paper
        week = [candidate(f"2611.{i:05d}", title, abstract) for i in range(30)]
        assert len({s.cheap for s in score_all(week, PROFILE)}) == 1, title
    # a description the paper barely resembles: cosines near zero, where float32 noise (~1e-8,
    # absolute) is no longer small next to the largest magnitude
    week = [candidate(f"2611.{i:05d}", "Graph neural networks for molecules", "We propose a message passing network.")
            for i in range(30)]
    assert len({s.cheap for s in score_all(week, PROFILE.model_copy(update={"covers": "also", "examples": []}))}) == 1
    same = np.full(30, 0.1)
    same[3] = np.nextafter(0.1, 1.0)  # one unit in the last place apart
    assert not prior.standardised(same).any()
    assert not prior.standardised(np.full(30, 0.23247653, dtype=np.float32) + np.arange(30, dtype=np.float32) % 2
                                  * np.float32(3e-8)).any()
    assert not prior.standardised(np.float32(1e-4) + np.arange(30, dtype=np.float32) % 2 * np.float32(1e-8)).any()
    assert np.allclose(prior.standardised(np.array([1.0, 2.0, 3.0])), [-1.224745, 0.0, 1.224745])
    assert np.allclose(prior.standardised(np.array([1e-4, 2e-4, 3e-4])), [-1.224745, 0.0, 1.224745])


def test_the_learned_taste_beats_the_keyword_score_on_an_editors_weeks(editor_weeks):
    # every third paper the editor passed over, and all their picks: a third of the time, same protocol
    weeks = [archive.History(w.name, [c for i, c in enumerate(w.candidates) if i % 3 == 0 or c.arxiv_id in w.picks],
                             w.picks) for w in editor_weeks[:12]]
    embedder = Embedder()
    chosen = {name: r for name, r in replay.rankers(PROFILE, embedder).items()
              if name in ("keyword score (topics)", "blend (learned views)")}
    tallies = replay.replay(weeks, chosen, embedder, history=None, first=8)
    keyword, blend = (np.mean(tallies[n].recalls[100]) for n in chosen)
    assert blend > keyword + 0.1, (keyword, blend)


def test_a_cached_taste_is_reused_until_the_history_changes(editor_weeks, tmp_path):
    weeks = [archive.History(w.name, w.candidates[:300] + [c for c in w.candidates if c.arxiv_id in w.picks],
                             w.picks) for w in editor_weeks[:3]]
    embedder = Embedder()
    first = learned.fit_cached(weeks, embedder, tmp_path)
    assert learned.fit_cached(weeks, embedder, tmp_path).seconds == first.seconds  # read back, not refitted
    grown = learned.fit_cached(weeks + [editor_weeks[3]], embedder, tmp_path)
    assert grown.weeks == 4 and len(list((tmp_path / "taste").glob("*.npz"))) == 2


def test_taste_import_files_each_pick_in_the_week_arxiv_announced_it(tmp_path, settings_env, capsys):
    from flows.cli import main
    from tests.arxiv_server import ArxivServer, atom_entry, atom_feed

    # Issue of 2026-W47 names one paper announced that week and one announced the week before.
    entries = [atom_entry("2611.10001v1", "Sparse attention for long context", "Long context language models.",
                          published="2026-11-18T10:00:00Z"),
               atom_entry("2611.10002v1", "Permafrost mapping", "Soil maps.", published="2026-11-18T11:00:00Z"),
               atom_entry("2611.05001v1", "Reasoning models that verify", "Verification of reasoning.",
                          published="2026-11-11T10:00:00Z"),
               atom_entry("2611.05002v1", "Crop yields", "Farming data.", published="2026-11-11T11:00:00Z")]
    archive_dir = tmp_path / "old-digests" / "2026-W47"
    archive_dir.mkdir(parents=True)
    (archive_dir / "README.md").write_text(
        "# Top 5\n\n1. [Sparse attention](https://arxiv.org/abs/2611.10001v1)\n"
        "2. [Verify](https://arxiv.org/abs/2611.05001)\n3. [Old one](https://arxiv.org/abs/2301.00001)\n")
    history = tmp_path / "history"
    with ArxivServer(atom_feed(entries)) as arxiv:
        settings_env.setenv("ARXIV_API_URL", arxiv.api_url)
        code = main(["taste", "import", str(tmp_path / "old-digests"), "--history-dir", str(history)])
        fetched = len(arxiv.api_requests())
        assert main(["taste", "import", str(tmp_path / "old-digests"), "--history-dir", str(history)]) == 0
        assert len(arxiv.api_requests()) == fetched  # listings on disk are not fetched again
    assert code == 0
    picks = json.loads((history / "picks.json").read_text())
    assert {w: p["picks"] for w, p in picks.items()} == {"2026-W46": ["2611.05001"], "2026-W47": ["2611.10001"]}
    out = capsys.readouterr().out
    assert "2301.00001" in out and "2 weeks" in out


def test_taste_import_names_a_source_without_issues(tmp_path, settings_env, capsys):
    from flows.cli import main

    (tmp_path / "notes.md").write_text("No links here.\n")
    assert main(["taste", "import", str(tmp_path), "--history-dir", str(tmp_path / "h")]) == 2  # a bad argument
    assert str(tmp_path) in capsys.readouterr().err


def test_the_title_screen_lifts_a_convincing_title_from_deep_in_stage_one(tmp_path):
    from flows.config import Settings
    from flows.llm.client import LLM
    from flows.shortlist.ranking import Scored, rank
    from tests import scripted_llm
    from tests.openai_server import OpenAIServer

    # stage 1's order: 100 papers, best first; the scripted model rates language-model titles high
    titles = {i: "Large language models that check their work" if i in (70, 85) else f"Soil survey number {i}"
              for i in range(100)}
    scored = [Scored(candidate(f"2611.{i:05d}", titles[i], "An abstract."), 100.0 - i) for i in range(100)]
    with OpenAIServer(scripted_llm.reply) as srv:
        llm = LLM(Settings(openai_base_url=srv.base_url, openai_api_key="sk-test", cache_dir=tmp_path, llm_max_wait=1))
        ranking = rank(scored, PROFILE, llm, size=10, screen_size=100)
        screens = [r for r in srv.requests if "<titles>" in r["messages"][1]["content"]]
    shortlisted = {s.candidate.arxiv_id for s in ranking.ranked}
    assert len(ranking.ranked) == 10 and {"2611.00070", "2611.00085"} <= shortlisted
    assert [r["messages"][1]["content"].count(" | ") for r in screens] == [60, 40]  # batches of 60 titles
    assert "Soil survey number 99" not in " ".join(r["messages"][1]["content"] for r in srv.requests[len(screens):])


def test_profile_option_and_variable_choose_the_profile(tmp_path, settings_env, capsys):
    from flows.cli import main

    settings_env.setenv("TOP5_PROFILE", "")  # restored after the test: --profile sets it for the process
    assert main(["eval", "--profile", str(tmp_path / "nope.toml"), "--digests-dir", str(tmp_path)]) == 2
    assert "nope.toml" in capsys.readouterr().err
    settings_env.setenv("TOP5_PROFILE", str(tmp_path / "other.toml"))
    assert main(["eval", "--digests-dir", str(tmp_path)]) == 2
    assert "other.toml" in capsys.readouterr().err


def test_an_example_in_the_profile_moves_the_no_history_shortlist(editor_weeks):
    week, earlier = editor_weeks[10], editor_weeks[9]
    embedder = Embedder()

    def top(profile: Profile, k: int = 40) -> list[str]:
        return [s.candidate.arxiv_id for s in score_all(week.candidates, profile, embedder=embedder)[:k]]

    plain = top(PROFILE)
    deep = next(p for p in sorted(week.picks) if p not in top(PROFILE, 200))
    liked = [c.title for c in earlier.candidates if c.arxiv_id in earlier.picks]  # titles from a week before
    shown = top(PROFILE.model_copy(update={"examples": [*liked, f"arXiv:{deep}"]}))
    assert deep in shown  # a paper the editor named is a pick of week zero: it leads its own week
    assert len(set(shown) - set(plain)) >= 10


def test_papers_that_read_like_this_weeks_upvoted_ones_rise_before_readers_find_them(editor_weeks):
    """A new user's stage 1 learns from the week's own readers' listing: half the listed papers
    are hidden as "not featured yet"; the other half's upvotes lift them well above the profile's
    words alone."""
    upvoted = require_shared(FIXTURES / "hf-upvotes" / "upvotes-2025.jsonl")
    week = next(w for w in replay.upvotes_from(str(upvoted), editor_weeks) if len(w.upvotes or {}) >= 100)
    listed = sorted(week.upvotes)
    hidden, shown = set(listed[::2]), {i: week.upvotes[i] for i in listed[1::2]}
    embedder = Embedder()

    def median_rank(upvotes) -> float:
        order = [s.candidate.arxiv_id for s in score_all(week.candidates, PROFILE, upvotes=upvotes, embedder=embedder)]
        return float(np.median([order.index(i) + 1 for i in hidden]))

    words_alone, with_listing = median_rank(None), median_rank(shown)
    assert with_listing < 0.75 * words_alone, (with_listing, words_alone)


def test_the_weeks_most_upvoted_paper_reaches_the_title_screen_however_deep_stage_one_put_it(tmp_path):
    from dataclasses import replace

    from flows.config import Settings
    from flows.llm.client import LLM
    from flows.shortlist.ranking import Scored, rank
    from tests import scripted_llm
    from tests.openai_server import OpenAIServer

    titles = {i: "Large language models that check their work" if i == 90 else f"Soil survey number {i}"
              for i in range(100)}
    scored = [Scored(candidate(f"2611.{i:05d}", titles[i], "An abstract."), 100.0 - i) for i in range(100)]
    scored[90] = replace(scored[90], upvotes=500)  # readers' favourite, stage 1's 91st
    with OpenAIServer(scripted_llm.reply) as srv:
        llm = LLM(Settings(openai_base_url=srv.base_url, openai_api_key="sk-test", cache_dir=tmp_path, llm_max_wait=1))
        ranking = rank(scored, PROFILE, llm, size=10, screen_size=50)
        screened = " ".join(r["messages"][1]["content"] for r in srv.requests if "<titles>" in r["messages"][1]["content"])
    assert "Large language models that check their work" in screened and "Soil survey number 60" not in screened
    assert "2611.00090" in {s.candidate.arxiv_id for s in ranking.ranked}
