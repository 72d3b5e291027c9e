"""The run record: what run.json says about a run, filled stage by stage (see flows/run.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from flows import prompts
from flows.config import PROMPTS_DIR

PROMPT_FILES = ("rank_system.j2", "rank_user.j2", "summary_system.j2", "summary_user.j2", "profile.toml",
                # what the embedded model is asked, one part at a time (flows/summaries/parts.py)
                "part_system.j2", "part_user.j2", "part_name.j2", "parts.toml", "part_paragraph.gbnf",
                "part_take.gbnf")
STYLE_FILES = ("digest.md.j2", "papers.md.j2", "style.md", "exemplar.md")


@dataclass
class RunRecord:
    """What run.json says about a run; the flow fills it stage by stage."""

    week: str
    window: tuple[str, str]
    categories: list[str]
    style: str = "weekly"
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    llm: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    exemplar: str = ""
    swaps: list[dict] = field(default_factory=list)  # the editor's swaps, kept across re-drafts
    learned: dict = field(default_factory=dict)  # what the taste learned (flows/digest/learning.py)
    first_stage: list[str] = field(default_factory=list)  # what stage 1 scored with (see first_stage)

    def to_json(self, written: dict[str, str]) -> dict:
        return {
            "week": self.week,
            "window": {"start": self.window[0], "end": self.window[1]},
            "categories": self.categories,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "llm": self.llm,
            "style": self.style,
            "exemplar": self.exemplar,
            "prompt_hashes": prompt_hashes(self.style),
            "counts": self.counts,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "tokens": self.tokens,
            "flags": self.flags,
            "swaps": self.swaps,
            "learned": self.learned,
            "first_stage": self.first_stage,
            "written": written,
        }


TASTE, WORDS, POPULARITY = "the learned taste", "the profile's words", "the Hugging Face upvotes"


def first_stage(taste_learned: bool, popularity: bool) -> list[str]:
    """What stage 1 (shortlist.score_all) scored every candidate with in a run: the learned taste
    when the editor's history held a pick, the profile's words always, upvotes when they arrived."""
    return [TASTE] * taste_learned + [WORDS] + [POPULARITY] * popularity


def prompt_hashes(style: str) -> dict[str, str]:
    hashes = {name: prompts.template_hash(name) for name in PROMPT_FILES}
    hashes.update({f"styles/{style}/{name}": prompts.template_hash(f"styles/{style}/{name}")
                   for name in STYLE_FILES if (PROMPTS_DIR / "styles" / style / name).is_file()})
    return hashes
