"""The editor's taste, learned from past weeks: the papers they picked against the ones they
did not, from each week's candidates.json and the final (merged) digest.

It is a small bag-of-words log-odds model: words and word pairs that keep showing up in the
editor's picks and not in the shortlisted papers they passed over get a positive weight.
It adds a bounded bonus to the cheap score; it never decides alone.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flows.candidates.candidate import Candidate
from flows.candidates.ledger import ordered_ids

MAX_BONUS = 3.0
MIN_DOCS = 2  # a term seen in fewer documents is noise
_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")
_STOP = frozenset("""the and for with that this from are our which have has can its into than their these
those they them been were was not but also more most such both each other over under using used use
based via new show shows paper propose proposed approach method methods results result work model models
""".split())


@dataclass(frozen=True)
class Week:
    """One recorded week: its candidates and what the editor finally picked."""

    name: str
    candidates: list[Candidate]
    shortlist: list[str]
    draft_picks: list[str]
    editor_picks: list[str]
    run: dict = field(default_factory=dict)


def recorded_weeks(digests_dir: Path, merged: Mapping[str, str] | None = None) -> list[Week]:
    """Weeks with a candidates.json and a final digest whose arXiv links are the editor's picks:
    the README.md merged into the base branch (`merged`, week -> text) when there is one, else
    the one in `digests_dir`."""
    merged = merged or {}
    weeks = []
    for folder in sorted(p for p in digests_dir.glob("*") if (p / "candidates.json").is_file()):
        record = json.loads((folder / "candidates.json").read_text(encoding="utf-8"))
        final = folder / "README.md"
        if folder.name not in merged and not final.is_file():
            continue
        text = merged.get(folder.name) or final.read_text(encoding="utf-8")
        cands = [Candidate.from_json(row) for row in record["candidates"]]
        run_file = folder / "run.json"
        run = json.loads(run_file.read_text(encoding="utf-8")) if run_file.is_file() else {}
        weeks.append(Week(folder.name, cands, record.get("shortlist", []), record.get("picks", []),
                          ordered_ids(text), run))
    return weeks



def terms(cand: Candidate) -> set[str]:
    words = [w for w in _WORD.findall(f"{cand.title} {cand.abstract}".lower()) if w not in _STOP]
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}


@dataclass(frozen=True)
class Taste:
    weights: dict[str, float] = field(default_factory=dict)
    weeks: int = 0

    def bonus(self, cand: Candidate) -> float:
        if not self.weights:
            return 0.0
        raw = sum(self.weights.get(t, 0.0) for t in terms(cand))
        return max(-MAX_BONUS, min(MAX_BONUS, raw))


def learn(weeks: list[Week]) -> Taste:
    """Log-odds of each term between picked papers and shortlisted papers not picked."""
    picked, passed = Counter(), Counter()
    n_picked = n_passed = 0
    for week in weeks:
        chosen = set(week.editor_picks)
        considered = set(week.shortlist) | chosen
        for cand in week.candidates:
            if cand.arxiv_id in chosen:
                picked.update(terms(cand))
                n_picked += 1
            elif cand.arxiv_id in considered:
                passed.update(terms(cand))
                n_passed += 1
    if not n_picked or not n_passed:
        return Taste(weeks=len(weeks))
    weights = {}
    for term in set(picked) | set(passed):
        if picked[term] + passed[term] < MIN_DOCS:
            continue
        odds = math.log((picked[term] + 0.5) / (n_picked + 1)) - math.log((passed[term] + 0.5) / (n_passed + 1))
        weights[term] = round(0.25 * odds, 4)
    return Taste(weights, len(weeks))
