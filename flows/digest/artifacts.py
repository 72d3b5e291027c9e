"""The draft as Prefect artifacts, complete in the Prefect UI (and `prefect artifact ls`).

The UI shows an artifact's markdown on a page of its own, far from the week's folder, so the
pages are adapted for it: figures the draft links (figures/...) are embedded as data URIs, the
link to papers.md points at the `digest-papers` artifact, and a link to any other file of the
folder becomes its path in plain text. The shortlist is a markdown table whose first columns
are what the editor decides with: rank, pick or runner-up (R1-R5), the linked title, the
scores and the LLM's reason. bench/artifacts_ui.py renders them in headless Chromium.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

from flows.escape import md
from flows.records import read_record

DRAFT_KEY, PAPERS_KEY, TABLE_KEY = "digest-draft", "digest-papers", "ranked-candidates"
ARTIFACT_ROUTE = "/artifacts/artifact/"  # the Prefect UI's page of one artifact, by its id
MAX_IMAGE_BYTES = 2_000_000  # larger figures are named, not embedded (the artifact lives in the database)
TITLE_CELL, REASON_CELL = 48, 60  # characters: what fits beside rank, pick and scores at 1400 px
_HTML_IMAGE = re.compile(r'<img\b[^>]*?\bsrc="(?P<src>[^"]+)"[^>]*>', re.I)
_MD_LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")
_ALT = re.compile(r'\balt="([^"]*)"', re.I)


def publish_artifacts(folder: Path) -> None:
    """`digest-papers` (papers.md), `digest-draft` (README.md, its papers.md link pointing at
    the first) and `ranked-candidates` (the shortlist) for the week in `folder`. Must run inside
    a Prefect flow or task run."""
    from prefect.artifacts import create_markdown_artifact  # `top5 show` needs no Prefect

    week = folder.name
    papers = create_markdown_artifact(key=PAPERS_KEY, markdown=for_ui(_page(folder, "papers.md"), folder),
                                      description=f"Companion page of {week}: titles, links, abstracts")
    create_markdown_artifact(key=DRAFT_KEY, description=f"Draft top-5 digest for {week}",
                             markdown=for_ui(_page(folder, "README.md"), folder, f"{ARTIFACT_ROUTE}{papers}"))
    candidates = read_record(folder, "candidates.json")
    create_markdown_artifact(key=TABLE_KEY, markdown=candidates_table(candidates),
                             description=f"Shortlist of {week}, in final order")


def for_ui(markdown: str, folder: Path, papers_url: str | None = None) -> str:
    """`markdown` of the week in `folder` with its figures embedded and its local links
    pointing where the Prefect UI can follow them (papers.md: `papers_url`, the UI's page of
    the companion artifact)."""
    markdown = _HTML_IMAGE.sub(lambda m: _image(_ALT.search(m.group(0)), m["src"], folder), markdown)
    return _MD_LINK.sub(lambda m: _link(m, folder, papers_url), markdown)


def _page(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def candidates_table(candidates: dict) -> str:
    """The shortlist (candidates.json's "shortlist", final order) as a markdown table narrow
    enough for the Prefect UI at 1400 px (its cells never wrap), then the picks' and
    runners-up's reasons in full."""
    rows = {row.get("arxiv_id"): row for row in candidates.get("candidates", [])}
    labels = {aid: f"pick {i}" for i, aid in enumerate(candidates.get("picks", []), 1)}
    labels.update({r.get("arxiv_id"): f"R{i}" for i, r in enumerate(candidates.get("runners_up", []), 1)})
    stage1 = _stage1_ranks(rows)
    lines = ["| Rank | Pick | Paper | Stage 1 | LLM | Reason |", "|---:|---|---|---:|---:|---|"]
    for place, arxiv_id in enumerate(candidates.get("shortlist", []), 1):
        row = rows.get(arxiv_id, {})
        lines.append(f"| {place} | {labels.get(arxiv_id, '')} | {_paper(arxiv_id, row, TITLE_CELL)} | "
                     f"{stage1.get(arxiv_id, '–')} | {_score(row.get('llm_score'))} | "
                     f"{md(row.get('reason') or '', REASON_CELL)} |")
    lines += ["", "**Why the picks and runners-up**", ""]
    lines += [f"- **{label}** {_paper(arxiv_id, rows.get(arxiv_id, {}), 200)}: "
              f"{md(rows.get(arxiv_id, {}).get('reason') or 'no reason recorded', 600)}"
              for arxiv_id, label in labels.items()]
    return "\n".join(lines) + "\n"


def _paper(arxiv_id: str, row: dict, limit: int) -> str:
    return f"[{md(row.get('title') or arxiv_id, limit)}](https://arxiv.org/abs/{md(arxiv_id, 40)})"


def _image(alt: re.Match | None, src: str, folder: Path) -> str:
    data = _data_uri(src, folder)
    return f"![{alt.group(1) if alt else 'figure'}]({data})" if data else f"*(figure {src} in {folder})*"


def _link(match: re.Match, folder: Path, papers_url: str | None) -> str:
    target = match["target"]
    if target.startswith(("http://", "https://", "mailto:", "#", "data:")):
        return match.group(0)
    if match["bang"]:
        data = _data_uri(target, folder)
        return f"![{match['text']}]({data})" if data else f"*(figure {target} in {folder})*"
    if target == "papers.md" and papers_url:
        return f"[{match['text']}]({papers_url})"
    return f"{match['text']} (`{folder / target}`)"


def _data_uri(src: str, folder: Path) -> str | None:
    """The figure `src` (relative to `folder`) as a data: URI; None outside the folder or too big."""
    path = (folder / src).resolve()
    if not path.is_file() or not path.is_relative_to(folder.resolve()) or path.stat().st_size > MAX_IMAGE_BYTES:
        return None
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not kind.startswith("image/"):
        return None
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _stage1_ranks(rows: dict) -> dict[str, str]:
    """arXiv id -> "#n", the paper's place in stage 1's order (its cheap score among the week's
    candidates): stage 1 fuses by rank, so the score itself means nothing to a reader."""
    scored = [(row["cheap_score"], aid) for aid, row in rows.items()
              if isinstance(row.get("cheap_score"), int | float) and not isinstance(row.get("cheap_score"), bool)]
    return {aid: f"#{place}" for place, (_, aid) in enumerate(sorted(scored, key=lambda x: (-x[0], x[1])), 1)}


def _score(value) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "–"
