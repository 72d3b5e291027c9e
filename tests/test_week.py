"""The arXiv week: windows tile time exactly, follow the 14:00 ET cut-off, reject bad input."""

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from flows.candidates.week import (
    Window,
    iso_week_of,
    last_complete_week,
    window_between,
    window_for_week,
)
from flows.errors import ConfigError

ET = ZoneInfo("America/New_York")
UTC = timezone.utc


def et(*args) -> datetime:
    return datetime(*args, tzinfo=ET)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def clause_minutes(window: Window) -> tuple[str, str]:
    match = re.fullmatch(r"submittedDate:\[(\d{12}) TO (\d{12})\]", window.submitted_date_query())
    return match[1], match[2]


def labels_between(first: date, last: date) -> list[str]:
    """Every ISO week label whose Monday lies in [first, last]."""
    out, day = [], first - timedelta(days=first.weekday())
    while day <= last:
        year, week, _ = day.isocalendar()
        out.append(f"{year}-W{week:02d}")
        day += timedelta(days=7)
    return out


def test_week_47_of_2026_runs_friday_to_friday_14h_eastern():
    window = window_for_week("2026-W47")
    assert window.label == "2026-W47"
    # Friday 2026-11-13 14:00 EST = 19:00 UTC .. Friday 2026-11-20 14:00 EST
    assert window.start == utc(2026, 11, 13, 19, 0)
    assert window.end == utc(2026, 11, 20, 19, 0)
    assert window.submitted_date_query() == "submittedDate:[202611131900 TO 202611201859]"


def test_compact_week_label_is_accepted():
    assert window_for_week("2026W47") == window_for_week("2026-W47")
    assert window_for_week("2026-w05").label == "2026-W05"


def test_summer_weeks_cut_off_at_18h_utc():
    window = window_for_week("2026-W27")  # July: EDT, UTC-4
    assert window.start == utc(2026, 6, 26, 18, 0)
    assert window.end == utc(2026, 7, 3, 18, 0)


@pytest.mark.parametrize(
    "week, hours",
    [
        ("2026-W11", 167),  # clocks go forward on Sunday 2026-03-08
        ("2026-W45", 169),  # clocks go back on Sunday 2026-11-01
        ("2026-W12", 168),
    ],
)
def test_dst_changes_shorten_or_lengthen_the_week_not_shift_the_cutoff(week, hours):
    window = window_for_week(week)
    assert window.end - window.start == timedelta(hours=hours)
    for bound in (window.start, window.end):
        local = bound.astimezone(ET)
        assert (local.weekday(), local.hour, local.minute) == (4, 14, 0)


def test_consecutive_weeks_tile_a_whole_year_without_gap_or_overlap():
    # 2026 has 53 ISO weeks, two DST changes and holidays (Thanksgiving 2026-11-26 in W48,
    # Christmas 2026-12-25 and 2026-12-29/31 in W52/W53, 2027-01-01 in W53).
    labels = labels_between(date(2025, 12, 29), date(2027, 1, 4))
    assert "2026-W53" in labels and "2026-W48" in labels
    windows = [window_for_week(label) for label in labels]
    for earlier, later in zip(windows, windows[1:]):
        assert earlier.end == later.start, (earlier.label, later.label)
    # and every instant, probed each 37 minutes (so probes drift through all times of day),
    # lies in exactly one window: the one iso_week_of names.
    probe, stop = windows[0].start, windows[-1].end
    while probe < stop:
        holders = [w.label for w in windows if w.contains(probe)]
        assert holders == [iso_week_of(probe)], probe
        probe += timedelta(minutes=37)


def test_a_friday_submission_at_13_59_and_at_14_00_land_in_different_weeks():
    before = et(2026, 11, 20, 13, 59, 59)
    at_cutoff = et(2026, 11, 20, 14, 0, 0)
    assert iso_week_of(before) == "2026-W47"
    assert iso_week_of(at_cutoff) == "2026-W48"
    assert window_for_week("2026-W47").contains(before)
    assert not window_for_week("2026-W47").contains(at_cutoff)
    assert window_for_week("2026-W48").contains(at_cutoff)


def test_weekend_and_thanksgiving_submissions_belong_to_the_week_they_are_announced_in():
    # Saturday and Sunday submissions are announced on Monday 20:00 of the next ISO week.
    assert iso_week_of(et(2026, 11, 21, 10, 0)) == "2026-W48"
    assert iso_week_of(et(2026, 11, 22, 23, 0)) == "2026-W48"
    # Thanksgiving Thursday 2026-11-26 defers announcements but the window keeps its shape.
    thanksgiving = window_for_week("2026-W48")
    assert thanksgiving.contains(et(2026, 11, 26, 12, 0))
    assert thanksgiving.end - thanksgiving.start == timedelta(days=7)


def test_year_boundary_uses_iso_years():
    # Friday 2027-01-01 15:00 ET is after the cut-off: announced in 2027-W01.
    assert iso_week_of(et(2027, 1, 1, 15, 0)) == "2027-W01"
    assert iso_week_of(et(2027, 1, 1, 13, 0)) == "2026-W53"
    assert window_for_week("2026-W53").end == window_for_week("2027-W01").start


@pytest.mark.parametrize(
    "now, expected",
    [
        # W47's last slice is announced Sunday 2026-11-22 20:00 ET, in the API from midnight
        (et(2026, 11, 22, 23, 59), "2026-W46"),
        (et(2026, 11, 23, 0, 0), "2026-W47"),
        (utc(2026, 11, 23, 4, 59), "2026-W46"),  # still Sunday in New York
        (utc(2026, 11, 23, 5, 0), "2026-W47"),
        # Friday after the cut-off: the window is closed but not announced yet
        (et(2026, 11, 20, 15, 0), "2026-W46"),
        (et(2026, 11, 25, 12, 0), "2026-W47"),
        (et(2027, 1, 4, 9, 0), "2026-W53"),
        (et(2026, 1, 5, 0, 0), "2026-W01"),
    ],
)
def test_last_complete_week(now, expected):
    assert last_complete_week(now) == expected


def test_last_complete_week_defaults_to_now_and_is_closed():
    label = last_complete_week()
    window = window_for_week(label)
    assert window.end < datetime.now(UTC)
    assert not window_for_week(label).contains(datetime.now(UTC))


def test_window_between_dates_includes_the_end_day():
    window = window_between("2026-11-16", "2026-11-22")
    assert window.label == "2026-11-16..2026-11-22"
    assert window.start == utc(2026, 11, 16)
    assert window.end == utc(2026, 11, 23)
    assert window.contains(utc(2026, 11, 22, 23, 59, 59))
    assert not window.contains(utc(2026, 11, 23))
    assert window.submitted_date_query() == "submittedDate:[202611160000 TO 202611222359]"
    assert window_between("2026-11-16", "2026-11-16").end == utc(2026, 11, 17)


def test_window_between_datetimes_excludes_the_end_instant():
    window = window_between("2026-11-13T14:00:00-05:00", "2026-11-20T19:00Z")
    assert (window.start, window.end) == (window_for_week("2026-W47").start, window_for_week("2026-W47").end)
    assert window.label == "2026-11-13T190000Z..2026-11-20T190000Z"


def test_query_of_a_window_off_whole_minutes_still_covers_it():
    window = window_between("2026-11-16T10:00:30Z", "2026-11-16T10:05:30Z")
    assert window.submitted_date_query() == "submittedDate:[202611161000 TO 202611161005]"


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_split_tiles_the_window_on_whole_minutes(parts):
    window = window_for_week("2026-W45")  # 169 hours: does not divide evenly
    pieces = window.split(parts)
    assert len(pieces) == parts
    assert pieces[0].start == window.start and pieces[-1].end == window.end
    for earlier, later in zip(pieces, pieces[1:]):
        assert earlier.end == later.start
        assert later.start.second == 0 and later.start.microsecond == 0
        # the API clauses of neighbours never share a minute
        assert clause_minutes(earlier)[1] < clause_minutes(later)[0]


def test_split_rejects_impossible_parts():
    with pytest.raises(ValueError):
        window_for_week("2026-W47").split(0)
    with pytest.raises(ValueError):
        window_between("2026-11-16T10:00Z", "2026-11-16T10:02Z").split(3)


@pytest.mark.parametrize("bad", ["2026-47", "W47", "2026-W", "2026-W54", "2025-W53", "2026-W00", "", "last week"])
def test_bad_week_gives_config_error_naming_it(bad):
    with pytest.raises(ConfigError) as err:
        window_for_week(bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize(
    "start, end, named",
    [
        ("2026-11-31", "2026-12-02", "'2026-11-31'"),
        ("16/11/2026", "2026-11-22", "'16/11/2026'"),
        ("2026-11-16", "next friday", "'next friday'"),
        ("2026-11-16T10:00", "2026-11-22", "'2026-11-16T10:00'"),  # no UTC offset
        ("2026-11-22", "2026-11-16", "'2026-11-16'"),  # end before start
        ("2026-11-16T10:00Z", "2026-11-16T10:00Z", "'2026-11-16T10:00Z'"),  # empty
    ],
)
def test_bad_window_bounds_give_config_error_naming_the_input(start, end, named):
    with pytest.raises(ConfigError) as err:
        window_between(start, end)
    assert named in str(err.value)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        iso_week_of(datetime(2026, 11, 20, 14, 0))
    with pytest.raises(ValueError):
        window_for_week("2026-W47").contains(datetime(2026, 11, 18))
    with pytest.raises(ValueError):
        Window("x", datetime(2026, 11, 18), utc(2026, 11, 19))
