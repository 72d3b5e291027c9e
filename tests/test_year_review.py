"""The year in review end to end: a digests repository with 26 merged weeks of real papers and a
real editor's picks (tests/review_fixture.py), the real Prefect flow, the arXiv test server for
the PDFs and the scripted model on 127.0.0.1, then `top5 swap`, a rerun and an editor's edit."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from flows.cli import main as top5
from tests import scripted_llm
from tests.arxiv_server import ArxivServer, atom_feed
from tests.openai_server import OpenAIServer
from tests.review_fixture import _git, build_year, editor_words

pytestmark = pytest.mark.e2e


def _servers(year, settings_env, tmp_path):
    arxiv = ArxivServer(atom_feed([]), year.pdfs)
    llm = OpenAIServer(scripted_llm.reply)
    settings_env.setenv("TOP5_HISTORY_DIR", str(tmp_path / "no-history"))
    return arxiv, llm


def _env(monkeypatch, arxiv, llm):
    monkeypatch.setenv("ARXIV_API_URL", arxiv.api_url)
    monkeypatch.setenv("ARXIV_PDF_URL", arxiv.pdf_url)
    monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-NEVER-LOGGED")


def _plain(markdown: str) -> str:
    """The page's text with markdown's backslash escapes read."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("&#64;", "@")


def test_year_review_from_merged_weeks(settings_env, tmp_path, prefect_harness, capsys):
    from flows.year_review import year_review

    year = build_year(tmp_path, weeks=26)
    arxiv, llm = _servers(year, settings_env, tmp_path)
    with arxiv, llm:
        _env(settings_env, arxiv, llm)
        draft = year_review(year=2025, digests_dir=str(year.digests))
        folder = year.digests / "2025-review"
        assert draft == str(folder / "README.md")
        readme, papers = (folder / "README.md").read_text(), (folder / "papers.md").read_text()
        record = json.loads((folder / "candidates.json").read_text())
        run = json.loads((folder / "run.json").read_text())

        # the layout: the year's themes (a draft), the top three at length, the seven others
        headings = re.findall(r"^#{2,3} .*$", readme, flags=re.M)
        assert headings[:2] == ["## The year's themes", "## Papers of the year"]
        assert [h.split(")")[0] for h in headings if h.startswith("### ")] == [f"### {i}" for i in range(1, 11)]
        assert headings.index("## 7 other highlights of 2025") == 5
        assert "Draft for the editor" in readme.split("## Papers of the year")[0]
        published = {i for ids in year.merged.values() for i in ids}
        assert f"Drawn from 26 merged weekly digests ({len(published)} papers you published)" in readme
        assert re.findall(r"^## Paper (\d+)$", papers, flags=re.M) == [str(i) for i in range(1, 11)]
        assert [re.search(r"\[Paper\]\(https://arxiv\.org/abs/([^)]+)\)", s)[1]
                for s in re.split(r"^### ", readme, flags=re.M)[1:]] == record["picks"]

        # candidates: exactly the merged picks, never a paper the editor did not publish
        assert {row["arxiv_id"] for row in record["candidates"]} == published
        assert not set(record["picks"] + [r["arxiv_id"] for r in record["runners_up"]]) & year.unpublished
        assert len(record["picks"]) == 10 and len(record["runners_up"]) == 5

        # the editor's weekly text of each top-three paper is kept, word for word, and extended
        sections = re.split(r"^### ", _plain(readme), flags=re.M)[1:]
        for arxiv_id, section in zip(record["picks"][:3], sections):
            assert editor_words(year.listings[arxiv_id]) in section
            assert "Scripted builds_on" in section and "Scripted why_it_matters" in section
        stored = json.loads((folder / "sections.json").read_text())["sections"]
        assert all(any(f["role"] == "method" for f in s["figures"]) for s in stored[:3])
        assert not any(s["figures"] for s in stored[3:])
        assert {r.path.rsplit("/", 1)[-1].split("v")[0] for r in arxiv.log if "/pdf/" in r.path} \
            == set(record["picks"][:3])

        # reviewed through the same cycle: a draft branch in the digests repository
        branches = subprocess.run(["git", "-C", str(year.repo), "branch", "--list", "digest/2025-review"],
                                  capture_output=True, text=True, check=True).stdout
        assert "digest/2025-review" in branches
        assert run["tokens"]["total"]["prompt_tokens"] > 0

        # a rerun of the finished review asks the model nothing
        asked = len(llm.requests)
        year_review(year=2025, digests_dir=str(year.digests))
        rerun = json.loads((folder / "run.json").read_text())
        assert len(llm.requests) == asked
        assert rerun["tokens"]["total"]["prompt_tokens"] == 0 and rerun["tokens"]["total"]["cached"] > 0
        assert (folder / "README.md").read_text() == readme

        # `top5 swap` on the review: a runner-up in place of paper 7
        runner = record["runners_up"][0]["arxiv_id"]
        removed = record["picks"][6]
        assert top5(["swap", "2025-review", "7", "R1", "--digests-dir", str(year.digests), "--no-pr"]) == 0
        swapped = json.loads((folder / "candidates.json").read_text())
        assert swapped["picks"][6] == runner and removed not in swapped["picks"]
        seventh = re.split(r"^### ", (folder / "README.md").read_text(), flags=re.M)[7]
        assert seventh.startswith("7) ") and f"https://arxiv.org/abs/{runner}" in seventh
        assert "## The year's themes" in (folder / "README.md").read_text()
        # ... written as the review writes its seven others (one paragraph), not as a weekly section
        assert "Scripted paragraph for" in seventh and "This paper looks at a real problem" not in seventh
        assert f"Why it is in the ten: {_plain(record['runners_up'][0]['reason'])}" in _plain(seventh)

        # and into the top three: at length from its PDF, the editor's weekly text kept
        deep = record["runners_up"][1]["arxiv_id"]
        assert top5(["swap", "2025-review", "2", "R2", "--digests-dir", str(year.digests), "--no-pr"]) == 0
        second = _plain(re.split(r"^### ", (folder / "README.md").read_text(), flags=re.M)[2])
        assert f"https://arxiv.org/abs/{deep}" in second and editor_words(year.listings[deep]) in second
        assert "Scripted builds_on" in second and "Scripted why_it_matters" in second
        assert any(f["role"] == "method" for f in json.loads((folder / "sections.json").read_text())["sections"][1]["figures"])

        # an edited review is never overwritten
        edited = (folder / "README.md").read_text() + "\nMy own closing words.\n"
        (folder / "README.md").write_text(edited)
        capsys.readouterr()
        assert top5(["review", "2025", "--digests-dir", str(year.digests), "--no-pr"]) == 1
        assert "was changed after this tool wrote it" in capsys.readouterr().err
        assert (folder / "README.md").read_text() == edited


def test_year_with_no_merged_digest_is_one_line_before_anything_is_spent(settings_env, tmp_path, capsys):
    year = build_year(tmp_path, weeks=2, pdfs=False)
    arxiv, llm = _servers(year, settings_env, tmp_path)
    with arxiv, llm:
        _env(settings_env, arxiv, llm)
        assert top5(["review", "2024", "--digests-dir", str(year.digests)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "no merged weekly digest in 2024" in err[0]
        assert not llm.requests and not arxiv.log
        assert not (year.digests / "2024-review").exists()


@pytest.mark.parametrize("style, expected", [
    ("weekly", "style weekly writes a week's pages, not a review's"),
    ("bookmarks", "its opening and period); review styles: review"),
    ("email", "unknown style (TOP5_STYLE / --style)"),
    ("../weekly", "unknown style (TOP5_STYLE / --style)"),
])
def test_a_style_that_cannot_write_a_review_is_one_line_before_prefect_starts(tmp_path, monkeypatch, capsys,
                                                                              style, expected):
    from flows import prefect_setup

    monkeypatch.setattr(prefect_setup, "before_prefect", lambda: pytest.fail("Prefect was started"))
    assert top5(["review", "2025", "--style", style, "--digests-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0]


def _review_of_may_and_june(year, settings_env, arxiv, llm):
    """The review of 2025-05-01..2025-06-30 drafted through the flow, without a PR; its folder."""
    from flows.year_review import year_review

    _env(settings_env, arxiv, llm)
    year_review(start="2025-05-01", end="2025-06-30", digests_dir=str(year.digests), open_pr=False)
    return year.digests / "2025-05-01..2025-06-30-review"


def test_few_weeks_and_no_pdfs_draft_what_there_is(settings_env, tmp_path, prefect_harness):
    year = build_year(tmp_path, weeks=3, pdfs=False)
    arxiv, llm = _servers(year, settings_env, tmp_path)
    with arxiv, llm:
        folder = _review_of_may_and_june(year, settings_env, arxiv, llm)
    readme = _plain((folder / "README.md").read_text())
    assert "Drawn from 3 merged weekly digests (15 papers you published): fewer than ten weeks" in readme
    flags = json.loads((folder / "run.json").read_text())["flags"]
    assert any("Drawn from only 3 merged weeks" in f for f in flags)
    picks = json.loads((folder / "candidates.json").read_text())["picks"]
    assert len(picks) == 10
    for arxiv_id, section in zip(picks[:3], re.split(r"^### ", readme, flags=re.M)[1:]):
        assert "its PDF could not be had: written from the editor's weekly text and the abstract" in section
        assert editor_words(year.listings[arxiv_id]) in section


@pytest.mark.timeout(400)
def test_top5_review_with_no_prefect_server_running_uses_a_temporary_one(settings_env, tmp_path):
    """`top5 review` from a project folder whose Prefect profile names a server that is not running
    (no `make server`): like `top5 run`, it says so in one line and drafts on a temporary server."""
    import os
    import sys

    from tests.conftest import REPO
    from tests.test_prefect_setup import _free_port

    year = build_year(tmp_path, weeks=3, pdfs=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "prefect.toml").write_text((REPO / "prefect.toml").read_text())
    (project / "prefect-profiles.toml").write_text(
        (REPO / "prefect-profiles.toml").read_text().replace("127.0.0.1:4200", f"127.0.0.1:{_free_port()}"))
    arxiv, llm = _servers(year, settings_env, tmp_path)
    with arxiv, llm:
        _env(settings_env, arxiv, llm)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        result = subprocess.run(
            [sys.executable, "-m", "flows.cli", "review", "--from", "2025-05-01", "--to", "2025-06-30", "--no-pr",
             "--digests-dir", str(year.digests)], cwd=project, capture_output=True, text=True, timeout=360,
            env={**env, "PYTHONPATH": str(REPO), "PREFECT_HOME": str(tmp_path / "prefect")})
    assert result.returncode == 0, result.stderr[-3000:]
    notes = [line for line in result.stderr.splitlines() if line.startswith("top5 note:")]
    assert len(notes) == 1 and "no Prefect server answers" in notes[0] and "temporary" in notes[0]
    assert (year.digests / "2025-05-01..2025-06-30-review" / "README.md").is_file()
    assert "stage pdf: 3 in, 0 out" in result.stderr  # the top three asked for; the fixture has no PDFs


def test_a_swap_to_a_paper_no_longer_in_a_merged_weekly_is_one_line_and_changes_nothing(
        settings_env, tmp_path, prefect_harness, capsys):
    year = build_year(tmp_path, weeks=3, pdfs=False)
    arxiv, llm = _servers(year, settings_env, tmp_path)
    with arxiv, llm:
        folder = _review_of_may_and_june(year, settings_env, arxiv, llm)
        runner = json.loads((folder / "candidates.json").read_text())["runners_up"][0]["arxiv_id"]
        # the editor takes the runner-up out of the weekly digest it was merged in
        week = next(w for w, ids in year.merged.items() if runner in ids)
        readme = year.digests / week / "README.md"
        kept = [s for s in re.split(r"(?=^## |^#weeklytop5)", readme.read_text(), flags=re.M)
                if f"abs/{runner})" not in s]
        readme.write_text("".join(kept))
        _git(year.repo, "commit", "-qam", f"{week}: {runner} taken out")
        before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        capsys.readouterr()
        asked = len(llm.requests)
        code = top5(["swap", folder.name, "7", "R1", "--digests-dir", str(year.digests), "--no-pr"])
        err = capsys.readouterr().err
        assert code == 2
        assert err.count("\n") == 1 and err.startswith("top5: ") and runner in err
        assert "in no merged weekly digest" in err
        assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
        assert len(llm.requests) == asked and not [r for r in arxiv.log if runner in r.path]


def test_a_broken_style_folder_is_named_for_itself_and_never_in_another_styles_line(tmp_path, monkeypatch):
    import shutil

    from flows.errors import ConfigError
    from flows.summaries import section

    prompts = tmp_path / "prompts"
    shutil.copytree(section.PROMPTS_DIR / "styles", prompts / "styles")
    (prompts / "styles" / "broken").mkdir()
    (prompts / "styles" / "broken" / "digest.md.j2").write_text("{% if %}\n")
    shutil.copytree(prompts / "styles" / "weekly", prompts / "styles" / "brokenpapers")
    (prompts / "styles" / "brokenpapers" / "papers.md.j2").write_text("{{ unclosed\n")
    monkeypatch.setattr(section, "PROMPTS_DIR", prompts)
    with pytest.raises(ConfigError, match=r"^style weekly writes a week's pages, .*; review styles: review$"):
        section.digest_style_dir("weekly", review=True)
    with pytest.raises(ConfigError, match=r"; weekly styles: bookmarks, weekly$"):
        section.digest_style_dir("review", review=False)
    with pytest.raises(ConfigError, match=r"brokenpapers/papers.md.j2 cannot be read as a jinja2 template"):
        section.digest_style_dir("brokenpapers", review=False)  # before the run spends anything
    with pytest.raises(ConfigError, match=r"broken/digest.md.j2 cannot be read as a jinja2 template"):
        section.digest_style_dir("broken")
