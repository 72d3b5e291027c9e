"""The arXiv week: which submissions belong to ISO week W, on arXiv's own calendar.

arXiv cuts submissions off at 14:00 US Eastern time (America/New_York, so the cut-off moves
between 18:00 and 19:00 UTC with daylight saving) and announces them at 20:00 Eastern,
Sunday to Thursday (help/availability, "Announcement Schedule"):

    submitted (ET)                    announced (ET)
    Friday 14:00 - Monday 14:00       Monday 20:00
    Monday 14:00 - Tuesday 14:00      Tuesday 20:00
    Tuesday 14:00 - Wednesday 14:00   Wednesday 20:00
    Wednesday 14:00 - Thursday 14:00  Thursday 20:00
    Thursday 14:00 - Friday 14:00     Sunday 20:00

ISO week W is "the papers announced during week W" (Monday..Sunday). Reading the table,
those are exactly the papers submitted from the previous week's Friday 14:00 ET
(inclusive) up to week W's Friday 14:00 ET (exclusive). Consecutive weeks therefore tile
time: every instant belongs to exactly one week, across both daylight-saving changes.

Holidays (Thanksgiving, Christmas, ...) only defer *announcements*. The submission windows
keep tiling regardless, so a paper is never dropped or counted twice; at worst a paper
held for a holiday (or for moderation, which can take days) is announced later than its
week's Sunday. The week is labelled by its submission window, not by the day a particular
paper happened to be announced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flows.errors import ConfigError

ARXIV_TZ = ZoneInfo("America/New_York")
CUTOFF = time(14, 0)  # arXiv's daily submission deadline, Eastern time
FRIDAY = 4  # date.weekday()

_WEEK = re.compile(r"^(?P<year>\d{4})-?[Ww](?P<week>\d{1,2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Window:
    """A half-open span of submission time [start, end), both tz-aware UTC."""

    label: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if getattr(self, name).utcoffset() is None:
                raise ValueError(f"Window.{name} must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"Window {self.label!r} ends before it starts")

    def submitted_date_query(self) -> str:
        """The arXiv API clause selecting this window.

        arXiv reads both bounds as GMT minutes, inclusive, so the last minute is the one
        before `end`. If a bound is not on a whole minute the clause covers a little more
        than the window; filter with `contains` to be exact.
        """
        first = _floor_minute(self.start)
        last = _floor_minute(self.end - timedelta(microseconds=1))
        return f"submittedDate:[{first:%Y%m%d%H%M} TO {last:%Y%m%d%H%M}]"

    def contains(self, when: datetime) -> bool:
        if when.utcoffset() is None:
            raise ValueError(f"cannot place naive datetime {when.isoformat()} in a window")
        return self.start <= when < self.end

    def split(self, parts: int) -> list[Window]:
        """`parts` contiguous sub-windows covering this one, cut on whole minutes.

        For windows holding more than the API's 30000-result cap. Cutting on minutes keeps
        each part's `submitted_date_query` from overlapping its neighbour's.
        """
        if parts < 1:
            raise ValueError(f"cannot split a window into {parts} parts")
        if parts == 1:
            return [self]
        step = (self.end - self.start) / parts
        cuts = [self.start]
        for i in range(1, parts):
            cut = _floor_minute(self.start + step * i)
            if cut <= cuts[-1]:
                raise ValueError(f"window {self.label} is too short to split into {parts} parts")
            cuts.append(cut)
        cuts.append(self.end)
        return [
            Window(f"{self.label} part {i + 1} of {parts}", cuts[i], cuts[i + 1])
            for i in range(parts)
        ]


def is_week_label(name: str) -> bool:
    """Whether `name` is a week's folder name as the tool writes it ("2026-W47"), not another
    folder of the digests (a year in review, "2026-review")."""
    return re.fullmatch(r"\d{4}-W\d{2}", name) is not None


def monday_of(week: str) -> date:
    """The Monday of ISO week `week` ("2026-W47" or "2026W47"); ConfigError when it is no week
    or a week that does not exist (2025-W53)."""
    year, number = _parse_week(week)
    return date.fromisocalendar(year, number, 1)


def window_for_week(week: str) -> Window:
    """The submissions announced in ISO week `week` ("2026-W47" or "2026W47")."""
    monday = monday_of(week)
    year, number, _ = monday.isocalendar()
    return Window(
        label=f"{year}-W{number:02d}",
        start=_cutoff(monday - timedelta(days=3)),  # the previous Friday
        end=_cutoff(monday + timedelta(days=4)),  # this Friday
    )


def window_between(start: str, end: str) -> Window:
    """An explicit window: "YYYY-MM-DD" dates (UTC days, `end` day included) or ISO
    datetimes with a UTC offset (`end` excluded). Dates and datetimes may be mixed."""
    first = _parse_bound(start, "start", end_of_day=False)
    last = _parse_bound(end, "end", end_of_day=True)
    if last <= first:
        raise ConfigError(f"window end {end!r} is not after its start {start!r}")
    return Window(label=f"{_label_part(start, first)}..{_label_part(end, last, True)}",
                  start=first, end=last)


def iso_week_of(when: datetime) -> str:
    """The week whose window holds a submission made at `when` (see the module doc).

    Friday from 14:00 ET and the weekend belong to the next ISO week: that is when
    arXiv announces what was submitted then.
    """
    if when.utcoffset() is None:
        raise ValueError(f"cannot place naive datetime {when.isoformat()} in a week")
    local = when.astimezone(ARXIV_TZ)
    day = local.date()
    if day.weekday() > FRIDAY or (day.weekday() == FRIDAY and local.time() >= CUTOFF):
        day += timedelta(days=7)
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def check_complete(window: Window, now: datetime | None = None) -> Window:
    """`window` when it can be drafted at `now`, else ConfigError: an ISO week after the last
    complete one (its listing is not whole yet), or an explicit window that starts in the future."""
    now = now or datetime.now(timezone.utc)
    last = window_for_week(last_complete_week(now))
    if _WEEK.match(window.label) and window.start > last.start:
        raise ConfigError(f"week {window.label} is not complete yet (arXiv announces a week's last papers on "
                          f"Sunday evening, New York time); the last complete week is {last.label}")
    if window.start >= now:
        raise ConfigError(f"the window {window.label} starts in the future: there is nothing to draft yet")
    return window


def last_complete_week(now: datetime | None = None) -> str:
    """The newest ISO week whose papers are all announced and visible in the API at `now`.

    A week's window closes on Friday 14:00 ET, but its last slice is only announced on
    Sunday 20:00 ET, and the API adds announced papers at the midnight after. So week W
    is complete from Monday 00:00 ET of week W+1: the week before the one `now` is in,
    counted on the New York calendar.
    """
    now = now or datetime.now(timezone.utc)
    if now.utcoffset() is None:
        raise ValueError(f"cannot place naive datetime {now.isoformat()} in a week")
    year, number, _ = (now.astimezone(ARXIV_TZ).date() - timedelta(days=7)).isocalendar()
    return f"{year}-W{number:02d}"


def _parse_week(week: str) -> tuple[int, int]:
    match = _WEEK.match(week.strip()) if isinstance(week, str) else None
    if match is None:
        raise ConfigError(f"week {week!r} is not an ISO week like 2026-W47")
    year, number = int(match["year"]), int(match["week"])
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ConfigError(
            f"week {week!r} does not exist: {year} has no ISO week {number}"
        ) from None
    return year, number


def _cutoff(day: date) -> datetime:
    return datetime.combine(day, CUTOFF, tzinfo=ARXIV_TZ).astimezone(timezone.utc)


def _parse_bound(text: str, name: str, end_of_day: bool) -> datetime:
    text = text.strip() if isinstance(text, str) else text
    try:
        if isinstance(text, str) and _DATE.match(text):
            day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(0), tzinfo=timezone.utc)
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ConfigError(
            f"window {name} {text!r} is neither a date (YYYY-MM-DD) nor an ISO datetime"
        ) from None
    if when.utcoffset() is None:
        raise ConfigError(
            f"window {name} {text!r} has no UTC offset; write e.g. {text}Z or {text}-05:00"
        )
    return when.astimezone(timezone.utc)


def _label_part(text: str, when: datetime, is_end: bool = False) -> str:
    if _DATE.match(text.strip()):
        return (when.date() - timedelta(days=1)).isoformat() if is_end else when.date().isoformat()
    return when.strftime("%Y-%m-%dT%H%M%SZ")  # no colons: labels become directory names


def _floor_minute(when: datetime) -> datetime:
    return when.astimezone(timezone.utc).replace(second=0, microsecond=0)
