"""The editor's history on disk, and `top5 taste import`: a back catalogue becomes history.

A history folder holds `picks.json` ({week: {"picks": [arXiv ids], "source": where from}})
and each week's full listing as `<week>.jsonl.gz` (one candidate a line: id, title, abstract,
authors, categories, primary_category, comment, published). Importing reads an archive of
past digests (markdown: the arXiv links of each issue and the issue's week) or a list of
arXiv ids with dates, fetches the listings of those weeks and the week before each through
the arXiv client (polite; a listing already on disk is not fetched again), and files each
pick in the week it was announced: about a quarter of an editor's picks were announced the
week before the issue that names them.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import time
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from pydantic import Field as PydanticField

from flows.candidates.candidate import Candidate, within_limit, within_limits
from flows.candidates.ledger import ordered_ids
from flows.candidates.week import iso_week_of, last_complete_week, window_for_week
from flows.errors import ConfigError, UnreadableFile
from flows.files import EDITOR_FILE_LIMIT, MB, gzip_lines, read_editor_json, read_editor_text, write_atomic, write_json
from flows.shortlist.learned import History
from flows.text import find_links

_WEEK = re.compile(r"\b(\d{4})-?W(\d{2})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = ("january february march april may june july august september october november december").split()
_MONTH_DAY_YEAR = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*\.?\s+(\d{1,2})\b.*?\b((?:19|20)\d{2})\b",
                             re.IGNORECASE | re.DOTALL)
_ID_LINE = re.compile(r"^\s*(?:arxiv:)?(\d{4}\.\d{4,5})(?:v\d+)?[\s,;]+(\S+)", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,3}\s", re.MULTILINE)
log = logging.getLogger(__name__)


# -- the history folder ----------------------------------------------------------------------

class _Listed(BaseModel):
    """One line of a `<week>.jsonl.gz` listing, as write_listing writes it."""

    model_config = ConfigDict(extra="ignore", strict=False)
    id: str = PydanticField(min_length=1)
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    primary_category: str
    comment: str | None = ""
    published: AwareDatetime


# A listing read back is refused past these sizes, decompressed (a 7 MB gzip file can hold a
# 1.5 GiB line). Real weeks (shared/fixtures/editor-weeks: 1,377-3,526 candidates) decompress to
# at most 5.9 MB, in lines of at most 56 KB.
LISTING_LIMIT = EDITOR_FILE_LIMIT  # 64 MB: ten times the largest real week
LISTING_LINE_LIMIT = 2 * MB  # a row with every field at its limit (flows/candidates/candidate.py) is under 1.5 MB
LISTING_LINES = 100_000  # all of arXiv announces about 25,000 papers a week, cross-lists included


class _Picks(BaseModel):
    """One week of picks.json."""

    model_config = ConfigDict(extra="ignore")
    picks: list[str]
    source: str = ""


def read_history(folder: Path, skipped: list[str] | None = None) -> list[History]:
    """Weeks of a history folder in order (see the module doc); [] when it has no picks.json.
    A week whose entry or listing is damaged is left out, with one line naming the file and what
    to do appended to `skipped` (and logged). Raises UnreadableFile (a ConfigError) when
    picks.json itself cannot be read as {week: {"picks": [...]}}."""
    index = folder / "picks.json"
    if not index.is_file():
        return []
    try:
        picks = read_editor_json(index)
    except OSError as exc:
        raise UnreadableFile(f"editor history {index}: {exc.strerror or exc}") from None
    weeks = []
    for name in sorted(picks):
        try:
            entry = _Picks.model_validate(picks[name])
            if not real_week(name):
                raise UnreadableFile(f"{index}: {name!r} is not an ISO week that exists (YYYY-Www)")
            cands = read_listing(folder / f"{name}.jsonl.gz")
        except (UnreadableFile, ValidationError) as exc:
            why = exc.message if isinstance(exc, UnreadableFile) else \
                f"{index}: week {name} is not {{\"picks\": [arXiv ids]}}"
            _skip(skipped, f"editor history week {name} left out of the taste: {why}; "
                           "run `top5 taste import` again to fetch it again")
            continue
        weeks.append(History(name, cands, frozenset(entry.picks) & {c.arxiv_id for c in cands}))
    return weeks


def editor_weeks(folder: Path) -> list[History]:
    """The weeks of the history folder `top5 eval --editor-weeks` names, as read_history reads
    them. Raises ConfigError naming the folder when it does not exist, is not a folder, or holds
    no picks.json (read_history takes that for a history not started yet)."""
    if not folder.is_dir():
        raise ConfigError(f"editor weeks folder {folder}: {'not a folder' if folder.exists() else 'no such folder'}")
    if not (folder / "picks.json").is_file():
        raise ConfigError(f"editor weeks folder {folder}: no picks.json in it (a history folder as "
                          "`top5 taste import` writes it)")
    return read_history(folder)


def read_listing(path: Path) -> list[Candidate]:
    """The candidates of a `<week>.jsonl.gz` listing, cut to the candidates' limits. Raises
    UnreadableFile naming the file when it is missing, cut short, not gzip, holds a row of another
    shape, or decompresses past LISTING_LIMIT bytes, LISTING_LINE_LIMIT bytes a line or
    LISTING_LINES lines (a gzip bomb: refused having decompressed no more than that)."""
    try:
        lines = gzip_lines(path, LISTING_LIMIT, LISTING_LINE_LIMIT, LISTING_LINES)
        return [_listed(_Listed.model_validate_json(line.decode("utf-8"))) for line in lines if line.strip()]
    except FileNotFoundError:
        raise UnreadableFile(f"{path} is missing") from None
    except (OSError, EOFError, UnicodeDecodeError, ValidationError, zlib.error) as exc:
        why = "a row of another shape" if isinstance(exc, ValidationError) else f"damaged ({type(exc).__name__})"
        raise UnreadableFile(f"{path}: {why}") from None


def _skip(skipped: list[str] | None, why: str) -> None:
    log.warning("%s", why)
    if skipped is not None:
        skipped.append(why)


def _listed(row: _Listed) -> Candidate:
    published, comment = row.published, row.comment or ""
    links = find_links(f"{within_limit('comment', comment)} {within_limit('abstract', row.abstract)}")
    return within_limits(Candidate(row.id, 1, row.title, row.abstract, tuple(row.authors), row.primary_category,
                                   tuple(row.categories), published, published, comment, links=links))


def write_listing(path: Path, cands: list[Candidate]) -> None:
    rows = [{"id": c.arxiv_id, "title": c.title, "abstract": c.abstract, "authors": list(c.authors),
             "categories": list(c.categories), "primary_category": c.primary_category, "comment": c.comment,
             "published": c.published.isoformat()} for c in cands]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    write_atomic(path, gzip.compress(text.encode("utf-8"), mtime=0))


# -- finding the picks of an archive ---------------------------------------------------------

@dataclass(frozen=True)
class Issue:
    """One past issue: the week it was published and the arXiv ids it linked, in order."""

    week: str
    picks: tuple[str, ...]
    source: str


def find_issues(source: Path, skipped: list[str] | None = None) -> list[Issue]:
    """Issues in `source`: a folder of markdown digests (each file, or each section under a
    heading, is an issue; its week comes from a YYYY-Www or a date in its path or heading, or, in
    the seed editor's layout, a folder named like `July-1st-week` with the year on a line of its
    own in the page that links it), a markdown file, or a text file of `arXiv-id date` lines (date
    YYYY-MM-DD). Each file that gives no issue is named in `skipped` with why. Raises ConfigError
    when `source` is unreadable, a heading names an ISO week that does not exist, or it holds no
    issue with a week and an arXiv id."""
    if not source.exists():
        raise ConfigError(f"taste import: {source} does not exist")
    files = sorted(source.rglob("*.md")) if source.is_dir() else [source]
    texts = {path: _read_source(path) for path in files}
    years = _folder_years(texts.values())
    issues: dict[str, list[str]] = {}
    for path, text in texts.items():
        where = str(path.relative_to(source)) if source.is_dir() else path.name
        found = _id_list(text) if path.suffix != ".md" else _markdown(text, where, years)
        for week, ids in found:
            if not real_week(week):
                raise ConfigError(f"taste import: {where}: {week} is not an ISO week that exists (ISO 8601: "
                                  "a year has 52 or 53 weeks, from W01); fix that heading")
            issues.setdefault(week, [])
            issues[week] += [i for i in ids if i not in issues[week]]
        if not found and skipped is not None:
            skipped.append(f"{where}: " + ("no arXiv paper link" if not ordered_ids(text) else
                                           "no week (YYYY-Www, a date, or a Month-Nth-week folder with its year)"))
    if not issues:
        raise ConfigError(f"taste import: no issue with a week and arXiv links found in {source}")
    return [Issue(w, tuple(ids), str(source)) for w, ids in sorted(issues.items())]


def _read_source(path: Path) -> str:
    try:
        return read_editor_text(path).text
    except OSError as exc:
        raise ConfigError(f"taste import: {path}: {exc.strerror or exc}") from None


_MONTH_WEEK = re.compile(r"\b(" + "|".join(m[:3] for m in _MONTHS) + r")[a-z]*[-_ ]+(\d)(?:st|nd|rd|th)?[-_ ]+week\b",
                         re.IGNORECASE)
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
    month = [m[:3] for m in _MONTHS].index(match.group(1)[:3].lower()) + 1
    day = min(7 * int(match.group(2)), 28)
    return _week_of_date(f"{year}-{month:02d}-{day:02d}", where)


def _id_list(text: str) -> list[tuple[str, list[str]]]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ID_LINE.match(line)
        if match:
            found.append((_week_of_date(match.group(2), f"line {number}"), [match.group(1)]))
    return found


def _markdown(text: str, where: str, years: dict[str, str]) -> list[tuple[str, list[str]]]:
    path_week = _week_in(where) or _seed_week(where, years)
    starts = [m.start() for m in _HEADING.finditer(text)] or [0]
    sections = [text[a:b] for a, b in zip([0] + starts, starts + [len(text)])]
    found, week = [], path_week
    for section in sections:
        heading = section.strip().splitlines()[0] if section.strip() else ""
        week = _week_in(heading) or week if _HEADING.match(section) else week or _week_in(section[:400])
        ids = ordered_ids(section)
        if ids and week:
            found.append((week, ids))
    return found


def _week_in(text: str) -> str | None:
    if match := _WEEK.search(text):
        return f"{match.group(1)}-W{match.group(2)}"
    if match := _ISO_DATE.search(text):
        return _week_of_date(match.group(0), text)
    if match := _MONTH_DAY_YEAR.search(text):
        month = [m[:3] for m in _MONTHS].index(match.group(1)[:3].lower()) + 1
        return _week_of_date(f"{match.group(3)}-{month:02d}-{int(match.group(2)):02d}", text)
    return None


def _week_of_date(text: str, where: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"taste import: {where}: {text!r} is not a date YYYY-MM-DD") from None
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


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


# -- importing -------------------------------------------------------------------------------

def import_issues(issues: list[Issue], folder: Path, client, categories: list[str]) -> tuple[list[History], list[str]]:
    """Fetch the listings of each issue's week and the week before (those not on disk yet),
    file each pick in the listing that holds it, write picks.json, and return the history
    with the ids found in no listing (announced earlier, or outside `categories`)."""
    listings: dict[str, list[Candidate]] = {}
    for week in sorted({w for i in issues for w in (i.week, week_before(i.week))}):
        listings[week] = _listing(week, folder, client, categories)
    picks: dict = read_editor_json(folder / "picks.json") if (folder / "picks.json").is_file() else {}
    missing = []
    for issue in issues:
        for arxiv_id in issue.picks:
            week = next((w for w in (issue.week, week_before(issue.week))
                         if any(c.arxiv_id == arxiv_id for c in listings[w])), None)
            if week is None:
                missing.append(arxiv_id)
                continue
            entry = picks.setdefault(week, {"picks": [], "source": issue.source})
            if not (isinstance(entry, dict) and isinstance(entry.get("picks"), list)):  # damaged: the import repairs it
                entry = picks[week] = {"picks": [], "source": issue.source}
            entry["picks"] += [] if arxiv_id in entry["picks"] else [arxiv_id]
    write_json(folder / "picks.json", dict(sorted(picks.items())))
    return read_history(folder), missing


COMPLETE = "listings.json"  # week -> "complete": listings fetched once their week was whole


def _listing(week: str, folder: Path, client, categories: list[str]) -> list[Candidate]:
    """The week's listing: from disk when it was fetched complete (a listing an older version
    cached without that record may be partial: fetched again), else from arXiv, cached only
    once the week is complete (arXiv still announces a week's papers until its Sunday)."""
    path, complete = folder / f"{week}.jsonl.gz", _complete(folder)
    if path.is_file() and complete.get(week) == "complete":
        try:
            return read_listing(path)
        except UnreadableFile as exc:
            log.warning("%s: fetching it again", exc.message)
    cands = [c for c in client.search(window_for_week(week), categories) if iso_week_of(c.published) == week]
    if window_for_week(week).start <= window_for_week(last_complete_week()).start:
        write_listing(path, cands)
        write_json(folder / COMPLETE, dict(sorted({**complete, week: "complete"}.items())))
    return cands


def _complete(folder: Path) -> dict:
    try:
        return read_editor_json(folder / COMPLETE)
    except (OSError, ValueError):
        return {}


def import_archive(source: Path, folder: Path, settings, categories: list[str]) -> str:
    """`top5 taste import`: the issues of `source` into the history `folder`, then the taste
    learned from the whole history (cached for the next run). Returns what was done, one line
    each; ConfigError when `source` holds no issue, FeedError when arXiv cannot be reached."""
    from flows.candidates.arxiv import ArxivClient
    from flows.shortlist.embeddings import Embedder
    from flows.shortlist.learned import fit_cached

    skipped: list[str] = []
    issues = find_issues(source, skipped)
    with ArxivClient(settings) as client:
        weeks, missing = import_issues(issues, folder, client, categories)
    began = time.perf_counter()
    taste = fit_cached(weeks, Embedder(settings.cache_dir), settings.cache_dir)
    lines = [f"{len(issues)} issues in {source}; history in {folder}: {len(weeks)} weeks, "
             f"{sum(len(w.picks) for w in weeks)} picks in their listings"]
    lines += [f"skipped {why}" for why in skipped]
    if missing:
        lines.append(f"not in the listings of their week or the week before (left out): {', '.join(missing)}")
    lines.append(f"taste learned from {taste.weeks} weeks in {time.perf_counter() - began:.1f} s" if taste
                 else "no taste learned: the history holds no pick")
    return "\n".join(lines)
