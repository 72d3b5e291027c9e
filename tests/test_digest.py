"""The digest folder: house-style pages, records, atomic writes, and the editor's edits kept."""

from __future__ import annotations

import json
import re

import pytest

from flows.digest import check_unedited, write
from flows.errors import DraftError
from flows.run_record import RunRecord
from flows.shortlist.ranking import Profile, Ranking, Scored
from flows.summaries.section import Figure, Section
from tests.helpers import candidate

PROFILE = Profile.load()


def _parts(n: int = 5, offline: bool = False):
    cands = [candidate(f"2611.0000{i}", f"Full title {i}: a study", f"Abstract number {i}.",
                       links=("https://github.com/x/p%d" % i, "https://p%d.github.io/" % i)) for i in range(1, n + 1)]
    scored = [Scored(c, cheap=float(10 - i), llm=9.0 - i, reason=f"reason {i}") for i, c in enumerate(cands)]
    sections = [Section(c.arxiv_id, f"Short name {i}", "Problem.", "The idea is simple.", "Results: 3x.",
                        "My hypothesis.", notes=("a note",) if i == 2 else (),
                        figures=(Figure("method", "figure", "1", 2, "overview"),) if i == 1 else ())
                for i, c in enumerate(cands, 1)]
    record = RunRecord("2026-W47", ("2026-11-13T19:00:00+00:00", "2026-11-20T19:00:00+00:00"), ["cs.LG"])
    ranking = Ranking(ranked=scored, scored=scored, picks=scored[:n], runners_up=scored[n:])
    return dict(profile=PROFILE, ranking=ranking, sections=sections,
                record=record, offline=offline)


def test_writes_the_house_structure(tmp_path):
    write(tmp_path, **_parts())
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# AI-WeeklyTop5\nTop 5 papers in AI every week\n")
    assert re.findall(r"^## Paper (\d): (.+)$", readme, re.M) == [(str(i), f"Short name {i}") for i in range(1, 6)]
    assert "> 🖼️ Method figure: Figure 1 (page 2): overview" in readme
    assert "> ⚠️ Draft note: a note" in readme
    assert "1 of 5 sections carry draft notes" in readme
    assert readme.rstrip().endswith("#weeklytop5")
    papers = (tmp_path / "papers.md").read_text()
    assert "[Code](https://github.com/x/p1)" in papers and "[Project Page](https://p1.github.io/)" in papers
    assert papers.index("## Paper 1") < papers.index("Full title 1: a study") < papers.index("Abstract:\n\nAbstract number 1.")


def test_offline_banner(tmp_path):
    write(tmp_path, **_parts(offline=True))
    assert "OFFLINE DRAFT" in (tmp_path / "README.md").read_text()


def test_records_the_run(tmp_path):
    write(tmp_path, **_parts())
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["week"] == "2026-W47" and len(run["prompt_hashes"]["summary_system.j2"]) == 12
    assert set(run["written"]) == {"README.md", "papers.md"}
    assert not [f for f in run["flags"] if f.startswith("Draft check")]  # the template lays out a clean draft
    cands = json.loads((tmp_path / "candidates.json").read_text())
    assert cands["picks"] == [f"2611.0000{i}" for i in range(1, 6)]
    assert cands["candidates"][0]["reason"] == "reason 0" and cands["candidates"][0]["rank"] == 1


def test_an_edited_draft_is_never_overwritten(tmp_path):
    write(tmp_path, **_parts())
    write(tmp_path, **_parts())  # our own, unchanged draft may be redrafted
    page = tmp_path / "papers.md"
    page.write_text(page.read_text() + "\nMy own note.\n")
    with pytest.raises(DraftError, match="papers.md was changed"):
        write(tmp_path, **_parts())
    assert page.read_text().endswith("My own note.\n")


def test_a_folder_written_by_hand_is_kept(tmp_path):
    (tmp_path / "README.md").write_text("# The editor's own issue\n")
    with pytest.raises(DraftError):
        check_unedited(tmp_path)
    assert not (tmp_path / "run.json").exists()


def test_the_same_run_renders_in_another_style(tmp_path):
    """Switching style is templates and an exemplar in prompts/styles/: no code change."""
    from flows.digest.pages import render_again

    write(tmp_path, **_parts())
    pages = render_again(tmp_path, "bookmarks", PROFILE)
    table = pages["README.md"]
    assert table.startswith("---\nlayout: default\n")
    rows = [line for line in table.splitlines() if line.startswith("|2026||[")]
    assert rows[0] == "|2026||[Full title 1: a study, arXiv](https://arxiv.org/abs/2611.00001)|"
    assert len(rows) == 5
    assert "||| Problem. The idea is simple. |" in table
    assert "<small>Draft note: a note</small>" in table
    assert "## Paper" not in table


@pytest.mark.parametrize("style", ["newsletter", "sk-LEAKEDkey123456"])
def test_an_unknown_style_names_the_known_ones_never_the_value(tmp_path, style):
    from flows.digest.pages import render_again
    from flows.errors import ConfigError

    write(tmp_path, **_parts())
    with pytest.raises(ConfigError, match=r"unknown style \(TOP5_STYLE / --style\).*known styles: bookmarks, review, weekly") as caught:
        render_again(tmp_path, style, PROFILE)
    assert style not in caught.value.message


def test_raster_figures_are_extracted_next_to_the_draft(tmp_path):
    from tests.conftest import WEEK, require_shared

    pdf = require_shared(WEEK) / "pdf" / "2212.08073v1.pdf"
    parts = _parts()
    first = parts["sections"][0]
    parts["sections"][0] = Section(first.arxiv_id, first.name, first.problem, first.idea, first.results, first.take,
                                   figures=(Figure("method", "figure", "1", 2, "Overview of the method."),
                                            Figure("results", "table", "2", 3, "Scores.")))
    write(tmp_path, **parts, pdfs={first.arxiv_id: pdf})
    images = list((tmp_path / "figures").iterdir())
    assert [p.name for p in images] == ["2611.00001-figure-1.png"] and images[0].stat().st_size > 10_000
    readme = (tmp_path / "README.md").read_text()
    assert '<img width="700" alt="Figure 1" src="figures/2611.00001-figure-1.png">' in readme
    stored = json.loads((tmp_path / "sections.json").read_text())["sections"][0]["figures"]
    assert stored[0]["image"] == "figures/2611.00001-figure-1.png" and stored[1]["image"] is None


def test_the_draft_is_written_readable_by_others(tmp_path):
    """0644 like any file an editor saves: a web server or a colleague can read the draft."""
    write(tmp_path, **_parts())
    for name in ("README.md", "papers.md", "sections.json", "candidates.json", "run.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name


def _banner(readme: str) -> str:
    return next(line for line in readme.splitlines() if "OFFLINE DRAFT" in line)


def test_the_offline_banner_names_what_stage_one_scored_with(tmp_path):
    """The banner's claim about the picks is read from the run record, not a fixed sentence."""
    from flows.digest import render_again
    from flows.run_record import first_stage

    parts = _parts(offline=True)
    parts["record"].first_stage = first_stage(taste_learned=True, popularity=False)
    write(tmp_path / "learned", **parts)
    banner = _banner((tmp_path / "learned" / "README.md").read_text())
    assert "the picks are the first stage's order, from the learned taste and the profile's words." in banner
    assert "keyword" not in banner and "upvotes" not in banner
    assert _banner(render_again(tmp_path / "learned", "weekly", PROFILE)["README.md"]) == banner

    parts = _parts(offline=True)
    parts["record"].first_stage = first_stage(taste_learned=False, popularity=True)
    write(tmp_path / "first", **parts)
    banner = _banner((tmp_path / "first" / "README.md").read_text())
    assert "from the profile's words and the Hugging Face upvotes." in banner and "taste" not in banner
