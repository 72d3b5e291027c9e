"""Tokens our ranking cascade spends on a 3000-candidate week, stage by stage (title screen of
stage 1's top N, abstract round of the shortlist read twice, final comparison), against the
baseline of asking the LLM to score every abstract in batches of 16; the seconds of stage 1
(the taste learned from real editor weeks, then every candidate scored), once with nothing
cached, once as a later run finds its caches (the taste and the history's embeddings), and once
as the run after a newly merged week finds them (a refit: the history's embeddings and word
counts cached, the new week's computed), and the peak memory.

    python bench/ranking.py [--candidates 3000] [--history 27] [--screen 400] [--shortlist 40]

The LLM is a scripted OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py) that
counts tokens as characters / 4 for both strategies, so the ratio is what matters. The pool is
every distinct real arXiv entry in ../shared/fixtures (API responses and the week mirror),
mixed into new entries up to the requested size; the editor's picks are the five papers of the
published digest in ../shared/house-style/weekly-top5-abstracts.md.
"""

from __future__ import annotations

import argparse
import re
import resource
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
from flows.shortlist import archive, features, learned, screen  # noqa: E402
from flows.shortlist.embeddings import Embedder  # noqa: E402
from flows.shortlist.ranking import Profile, RankAnswer, guarded, rank, score_all  # noqa: E402
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
    system = prompts.render("rank_system.j2", profile=profile, against=False)
    for start in range(0, len(week), BASELINE_BATCH):
        batch = week[start : start + BASELINE_BATCH]
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": prompts.render("rank_user.j2", papers=batch)}]
        llm.complete_json("rank", messages, RankAnswer)


def stage_one(week: list[Candidate], profile: Profile, weeks: int, cache: Path) -> tuple[list, float, float, float]:
    """Stage 1 as a run does it: the taste from `weeks` editor weeks, then every candidate of
    `week` scored. Seconds with nothing cached in `cache`, with what that run left, and (in a
    cache of its own) after a run that knew one week less: the refit a newly merged week costs."""
    history = archive.read_history(SHARED / "fixtures" / "editor-weeks")[:weeks]

    def timed(known: list, folder: Path) -> tuple[list, float]:
        embedder = Embedder(folder)  # a new run: nothing in memory
        features._counts.cache_clear()
        began = time.perf_counter()
        taste = learned.fit_cached(known, embedder, folder)
        scored = score_all(week, profile, taste, upvotes={}, embedder=embedder)
        return scored, time.perf_counter() - began

    scored, cold = timed(history, cache)
    _, cached = timed(history, cache)
    timed(history[:-1], cache / "refit")
    _, refit = timed(history, cache / "refit")
    return scored, cold, cached, refit


def _total(llm: LLM) -> tuple[int, int]:
    usage = llm.usage.to_json().get("rank", {})
    return usage.get("requests", 0), usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=3000)
    parser.add_argument("--history", type=int, default=27, help="editor weeks the taste learns from")
    parser.add_argument("--screen", type=int, default=Settings().screen_size)
    parser.add_argument("--shortlist", type=int, default=40)
    args = parser.parse_args()
    if not SHARED.exists():
        print(f"bench: {SHARED} not found (needs ../shared/fixtures and ../shared/house-style)")
        return 2
    profile, pool, picks = Profile.load(), real_pool(), editor_picks()
    week = week_of(pool, args.candidates - len(picks)) + picks
    with tempfile.TemporaryDirectory() as tmp:
        scored, cold_seconds, cached_seconds, refit_seconds = stage_one(week, profile, args.history, Path(tmp))
    with OpenAIServer(scripted_llm.reply) as srv, tempfile.TemporaryDirectory() as tmp:
        def fresh_llm(name: str) -> LLM:
            return LLM(Settings(openai_base_url=srv.base_url, openai_api_key="bench", cache_dir=Path(tmp) / name))

        screening = fresh_llm("screen")
        screen.screen_titles([guarded(s.candidate) for s in scored[: args.screen]], profile, screening, [])
        cascade = fresh_llm("cascade")
        rank(scored, profile, cascade, args.shortlist, screen_size=args.screen)
        baseline = fresh_llm("baseline")
        baseline_tokens(week, profile, baseline)
    (screen_requests, screen_tokens), (requests, total) = _total(screening), _total(cascade)
    theirs_requests, theirs = _total(baseline)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"week: {len(week)} candidates ({len(pool)} distinct real entries, the rest mixed from them, + {len(picks)} editor picks)")
    print(f"stage 1 : taste from {args.history} editor weeks + {len(scored)} candidates scored: {cold_seconds:.1f} s "
          f"with nothing cached (target < 60 s), {cached_seconds:.1f} s with the history cached (target < 10 s), "
          f"{refit_seconds:.1f} s after a newly merged week (a refit, the earlier weeks' embeddings and word counts "
          "cached); 0 tokens")
    print(f"stage 2 : {screen_requests:>4} requests {screen_tokens:>9} tokens  (titles of the top {args.screen})")
    print(f"stage 3 : {requests - screen_requests:>4} requests {total - screen_tokens:>9} tokens  (abstracts of "
          f"{args.shortlist}, read for and against, then the final comparison)")
    print(f"cascade : {requests:>4} requests {total:>9} tokens  (target < 60000)")
    print(f"baseline: {theirs_requests:>4} requests {theirs:>9} tokens  (LLM scores every abstract, batches of {BASELINE_BATCH})")
    print(f"ratio   : {total / theirs:.3f} of the baseline's tokens; peak memory {peak:.0f} MB (target < 2048 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
