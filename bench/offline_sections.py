"""How often the embedded model writes a usable section, over many real papers, not one week.

    .venv/bin/python bench/offline_sections.py [--papers 30] [--seed 0]

Draws --papers random papers from ../shared/fixtures/editor-weeks (real arXiv listings), starts
the embedded SmolLM2-135M server as a run does (OPENAI_API_KEY / OPENAI_BASE_URL are ignored),
and writes each paper's section from its abstract (flows.summaries.summarize with no PDF), with
a fresh cache. Prints how many sections the model wrote and how many fell back to the paper's
own words (with why), the seconds per section, and the lint and grounding notes most often left.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows.candidates.candidate import Candidate  # noqa: E402
from flows.config import Settings  # noqa: E402
from flows.llm.client import open_llm  # noqa: E402
from flows.summaries import summarize  # noqa: E402

WEEKS = REPO.parent / "shared" / "fixtures" / "editor-weeks"


def papers(count: int, seed: int) -> list[Candidate]:
    rows = [json.loads(line) for path in sorted(WEEKS.glob("*.jsonl.gz")) for line in gzip.open(path, "rt")]
    chosen = random.Random(seed).sample(rows, count)
    return [Candidate(arxiv_id=r["id"], version=1, title=r["title"], abstract=r["abstract"],
                      authors=tuple(r.get("authors") or ()), categories=tuple(r.get("categories") or ()),
                      primary_category=r.get("primary_category") or "cs.AI",
                      published=_date(r.get("published")), updated=_date(r.get("published"))) for r in chosen]


def _date(text: str | None) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else datetime.now(timezone.utc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not WEEKS.is_dir():
        print(f"offline_sections: no {WEEKS} (the shared fixtures)", file=sys.stderr)
        return 2
    settings = Settings(openai_api_key=None, openai_base_url=None, cache_dir=Path(tempfile.mkdtemp()))
    written, notes, reasons, seconds = 0, Counter(), Counter(), []
    with open_llm(settings) as llm:
        for cand in papers(args.papers, args.seed):
            began = time.monotonic()
            section = summarize(cand, None, llm)
            seconds.append(time.monotonic() - began)
            written += not section.fallback
            for note in section.notes:
                kind = reasons if "could not write" in note else notes
                kind[note.split("(", 2)[1].split(";")[0][:70] if kind is reasons else note.split(":")[0][:40]] += 1
    print(f"papers {args.papers} (seed {args.seed}): {written} sections written by the model, "
          f"{args.papers - written} fell back to the paper's own words")
    print(f"seconds per section: mean {sum(seconds) / len(seconds):.1f}, max {max(seconds):.1f}")
    for title, counter in (("why sections fell back", reasons), ("notes left on sections", notes)):
        print(f"{title}:")
        for text, count in counter.most_common(8):
            print(f"  {count:>3}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
