"""The dry run's estimate against what the run then spends, on the shared week with the scripted
model (tests/scripted_llm.py, served on 127.0.0.1 like an OpenAI-compatible backend).

    .venv/bin/python bench/dry_run.py [--top-k 5]

Serves the shared one-week arXiv mirror (../shared/fixtures/week), prints `top5 run --dry-run`'s
estimate, then runs the same window for real (`python -m flows.cli run ... --no-pr`, a fresh
cache and PREFECT_HOME) and prints, per LLM stage, the estimated and the spent requests and tokens
(run.json) and their ratio. The goal is a total within 20%; printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
WEEK = REPO.parent / "shared" / "fixtures" / "week"
CATEGORIES = "cs.AI,cs.LG,cs.CL,cs.CV"
LLM_STAGE = {"screen": "rank", "rank": "rank", "summaries": "summarize"}  # run.json counts per LLM stage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2026-11-16")
    parser.add_argument("--end", default="2026-11-22")
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args()
    if not WEEK.is_dir():
        print(f"{WEEK} not found: the bench reads the shared one-week mirror")
        return 2
    from tests import scripted_llm
    from tests.arxiv_server import ArxivServer
    from tests.openai_server import OpenAIServer

    with tempfile.TemporaryDirectory(prefix="top5-dry-run-") as tmp, \
            ArxivServer((WEEK / "api-week.xml").read_bytes(), WEEK / "pdf") as arxiv, \
            OpenAIServer(scripted_llm.reply) as llm:
        env = {**os.environ, "ARXIV_API_URL": arxiv.api_url, "ARXIV_PDF_URL": arxiv.pdf_url,
               "ARXIV_DELAY_SECONDS": "0.01", "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-bench-scripted",
               "TOP5_CACHE_DIR": f"{tmp}/cache", "PREFECT_HOME": f"{tmp}/prefect", "TOP5_POPULARITY": "off"}
        command = [sys.executable, "-m", "flows.cli", "run", "--start", args.start, "--end", args.end,
                   "--categories", CATEGORIES, "--top-k", str(args.top_k), "--no-pr", "--digests-dir", f"{tmp}/digests"]
        dry = subprocess.run([*command, "--dry-run"], cwd=REPO, env=env, capture_output=True, text=True, check=False)
        print(dry.stdout, dry.stderr, sep="", end="")
        if dry.returncode or llm.requests:
            print(f"dry run failed (exit {dry.returncode}) or sent {len(llm.requests)} LLM requests")
            return 1
        estimate = _estimated(dry.stdout)
        real = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        runs = list(Path(tmp, "digests").glob("*/run.json"))
        if real.returncode or not runs:
            print(f"the real run failed (exit {real.returncode}): {real.stderr[-2000:]}")
            return 1
        spent = json.loads(runs[0].read_text())["tokens"]
        print("spent (run.json):", json.dumps({s: {k: spent[s][k] for k in ("requests", "prompt_tokens", "completion_tokens")} for s in ("rank", "summarize")}))
        _compare(estimate, spent)
    return 0


def _estimated(out: str) -> dict[str, dict[str, int]]:
    """LLM stage -> requests and tokens, from the dry run's lines ('rank: 12 requests to ...')."""
    import re

    found: dict[str, dict[str, int]] = {}
    for stage, requests, prompt, completion in re.findall(
            r"^(\w+): (\d+) requests to .*?~([\d,]+) prompt \+ ~([\d,]+) completion", out, re.M):
        entry = found.setdefault(LLM_STAGE[stage], {"requests": 0, "tokens": 0})
        entry["requests"] += int(requests)
        entry["tokens"] += int(prompt.replace(",", "")) + int(completion.replace(",", ""))
    return found


def _compare(estimate: dict, spent: dict) -> None:
    print(f"\n{'stage':<10} {'est. req':>8} {'spent req':>9} {'est. tokens':>12} {'spent tokens':>12} {'ratio':>6}")
    totals = [0, 0, 0, 0]
    for stage in ("rank", "summarize"):
        est, real = estimate.get(stage, {"requests": 0, "tokens": 0}), spent.get(stage, {})
        tokens = real.get("prompt_tokens", 0) + real.get("completion_tokens", 0)
        row = [est["requests"], real.get("requests", 0), est["tokens"], tokens]
        totals = [a + b for a, b in zip(totals, row)]
        print(f"{stage:<10} {row[0]:>8} {row[1]:>9} {row[2]:>12,} {row[3]:>12,} {_ratio(row[2], row[3]):>6}")
    print(f"{'total':<10} {totals[0]:>8} {totals[1]:>9} {totals[2]:>12,} {totals[3]:>12,} {_ratio(totals[2], totals[3]):>6}")
    print("goal: estimate within 20% of the tokens spent (ratio 0.80-1.20)")


def _ratio(estimated: int, spent: int) -> str:
    return f"{estimated / spent:.2f}" if spent else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
