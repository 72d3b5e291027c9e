"""End to end: the weekly-digest flow on the shared arXiv week, served by local arXiv and
OpenAI-compatible servers on 127.0.0.1, checking every file the run writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import scripted_llm
from tests.conftest import REPO, WEEK

pytestmark = pytest.mark.e2e

CATEGORIES = ["cs.AI", "cs.LG", "cs.CL", "cs.CV"]


def _week_feed() -> dict[str, dict]:
    """The shared week's entries by versionless id, parsed independently of the project."""
    import xml.etree.ElementTree as ET

    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = {}
    for e in ET.parse(WEEK / "api-week.xml").getroot().findall("a:entry", ns):
        arxiv_id = re.sub(r"v\d+$", "", e.findtext("a:id", namespaces=ns).rsplit("/abs/", 1)[1])
        entries[arxiv_id] = {
            "title": " ".join(e.findtext("a:title", namespaces=ns).split()),
            "abstract": " ".join(e.findtext("a:summary", namespaces=ns).split()),
            "categories": {c.get("term") for c in e.findall("a:category", ns)},
        }
    return entries


def test_flow_drafts_the_shared_week(week_servers, tmp_path, prefect_harness, monkeypatch):
    from flows.weekly_digest import weekly_digest

    arxiv, llm = week_servers
    monkeypatch.setenv("TOP5_POPULARITY", "on")
    monkeypatch.setenv("HF_PAPERS_URL", "http://127.0.0.1:9/api/daily_papers")  # nothing listens there
    draft = weekly_digest(start="2026-11-16", end="2026-11-22", categories=CATEGORIES,
                          top_k=5, digests_dir=str(tmp_path / "digests"))

    folder = tmp_path / "digests" / "2026-W47"
    assert draft == str(folder / "README.md")
    feed = _week_feed()
    in_categories = {i for i, e in feed.items() if e["categories"] & set(CATEGORIES)}

    readme = (folder / "README.md").read_text()
    assert readme.startswith("# AI-WeeklyTop5\n")
    assert "Here is my selection of the top 5 AI papers this week." in readme
    assert "[2026-W47 papers](papers.md)" in readme
    headings = re.findall(r"^## Paper (\d): (.+)$", readme, flags=re.M)
    assert [n for n, _ in headings] == ["1", "2", "3", "4", "5"]
    picked = re.findall(r"\[Paper\]\(https://arxiv\.org/abs/([^)]+)\)", readme)
    assert len(picked) == 5 and len(set(picked)) == 5
    assert set(picked) <= in_categories
    assert readme.rstrip().endswith("#weeklytop5")
    assert "{{" not in readme and "{%" not in readme

    papers = (folder / "papers.md").read_text()
    assert re.findall(r"\[Paper\]\(https://arxiv\.org/abs/([^)]+)\)", papers) == picked
    for arxiv_id in picked:
        assert feed[arxiv_id]["title"] in papers
        assert feed[arxiv_id]["abstract"] in papers  # verbatim, whitespace normalised

    candidates = json.loads((folder / "candidates.json").read_text())
    assert candidates["picks"] == picked
    rows = {row["arxiv_id"]: row for row in candidates["candidates"]}
    assert set(rows) == in_categories
    assert all(isinstance(row["cheap_score"], float) for row in rows.values())
    assert all(rows[i]["llm_score"] is not None and rows[i]["reason"] for i in picked)

    run = json.loads((folder / "run.json").read_text())
    assert run["counts"]["candidates"] == len(in_categories)
    assert run["counts"]["picks"] == 5
    assert set(run["seconds"]) >= {"candidates", "shortlist", "pdf", "pdf_text", "summaries"}
    assert run["llm"]["models"]["rank"] and run["llm"]["offline"] is False
    assert set(run["prompt_hashes"]) >= {"rank_system.j2", "summary_system.j2", "parts.toml", "styles/weekly/digest.md.j2"}
    assert run["style"] == "weekly" and run["exemplar"] == "style: weekly"
    assert run["tokens"]["rank"]["prompt_tokens"] > 0 and run["tokens"]["summarize"]["requests"] == 5
    assert "sk-test-NEVER-LOGGED" not in json.dumps(run) + readme + papers
    assert any("popularity signal" in f and "was not used" in f for f in run["flags"])  # said, not fatal

    # picks with a PDF in the mirror are written from the paper, the others flagged
    with_pdf = {p.stem.rsplit("v", 1)[0] for p in (WEEK / "pdf").glob("*.pdf")}
    for arxiv_id in picked:
        section = readme.split(f"abs/{arxiv_id})")[0].rsplit("## Paper", 1)[1]
        assert ("written from the abstract only" in section) == (arxiv_id not in with_pdf)
        if arxiv_id in with_pdf:  # figures named by number, caption and page
            assert re.search(r"> 🖼️ (Method|Results) figure: (Figure|Table) \w+ \(page \d+\): ", section)
    assert len([r for r in arxiv.log if r.path.startswith("/pdf/")]) == 5


def test_run_leaves_artifacts_in_prefect(week_servers, tmp_path, prefect_harness):
    from prefect.artifacts import Artifact

    from flows.weekly_digest import weekly_digest

    draft = weekly_digest(start="2026-11-16", end="2026-11-22", categories=CATEGORIES, digests_dir=str(tmp_path))
    from flows.digest.artifacts import for_ui

    folder = Path(draft).parent
    papers = Artifact.get("digest-papers")
    assert papers.data == for_ui((folder / "papers.md").read_text(), folder)
    shown = Artifact.get("digest-draft").data
    assert shown == for_ui(Path(draft).read_text(), folder, f"/artifacts/artifact/{papers.id}")
    assert f"](/artifacts/artifact/{papers.id})" in shown
    rows = [line for line in Artifact.get("ranked-candidates").data.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[:2] for row in rows[:6]] == [["| 1", "pick 1"], ["| 2", "pick 2"], ["| 3", "pick 3"],
                                                          ["| 4", "pick 4"], ["| 5", "pick 5"], ["| 6", "R1"]]


def test_a_killed_run_resumes_without_redoing_work(week_servers, tmp_path, prefect_harness):
    """Killed while writing summaries, the next run reuses the PDFs, their text and every LLM answer."""
    import signal
    import threading
    import time

    from prefect.settings import PREFECT_API_URL

    from flows.weekly_digest import weekly_digest

    arxiv, llm = week_servers
    run = {"proc": None, "summaries": 0}
    lock = threading.Lock()

    def reply_then_die(request):
        if '"take"' in request["messages"][0]["content"]:
            with lock:
                run["summaries"] += 1
                nth = run["summaries"]
            if nth > 2:  # two summaries answered: give the run a moment to keep them, then kill it
                time.sleep(1.5)
                run["proc"].send_signal(signal.SIGKILL)
                return {"status": 500, "body": "killed"}
        return scripted_llm.reply(request)

    llm.reply = reply_then_die
    args = ["--start", "2026-11-16", "--end", "2026-11-22", "--digests-dir", str(tmp_path)]
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value(), TOP5_LLM_CONCURRENCY="4")
    run["proc"] = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", *args], cwd=REPO, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert run["proc"].wait(timeout=300) == -signal.SIGKILL
    assert not (tmp_path / "2026-W47" / "README.md").exists()
    texts = sorted((Path(os.environ["TOP5_CACHE_DIR"]) / "text").glob("*.json"))
    assert texts  # the PDFs were read before the kill
    before = {p: p.stat().st_mtime_ns for p in texts}
    def pdfs_served():  # PDFs the mirror has; a missing one (404) is rightly asked for again
        return [r.path for r in arxiv.log if r.path.startswith("/pdf/") and (WEEK / "pdf" / f"{r.path[5:]}.pdf").exists()]

    pdf_requests, llm_requests = len(pdfs_served()), len(llm.requests)
    assert pdf_requests > 0

    llm.reply = scripted_llm.reply
    weekly_digest(start="2026-11-16", end="2026-11-22", categories=CATEGORIES, digests_dir=str(tmp_path))

    assert len(pdfs_served()) == pdf_requests  # nothing downloaded again
    assert {p: p.stat().st_mtime_ns for p in texts} == before  # nothing extracted again
    new = llm.requests[llm_requests:]
    assert all('"take"' in r["messages"][0]["content"] for r in new)  # no ranking asked again
    assert len(new) == 3  # only the three summaries that were not written
    assert len(re.findall(r"^## Paper \d: ", (tmp_path / "2026-W47" / "README.md").read_text(), re.M)) == 5


def test_a_finished_week_costs_no_llm_requests_again(week_servers, tmp_path, prefect_harness):
    """Drafting a finished week again is served from the cache (the editor's edits are kept:
    tests/test_run.py)."""
    from flows.weekly_digest import weekly_digest

    arxiv, llm = week_servers
    args = dict(start="2026-11-16", end="2026-11-22", categories=CATEGORIES, digests_dir=str(tmp_path))
    weekly_digest(**args)
    readme = tmp_path / "2026-W47" / "README.md"
    first = len(llm.requests)
    weekly_digest(**args)  # unchanged draft: rewritten without complaint, from the cache
    assert len(llm.requests) == first  # a finished week costs zero LLM requests
    assert readme.read_text().count("## Paper ") == 5


def test_cli_runs_the_flow(week_servers, tmp_path, prefect_harness):
    """`python -m flows.cli run` and `top5 run` take the same arguments."""
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--start", "2026-11-16", "--end", "2026-11-22",
         "--top-k", "3", "--categories", "cs.CL", "--digests-dir", str(tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    readme = (tmp_path / "2026-W47" / "README.md").read_text()
    assert len(re.findall(r"^## Paper \d: ", readme, flags=re.M)) == 3
    assert "Draft written" in result.stdout and "Review it (`top5 show 2026-W47`)" in result.stdout
    assert "sk-test-NEVER-LOGGED" not in result.stdout + result.stderr


def test_an_empty_window_writes_no_draft(week_servers, tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    digests = tmp_path / "digests"
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--start", "2026-10-01", "--end", "2026-10-02",
         "--digests-dir", str(digests)],
        cwd=REPO, env=dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value()),
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 3  # no draft written
    assert "no new papers between 2026-10-01" in result.stderr
    assert not digests.exists()
