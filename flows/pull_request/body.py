"""The pull request's body: prompts/pull_request.md.j2 filled from the week's run.json and
candidates.json. Every value from arXiv, the LLM or run.json passes the template's `md` filter
(flows/escape.py), so paper text stays one inert line: no links, images or HTML, no @mentions."""

from __future__ import annotations

from pathlib import Path

from flows import prompts
from flows.digest.learning import describe
from flows.digest.show import funnel, usage
from flows.errors import DraftError, UnreadableFile
from flows.records import read_record
from flows.text import clip

TOOL = "weekly-top5"
TEMPLATE = "pull_request.md.j2"
BODY_LIMIT = 60_000  # GitHub refuses bodies over 65,536 characters
CHECKLIST = (
    "every number checked against the paper",
    "figures added",
    "names and takes in my voice",
    "draft notes (⚠️) and banners resolved",
    "runners-up considered (swap a pick?)",
)


def inline(value, limit: int = 300) -> str:
    """A server's message as one line for an error (not markdown: pages and the body use
    flows.escape), with no HTML and no @mentions."""
    text = " ".join(str(value).split())
    return clip(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("@", "&#64;"), limit)


def pull_request_body(week_dir: Path | str) -> str:
    """The pull request's markdown, from the week's run.json and candidates.json. Raises
    DraftError naming the file when either is missing, not JSON or not shaped as the tool wrote
    it (flows/records.py)."""
    folder = Path(week_dir)
    return render_body(_record(folder, "run.json"), _record(folder, "candidates.json"))


def render_body(run: dict, candidates: dict) -> str:
    """The body for a run.json and a candidates.json (as dicts); cut at BODY_LIMIT characters."""
    body = prompts.render(TEMPLATE, **_context(run, candidates))
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT] + "\n\n… (cut: see run.json and candidates.json on this branch)\n"
    return body


def keep_ticks(old: str, new: str) -> str:
    """`new` with the checklist items the editor already ticked in `old` still ticked."""
    ticked = {line[len("- [x] "):] for line in old.splitlines() if line.lower().startswith("- [x] ")}
    return "\n".join(f"- [x] {line[6:]}" if line.startswith("- [ ] ") and line[6:] in ticked else line
                     for line in new.split("\n"))


def _context(run: dict, candidates: dict) -> dict:
    rows = {row.get("arxiv_id"): row for row in candidates.get("candidates", [])}
    window, llm = run.get("window", {}), run.get("llm", {})
    return {
        "tool": TOOL, "week": run.get("week", "?"), "start": window.get("start", "?"), "end": window.get("end", "?"),
        "picks": [_paper(aid, rows.get(aid, {})) for aid in candidates.get("picks", [])],
        "runners_up": [_paper(r.get("arxiv_id", "?"), {**rows.get(r.get("arxiv_id"), {}), **r})
                       for r in candidates.get("runners_up", [])],
        "flags": run.get("flags", []), "checklist": CHECKLIST, "funnel": funnel(run.get("counts", {})),
        "learned": describe(run.get("learned")),
        "models": list(llm.get("models", {}).items()),
        "where": " (offline embedded model)" if llm.get("offline") else (
            f" at {llm['base_url']}" if llm.get("base_url") else ""),
        **usage(run),
    }


def _paper(arxiv_id: str, row: dict) -> dict:
    return {"arxiv_id": arxiv_id, "title": row.get("title") or arxiv_id, "rank": row.get("rank"),
            "reason": row.get("reason") or "no reason recorded"}


def _record(folder: Path, name: str) -> dict:
    try:
        return read_record(folder, name)
    except UnreadableFile as exc:
        raise DraftError(exc.message) from None
