"""Tokens our ranking cascade spends on a 3000-candidate week, against the baseline of asking
the LLM to score every abstract in batches of 16, and whether the editor's real picks survive
the cheap stage.

    python bench/ranking.py [--candidates 3000] [--shortlist 40]

The LLM is a scripted OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py) that
counts tokens as characters / 4 for both strategies, so the ratio is what matters. The pool is
every distinct real arXiv entry in ../shared/fixtures (API responses and the week mirror),
mixed into new entries up to the requested size; the editor's picks are the five papers of the
published digest in ../shared/house-style/weekly-top5-abstracts.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from flows import prompts  # noqa: E402
from flows.candidates.candidate import Candidate, merge  # noqa: E402
from flows.candidates.feed import parse_api_feed  # noqa: E402
from flows.config import Settings  # noqa: E402
from flows.llm.client import LLM  # noqa: E402
from flows.shortlist.ranking import Profile, RankAnswer, rank, score_all  # noqa: E402
from tests import scripted_llm  # noqa: E402
from tests.helpers import WHEN  # noqa: E402
from tests.openai_server import OpenAIServer  # noqa: E402

BASELINE_BATCH = 16


def real_pool() -> list[Candidate]:
    files = sorted((SHARED / "fixtures" / "arxiv" / "api").glob("*.xml")) + [SHARED / "fixtures" / "week" / "api-week.xml"]
    found = []
    for path in files:
        try:
            found += parse_api_feed(path.read_bytes(), str(path)).candidates
        except Exception:  # error feeds among the fixtures
            continue
    return merge(found)


def editor_picks() -> list[Candidate]:
    text = (SHARED / "house-style" / "weekly-top5-abstracts.md").read_text(encoding="utf-8")
    picks = []
    for block in re.split(r"^## Paper \d+\s*$", text, flags=re.M)[1:]:
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        arxiv_id = re.search(r"arxiv\.org/abs/+([\d.]+)", block).group(1)
        abstract = " ".join(block.split("Abstract:", 1)[1].split())
        picks.append(Candidate(arxiv_id, 1, lines[0], abstract, ("Editor's pick",), "cs.LG", ("cs.LG",), WHEN, WHEN))
    return picks


def week_of(pool: list[Candidate], size: int) -> list[Candidate]:
    """The real entries, then synthetic ones: each takes its title from one real entry and
    its abstract from the halves of two others, so the filler is as varied as the pool
    instead of twenty copies of its best papers."""
    week = list(pool)
    n, p = 0, len(pool)
    while len(week) < size:
        first, second = _sentences(pool[(7 * n + 3) % p]), _sentences(pool[(13 * n + 5) % p])
        abstract = " ".join(first[: len(first) // 2 + 1] + second[len(second) // 2 + 1 :])
        week.append(replace(pool[n % p], arxiv_id=f"2699.{n:05d}", abstract=abstract))
        n += 1
    return week[:size]


def _sentences(cand: Candidate) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", cand.abstract)


def baseline_tokens(week: list[Candidate], profile: Profile, llm: LLM) -> None:
    system = prompts.render("rank_system.j2", profile=profile)
    for start in range(0, len(week), BASELINE_BATCH):
        batch = week[start : start + BASELINE_BATCH]
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": prompts.render("rank_user.j2", papers=batch)}]
        llm.complete_json("rank", messages, RankAnswer)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=3000)
    parser.add_argument("--shortlist", type=int, default=40)
    args = parser.parse_args()
    if not SHARED.exists():
        print(f"bench: {SHARED} not found (needs ../shared/fixtures and ../shared/house-style)")
        return 2
    profile, pool, picks = Profile.load(), real_pool(), editor_picks()
    week = week_of(pool, args.candidates - len(picks)) + picks
    with OpenAIServer(scripted_llm.reply) as srv, tempfile.TemporaryDirectory() as tmp:
        def fresh_llm(name: str) -> LLM:
            return LLM(Settings(openai_base_url=srv.base_url, openai_api_key="bench", cache_dir=Path(tmp) / name))

        began = time.perf_counter()
        cascade = fresh_llm("cascade")
        ranking = rank(score_all(week, profile), profile, cascade, args.shortlist)
        cascade_seconds = time.perf_counter() - began
        baseline = fresh_llm("baseline")
        baseline_tokens(week, profile, baseline)
    ours, theirs = cascade.usage.to_json()["rank"], baseline.usage.to_json()["rank"]
    ours_total = ours["prompt_tokens"] + ours["completion_tokens"]
    theirs_total = theirs["prompt_tokens"] + theirs["completion_tokens"]
    shortlisted = {s.candidate.arxiv_id for s in ranking.ranked}
    distinct = score_all(pool + picks, profile)[: args.shortlist]
    print(f"week: {len(week)} candidates ({len(pool)} distinct real entries, the rest mixed from them, + {len(picks)} editor picks)")
    print(f"cascade : {ours['requests']:>4} requests {ours_total:>9} tokens  (cheap score for all, LLM on {args.shortlist}, final round)"
          f"  {cascade_seconds:.2f} s")
    print(f"baseline: {theirs['requests']:>4} requests {theirs_total:>9} tokens  (LLM scores every abstract, batches of {BASELINE_BATCH})")
    print(f"ratio   : {ours_total / theirs_total:.3f} of the baseline's tokens (target <= 0.100)")
    print(f"editor picks in the shortlist of {args.shortlist}: {len(shortlisted & {p.arxiv_id for p in picks})}/{len(picks)}"
          f" (on the {len(pool) + len(picks)} distinct entries: "
          f"{len({s.candidate.arxiv_id for s in distinct} & {p.arxiv_id for p in picks})}/{len(picks)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
