"""`top5 run WEEK --dry-run`: the shared week fetched and scored with stage 1, the LLM's requests,
tokens and price printed, no LLM request sent, nothing written; the same estimate lets the
budget guard refuse a real run before its first LLM request."""

from __future__ import annotations

import re

import pytest

from flows.cli import main as top5
from tests.test_pipeline_e2e import CATEGORIES

WINDOW = ["--start", "2026-11-16", "--end", "2026-11-22", "--categories", ",".join(CATEGORIES)]


def test_dry_run_prints_the_funnel_and_price_and_spends_nothing(week_servers, tmp_path, capsys, monkeypatch):
    arxiv, llm = week_servers
    monkeypatch.setenv("TOP5_BUDGET_USD", "0.0001")
    digests = tmp_path / "digests"

    assert top5(["run", "--dry-run", *WINDOW, "--digests-dir", str(digests), "--no-pr"]) == 0

    out = capsys.readouterr().out
    assert llm.requests == [] and arxiv.api_requests()  # the week was fetched, the LLM never asked
    assert not digests.exists() or not any(digests.iterdir())
    funnel = re.search(r"Funnel: (\d+) candidates → (\d+) new → (\d+) screened → (\d+) shortlisted → (\d+) picks", out)
    assert funnel and int(funnel[1]) > 0 and int(funnel[5]) == 5
    for stage in ("rank", "summaries"):
        assert re.search(rf"^{stage}: \d+ requests to gpt-4o-mini, ~[\d,]+ prompt \+ ~[\d,]+ completion tokens, "
                         r"~\$\d+\.\d{4}$", out, re.M)
    assert "A real run would be refused" in out and "TOP5_BUDGET_USD=0.0001" in out


@pytest.mark.e2e
def test_a_run_over_budget_is_refused_before_its_first_llm_request(week_servers, tmp_path, prefect_harness,
                                                                   monkeypatch, capsys):
    arxiv, llm = week_servers
    monkeypatch.setenv("TOP5_BUDGET_USD", "0.0001")

    code = top5(["run", *WINDOW, "--digests-dir", str(tmp_path / "digests"), "--no-pr"])

    err = capsys.readouterr().err
    assert code != 0 and llm.requests == []
    assert "over TOP5_BUDGET_USD=0.0001: nothing was spent" in err
    assert not (tmp_path / "digests" / "2026-W47" / "README.md").exists()
