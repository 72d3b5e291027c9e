"""The `top5` command line. Every command names its week the same way, as the first positional
argument (an ISO week such as 2026-W47; for `run` optional: the last complete arXiv week),
and every command takes --digests-dir. Arguments and settings are checked before Prefect is
imported, so a typo costs nothing: exit 2 and one line on stderr.

Exit codes: 0 done, 1 the work failed (the message says why), 2 bad arguments or settings,
3 no draft (no new papers in the window), 130 stopped by Ctrl-C, 143 stopped by SIGTERM (one line
says what was kept).
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from flows import prefect_setup, progress
from flows.config import DEFAULT_CATEGORIES
from flows.errors import ConfigError, Stopped, Top5Error
from flows.review.period import is_review_label

EXIT_FAILED, EXIT_USAGE, EXIT_NO_DRAFT, EXIT_INTERRUPTED = 1, 2, 3, 130
WEEK_HELP = "ISO week such as 2026-W47"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if getattr(args, "week", None) and args.command != "backfill" and not is_review_label(args.week):
            args.week = _canonical_week(args.week)
        return args.handler(args)
    except ConfigError as exc:
        print(f"top5: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except Stopped as exc:  # the run said what it kept
        print(f"top5: {exc.message}", file=sys.stderr)
        return 128 + exc.signal
    except Top5Error as exc:
        print(f"top5: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # a path given on the command line that cannot be read or written
        print(f"top5: {exc.filename or 'a file'}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as exc:
        print("top5: interrupted; what was finished is kept, and the next run picks up from there", file=sys.stderr)
        return 128 + getattr(exc, "signal", EXIT_INTERRUPTED - 128)


def _canonical_week(week: str) -> str:
    """The week as its folder is named ("2026-w47", "2026W47" -> "2026-W47"); ConfigError if it is none."""
    from flows.candidates import window_for_week

    return window_for_week(week).label


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="top5", description="Draft a weekly top-5 AI papers digest.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _run_parser(commands)
    swap = _command(commands, "swap", _swap, "replace paper N of a draft by a runner-up or another candidate")
    swap.add_argument("week", help=WEEK_HELP)
    swap.add_argument("position", type=int, help="the paper to replace (1-5)")
    swap.add_argument("choice", help="a runner-up (R1-R5, or 1-5) or an arXiv id of the week's candidates")
    swap.add_argument("--no-pr", action="store_true", help="do not update the pull request")
    render = _command(commands, "render", _render, "render a drafted week in another style (no LLM, no network)")
    render.add_argument("week", help=WEEK_HELP)
    render.add_argument("--style", required=True, help="a style of prompts/styles/, e.g. bookmarks; email: the merged digest as "
                        "a self-contained HTML newsletter and its plain-text part")
    render.add_argument("--out", help="folder for the pages and their figures/ (default: print README.md)")
    show = _command(commands, "show", _show, "print a draft's picks, runners-up with reasons, flags and cost")
    show.add_argument("week", help=WEEK_HELP)
    evaluate = _command(commands, "eval", _eval, "replay past weeks in order: recall of the editor's picks "
                        "per ranker, learning only from earlier weeks")
    evaluate.add_argument("--shortlist-size", type=int, default=None, help="default: TOP5_SHORTLIST_SIZE or 40")
    evaluate.add_argument("--editor-weeks", help="a history folder (picks.json and <week>.jsonl.gz listings, as "
                          "`top5 taste import` writes) instead of the weeks recorded in --digests-dir")
    evaluate.add_argument("--upvotes", help="a JSONL file of Hugging Face upvotes ({\"id\", \"date\", \"upvotes\"} "
                          "a line) to replay the popularity signal with")
    _profile_option(evaluate)
    taste = _command(commands, "taste", _taste, "import an editor's past digests and learn their taste")
    taste.add_argument("action", choices=("import",), help="import: read SOURCE, fetch its weeks' listings, learn")
    taste.add_argument("source", help="a folder or file of past digests in markdown (arXiv links; the week or "
                       "date in the path or heading), or a text file of `arXiv-id YYYY-MM-DD` lines")
    taste.add_argument("--history-dir", help="where the history goes (default: TOP5_HISTORY_DIR or history/)")
    taste.add_argument("--categories", default=",".join(DEFAULT_CATEGORIES),
                       help="arXiv categories of the listings (default: %(default)s)")
    taste.add_argument("--refetch", action="store_true", help="fetch every listing again, even those the history "
                       "folder already holds for these categories")
    _backfill_parser(commands)
    review = _command(commands, "review", _review, "draft the year's papers (or a range's) from the merged weeklies")
    review.add_argument("year", nargs="?", help="the year, such as 2026 (default: this year)")
    review.add_argument("--from", dest="start", help="first day YYYY-MM-DD (with --to, instead of a year)")
    review.add_argument("--to", dest="end", help="last day YYYY-MM-DD, included")
    review.add_argument("--style", default="review", help="a style of prompts/styles/ (default: review)")
    review.add_argument("--no-pr", action="store_true", help="write the review only: no branch, no pull request")
    return parser


def _command(commands, name: str, handler, text: str) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=text, description=text)
    command.add_argument("--digests-dir", default="digests", help="the drafts' folder (default: digests)")
    command.set_defaults(handler=handler)
    return command


def _run_parser(commands) -> None:
    run = _command(commands, "run", _run, "draft the digest of one arXiv week into DIGESTS_DIR/<week>/")
    run.add_argument("week", nargs="?", help=f"{WEEK_HELP} (default: the last complete arXiv week)")
    run.add_argument("--week", dest="week_option", help=argparse.SUPPRESS)  # the older spelling
    run.add_argument("--start", help="explicit window start date YYYY-MM-DD (with --end, replaces the week's window)")
    run.add_argument("--end", help="explicit window end date YYYY-MM-DD, inclusive")
    _selection(run)
    run.add_argument("--no-pr", action="store_true", help="write the draft only: no branch, no pull request")
    run.add_argument("--dry-run", action="store_true", help="fetch the week and score it with stage 1, then print "
                     "the LLM requests, tokens and cost the run would spend; nothing sent to the LLM, nothing written")
    run.add_argument("--style", help="a style of prompts/styles/ (default: TOP5_STYLE or weekly)")
    _profile_option(run)


def _backfill_parser(commands) -> None:
    backfill = _command(commands, "backfill", _backfill, "draft every week from FIRST to LAST")
    backfill.add_argument("week", help=f"the first week, {WEEK_HELP}")
    backfill.add_argument("last", nargs="?", help="the last week, included (default: the first)")
    _selection(backfill)
    backfill.add_argument("--runner", choices=("default", "dask"), default="default")
    backfill.add_argument("--max-parallel", type=int, default=4, help="weeks at once (default: 4)")
    backfill.add_argument("--open-pr", action="store_true", help="propose each draft as a pull request")


def _selection(command: argparse.ArgumentParser) -> None:
    command.add_argument("--categories", default=",".join(DEFAULT_CATEGORIES),
                         help="comma-separated arXiv categories (default: %(default)s)")
    command.add_argument("--top-k", type=int, default=5, help="papers in the draft, 1-10 (default: 5)")


def _profile_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--profile", help="the editor's profile, a TOML file (same as TOP5_PROFILE; "
                         "default: prompts/profile.toml)")


def _use_profile(args) -> None:
    """--profile PATH is TOP5_PROFILE for this process, so every stage reads the same settings."""
    import os

    if getattr(args, "profile", None):
        os.environ["TOP5_PROFILE"] = args.profile


def _run(args) -> int:
    from flows.preflight import check_run

    _use_profile(args)

    request = check_run(week=args.week or args.week_option, start=args.start, end=args.end,
                        categories=args.categories, top_k=args.top_k, digests_dir=args.digests_dir,
                        style=args.style)
    if args.dry_run:
        return _dry_run(request)
    prefect_setup.before_prefect()
    from flows.weekly_digest import weekly_digest  # imports Prefect: after every argument was checked

    draft = prefect_setup.run_flow(weekly_digest, week=request.week, categories=request.categories,
                                   top_k=request.top_k, digests_dir=request.digests_dir, start=request.start,
                                   end=request.end, open_pr=not args.no_pr, style=request.style)
    if draft is None:
        print("top5: no new papers in that window; no draft written", file=sys.stderr)
        return EXIT_NO_DRAFT
    print(f"Draft written: {draft}\n{progress.closing_line(draft)}\n"
          f"Review it (`top5 show {Path(draft).parent.name}`), edit it, then merge it.")
    return 0


def _dry_run(request) -> int:
    from flows.config import Settings
    from flows.errors import ConfigError
    from flows.estimate import check_budget
    from flows.estimate.dry_run import dry_run

    settings = Settings.from_env()
    estimate = dry_run(request, settings)
    print("\n".join(["Dry run: no LLM request sent, nothing written", *estimate.lines()]))
    try:
        check_budget(estimate, settings.budget_usd, settings.budget_tokens)
    except ConfigError as exc:
        print(f"A real run would be refused: {exc.message}")
    return 0


def _swap(args) -> int:
    from pathlib import Path

    from flows import pull_request
    from flows.config import Settings
    from flows.digest.swap import swap

    folder = Path(args.digests_dir) / args.week
    settings = Settings.from_env()
    _synced(folder.parent)
    if not args.no_pr and pull_request.in_git_repo(folder):  # refuse before the draft is rewritten
        pull_request.check_not_merged(folder, settings)
        pull_request.check_branch(folder, settings)
    done = swap(folder, args.position, args.choice, settings)
    print(f"Paper {done.position} of {args.week}: {done.removed} replaced by {done.added} ({done.draft})")
    if not args.no_pr and pull_request.in_git_repo(folder):
        print(pull_request.open_pull_request(folder).message)
    return 0


def _render(args) -> int:
    from pathlib import Path

    from flows.config import Settings
    from flows.digest import render_to
    from flows.shortlist import Profile

    profile = Profile.load(Settings.from_env().profile)
    _synced(Path(args.digests_dir))
    pages = render_to(Path(args.digests_dir) / args.week, args.style, Path(args.out) if args.out else None, profile)
    if args.out:
        print(f"Rendered {args.week} in style {args.style}: {args.out}")
    else:
        print(pages.get("README.md") or pages["newsletter.html"], end="")
    return 0


def _show(args) -> int:
    from pathlib import Path

    from flows.digest import show

    _synced(Path(args.digests_dir))
    print(show(Path(args.digests_dir) / args.week), end="")
    return 0


def _synced(digests_dir) -> None:
    """The digests clone fast-forwarded to the merged base branch, so a command reads the editor's
    merged text; when it cannot be, the one line saying why (nothing was changed)."""
    from flows.pull_request import sync

    if message := sync(digests_dir).message:
        print(f"top5: {message}", file=sys.stderr)


def _eval(args) -> int:
    from pathlib import Path

    from flows.config import Settings
    from flows.pull_request import merged_readmes
    from flows.shortlist import archive, replay
    from flows.shortlist.embeddings import Embedder
    from flows.shortlist.evaluation import evaluate, report
    from flows.shortlist.ranking import Profile
    from flows.shortlist.taste import edited_weeks

    _use_profile(args)
    settings = Settings.from_env()
    profile, embedder = Profile.load(settings.profile), Embedder(settings.cache_dir)
    if args.editor_weeks is not None:
        print(replay.report(replay.upvotes_from(args.upvotes, archive.editor_weeks(Path(args.editor_weeks))),
                            profile, embedder))
        return 0
    digests = Path(args.digests_dir)
    merged = merged_readmes(digests)
    weeks = replay.upvotes_from(args.upvotes, [w.history() for w in edited_weeks(digests, merged)])
    if not weeks:
        raise Top5Error(f"nothing to evaluate in {digests}: no recorded week (candidates.json) whose digest "
                        "the editor merged into the base branch or edited")
    size = args.shortlist_size or settings.shortlist_size
    print(report(evaluate(digests, profile, size, merged, embedder), size) + "\n")
    print(replay.report(weeks, profile, embedder) if sum(bool(w.picks) for w in weeks) > 1
          else "The replay per ranker needs two weeks with the editor's picks.")
    return 0


def _taste(args) -> int:
    from pathlib import Path

    from flows.candidates.taxonomy import parse_categories
    from flows.config import Settings
    from flows.shortlist.archive import import_archive

    categories = parse_categories(args.categories)  # as `top5 run --categories` checks them
    settings = Settings.from_env()
    history = Path(args.history_dir) if args.history_dir else settings.history_dir
    print(import_archive(Path(args.source), history, settings, categories, args.refetch))
    return 0


def _review(args) -> int:
    from flows.review.command import review

    return review(args)


def _backfill(args) -> int:
    from flows.preflight import check_run

    check_run(week=args.week, categories=args.categories, top_k=args.top_k, digests_dir=args.digests_dir)
    prefect_setup.before_prefect()
    from flows import backfill  # imports Prefect

    return backfill.main(["--start-week", args.week, "--end-week", args.last or args.week,
                          "--categories", args.categories, "--top-k", str(args.top_k),
                          "--digests-dir", args.digests_dir, "--runner", args.runner,
                          "--max-parallel", str(args.max_parallel), *(["--open-pr"] if args.open_pr else [])])


def _version() -> str:
    try:
        return version("weekly-top5")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


if __name__ == "__main__":
    raise SystemExit(main())
