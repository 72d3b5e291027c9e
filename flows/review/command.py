"""`top5 review YEAR` / `top5 review --from YYYY-MM-DD --to YYYY-MM-DD`: the handler behind the
parser lines of flows/cli.py. The period and its merged digests are checked before Prefect is
imported, so a year with nothing to review is one line and exit 2, having spent nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from flows import prefect_setup, progress
from flows.config import Settings
from flows.review.period import period_for
from flows.review.run import gathered_or_refused
from flows.summaries import digest_style_dir


def review(args) -> int:
    """Run the year-review flow for the command's arguments; 0 when the review is written.
    Raises ConfigError (exit 2) for a bad period, a style that is no review style or a period
    with no merged digest."""
    period = period_for(args.year, args.start, args.end)
    digest_style_dir(args.style, review=True)
    found = gathered_or_refused(period, Path(args.digests_dir), Settings.from_env())
    print(f"Reviewing {period.title}: {len(found.picks)} papers from {len(found.weeks)} merged weeks", file=sys.stderr)
    prefect_setup.before_prefect()
    from flows.year_review import year_review  # imports Prefect: after every argument was checked

    draft = prefect_setup.run_flow(year_review, year=args.year, start=args.start, end=args.end,
                                   digests_dir=args.digests_dir, open_pr=not args.no_pr, style=args.style)
    print(f"Review written: {draft}\n{progress.closing_line(draft)}\n"
          f"Review it (`top5 show {period.label}`), edit it, then merge it.")
    return 0
