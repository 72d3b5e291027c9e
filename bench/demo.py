"""Offline demo: serve the shared one-week arXiv mirror on 127.0.0.1 and draft its digest.

    python bench/demo.py [--mirror ../shared/fixtures/week] [--digests-dir demo-digests]

The LLM is whatever is configured (OPENAI_API_KEY / OPENAI_BASE_URL), else the embedded
offline model. Prints where the draft is and the run's timings and token counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=REPO.parent / "shared" / "fixtures" / "week")
    parser.add_argument("--digests-dir", default=str(REPO / "demo-digests"))
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args()
    if not (args.mirror / "api-week.xml").exists():
        print(f"demo: no arXiv mirror at {args.mirror} (expected api-week.xml and pdf/)", file=sys.stderr)
        return 2
    window = json.loads((args.mirror / "manifest.json").read_text())["window"]

    from tests.arxiv_server import ArxivServer

    with ArxivServer((args.mirror / "api-week.xml").read_bytes(), args.mirror / "pdf") as arxiv:
        os.environ.setdefault("TOP5_POPULARITY", "off")  # offline: no Hugging Face listing to ask
        os.environ.update(ARXIV_API_URL=arxiv.api_url, ARXIV_PDF_URL=arxiv.pdf_url,
                          ARXIV_DELAY_SECONDS=os.environ.get("ARXIV_DELAY_SECONDS", "0.2"))
        from flows.cli import main as top5

        return top5(["run", "--start", window[0][:10], "--end", window[1][:10],
                     "--top-k", str(args.top_k), "--digests-dir", args.digests_dir, "--no-pr"])


if __name__ == "__main__":
    raise SystemExit(main())
