"""The draft and the ranked shortlist as Prefect artifacts, for the Prefect UI and `prefect artifact ls`."""

from __future__ import annotations

from pathlib import Path

from flows.shortlist import Ranking


def publish_artifacts(draft: Path, ranking: Ranking, week: str) -> None:
    """`digest-draft`: the draft's markdown; `ranked-candidates`: the shortlist in final order.
    Must run inside a Prefect flow or task run."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact  # `top5 show` needs no Prefect

    create_markdown_artifact(key="digest-draft", markdown=draft.read_text(encoding="utf-8"),
                             description=f"Draft top-5 digest for {week}")
    create_table_artifact(key="ranked-candidates", description=f"Shortlist of {week}, in final order", table=[
        {"rank": i, "arxiv_id": s.candidate.arxiv_id, "title": s.candidate.title,
         "cheap_score": round(s.cheap, 2), "llm_score": s.llm, "reason": s.reason}
        for i, s in enumerate(ranking.ranked, 1)])
