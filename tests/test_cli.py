"""The `top5` command line: one argument style, checks before anything is spent, `show`,
`render --out`, `--version`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main as top5
from flows.digest import write
from tests.openai_server import OpenAIServer
from tests.test_digest import _parts
from tests.test_pull_request import PICKS, RUNNERS, write_draft

REPO = Path(__file__).resolve().parent.parent
PLAIN_SECRET = "s3cr3t-of-no-known-shape-0123456789"


def _top5(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """`top5 ARGS` in a fresh interpreter; its last stdout line says whether Prefect was imported."""
    code = ("import sys; from flows.cli import main\n"
            "try:\n    rc = main(sys.argv[1:])\nexcept SystemExit as e:\n    rc = e.code\n"
            "print('prefect imported:', 'prefect' in sys.modules); sys.exit(rc)")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GITHUB_", "TOP5_"))}
    environment.update(PYTHONPATH=str(REPO), **(env or {}))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def llm():
    with OpenAIServer(lambda request: "{}") as server:
        yield server


@pytest.mark.parametrize("args, expected", [
    (["--digests-dir", "A_FILE"], "is a file"),
    (["--top-k", "0"], "--top-k / top_k must be 1..10, got 0"),
    (["--top-k", "1000"], "--top-k / top_k must be 1..10, got 1000"),
    (["--style", "newsletter"], "unknown style (TOP5_STYLE / --style)"),
    (["--style", "review"], "style review writes a review's pages, not a week's"),
    (["--categories", "cs.XX"], "unknown arXiv category 'cs.XX': closest valid ones: "),
    (["--categories", "cs.AI,cs.LGG"], "closest valid ones: cs.LG"),
    (["2026-W99"], "2026-W99"),
    (["--start", "2026-11-16"], "--start and --end go together"),
])
def test_bad_arguments_exit_2_with_one_line_before_anything_is_spent(tmp_path, llm, args, expected):
    (tmp_path / "A_FILE").write_text("not a folder")
    args = [a.replace("A_FILE", str(tmp_path / "A_FILE")) for a in args]
    result = _top5("run", *args, env={"OPENAI_BASE_URL": llm.base_url, "ARXIV_API_URL": "http://127.0.0.1:9/api"},
                   cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("top5: ") and expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip().endswith("prefect imported: False")  # no Prefect server was started
    assert llm.requests == []


@pytest.mark.parametrize("variable, value", [("OPENAI_BASE_URL", PLAIN_SECRET), ("GITHUB_REPOSITORY", PLAIN_SECRET),
                                             ("GITHUB_API_URL", "ghp_" + "x" * 36)])
def test_a_secret_in_the_wrong_variable_is_named_not_printed(tmp_path, variable, value):
    result = _top5("run", "--no-pr", env={variable: value}, cwd=tmp_path)
    assert result.returncode == 2
    assert variable in result.stderr and value not in result.stderr + result.stdout
    assert result.stdout.strip().endswith("prefect imported: False")


def test_categories_are_normalised_for_the_flow(tmp_path, monkeypatch):
    from flows.preflight import check_run

    asked = check_run(categories="cs.cl, STAT.ML + q-bio nc;eess_iv cs.AI", digests_dir=str(tmp_path),
                      settings=None)
    assert asked.categories == ["cs.CL", "stat.ML", "q-bio.NC", "eess.IV", "cs.AI"]


def test_version():
    result = _top5("--version")
    assert result.returncode == 0 and result.stdout.startswith("top5 ")


def test_every_command_takes_the_week_first_and_the_digests_dir(tmp_path, capsys):
    """run, swap, render, show and backfill name the week the same way: positional, first."""
    from flows.cli import _parser

    parser = _parser()
    for argv in (["run", "2026-W47"], ["swap", "2026-W47", "3", "R1"], ["render", "2026-W47", "--style", "weekly"],
                 ["show", "2026-W47"], ["backfill", "2026-W40", "2026-W47"]):
        args = parser.parse_args([*argv, "--digests-dir", str(tmp_path)])
        assert (args.week, args.digests_dir) == ("2026-W47" if argv[0] != "backfill" else "2026-W40", str(tmp_path))


def test_show_prints_picks_runners_up_with_reasons_flags_and_cost(tmp_path, capsys):
    folder = write_draft(tmp_path / "2026-W47", flags=("Paper 2, 2611.00002: PDF timed out\x1b[2J",))
    assert top5(["show", "2026-W47", "--digests-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    picks, rest = shown.split("Runners-up")
    runners, flags = rest.split("Flags")
    assert [line.split()[1] for line in picks.splitlines() if line.strip()[:2] in {f"{i}." for i in range(1, 6)}] == PICKS
    assert f"R1  {RUNNERS[0]}  Title of {RUNNERS[0]}" in runners and f"Reason for {RUNNERS[0]}" in runners
    assert f"R5  {RUNNERS[4]}" in runners and "R6" not in runners
    assert "top5 swap 2026-W47 PAPER R1" in runners
    assert "PDF timed out" in flags and "\x1b" not in shown  # no terminal escapes from the data
    assert "Cost: $0.0123" in flags and "51,234 prompt + 4,321 completion in 9 requests (1 cached)" in flags
    assert folder.is_dir()


def test_show_of_a_missing_week_says_so(tmp_path, capsys):
    assert top5(["show", "2026-W01", "--digests-dir", str(tmp_path)]) == 1
    assert "holds no finished draft" in capsys.readouterr().err


def test_render_out_copies_the_figures_the_pages_link(tmp_path, capsys):
    week = tmp_path / "digests" / "2026-W47"
    write(week, **_parts())
    (week / "figures").mkdir()
    (week / "figures" / "2611.00001-figure-1.png").write_bytes(b"\x89PNG fake")
    out = tmp_path / "site"
    assert top5(["render", "2026-W47", "--style", "weekly", "--out", str(out),
                 "--digests-dir", str(tmp_path / "digests")]) == 0
    assert (out / "README.md").is_file() and (out / "papers.md").is_file()
    assert (out / "figures" / "2611.00001-figure-1.png").read_bytes() == b"\x89PNG fake"


def test_render_out_copies_no_link_or_special_file_of_figures(tmp_path, caplog):
    week = tmp_path / "digests" / "2026-W47"
    write(week, **_parts())
    (week / "figures" / "more").mkdir(parents=True)
    (week / "figures" / "more" / "2611.00001-figure-2.png").write_bytes(b"\x89PNG two")
    private = tmp_path / "private.txt"
    private.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (week / "figures" / "secret.png").symlink_to(private)  # a merged branch can carry a symlink
    (week / "figures" / "gone.png").symlink_to(tmp_path / "nowhere.png")
    os.mkfifo(week / "figures" / "pipe.png")
    out = tmp_path / "site"
    with caplog.at_level(logging.WARNING):
        assert top5(["render", "2026-W47", "--style", "bookmarks", "--out", str(out),
                     "--digests-dir", str(tmp_path / "digests")]) == 0
    assert (out / "figures" / "more" / "2611.00001-figure-2.png").read_bytes() == b"\x89PNG two"
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["more"]
    assert all(f"{name} is not copied" in caplog.text for name in ("secret.png", "gone.png", "pipe.png"))


def test_render_out_never_replaces_a_file_it_did_not_write(tmp_path, capsys):
    digests = tmp_path / "digests"
    write(digests / "2026-W47", **_parts())
    project = tmp_path / "other-project"
    project.mkdir()
    (project / "README.md").write_text("# Another project's README\n")
    args = ["render", "2026-W47", "--style", "bookmarks", "--digests-dir", str(digests), "--out"]
    assert top5(args + [str(project)]) == 1
    assert "was not written by `top5 render`" in capsys.readouterr().err
    assert (project / "README.md").read_text() == "# Another project's README\n"
    assert not (project / "papers.md").exists()
    edited = (digests / "2026-W47" / "README.md").read_text() + "\nMy edit.\n"
    (digests / "2026-W47" / "README.md").write_text(edited)
    assert top5(args + [str(digests / "2026-W47")]) == 1  # the week's own folder: the editor's pages
    assert (digests / "2026-W47" / "README.md").read_text() == edited
    site = tmp_path / "site"
    assert top5(args + [str(site)]) == 0 and top5(args + [str(site)]) == 0  # its own pages: rendered again
    (site / "README.md").write_text("hand-edited\n")
    assert top5(args + [str(site)]) == 1 and (site / "README.md").read_text() == "hand-edited\n"


def test_swap_names_runners_up_r1_to_r5_as_the_pull_request_does(tmp_path):
    """`top5 swap W 3 R1` and `top5 swap W 3 1` name the same runner-up; R6 does not exist."""
    import json

    from flows.digest.swap import _resolve
    from flows.errors import ConfigError

    record = json.loads((write_draft(tmp_path / "2026-W47") / "candidates.json").read_text())
    rows = {row["arxiv_id"]: row for row in record["candidates"]}
    assert _resolve("R1", record, rows, "2026-W47") == _resolve("1", record, rows, "2026-W47") == RUNNERS[0]
    assert _resolve("r5", record, rows, "2026-W47") == RUNNERS[4]
    with pytest.raises(ConfigError, match=r"runner-up R6 does not exist for 2026-W47 \(R1..R5\)"):
        _resolve("R6", record, rows, "2026-W47")
    for odd in ("R\u00b2", "\u00b2", "R1\n2611.00002", "R\u0661"):  # isdigit() says yes to ² and Arabic-Indic digits
        with pytest.raises(ConfigError, match="runner-up|not a candidate|one arXiv id"):
            _resolve(odd, record, rows, "2026-W47")


def _session_members(sid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split() if entry.name.isdigit() else None
        except OSError:
            continue
        if fields and fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


@pytest.mark.e2e
def test_sigterm_to_a_run_stops_the_temporary_prefect_server_it_started(tmp_path, llm):
    import re
    import signal
    import socket
    import time

    silent = socket.socket()  # an arXiv that accepts and never answers: the run waits there
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "OPENAI_", "ARXIV_"))}
    env.update(PYTHONPATH=str(REPO), PREFECT_HOME=str(tmp_path / "prefect"), OPENAI_BASE_URL=llm.base_url,
               ARXIV_API_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/api", TOP5_POPULARITY="off",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300")
    log = tmp_path / "run.log"
    proc = run_in_own_session(tmp_path, env, log)
    try:
        deadline = time.monotonic() + 240
        while not re.search(r"stage|Beginning flow run", log.read_text(errors="replace")):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.5)
        port = int(re.search(r"temporary server on http://127.0.0.1:(\d+)", log.read_text()).group(1))
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # its temporary server, in a session of its own

        proc.send_signal(signal.SIGTERM)  # once
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _session_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _session_members(proc.pid) == [], log.read_text(errors="replace")[-3000:]
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if _session_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        silent.close()


def run_in_own_session(tmp_path: Path, env: dict, log: Path) -> subprocess.Popen:
    """`top5 run 2026-W47 --no-pr` into tmp_path/digests, in a session of its own (its process
    group: what a service manager signals), its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "2026-W47", "--no-pr",
                                 "--digests-dir", str(tmp_path / "digests")], cwd=tmp_path, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _run_and_logs(digests_dir: Path) -> tuple[object, list]:
    """The newest flow run of the harness's server that drafted into `digests_dir`, and every log
    line the server keeps for it (filtered by the run: other tests' runs log hundreds of lines)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=20)
        run = next(r for r in runs if r.parameters.get("digests_dir") == str(digests_dir))
        return run, client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])), limit=200)


@pytest.mark.e2e
def test_an_edited_week_is_refused_in_one_line_and_the_run_ends_failed(tmp_path, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    week = tmp_path / "2026-W47"
    write(week, **_parts())
    (week / "README.md").write_text("# The editor's own words\n")
    env = {"PREFECT_API_URL": PREFECT_API_URL.value(), "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}

    result = _top5("run", "2026-W47", "--no-pr", "--digests-dir", str(tmp_path), env=env)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("top5: ") and "was changed after this tool wrote it" in line
    assert line.endswith("Move the folder aside or pass another --digests-dir to draft this week again.")
    assert "Traceback" not in result.stderr + result.stdout
    assert (week / "README.md").read_text() == "# The editor's own words\n"
    refused, _ = _run_and_logs(tmp_path)
    assert refused.state.is_failed() and "was changed after this tool wrote it" in refused.state.message


@pytest.mark.e2e
def test_arxiv_out_of_reach_is_one_line_in_the_terminal_and_the_run_state(tmp_path, prefect_harness):
    """An expected failure inside a task: no traceback in the terminal nor in the logs Prefect
    keeps for the UI; the run ends Failed with the one line that names the setting."""
    import socket

    from prefect.settings import PREFECT_API_URL

    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {"PREFECT_API_URL": PREFECT_API_URL.value(), "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
           "ARXIV_API_URL": f"http://127.0.0.1:{port}/api", "ARXIV_DELAY_SECONDS": "0.01", "TOP5_POPULARITY": "off"}

    result = _top5("run", "2026-W47", "--no-pr", "--digests-dir", str(tmp_path), env=env)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("top5: arXiv query") and "ARXIV_API_URL" in last
    failed, logs = _run_and_logs(tmp_path)
    assert failed.state.is_failed() and "ARXIV_API_URL" in failed.state.message
    assert "\n" not in failed.state.message
    kept = [log.message for log in logs]
    assert any("FeedError" in m for m in kept) and not any("Traceback" in m for m in kept), kept


@pytest.mark.e2e
def test_a_secret_in_the_wrong_variable_never_reaches_prefect(tmp_path, prefect_harness, monkeypatch):
    """A deployment's run reads its settings inside the flow: the failure names the variable,
    and neither the run's state, its logs nor Prefect's database hold the value."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    from flows.errors import ConfigError
    from flows.weekly_digest import weekly_digest

    monkeypatch.setenv("GITHUB_REPOSITORY", PLAIN_SECRET)
    with pytest.raises(ConfigError, match="GITHUB_REPOSITORY: must be owner/name") as caught:
        weekly_digest(week="2026-W47", digests_dir=str(tmp_path), open_pr=False)
    assert PLAIN_SECRET not in caught.value.message

    refused, logs = _run_and_logs(tmp_path)
    assert refused.state.is_failed() and "GITHUB_REPOSITORY" in refused.state.message
    assert PLAIN_SECRET not in refused.state.message + "\n".join(log.message for log in logs)
    database = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split("///", 1)[1])
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert stored and PLAIN_SECRET.encode() not in stored


@pytest.mark.parametrize("variable", ["ARXIV_API_URL", "OPENAI_BASE_URL"])
def test_a_control_character_in_a_url_setting_is_one_line_naming_it(tmp_path, variable):
    """A URL httpx cannot send (here a \\x01 pasted into the password) is refused when the settings
    are read: one line naming the setting, never its value, exit 2, before anything is spent."""
    password = "Pa55\x01wordXyz"
    result = _top5("run", "--dry-run", "--no-pr", env={variable: f"http://user:{password}@127.0.0.1:9/api"},
                   cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and f"{variable}: is not a valid URL" in result.stderr
    assert "Traceback" not in result.stderr and "wordXyz" not in result.stderr + result.stdout
    assert result.stdout.strip().endswith("prefect imported: False")


@pytest.mark.parametrize("args, expected", [
    (["2026-W40", "2026-W47", "--top-k", "11"], "--top-k / top_k must be 1..10, got 11"),
    (["2026-W40", "--categories", "cs.LGG"], "unknown arXiv category 'cs.LGG'"),
    (["2026-W99"], "2026-W99"),
])
def test_backfill_checks_its_arguments_before_prefect_starts(tmp_path, args, expected):
    result = _top5("backfill", *args, "--digests-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and expected in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout.strip().endswith("prefect imported: False")


@pytest.mark.parametrize("args, expected", [
    (["2030-W10"], "week 2030-W10 is not complete yet"),
    (["--start", "2030-01-01", "--end", "2030-01-07"], "starts in the future"),
    (["--digests-dir", ""], "--digests-dir / digests_dir is empty"),
])
def test_a_week_not_over_and_an_empty_folder_are_refused_before_anything_is_spent(tmp_path, llm, args, expected):
    result = _top5("run", *args, env={"OPENAI_BASE_URL": llm.base_url, "ARXIV_API_URL": "http://127.0.0.1:9/api"},
                   cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert result.stdout.strip().endswith("prefect imported: False")
    assert llm.requests == [] and list(tmp_path.iterdir()) == []


def test_a_backfill_into_the_future_is_refused(tmp_path):
    result = _top5("backfill", "2026-W47", "2030-W10", "--digests-dir", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "week 2030-W10 is not complete yet" in result.stderr


@pytest.mark.parametrize("spelling", ["2026-w47", "2026W47", " 2026-W47 "])
def test_every_spelling_of_a_week_names_the_same_folder(tmp_path, capsys, spelling):
    write(tmp_path / "2026-W47", **_parts())
    assert top5(["show", spelling, "--digests-dir", str(tmp_path)]) == 0
    assert "2026-W47" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-W47"]


def test_a_path_that_cannot_be_written_is_one_line(tmp_path, capsys):
    write(tmp_path / "2026-W47", **_parts())
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert top5(["render", "2026-W47", "--style", "bookmarks", "--digests-dir", str(tmp_path),
                 "--out", str(blocker)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("top5: ") and err.count("\n") == 1 and str(blocker) in err
