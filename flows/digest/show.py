"""`top5 show`: a drafted week on the terminal, for an editor without GitHub at hand: the picks,
the runners-up (R1-R5, the numbering `top5 swap` and the pull request use) with the LLM's
reasons, the flags, and what the run cost. Read from the week's run.json and candidates.json."""

from __future__ import annotations

import re
from pathlib import Path

from flows.digest.learning import describe
from flows.escape import shown
from flows.records import read_record
from flows.text import clip

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # terminal escapes in a title must not reach the screen


def show(folder: Path) -> str:
    """The week in `folder` as plain text (lines end with a newline). Raises DraftError when
    the folder holds no finished draft, UnreadableFile when its run.json or candidates.json is damaged."""
    run, cands = read_record(folder, "run.json"), read_record(folder, "candidates.json")
    rows = {row.get("arxiv_id"): row for row in cands.get("candidates", [])}
    window = run.get("window", {})
    lines = [f"{_plain(run.get('week', folder.name))}: {_plain(window.get('start', '?'))[:10]} to "
             f"{_plain(window.get('end', '?'))[:10]}, style {_plain(run.get('style', '?'))}", "", "Picks"]
    picks = _final_picks(folder) or cands.get("picks", [])
    if picks != cands.get("picks", []):
        lines[-1] = "Picks (as the editor's text has them)"
    lines += [_paper(f"{i}.", aid, rows.get(aid, {})) for i, aid in enumerate(picks, 1)]
    lines += ["", f"Runners-up (swap one in: top5 swap {_plain(folder.name)} PAPER R1)"]
    lines += [_paper(f"R{i}", r.get("arxiv_id", "?"), {**rows.get(r.get("arxiv_id"), {}), **r})
              for i, r in enumerate(cands.get("runners_up", []), 1)] or ["  none"]
    lines += ["", "Flags", *([f"  - {_plain(flag, 600)}" for flag in run.get("flags", [])] or ["  none"])]
    taste = describe(run.get("learned"))
    lines += ["", f"Funnel: {funnel(run.get('counts', {}))}", *([f"Taste: {_plain(taste, 600)}"] if taste else []), *[f"{k.capitalize()}: {v}" for k, v in usage(run).items()]]
    return "\n".join(lines) + "\n"


def _final_picks(folder: Path) -> list[str]:
    """The arXiv ids the week's README.md features, in order: after a merge, the editor's picks."""
    from flows.candidates.ledger import ordered_ids

    try:
        return ordered_ids((folder / "README.md").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


def funnel(counts: dict) -> str:
    """'812 candidates → 800 new (12 featured before) → 40 shortlisted → 5 picks (4 with PDF text)'."""
    steps = [f"{counts.get('candidates', '?')} candidates"]
    if "new" in counts:
        steps.append(f"{counts['new']} new ({counts.get('featured_before', 0)} featured before)")
    steps += [f"{counts.get('shortlist', '?')} shortlisted", f"{counts.get('picks', '?')} picks"]
    tail = f" ({counts['pdf_text']} with PDF text)" if "pdf_text" in counts else ""
    return " → ".join(steps) + tail


def usage(run: dict) -> dict[str, str]:
    """{'tokens': '51,234 prompt + 4,321 completion in 9 requests (1 cached)', 'cost': '$0.0123'}."""
    total = run.get("tokens", {}).get("total", {})
    return {"tokens": f"{total.get('prompt_tokens', 0):,} prompt + {total.get('completion_tokens', 0):,} "
                      f"completion in {total.get('requests', 0)} requests ({total.get('cached', 0)} cached)",
            "cost": "no cost (local model)" if run.get("llm", {}).get("offline")
            else f"${total.get('cost_usd', 0):.4f}"}


def _paper(label: str, arxiv_id: str, row: dict) -> str:
    title = _plain(row.get("title") or "", 120)
    reason = _plain(row.get("reason") or "no reason recorded", 400)
    return f"  {label:<3} {_plain(arxiv_id, 40)}  {title}\n      {reason}"


def _plain(value, limit: int = 300) -> str:
    return clip(_CONTROL.sub(" ", shown(value)), limit)

