"""The period a review covers: a calendar year (`top5 review 2026`) or a range of days
(`--from 2026-01-01 --to 2026-03-31`), its folder's label, and which weekly digests fall in it.

A weekly digest belongs to the period when the Monday of its ISO week does (the issue is
published that week). Labels: `2026-review` for a year, `2026-Q1-review` for a calendar
quarter, `2026-03-review` for a calendar month, `2026-01-05..2026-02-20-review` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flows.candidates.week import is_week_label, monday_of
from flows.errors import ConfigError

SUFFIX = "-review"
_LABEL = re.compile(r"^\d{4}(?:-Q[1-4]|-\d{2}|-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2})?-review$")


@dataclass(frozen=True)
class Period:
    """Days `start`..`end` (both included) and the folder name of their review."""

    label: str
    start: date
    end: date

    def holds_week(self, week: str) -> bool:
        """Whether the weekly digest of `week` (a folder name such as 2026-W07) is in the period;
        False for any other folder name (an earlier review, a stray folder)."""
        if not is_week_label(week):
            return False
        try:
            monday = monday_of(week)
        except ConfigError:
            return False
        return self.start <= monday <= self.end

    @property
    def title(self) -> str:
        """'2026', '2026 Q1', 'March 2026' or '2026-01-05 to 2026-02-20'."""
        name = self.label.removesuffix(SUFFIX)
        if re.fullmatch(r"\d{4}-\d{2}", name):
            return f"{self.start:%B %Y}"
        return name.replace("-Q", " Q").replace("..", " to ")


def period_for(year: int | str | None = None, start: str | None = None, end: str | None = None) -> Period:
    """The period asked for: `year`, or `start` and `end` ("YYYY-MM-DD", both included).
    Raises ConfigError naming the argument when it is no year or no date, or when the range is
    empty or half given."""
    if start or end:
        if year is not None:
            raise ConfigError("a review covers a year or a range of days: give YEAR or --from/--to, not both")
        if not (start and end):
            raise ConfigError("--from and --to go together: give both dates (YYYY-MM-DD)")
        first, last = _day(start, "--from"), _day(end, "--to")
        if last < first:
            raise ConfigError(f"--to {end} is before --from {start}")
        return Period(_range_label(first, last), first, last)
    if year is None:
        year = date.today().year
    if not re.fullmatch(r"\d{4}", str(year).strip()) or int(str(year).strip()) < 1:
        raise ConfigError("the year of a review is four digits, such as 2026")
    number = int(str(year).strip())
    return Period(f"{number}{SUFFIX}", date(number, 1, 1), date(number, 12, 31))


def period_of(label: str) -> Period:
    """The period whose review folder is named `label` (see the module doc): `2026-Q1-review` ->
    2026-01-01..2026-03-31. Raises ConfigError when `label` is no review's."""
    if not is_review_label(label):
        raise ConfigError(f"{label} is not the folder of a review (such as 2026-review)")
    name = label.removesuffix(SUFFIX)
    if "." in name:
        return period_for(start=name[:10], end=name[-10:])
    if "-Q" in name:
        year, quarter = int(name[:4]), int(name[-1]) - 1
        return period_for(start=f"{year}-{3 * quarter + 1:02d}-01", end=_quarter_end(year, quarter).isoformat())
    if "-" in name:
        if not 1 <= int(name[5:]) <= 12:
            raise ConfigError(f"{label} names no month (01..12)")
        first = date(int(name[:4]), int(name[5:]), 1)
        return Period(label, first, _month_end(first))
    return period_for(name)


def is_review_label(name: str) -> bool:
    """Whether a folder name is a review's (see the module doc), not a week's."""
    return bool(_LABEL.match(name))


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _range_label(first: date, last: date) -> str:
    if first.day == 1 and last == _month_end(first):
        return f"{first:%Y-%m}{SUFFIX}"
    quarter = (first.month - 1) // 3
    if first.day == 1 and first.month == 3 * quarter + 1 and last == _quarter_end(first.year, quarter):
        return f"{first.year}-Q{quarter + 1}{SUFFIX}"
    if first == date(first.year, 1, 1) and last == date(first.year, 12, 31):
        return f"{first.year}{SUFFIX}"
    return f"{first.isoformat()}..{last.isoformat()}{SUFFIX}"


def _quarter_end(year: int, quarter: int) -> date:
    return date(year + (quarter == 3), 1 if quarter == 3 else 3 * quarter + 4, 1) - timedelta(days=1)


def _day(text: str, name: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):  # fromisoformat also takes 2026-W03
            raise ValueError(text)
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{name} is not a date YYYY-MM-DD") from None
