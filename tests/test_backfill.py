"""Backfill: several weeks drafted in parallel against the local arXiv and OpenAI servers, on
Prefect's thread pool and on a local Dask cluster; a failing week never sinks the others."""

from __future__ import annotations

import importlib.util
import re

import pytest

from flows.backfill import make_runner, resolve_weeks, weeks_between
from flows.errors import ConfigError

CATEGORIES = ["cs.AI", "cs.LG", "cs.CL", "cs.CV"]
# The shared mirror's papers were submitted 2026-11-16..22: W47 holds 33 of them in these
# categories, W48 (from Friday 20th 14:00 New York) 10, W46 none.


def _sections(readme) -> int:
    return len(re.findall(r"^## Paper \d: ", readme.read_text(), flags=re.MULTILINE))


@pytest.mark.e2e
def test_backfill_drafts_each_week_and_reports_the_one_that_failed(week_servers, tmp_path, prefect_harness):
    from prefect.artifacts import Artifact
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    from flows.backfill import backfill

    # The editor wrote W48 by hand: that week must stop, and the others go on.
    hand_written = tmp_path / "2026-W48" / "README.md"
    hand_written.parent.mkdir()
    hand_written.write_text("# my own notes for W48\n")

    reports = backfill(weeks=["2026-W46", "2026-W47", "2026-W48"], categories=CATEGORIES,
                       top_k=5, digests_dir=str(tmp_path), runner="default", max_parallel=3)

    assert [r.week for r in reports] == ["2026-W46", "2026-W47", "2026-W48"]
    assert [r.status for r in reports] == ["no new papers", "drafted", "failed"]
    assert reports[1].draft == str(tmp_path / "2026-W47" / "README.md")
    assert _sections(tmp_path / "2026-W47" / "README.md") == 5
    assert "README.md" in reports[2].error and "2026-W48" in reports[2].error
    assert hand_written.read_text() == "# my own notes for W48\n"
    assert not (tmp_path / "2026-W46").exists()

    rows = Artifact.get("backfill-report").data
    assert "2026-W48" in rows and "failed" in rows
    # each week ran as a weekly-digest flow run nested under its backfill task
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["weekly-digest"])))
    mine = {r.name: r for r in runs if r.name.startswith("weekly-digest-2026-W4")}
    assert set(mine) >= {"weekly-digest-2026-W46", "weekly-digest-2026-W47", "weekly-digest-2026-W48"}
    assert all(r.parent_task_run_id is not None for r in mine.values())
    assert mine["weekly-digest-2026-W48"].state.is_failed()


@pytest.mark.e2e
def test_backfill_on_a_local_dask_cluster(week_servers, tmp_path, prefect_harness):
    if importlib.util.find_spec("prefect_dask") is None:
        pytest.skip("prefect-dask is not installed (pip install -e '.[dask]')")
    from flows.backfill import backfill

    arxiv, llm = week_servers
    reports = backfill(weeks=["2026-W47", "2026-W48"], categories=CATEGORIES, top_k=5,
                       digests_dir=str(tmp_path), runner="dask", max_parallel=2)

    assert [r.status for r in reports] == ["drafted", "drafted"], reports
    assert _sections(tmp_path / "2026-W47" / "README.md") == 5
    assert _sections(tmp_path / "2026-W48" / "README.md") >= 1  # W48 holds only ten papers here
    # the Dask worker processes reached the local servers through the environment they inherited
    assert len([r for r in arxiv.log if r.path.startswith("/pdf/")]) >= 6
    assert llm.requests


@pytest.mark.e2e
def test_the_command_line_exits_1_when_a_week_failed(week_servers, tmp_path, prefect_harness, capsys):
    from flows.backfill import main

    (tmp_path / "2026-W48").mkdir()
    (tmp_path / "2026-W48" / "README.md").write_text("mine\n")

    code = main(["--weeks", "2026-W46,2026-W48", "--categories", "cs.CL,cs.LG", "--digests-dir", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"^2026-W46\s+no new papers", out, flags=re.MULTILINE)
    assert re.search(r"^2026-W48\s+failed\s+.*README\.md was changed", out, flags=re.MULTILINE)


def test_the_command_line_names_a_bad_week(capsys):
    from flows.backfill import main

    assert main(["--start-week", "2026-W47", "--end-week", "2026-W99"]) == 2
    assert "'2026-W99'" in capsys.readouterr().err


def test_a_range_of_weeks_crosses_the_new_year():
    assert weeks_between("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert resolve_weeks(["2026w47", "2026-W47", "2026-W46"], None, None) == ["2026-W47", "2026-W46"]


@pytest.mark.parametrize("weeks, start, end, fragment", [
    (None, "2026-W47", "2026-W40", "'2026-W40' is before its start week '2026-W47'"),
    (["2026-W47", "2026-W99"], None, None, "'2026-W99'"),
    (None, "2026-W47", None, "both start_week and end_week"),
    (["2026-W47"], "2026-W40", "2026-W47", "not both"),
    (None, "2000-W01", "2026-W01", "at most 520"),
])
def test_bad_weeks_are_refused_naming_the_input(weeks, start, end, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        resolve_weeks(weeks, start, end)


def test_an_unknown_runner_is_refused_by_name():
    with pytest.raises(ConfigError, match="'ray' is not one of default, dask"):
        make_runner("ray", 2)
    with pytest.raises(ConfigError, match="max_parallel must be at least 1, got 0"):
        make_runner("default", 0)

