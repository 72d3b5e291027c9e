"""A year in review of 26 merged weeks, measured: wall time and tokens (by stage of run.json),
then the same review again, which must cost 0 tokens (the LLM answer cache).

    .venv/bin/python bench/review.py [--weeks 26] [--embedded] [--copy-to FOLDER]

Builds the digests repository of tests/review_fixture.py from the shared editor weeks (real
papers, the editor's picks as merged digests on main) in a temporary folder, serves the picks'
PDFs with the arXiv test server and, unless --embedded, answers with the scripted model
(tests/scripted_llm.py) on 127.0.0.1; --embedded removes OPENAI_API_KEY / OPENAI_BASE_URL so the
embedded SmolLM2 model writes (slow on two cores). Each review runs as `python -m flows.cli
review 2025 --no-pr` in a subprocess with a fresh PREFECT_HOME and cache. --copy-to keeps the
drafted review's folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import scripted_llm  # noqa: E402
from tests.arxiv_server import ArxivServer, atom_feed  # noqa: E402
from tests.openai_server import OpenAIServer  # noqa: E402
from tests.review_fixture import build_year  # noqa: E402


def review_once(env: dict, digests: Path) -> tuple[float, dict]:
    """(wall seconds, run.json) of one `top5 review 2025`."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows.cli", "review", "2025", "--digests-dir", str(digests),
                           "--no-pr"], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"top5 review failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, json.loads((digests / "2025-review" / "run.json").read_text())


def report(label: str, seconds: float, run: dict) -> None:
    total = run["tokens"].get("total", {})
    print(f"{label}: {seconds:.1f} s wall; {total.get('prompt_tokens', 0):,} prompt + "
          f"{total.get('completion_tokens', 0):,} completion tokens in {total.get('requests', 0)} requests "
          f"({total.get('cached', 0)} cached)")
    print("  stages (s): " + ", ".join(f"{k} {v}" for k, v in run["seconds"].items()))
    for stage, used in sorted(run["tokens"].items()):
        if stage != "total":
            print(f"  {stage}: {used.get('prompt_tokens', 0):,} prompt + {used.get('completion_tokens', 0):,} "
                  f"completion in {used.get('requests', 0)} requests")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--embedded", action="store_true", help="the embedded model instead of the scripted one")
    parser.add_argument("--copy-to", type=Path, help="keep the drafted review's folder here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="top5-bench-review-") as tmp:
        root = Path(tmp)
        year = build_year(root, weeks=args.weeks)
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
        env.update(PREFECT_HOME=str(root / "prefect"), TOP5_CACHE_DIR=str(root / "cache"), PYTHONPATH=str(REPO),
                   TOP5_HISTORY_DIR=str(root / "no-history"), TOP5_POPULARITY="off", ARXIV_DELAY_SECONDS="0.01",
                   PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
        with ArxivServer(atom_feed([]), year.pdfs) as arxiv, OpenAIServer(scripted_llm.reply) as llm:
            env.update(ARXIV_API_URL=arxiv.api_url, ARXIV_PDF_URL=arxiv.pdf_url)
            if not args.embedded:
                env.update(OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="sk-bench-scripted")
            model = "embedded SmolLM2-135M" if args.embedded else "scripted model on 127.0.0.1"
            picks = sum(len(v) for v in year.merged.values())
            print(f"review of {len(year.merged)} merged weeks ({picks} papers), {model}")
            report("first run", *review_once(env, year.digests))
            report("rerun", *review_once(env, year.digests))
        if args.copy_to:
            shutil.copytree(year.digests / "2025-review", args.copy_to, dirs_exist_ok=True)
            print(f"review copied to {args.copy_to}")


if __name__ == "__main__":
    main()
