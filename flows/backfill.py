"""Backfill: draft many arXiv weeks at once, one task per week, each running the weekly-digest
flow as a nested flow run (so every week shows up in the UI as its own run).

Weeks run in parallel on Prefect's default thread pool or, with `runner="dask"`, on Dask
(`pip install -e '.[dask]'`): a local cluster of worker processes, or an existing cluster when
TOP5_DASK_ADDRESS is set (e.g. tcp://scheduler:8786; its workers need this project installed,
the same environment variables, and PREFECT_API_URL pointing at the Prefect server).

One week failing never sinks the others: each week reports its draft, "no new papers", or the
error message. The run's table artifact `backfill-report` shows the same.

    python -m flows.backfill --start-week 2026-W40 --end-week 2026-W47 [--runner dask]
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from prefect import flow, get_client, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.task_runners import ThreadPoolTaskRunner

from flows.candidates.week import check_complete, window_for_week
from flows.config import DEFAULT_CATEGORIES, Settings
from flows.errors import ConfigError, Top5Error
from flows.weekly_digest import weekly_digest

RUNNERS = ("default", "dask")
MAX_WEEKS = 520  # ten years: more is a typo in a week, not a backfill


@dataclass(frozen=True)
class WeekReport:
    """What became of one week: a draft, no papers, or an error."""

    week: str
    draft: str | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        return "drafted" if self.draft else "no new papers"


def weeks_between(start_week: str, end_week: str) -> list[str]:
    """Every ISO week from `start_week` to `end_week`, both included, in order."""
    first, last = _monday(start_week), _monday(end_week)
    if last < first:
        raise ConfigError(f"backfill end week {end_week!r} is before its start week {start_week!r}")
    count = (last - first).days // 7 + 1
    if count > MAX_WEEKS:
        raise ConfigError(f"backfill from {start_week!r} to {end_week!r} is {count} weeks; "
                          f"at most {MAX_WEEKS} at once")
    return [_label(first + timedelta(weeks=i)) for i in range(count)]


def resolve_weeks(weeks: list[str] | None, start_week: str | None, end_week: str | None) -> list[str]:
    """The weeks to draft: an explicit list, or a range; checked and without repeats."""
    if weeks and (start_week or end_week):
        raise ConfigError("give either weeks or start_week/end_week, not both")
    if weeks:
        labels = [check_complete(window_for_week(w)).label for w in weeks]  # raises naming a bad week
        return list(dict.fromkeys(labels))
    if start_week and end_week:
        check_complete(window_for_week(end_week))  # every week of the range is over
        return weeks_between(start_week, end_week)
    raise ConfigError("backfill needs weeks (a list like ['2026-W46', '2026-W47']) "
                      "or both start_week and end_week")


def make_runner(runner: str, max_parallel: int):
    """The task runner for the weeks: a thread pool, or Dask (local cluster or TOP5_DASK_ADDRESS)."""
    if max_parallel < 1:
        raise ConfigError(f"max_parallel must be at least 1, got {max_parallel}")
    if runner == "default":
        return ThreadPoolTaskRunner(max_workers=max_parallel)
    if runner == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise ConfigError("runner 'dask' needs prefect-dask: pip install -e '.[dask]'") from None
        address = Settings.from_env().dask_address
        if address:
            return DaskTaskRunner(address=address)
        # one single-threaded worker process per parallel week
        return DaskTaskRunner(cluster_kwargs={"n_workers": max_parallel, "threads_per_worker": 1,
                                              "dashboard_address": None})
    raise ConfigError(f"runner {runner!r} is not one of {', '.join(RUNNERS)}")


@task(cache_policy=NO_CACHE, task_run_name="draft-{week}")
def draft_week(week: str, categories: list[str], top_k: int, digests_dir: str, open_pr: bool) -> WeekReport:
    """One week, as a nested weekly-digest flow run; its failure becomes the week's report."""
    try:
        draft = weekly_digest.with_options(flow_run_name=f"weekly-digest-{week}")(
            week=week, categories=categories, top_k=top_k, digests_dir=digests_dir, open_pr=open_pr)
    except Top5Error as exc:
        return WeekReport(week, error=exc.message)
    except Exception as exc:  # noqa: BLE001 - any failure of one week is that week's report
        return WeekReport(week, error=f"{type(exc).__name__}: {exc}")
    return WeekReport(week, draft=draft)


@flow(name="draft-weeks")
def _draft_weeks(weeks: list[str], categories: list[str], top_k: int, digests_dir: str,
                 open_pr: bool) -> list[WeekReport]:
    futures = [draft_week.submit(w, categories, top_k, digests_dir, open_pr) for w in weeks]
    reports = []
    for week, future in zip(weeks, futures, strict=True):
        try:
            reports.append(future.result())
        except Exception as exc:  # noqa: BLE001 - the task itself died (e.g. a lost Dask worker)
            reports.append(WeekReport(week, error=f"{type(exc).__name__}: {exc}"))
    return reports


@flow(name="backfill")
def backfill(
    weeks: list[str] | None = None,
    start_week: str | None = None,
    end_week: str | None = None,
    categories: list[str] = list(DEFAULT_CATEGORIES),  # noqa: B006 - a Prefect parameter default
    top_k: int = 5,
    digests_dir: str = "digests",
    runner: str = "default",
    max_parallel: int = 4,
    open_pr: bool = False,
) -> list[WeekReport]:
    """Draft every week of `weeks` (or `start_week`..`end_week`), `max_parallel` at a time on
    `runner` ("default": threads, "dask": Dask). Returns one report per week, in order."""
    logger = get_run_logger()
    labels = resolve_weeks(weeks, start_week, end_week)
    if not Settings.from_env().llm_configured and max_parallel > 1:
        # every week would start its own embedded model: ~1 GB and all cores each
        logger.warning("no LLM configured: the embedded model drafts one week at a time")
        max_parallel = 1
    task_runner = make_runner(runner, max_parallel)
    logger.info("backfill of %d weeks (%s .. %s) on %s, %d at a time",
                len(labels), labels[0], labels[-1], runner, max_parallel)
    with _one_api_for_all_processes(runner):
        reports = _draft_weeks.with_options(task_runner=task_runner)(
            labels, list(categories), top_k, digests_dir, open_pr)
    for r in reports:
        (logger.error if r.error else logger.info)("%s: %s", r.week, r.error or r.draft or r.status)
    create_table_artifact(key="backfill-report", description=f"Backfill of {len(labels)} weeks",
                          table=[{"status": r.status, **asdict(r)} for r in reports])
    return reports


def main(argv: list[str] | None = None) -> int:
    """`python -m flows.backfill`: exit 0 when no week failed, 1 otherwise, 2 for bad arguments."""
    parser = argparse.ArgumentParser(prog="python -m flows.backfill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", help="comma-separated ISO weeks, e.g. 2026-W45,2026-W46")
    parser.add_argument("--start-week", help="first week of a range, e.g. 2026-W40")
    parser.add_argument("--end-week", help="last week of the range, included")
    parser.add_argument("--categories", default=",".join(DEFAULT_CATEGORIES))
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--digests-dir", default="digests")
    parser.add_argument("--runner", choices=RUNNERS, default="default")
    parser.add_argument("--max-parallel", type=int, default=4, help="weeks at once (default: 4)")
    parser.add_argument("--open-pr", action="store_true", help="propose each draft as a pull request")
    args = parser.parse_args(argv)
    weeks = [w.strip() for w in args.weeks.split(",") if w.strip()] if args.weeks else None
    try:
        resolve_weeks(weeks, args.start_week, args.end_week)
        make_runner(args.runner, args.max_parallel)
    except ConfigError as exc:
        print(f"backfill: {exc.message}", file=sys.stderr)
        return 2
    reports = backfill(weeks=weeks, start_week=args.start_week, end_week=args.end_week,
                       categories=[c.strip() for c in args.categories.split(",") if c.strip()],
                       top_k=args.top_k, digests_dir=args.digests_dir, runner=args.runner,
                       max_parallel=args.max_parallel, open_pr=args.open_pr)
    for r in reports:
        print(f"{r.week}  {r.status:<13}  {r.error or r.draft or ''}")
    return 1 if any(r.error for r in reports) else 0


def _one_api_for_all_processes(runner: str):
    """Without PREFECT_API_URL this run talks to a temporary server; name it explicitly, so
    that Dask worker processes (which get this run's settings) join it instead of each starting
    a temporary server of their own on the same database."""
    if runner != "dask" or PREFECT_API_URL.value():
        return nullcontext()
    with get_client(sync_client=True) as client:
        return temporary_settings({PREFECT_API_URL: str(client.api_url).rstrip("/")})


def _monday(week: str) -> date:
    label = window_for_week(week).label  # raises naming a bad week
    return date.fromisocalendar(int(label[:4]), int(label[6:]), 1)


def _label(monday: date) -> str:
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


if __name__ == "__main__":
    raise SystemExit(main())
