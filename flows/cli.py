"""The `top5` command line: `top5 run` drafts a week's digest (same as the Prefect flow)."""

from __future__ import annotations

import argparse
import sys

from flows import prefect_setup, progress
from flows.config import DEFAULT_CATEGORIES
from flows.errors import Top5Error

EXIT_NO_DRAFT = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="top5", description="Draft a weekly top-5 AI papers digest.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="draft the digest of one arXiv week into digests/<week>/")
    run.add_argument("--week", help="ISO week such as 2026-W47 (default: the last complete arXiv week)")
    run.add_argument("--start", help="explicit window start date YYYY-MM-DD (with --end, replaces the week's window)")
    run.add_argument("--end", help="explicit window end date YYYY-MM-DD, inclusive")
    run.add_argument("--categories", default=",".join(DEFAULT_CATEGORIES),
                     help="comma-separated arXiv categories (default: %(default)s)")
    run.add_argument("--top-k", type=int, default=5, help="papers in the draft (default: 5)")
    run.add_argument("--digests-dir", default="digests", help="where drafts go (default: digests)")
    run.add_argument("--no-pr", action="store_true", help="write the draft only: no branch, no pull request")
    run.add_argument("--style", help="a style of prompts/styles/ (default: TOP5_STYLE or weekly)")
    swap = commands.add_parser("swap", help="replace paper N of a draft by a runner-up or another candidate")
    swap.add_argument("week", help="the week's folder name, e.g. 2026-W47")
    swap.add_argument("position", type=int, help="the paper to replace (1-5)")
    swap.add_argument("choice", help="a runner-up's rank (1 = first runner-up) or an arXiv id of the week's candidates")
    swap.add_argument("--digests-dir", default="digests")
    swap.add_argument("--no-pr", action="store_true", help="do not update the pull request")
    render = commands.add_parser("render", help="render a drafted week in another style (no LLM, no network)")
    render.add_argument("--week", required=True, help="the week's folder name, e.g. 2026-W47")
    render.add_argument("--style", required=True, help="a style of prompts/styles/, e.g. bookmarks")
    render.add_argument("--digests-dir", default="digests")
    render.add_argument("--out", help="folder for the rendered pages (default: print README.md)")
    evaluate = commands.add_parser("eval", help="replay recorded weeks: recall of the editor's picks")
    evaluate.add_argument("--digests-dir", default="digests", help="recorded weeks (default: digests)")
    evaluate.add_argument("--shortlist-size", type=int, default=None, help="default: TOP5_SHORTLIST_SIZE or 40")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "eval":
        return _eval(args)
    if args.command == "render":
        return _render(args)
    if args.command == "swap":
        return _swap(args)
    if (args.start is None) != (args.end is None):
        print("top5: --start and --end go together", file=sys.stderr)
        return 2
    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    if not categories or args.top_k < 1:
        print("top5: need at least one category and --top-k >= 1", file=sys.stderr)
        return 2

    try:
        _check_window(args)
    except Top5Error as exc:
        print(f"top5: {exc.message}", file=sys.stderr)
        return 2

    return _draft(args, categories)


def _draft(args, categories: list[str]) -> int:
    from flows.weekly_digest import weekly_digest  # imports Prefect: after argument errors

    try:
        draft = weekly_digest(week=args.week, categories=categories, top_k=args.top_k,
                              digests_dir=args.digests_dir, start=args.start, end=args.end,
                              open_pr=not args.no_pr, style=args.style)
    except Top5Error as exc:
        print(f"top5: {exc.message}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        if (hint := prefect_setup.unreachable(exc)) is None:
            raise
        print(f"top5: {hint}", file=sys.stderr)
        return 1
    if draft is None:
        print("top5: no new papers in that window; no draft written", file=sys.stderr)
        return EXIT_NO_DRAFT
    print(f"Draft written: {draft}\n{progress.closing_line(draft)}\nReview it, edit it, then open it as a pull request.")
    return 0


def _eval(args) -> int:
    from pathlib import Path

    from flows.config import Settings
    from flows.pull_request.github import merged_readmes
    from flows.shortlist.evaluation import evaluate, report
    from flows.shortlist.ranking import Profile

    try:
        size = args.shortlist_size or Settings.from_env().shortlist_size
        digests = Path(args.digests_dir)
        print(report(evaluate(digests, Profile.load(), size, merged_readmes(digests)), size))
    except Top5Error as exc:
        print(f"top5: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _swap(args) -> int:
    from pathlib import Path

    from flows import pull_request
    from flows.config import Settings
    from flows.digest.swap import swap

    folder = Path(args.digests_dir) / args.week
    try:
        done = swap(folder, args.position, args.choice, Settings.from_env())
        print(f"Paper {done.position} of {args.week}: {done.removed} replaced by {done.added} ({done.draft})")
        if not args.no_pr and pull_request.in_git_repo(folder):
            print(pull_request.open_pull_request(folder).message)
    except Top5Error as exc:
        print(f"top5: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _render(args) -> int:
    from pathlib import Path

    from flows.digest.pages import render_again
    from flows.files import write_atomic
    from flows.shortlist.ranking import Profile

    try:
        pages = render_again(Path(args.digests_dir) / args.week, args.style, Profile.load())
    except Top5Error as exc:
        print(f"top5: {exc.message}", file=sys.stderr)
        return 1
    if not args.out:
        print(pages["README.md"], end="")
        return 0
    for name, text in pages.items():
        write_atomic(Path(args.out) / name, text)
    print(f"Rendered {args.week} in style {args.style}: {args.out}")
    return 0


def _check_window(args) -> None:
    from flows.candidates.week import window_between, window_for_week

    if args.start:
        window_between(args.start, args.end)
    elif args.week:
        window_for_week(args.week)


if __name__ == "__main__":
    raise SystemExit(main())
