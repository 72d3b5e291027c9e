"""The issues of an editor's archive, for `top5 taste import`: which papers each past issue
picked and the week it came out.

An issue's picks are every arXiv paper it names (flows.text.arxiv_ids: arxiv.org, alphaxiv,
Hugging Face paper links, `arXiv:ID`, arXiv DOIs), in order, each once; in an issue laid out as
the tool's own pages ("## Paper N" sections), each section's own paper link only. An issue's
week comes from an issue-level heading (a heading with a date that is no paper's heading: not
numbered "1." or "Paper 1", no arXiv link), a `**June 9, 2025**` line used as a separator, the
line under the file's title heading, the front matter's `date:`, or the path. Dates are matched
by regular expressions (python-dateutil's parser needs the date already cut out of the text, and
guesses at what it cannot read): the formats of _DATES and nothing inside words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flows.candidates.ledger import has_paper_sections, ordered_ids
from flows.errors import ConfigError
from flows.files import read_editor_text
from flows.text import ARXIV_ID, arxiv_ids

_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\b"
_YEAR = r"(?P<year>(?:19|20)\d{2})(?!\d)"
_DATES = (  # 2025-W24 2025W24 2025 W24 2025/W24; W24 2025, Week 24, 2025; 2025-06-09 2025/06/09 (a time may follow);
    # 9 June 2025, Mon, 9 Jun 2025; June 9, 2025, June 9th 2025, June 9-15, 2025; 09.06.2025 (read when unambiguous)
    re.compile(rf"(?<![\w.]){_YEAR}[-/ ]?w(?P<week>\d{{1,2}})(?!\d)", re.I),
    re.compile(rf"\bw(?:eek)?[ \t]*(?P<week>\d{{1,2}})[ \t]*(?:,|of)?[ \t]*{_YEAR}", re.I),
    re.compile(rf"(?<![\d.]){_YEAR}[-/.](?P<month>\d{{1,2}})[-/.](?P<day>\d{{1,2}})(?!\d)"),
    re.compile(rf"\b{_DAY}[ \t]+{_MONTH},?[ \t]+{_YEAR}", re.I),
    re.compile(rf"\b{_MONTH}[ \t]+{_DAY}(?:[ \t]*[-–—][ \t]*\d{{1,2}}(?:st|nd|rd|th)?)?,?[ \t]+{_YEAR}", re.I),
    re.compile(rf"(?<![\d.])(?P<first>\d{{1,2}})[./](?P<second>\d{{1,2}})[./]{_YEAR}"),
)
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_A_YEAR = re.compile(r"(?<![\d.])(?:19|20)\d{2}(?![\d.])")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
# matched a line at a time (a pattern spanning lines backtracked quadratically on one long line)
_ATX = re.compile(r" {0,3}(#{1,6})[ \t]+(.*)")  # the heading's text without its closing #s: rstrip(" \t#")
_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*")  # under a line of text: a setext heading
_NOT_HEADING_TEXT = re.compile(r"[ \t]*(?:[#>|*+-]|\d+[.)])[ \t]")  # a list item, quote or table row
_BOLD_LINE = re.compile(r"[ \t]*(\*\*|__)([^*_\n]+)\1[ \t]*:?[ \t]*$")
_NOT_PICKS = re.compile(r"^\W*(?:references|related(?:\s+work|\s+papers|\s+reading)?|sources?|bibliography|citations|"
                        r"further\s+reading|see\s+also|previously|last\s+week|from\s+the\s+archive)\b", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_PAPER_HEADING = re.compile(r"^(?:\d+[.):]|#\d+\b|paper[ \t]+\d+\b)|\b\d{4}\.\d{4,5}\b", re.I)  # or a paper link
TEXT_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".txt", ".text")


@dataclass(frozen=True)
class Issue:
    """One past issue: the week it was published, the arXiv ids it named in order, the archive
    it came from (`source`) and where in it (`where`: the file, and the heading when a file
    holds several issues)."""

    week: str
    picks: tuple[str, ...]
    source: str
    where: str = ""


@dataclass(frozen=True)
class _Heading:
    start: int
    level: int  # 1-6; 7 for a bold line used as a separator
    text: str
    week: str | None = None
    problem: str | None = None  # why the date it holds cannot be read
    paper: bool = False


# -- dates -----------------------------------------------------------------------------------

def week_in(text: str) -> tuple[str | None, str | None]:
    """(ISO week "YYYY-Www", None) of the first date of _DATES in `text`; (None, why) when that
    date cannot be read (ambiguous 09.06.2025, a day that does not exist); (None, None) without one."""
    found = [m for m in (p.search(text) for p in _DATES) if m]
    if not found:
        return None, None
    match = min(found, key=lambda m: m.start())
    groups = match.groupdict()
    if groups.get("week"):
        return f"{groups['year']}-W{int(groups['week']):02d}", None
    if groups.get("first"):
        return _numeric(match)
    month = groups["month"]
    month = int(month) if month.isdigit() else _MONTHS.index(month[:3].lower()) + 1
    return _week_of(int(groups["year"]), month, int(groups["day"]), match.group(0))


def _numeric(match: re.Match) -> tuple[str | None, str | None]:
    first, second, year = int(match.group("first")), int(match.group("second")), int(match.group("year"))
    if first <= 12 and second <= 12 and first != second:
        return None, (f"{match.group(0)!r} is ambiguous (day.month or month.day?): write it "
                      f"{year}-{second:02d}-{first:02d} or {year}-{first:02d}-{second:02d}")
    day, month = (first, second) if first > 12 or first == second else (second, first)
    return _week_of(year, month, day, match.group(0))


def _week_of(year: int, month: int, day: int, written: str) -> tuple[str | None, str | None]:
    try:
        iso = date(year, month, day).isocalendar()
    except ValueError:
        return None, f"{written!r} is not a day that exists"
    return f"{iso[0]}-W{iso[1]:02d}", None


def real_week(week: str) -> bool:
    """Whether `week` is written YYYY-Www and that ISO week exists (ISO 8601: 2026 has no W53,
    no year has a W00)."""
    match = _WEEK.fullmatch(week)
    try:
        return bool(match) and bool(date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1))
    except ValueError:
        return False


def week_before(week: str) -> str:
    year, number = (int(x) for x in _WEEK.match(week).groups())
    year, number, _ = (date.fromisocalendar(year, number, 1) - timedelta(days=7)).isocalendar()
    return f"{year}-W{number:02d}"


# -- the archive -----------------------------------------------------------------------------

def find_issues(source: Path, skipped: list[str] | None = None, notes: list[str] | None = None) -> list[Issue]:
    """Issues in `source`, in file order: a folder of digests (markdown or text files, found by
    content: an id list or markdown; each file, or each issue-level section of one, is an issue),
    one such file, or a text file of `arXiv-id YYYY-MM-DD` lines (either order; an id may be a
    link). What gives no issue (files, sections, lines) is named in `skipped` with why; notes on
    how a file was read (not UTF-8) go to `notes`. Raises ConfigError when `source` is unreadable,
    a heading names an ISO week that does not exist, or it holds no issue (naming what was skipped)."""
    if not source.exists():
        raise ConfigError(f"taste import: {source} does not exist")
    skipped = [] if skipped is None else skipped
    texts = {path: _read_source(path, notes) for path in _files(source, skipped)}
    years = _folder_years(texts.values())
    issues: list[Issue] = []
    for path, text in texts.items():
        where = str(path.relative_to(source)) if source.is_dir() else path.name
        dated = where if source.is_dir() else "/".join(path.parts[-3:])
        found = _id_list(text, where, skipped) if _is_id_list(text) else _markdown(text, where, dated, years, skipped)
        for issue_where, week, ids in found:
            if not real_week(week):
                raise ConfigError(f"taste import: {where}: {week} is not an ISO week that exists (ISO 8601: "
                                  "a year has 52 or 53 weeks, from W01); fix that heading")
            issues.append(Issue(week, tuple(ids), str(source.resolve()), issue_where))
    if not issues:
        why = "; ".join(skipped) or "no markdown or text file in it"
        raise ConfigError(f"taste import: no issue with a week and arXiv links found in {source}: {why}")
    return issues


def _files(source: Path, skipped: list[str]) -> list[Path]:
    """The files of `source` to read (itself when a file); files of other kinds are named once."""
    if not source.is_dir():
        return [source]
    inside = [p for p in sorted(source.rglob("*")) if p.is_file()
              and not any(part.startswith(".") for part in p.relative_to(source).parts)]
    other = [p for p in inside if p.suffix.lower() not in TEXT_SUFFIXES]
    if other:
        kinds = sorted({p.suffix.lower() or "no extension" for p in other})
        skipped.append(f"{len(other)} files that are not markdown or text ({', '.join(kinds)}), e.g. "
                       f"{other[0].relative_to(source)}")
    return [p for p in inside if p.suffix.lower() in TEXT_SUFFIXES]


def _read_source(path: Path, notes: list[str] | None) -> str:
    try:
        read = read_editor_text(path)
    except OSError as exc:
        raise ConfigError(f"taste import: {path}: {exc.strerror or exc}") from None
    if read.note and notes is not None:
        notes.append(read.note)
    return read.text


# -- id lists --------------------------------------------------------------------------------

_BARE_ID = re.compile(rf"(?:arxiv:)?({ARXIV_ID})(?:v\d+)?", re.I)
_ISO_DAY = re.compile(r"(\d{4})[-/](\d{2})[-/](\d{2})")


def _id_line(line: str) -> tuple[str, tuple[str | None, str | None]] | None:
    """(arXiv id, week_in's answer for the date) of an `ID DATE` or `DATE ID` line, else None."""
    parts = [p for p in re.split(r"[\s,;|]+", re.sub(r"\s#.*$", "", line.strip())) if p]
    if len(parts) != 2:
        return None
    for ident, day in (parts, parts[::-1]):
        bare = _BARE_ID.fullmatch(ident)
        found = [bare.group(1)] if bare else arxiv_ids(ident) if "/" in ident else []
        if found and _ISO_DAY.fullmatch(day):
            return found[0], week_in(day)
    return None


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


def _is_id_list(text: str) -> bool:
    """Whether most lines of `text` (other than blank and # comment lines) are id lines."""
    lines = _lines(text)
    hits = sum(_id_line(line) is not None for _, line in lines)
    return hits > 0 and 2 * hits >= len(lines)


def _id_list(text: str, where: str, skipped: list[str]) -> list[tuple[str, str, list[str]]]:
    """One issue per week of the id lines of `text`; lines not understood are named in `skipped`."""
    weeks: dict[str, list[str]] = {}
    for number, line in _lines(text):
        parsed = _id_line(line)
        if parsed is None or parsed[1][0] is None:
            why = parsed[1][1] if parsed else "not `arXiv-id YYYY-MM-DD` (either order)"
            skipped.append(f"{where} line {number}: {why}: {line.strip()[:80]!r}")
            continue
        ids = weeks.setdefault(parsed[1][0], [])
        ids += [] if parsed[0] in ids else [parsed[0]]
    return [(f"{where} (lines dated in {week})", week, ids) for week, ids in weeks.items()]


# -- markdown --------------------------------------------------------------------------------

def _markdown(text: str, where: str, dated: str, years: dict[str, str],
              skipped: list[str]) -> list[tuple[str, str, list[str]]]:
    """(where, week, ids) of each issue of a markdown file (see the module doc); sections with
    papers but no week are named in `skipped`."""
    body, file_week, file_problem = _front_matter(text)
    if not arxiv_ids(body):
        skipped.append(f"{where}: no arXiv paper link")
        return []
    if file_week is None:
        file_week, path_problem = week_in(dated)
        file_week, file_problem = file_week or _seed_week(where, years), file_problem or path_problem
    headings = _headings(body)
    level = min((h.level for h in headings if not h.paper and (h.week or h.problem)), default=None)
    starts = [h for h in headings if h.level == level and not h.paper
              and (h.week or h.problem or _A_YEAR.search(h.text))]
    found = []
    for heading, end in zip([None, *starts], [*(h.start for h in starts), len(body)]):
        week = heading.week if heading else file_week
        label = f"{where} {heading.text[:60]!r}" if heading else where
        section = _picks_part(body[heading.start if heading else 0:end], label, skipped)
        ids = ordered_ids(section) if has_paper_sections(section) else arxiv_ids(section)
        if ids and week:
            found.append((label, week, ids))
        elif ids and (why := heading.problem if heading else file_problem):
            skipped.append(f"{label}: {len(ids)} papers not counted: {why}")
        elif ids:
            skipped.append(f"no week found in {label}: {len(ids)} papers not counted (give it a YYYY-Www or a date "
                           "such as 2025-06-16 or June 16, 2025 in its path, front matter, title or heading)")
    return found


def _front_matter(text: str) -> tuple[str, str | None, str | None]:
    """(the text after its front matter, week_in of the front matter's `date:`)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text, None, None
    line = re.search(r"^date:[ \t]*['\"]?([^\n'\"]+)", match.group(1), re.MULTILINE | re.IGNORECASE)
    return text[match.end():], *(week_in(line.group(1)) if line else (None, None))


def _headings(text: str) -> list[_Heading]:
    """The headings of `text` in order, each with its date: ATX and setext headings, bold lines
    holding a date (level 7), the first non-empty line when there is no heading; the first
    heading without a date takes the one of the line under it."""
    raw = _raw_headings(text)
    if not raw and (first := re.search(r"^[ \t]*(\S[^\n]*)", text, re.MULTILINE)):
        raw = [(first.start(), 1, first.group(1))]
    headings = []
    for number, (start, level, heading) in enumerate(sorted(raw)):
        paper = bool(_PAPER_HEADING.search(heading.strip("*_ \t")) or arxiv_ids(heading))
        week, problem = (None, None) if paper else week_in(heading)
        if number == 0 and not paper and (week, problem) == (None, None):
            week, problem = week_in(_line_under(text, start))
        headings.append(_Heading(start, level, heading, week, problem, paper))
    return headings


def _raw_headings(text: str) -> list[tuple[int, int, str]]:
    """(offset, level, text) of each ATX heading, setext heading and bold line holding a date."""
    raw, above, offset = [], None, 0  # above: (offset, text) of a line a setext underline makes a heading
    for line in text.split("\n"):
        if atx := _ATX.match(line):
            raw.append((offset, len(atx.group(1)), atx.group(2).rstrip(" \t#")))
        elif above is not None and _UNDERLINE.fullmatch(line):
            raw.append((above[0], 1 if "=" in line else 2, above[1].strip()))
        elif (bold := _BOLD_LINE.match(line)) and week_in(bold.group(2)) != (None, None):
            raw.append((offset, 7, bold.group(2).strip()))
        text_line = line.strip() and not atx and not _NOT_HEADING_TEXT.match(line) and not _UNDERLINE.fullmatch(line)
        above = (offset, line) if text_line else None
        offset += len(line) + 1
    return raw


def _line_under(text: str, start: int) -> str:
    """The first non-empty line after the heading at `start` (a setext underline skipped), when it
    is short and neither a heading of its own nor a line naming a paper (its date is the paper's)."""
    for line in text[start:start + 2000].split("\n")[1:4]:
        if line.strip() and not _UNDERLINE.fullmatch(line):
            own = _BOLD_LINE.match(line) or _ATX.match(line) or arxiv_ids(line) or "://" in line
            return line if len(line) <= 80 and not own else ""
    return ""


def _picks_part(section: str, where: str, skipped: list[str]) -> str:
    """`section` without the parts that cite papers rather than pick them: a heading such as
    "References", "Related work", "Sources", "Previously" and what follows it up to the next
    heading of its level or above, and a line that starts with one of those words; each part
    that named papers is noted in `skipped`."""
    kept, dropping, dropped = [], None, 0
    for line in section.split("\n"):
        atx = _ATX.match(line)
        if atx and dropping is not None and len(atx.group(1)) <= dropping:
            dropping = None
        if atx and _NOT_PICKS.match(atx.group(2)):
            dropping = len(atx.group(1))
        if dropping is not None or (not atx and _NOT_PICKS.match(line) and ":" in line[:40]):
            dropped += len(arxiv_ids(line))
            continue
        kept.append(line)
    if dropped:
        skipped.append(f"{where}: {dropped} papers cited under References, Related work, Sources or the like "
                       "not counted as picks")
    return "\n".join(kept)


_MONTH_WEEK = re.compile(r"\b(" + "|".join(_MONTHS) + r")[a-z]*[-_ ]+(\d)(?:st|nd|rd|th)?[-_ ]+week\b", re.IGNORECASE)
_YEAR_LINE = re.compile(r"^\s*((?:19|20)\d{2})\s*$")


def _folder_years(texts) -> dict[str, str]:
    """Folder name -> year, from pages that put the year on a line of its own above links to the
    folders of that year's issues (the seed editor's index README)."""
    years: dict[str, str] = {}
    for text in texts:
        year = None
        for line in text.splitlines():
            if match := _YEAR_LINE.match(line):
                year = match.group(1)
            elif year:
                for folder in re.findall(r"([A-Za-z]+[-_]\d(?:st|nd|rd|th)?[-_]week)/", line, re.IGNORECASE):
                    years.setdefault(folder.lower(), year)
    return years


def _seed_week(where: str, years: dict[str, str]) -> str | None:
    """The ISO week of `July-1st-week/README.md`: the week holding the last day of the month's
    Nth seven days, in the year the index gives the folder (or one in the path)."""
    match = _MONTH_WEEK.search(where)
    if match is None:
        return None
    folder = Path(where).parent.name.lower()
    year = years.get(folder) or next(iter(re.findall(r"\b((?:19|20)\d{2})\b", where)), None)
    if year is None:
        return None
    month = _MONTHS.index(match.group(1)[:3].lower()) + 1
    return _week_of(int(year), month, min(7 * int(match.group(2)), 28), where)[0]
