"""`top5 run WEEK --dry-run`: fetch the week (arXiv costs nothing), score it with stage 1, and say
what the LLM stages would send and cost. No LLM request; nothing is written to the week's folder."""

from __future__ import annotations

from pathlib import Path

from flows import candidates, pull_request, shortlist, summaries
from flows.config import Settings
from flows.estimate.estimate import Estimate, estimate_run
from flows.llm.client import LLM

NO_SERVER = "http://127.0.0.1:9"  # the dry run's LLM object sends nothing: it only counts and prices


def dry_run(request, settings: Settings | None = None) -> Estimate:
    """The estimate for a checked run request (flows.preflight.RunRequest). Raises what fetching the
    week raises (ArxivError, ConfigError)."""
    settings = settings or Settings.from_env()
    window = (candidates.window_between(request.start, request.end) if request.start and request.end
              else candidates.window_for_week(request.week or candidates.last_complete_week()))
    week = request.week or window.label
    digests = Path(request.digests_dir).resolve()
    with candidates.ArxivClient(settings) as client:
        found = client.search(window, request.categories)
    featured = candidates.featured_ids(digests, except_week=week) if digests.is_dir() else set()
    merged = pull_request.merged_readmes(digests, settings) if digests.is_dir() else {}
    featured |= pull_request.covered_on_main(digests, settings, except_week=week) if digests.is_dir() else set()
    fresh = [c for c in found if c.arxiv_id not in featured]
    profile, embedder = shortlist.Profile.load(settings.profile), shortlist.Embedder(settings.cache_dir)
    taste = shortlist.editor_taste(settings, digests, merged, week, embedder)
    scored = shortlist.score_all(fresh, profile, taste, {}, embedder)
    voice = summaries.voice_for(request.style, digests, except_week=week, merged=merged)
    offline = not settings.llm_configured
    with LLM(settings, base_url=None if not offline else NO_SERVER, offline=offline) as llm:
        return estimate_run(scored, len(found), profile, llm, voice, size=settings.shortlist_size,
                            screen_size=settings.screen_size, top_k=request.top_k)
