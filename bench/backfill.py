"""Weeks per hour of a backfill: 4 arXiv weeks drafted with Prefect's thread pool and with a
local Dask cluster, against local arXiv and OpenAI-compatible servers on 127.0.0.1.

    python bench/backfill.py [--runs default:1,default:4,dask:2] [--arxiv-delay 3] [--llm-latency 0]

The data is the shared one-week mirror (../shared/fixtures/week, submitted 2026-11-16..22)
repeated five times back in time: copy k has its dates moved k weeks earlier and its ids
renamed (the year digits + 20 k), so no paper repeats and 2026-W44..W47 each hold a full
week (~33 papers in cs.AI/LG/CL/CV, 5 PDFs to fetch and read). The mirror alone would give
one full week, one partial and two empty ones. Every run starts from an empty cache and an
empty digests folder, so each week really downloads and reads its PDFs. The LLM is scripted;
`--llm-latency` makes each answer take that long (a hosted model: seconds), otherwise the
numbers are arXiv politeness + PDF text + Prefect and Dask overhead.

`--arxiv-delay` is the pause between two arXiv requests (ARXIV_DELAY_SECONDS, 3 s against
the real arXiv); it is shared by every thread and process, so it bounds any runner.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "fixtures" / "week"
sys.path.insert(0, str(REPO))

import flows  # noqa: F401, E402 - before Prefect: telemetry off, the project's Prefect home

ATOM = "{http://www.w3.org/2005/Atom}"
WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
COPIES = 5  # the mirror's 7 days, repeated back to 2026-10-19: W44..W47 are full
CATEGORIES = ["cs.AI", "cs.LG", "cs.CL", "cs.CV"]
_NEW_ID = re.compile(r"(arxiv\.org/(?:abs|pdf)/)(\d\d)(\d\d\.\d{4,5})")
_OLD_ID = re.compile(r"(arxiv\.org/(?:abs|pdf)/[a-z][a-z-]*(?:\.[A-Z]{2})?/)(\d\d)(\d{5})")


def shifted_mirror(folder: Path) -> tuple[bytes, Path]:
    """The mirror repeated `COPIES` times back in time, and a folder of PDFs named by new id."""
    from tests.arxiv_server import (
        atom_feed,  # also registers the Atom namespaces for tostring
    )

    feed = ET.parse(MIRROR / "api-week.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    pdfs = {p.stem: p for p in (MIRROR / "pdf").glob("*.pdf")}
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(COPIES):
        for entry in entries:
            copy = ET.fromstring(_rename(ET.tostring(entry, encoding="unicode"), k))
            for tag in ("published", "updated"):
                node = copy.find(f"{ATOM}{tag}")
                when = datetime.fromisoformat(node.text) - timedelta(weeks=k)
                node.text = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append(ET.tostring(copy, encoding="unicode"))
            old_id = entry.findtext(f"{ATOM}id").rsplit("/abs/", 1)[1]
            if old_id.replace("/", "_") in pdfs:
                new_id = copy.findtext(f"{ATOM}id").rsplit("/abs/", 1)[1]
                link = folder / f"{new_id.replace('/', '_')}.pdf"
                if not link.exists():
                    link.symlink_to(pdfs[old_id.replace("/", "_")])
    return atom_feed(out), folder


def _rename(xml: str, k: int) -> str:
    if k == 0:
        return xml
    def bump(m):
        return f"{m[1]}{(int(m[2]) + 20 * k) % 100:02d}{m[3]}"

    return _OLD_ID.sub(bump, _NEW_ID.sub(bump, xml))


def run_once(runner: str, parallel: int, work: Path) -> tuple[float, list]:
    from flows.backfill import backfill

    os.environ["TOP5_CACHE_DIR"] = str(work / "cache")
    began = time.perf_counter()
    reports = backfill(weeks=WEEKS, categories=CATEGORIES, top_k=5, digests_dir=str(work / "digests"),
                       runner=runner, max_parallel=parallel)
    return time.perf_counter() - began, reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="default:1,default:4,dask:2",
                        help="runner:parallel pairs, comma-separated (default: %(default)s)")
    parser.add_argument("--arxiv-delay", type=float, default=3.0, help="seconds between arXiv requests")
    parser.add_argument("--llm-latency", type=float, default=0.0, help="seconds per LLM answer")
    args = parser.parse_args()
    if not (MIRROR / "api-week.xml").exists():
        print(f"backfill bench: {MIRROR} not found (the shared arXiv week mirror)", file=sys.stderr)
        return 2
    runs = [(r.split(":")[0], int(r.split(":")[1])) for r in args.runs.split(",")]

    from prefect.testing.utilities import prefect_test_harness

    from tests import scripted_llm
    from tests.arxiv_server import ArxivServer
    from tests.openai_server import OpenAIServer

    with tempfile.TemporaryDirectory(prefix="top5-bench-backfill-") as tmp:
        feed, pdf_dir = shifted_mirror(Path(tmp) / "pdf")

        def reply(request: dict) -> str:
            time.sleep(args.llm_latency)
            return scripted_llm.reply(request)

        with ArxivServer(feed, pdf_dir) as arxiv, OpenAIServer(reply) as llm, \
                prefect_test_harness(server_startup_timeout=90):
            os.environ.setdefault("TOP5_POPULARITY", "off")  # offline: no Hugging Face listing to ask
            os.environ.update(ARXIV_API_URL=arxiv.api_url, ARXIV_PDF_URL=arxiv.pdf_url,
                              ARXIV_DELAY_SECONDS=str(args.arxiv_delay), OPENAI_BASE_URL=llm.base_url,
                              OPENAI_API_KEY="sk-bench")
            print(f"{len(WEEKS)} weeks {WEEKS[0]}..{WEEKS[-1]}, arXiv delay {args.arxiv_delay} s, "
                  f"LLM latency {args.llm_latency} s, {os.cpu_count()} CPUs")
            print(f"{'runner':<8} {'parallel':>8} {'wall s':>8} {'weeks/h':>8}  per week")
            for i, (runner, parallel) in enumerate(runs):
                before, asked = len(arxiv.log), len(llm.requests)
                seconds, reports = run_once(runner, parallel, Path(tmp) / f"run{i}")
                done = sum(1 for r in reports if r.draft)
                arrivals = sorted(r.at for r in arxiv.log[before:])
                gap = min((b - a for a, b in pairwise(arrivals)), default=float("nan"))
                statuses = " ".join(f"{r.week}:{r.status}" for r in reports)
                print(f"{runner:<8} {parallel:>8} {seconds:>8.1f} {done * 3600 / seconds:>8.0f}  {statuses} "
                      f"({len(arxiv.log) - before} arXiv requests, closest two {gap:.2f} s apart; "
                      f"{len(llm.requests) - asked} LLM requests)", flush=True)
                for r in reports:
                    if r.error:
                        print(f"    {r.week}: {r.error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
