"""Digest: the week's folder under digests/, written atomically, never over an editor's edits.

digests/<week>/
  README.md        the draft, in the house style
  papers.md        the companion page: full titles, links, verbatim abstracts
  candidates.json  every candidate with its scores and the LLM's reason
  run.json         what made the draft: counts, model, prompt hashes, tokens, seconds, flags

run.json records the hash of every page it wrote. Before writing again, the pages on disk are
compared with those hashes: a page the editor changed stops the run instead of being lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from flows import prompts
from flows.errors import DraftError
from flows.files import sha256_text, write_atomic, write_json
from flows.lint import lint_draft
from flows.shortlist import Profile, Ranking, injected
from flows.summaries import Section

PAGES = ("README.md", "papers.md")
TEMPLATES = ("rank_system.j2", "rank_user.j2", "summary_system.j2", "summary_user.j2",
             "style.md", "profile.toml", "digest.md.j2", "papers.md.j2")
OFFLINE_BANNER = ("OFFLINE DRAFT: written by the small embedded model (SmolLM2-135M) because no LLM "
                  "was configured. Its text is unreliable and it cannot rank: the picks come from "
                  "keyword scores. Set OPENAI_API_KEY or OPENAI_BASE_URL for a real draft.")


@dataclass
class RunRecord:
    """What run.json says about a run; the flow fills it stage by stage."""

    week: str
    window: tuple[str, str]
    categories: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    llm: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def to_json(self, written: dict[str, str]) -> dict:
        return {
            "week": self.week,
            "window": {"start": self.window[0], "end": self.window[1]},
            "categories": self.categories,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "llm": self.llm,
            "prompt_hashes": {name: prompts.template_hash(name) for name in TEMPLATES},
            "counts": self.counts,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "tokens": self.tokens,
            "flags": self.flags,
            "written": written,
        }


def check_unedited(folder: Path) -> None:
    """Raise DraftError if a page in `folder` differs from what this tool last wrote there."""
    pages = [folder / p for p in PAGES if (folder / p).exists()]
    if not pages:
        return
    try:
        written = json.loads((folder / "run.json").read_text(encoding="utf-8"))["written"]
    except (OSError, ValueError, KeyError):
        written = {}
    for page in pages:
        if sha256_text(page.read_text(encoding="utf-8")) != written.get(page.name):
            raise DraftError(
                f"{page} was changed after this tool wrote it (or was not written by it); "
                "the draft was not rewritten so those edits are kept. Move the folder aside "
                "or pass another --digests-dir to draft this week again."
            )


def write(folder: Path, *, profile: Profile, ranking: Ranking, sections: list[Section],
          record: RunRecord, offline: bool) -> Path:
    check_unedited(folder)
    picks = [s.candidate for s in ranking.picks]
    banners = [OFFLINE_BANNER] if offline else []
    flagged = sum(1 for s in sections if s.notes)
    if flagged:
        banners.append(f"{flagged} of {len(sections)} sections carry draft notes (⚠️) for the editor to resolve.")
    pages = {
        "README.md": prompts.render("digest.md.j2", profile=profile, sections=sections,
                                    banners=banners, week_title=f"{record.week} papers"),
        "papers.md": prompts.render("papers.md.j2", papers=picks),
    }
    record.flags += [f"Draft check, {p.field}: {p.message}"
                     for p in lint_draft(pages["README.md"], expected_papers=len(sections))]
    for name, text in pages.items():
        write_atomic(folder / name, text)
    write_json(folder / "candidates.json", {
        "week": record.week,
        "picks": [c.arxiv_id for c in picks],
        "runners_up": [{"arxiv_id": s.candidate.arxiv_id, "title": s.candidate.title, "reason": s.reason}
                       for s in ranking.runners_up],
        "shortlist": [s.candidate.arxiv_id for s in ranking.ranked],
        "candidates": [_candidate_row(s, ranking) for s in ranking.scored],
    })
    written = {name: sha256_text(text) for name, text in pages.items()}
    write_json(folder / "run.json", record.to_json(written))
    return folder / "README.md"


def _candidate_row(scored, ranking: Ranking) -> dict:
    final = {s.candidate.arxiv_id: (i + 1, s) for i, s in enumerate(ranking.ranked)}
    place, judged = final.get(scored.candidate.arxiv_id, (None, scored))
    return {"rank": place, "injection_removed": injected(judged.candidate), **judged.to_json()}
