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
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from pydantic import Field as PydanticField

from flows.candidates.candidate import Candidate, links_kept, split_version, within_limits
from flows.candidates.week import iso_week_of, last_complete_week, window_for_week
from flows.errors import ConfigError, UnreadableFile
from flows.files import EDITOR_FILE_LIMIT, MB, gzip_lines, read_editor_json, write_atomic, write_json
from flows.shortlist.issues import Issue, find_issues, real_week, week_before
from flows.shortlist.learned import History
from flows.text import VERSIONED_ARXIV_ID

__all__ = ["Issue", "editor_weeks", "find_issues", "import_archive", "import_issues", "read_history", "read_listing",
           "real_week", "week_before", "write_listing"]

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
    to do appended to `skipped` (and logged); picks are read without their version, and one line
    names the weeks with an empty listing or no picks and the picks that are no arXiv id or not in
    their week's listing (each left out). Raises UnreadableFile (a ConfigError) when
    picks.json itself cannot be read as {week: {"picks": [...]}}."""
    index = folder / "picks.json"
    if not index.is_file():
        return []
    try:
        picks = read_editor_json(index)
    except OSError as exc:
        raise UnreadableFile(f"editor history {index}: {exc.strerror or exc}") from None
    weeks = []
    problems: dict[str, list[str]] = {k: [] for k in ("empty listing", "no picks", "picks that are no arXiv id",
                                                      "picks not in their week's listing")}
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
        weeks.append(History(name, cands, _week_picks(name, entry.picks, cands, problems)))
    if any(problems.values()):
        _skip(skipped, f"editor history {folder}: " + "; ".join(
            f"{what}: {', '.join(found)}" for what, found in problems.items() if found))
    return weeks


def _week_picks(name: str, picks: list[str], cands: list[Candidate], problems: dict[str, list[str]]) -> frozenset:
    """The picks of week `name` found in its listing (versions dropped); what is not is added to
    `problems` (keys as read_history's warning names them)."""
    listed = {c.arxiv_id for c in cands}
    ids = {split_version(p.strip())[0]: p for p in picks if VERSIONED_ARXIV_ID.fullmatch(p.strip())}
    problems["empty listing"] += [name] if not cands else []
    problems["no picks"] += [name] if not picks else []
    problems["picks that are no arXiv id"] += [f"{name} {p!r}" for p in picks if not VERSIONED_ARXIV_ID.fullmatch(p.strip())]
    problems["picks not in their week's listing"] += [f"{name} {p}" for i, p in ids.items() if cands and i not in listed]
    return frozenset(ids) & listed


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
    links = links_kept(comment, row.abstract)
    return within_limits(Candidate(row.id, 1, row.title, row.abstract, tuple(row.authors), row.primary_category,
                                   tuple(row.categories), published, published, comment, links=links))


def write_listing(path: Path, cands: list[Candidate]) -> None:
    rows = [{"id": c.arxiv_id, "title": c.title, "abstract": c.abstract, "authors": list(c.authors),
             "categories": list(c.categories), "primary_category": c.primary_category, "comment": c.comment,
             "published": c.published.isoformat()} for c in cands]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    write_atomic(path, gzip.compress(text.encode("utf-8"), mtime=0))


# -- importing -------------------------------------------------------------------------------

@dataclass
class Imported:
    """What import_issues did: the history as read back, the ids found in no listing, per issue
    {week: picks filed there}, and one line per listing arXiv answered empty (not cached)."""

    weeks: list[History]
    missing: list[str] = field(default_factory=list)
    filed: list[dict[str, int]] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)


def import_issues(issues: list[Issue], folder: Path, client, categories: list[str],
                  refetch: bool = False) -> Imported:
    """Fetch the listings of each issue's week and the week before (those not on disk for these
    `categories`, or all with `refetch`), file each pick in the listing that holds it, and write
    picks.json, where the weeks an earlier import of the same source filled hold what the source
    says now (a pick deleted from the archive leaves the history)."""
    listings: dict[str, list[Candidate]] = {}
    empty: list[str] = []
    for week in sorted({w for i in issues for w in (i.week, week_before(i.week))}):
        listings[week] = _listing(week, folder, client, categories, refetch)
        if not listings[week]:
            empty.append(f"{week}: arXiv answered no paper in {','.join(categories)}; not kept, fetched again "
                         "by the next import")
    picks = _picks_without(folder, {i.source for i in issues})
    done = Imported([], empty=empty)
    for issue in issues:
        filed: dict[str, int] = {}
        for arxiv_id in issue.picks:
            week = next((w for w in (issue.week, week_before(issue.week))
                         if any(c.arxiv_id == arxiv_id for c in listings[w])), None)
            if week is None:
                done.missing += [] if arxiv_id in done.missing else [arxiv_id]
                continue
            entry = picks.setdefault(week, {"picks": [], "source": issue.source})
            entry["picks"] += [] if arxiv_id in entry["picks"] else [arxiv_id]
            filed[week] = filed.get(week, 0) + 1
        done.filed.append(filed)
    write_json(folder / "picks.json", dict(sorted(picks.items())))
    done.weeks = read_history(folder)
    return done


def _picks_without(folder: Path, sources: set[str]) -> dict:
    """picks.json without the weeks filled from `sources` (re-imported now) and damaged entries."""
    picks = read_editor_json(folder / "picks.json") if (folder / "picks.json").is_file() else {}
    return {week: entry for week, entry in picks.items() if isinstance(entry, dict)
            and isinstance(entry.get("picks"), list) and not _same_source(entry.get("source"), sources)}


def _same_source(source, sources: set[str]) -> bool:
    if not isinstance(source, str) or not source:
        return False
    return source in sources or str(Path(source).resolve()) in sources


COMPLETE = "listings.json"  # week -> {"categories": [...]}: listings fetched once their week was whole


def _listing(week: str, folder: Path, client, categories: list[str], refetch: bool = False) -> list[Candidate]:
    """The week's listing: from disk when it was fetched complete for the same `categories` (and
    not `refetch`), else from arXiv, cached only once the week is complete (arXiv still announces
    a week's papers until its Sunday) and when it holds papers (arXiv at times answers an empty
    feed for a busy query: never taken as the week's listing)."""
    path, complete, key = folder / f"{week}.jsonl.gz", _complete(folder), sorted(set(categories))
    recorded = complete.get(week)
    if not refetch and path.is_file() and isinstance(recorded, dict) and recorded.get("categories") == key:
        try:
            return read_listing(path)
        except UnreadableFile as exc:
            log.warning("%s: fetching it again", exc.message)
    cands = [c for c in client.search(window_for_week(week), categories) if iso_week_of(c.published) == week]
    if cands and window_for_week(week).start <= window_for_week(last_complete_week()).start:
        write_listing(path, cands)
        write_json(folder / COMPLETE, dict(sorted({**complete, week: {"categories": key}}.items())))
    return cands


def _complete(folder: Path) -> dict:
    try:
        return read_editor_json(folder / COMPLETE)
    except (OSError, ValueError):
        return {}


def import_archive(source: Path, folder: Path, settings, categories: list[str], refetch: bool = False) -> str:
    """`top5 taste import`: the issues of `source` into the history `folder`, then the taste
    learned from the whole history (cached for the next run). Returns what was done, one line
    each: every issue with the week it was filed under and its picks, what was skipped and why.
    ConfigError when `source` holds no issue or `folder` is a file, FeedError when arXiv cannot
    be reached."""
    from flows.candidates.arxiv import ArxivClient
    from flows.shortlist.embeddings import Embedder
    from flows.shortlist.learned import fit_cached

    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"taste import: history folder {folder} is a file, not a folder (--history-dir)")
    skipped: list[str] = []
    notes: list[str] = []
    issues = find_issues(source, skipped, notes)
    with ArxivClient(settings) as client:
        done = import_issues(issues, folder, client, categories, refetch)
    began = time.perf_counter()
    taste = fit_cached(done.weeks, Embedder(settings.cache_dir), settings.cache_dir)
    lines = [f"{len(issues)} issues in {source}; history in {folder}: {len(done.weeks)} weeks, "
             f"{sum(len(w.picks) for w in done.weeks)} picks in their listings"]
    lines += [_issue_line(issue, filed) for issue, filed in zip(issues, done.filed)]
    lines += [f"note: {note}" for note in notes] + [f"skipped {why}" for why in skipped] + done.empty
    if done.missing:
        lines.append(f"not in the {','.join(categories)} listings of their week or the week before (announced "
                     f"earlier, or in other categories: --categories chooses them), left out: {', '.join(done.missing)}")
    lines.append(f"taste learned from {taste.weeks} weeks in {time.perf_counter() - began:.1f} s" if taste
                 else "no taste learned: the history holds no pick")
    return "\n".join(lines)


def _issue_line(issue: Issue, filed: dict[str, int]) -> str:
    """`issue a.md '## June 16, 2025': week 2025-W25, 5 picks (4 filed in 2025-W25, 1 in 2025-W24)`."""
    where = ", ".join(f"{n} in {week}" for week, n in sorted(filed.items(), reverse=True)) or "none in a listing"
    return f"issue {issue.where}: week {issue.week}, {len(issue.picks)} picks ({where})"
