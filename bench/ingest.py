"""Ingest benchmark: parse a 30000-entry week (the API's result cap) and de-duplicate it.

Entries are the real entries of ../shared/fixtures/week/api-week.xml with new ids, versions
and categories; about 10% repeat an earlier id (a cross-list seen again, or a newer
version). Without ../shared, entries are synthesised. The pages are built first (not
timed); then each 2000-entry page goes through flows.candidates.feed.parse_api_feed, and the lot
through flows.candidates.candidate.merge.

    .venv/bin/python bench/ingest.py [--entries 30000] [--page 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows.candidates.candidate import merge  # noqa: E402
from flows.candidates.feed import parse_api_feed  # noqa: E402

FIXTURES = Path(os.environ.get("ARXIV_FIXTURES", REPO.parent / "shared" / "fixtures"))
CATEGORIES = ["cs.AI", "cs.LG", "cs.CL", "cs.CV", "stat.ML", "cs.IR", "cs.RO", "eess.IV"]
HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
    "  <title>arXiv Query: bench</title>\n"
    "  <opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>\n"
    "  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
    "  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
)
SYNTHETIC = """  <entry>
    <id>http://arxiv.org/abs/2611.00001v1</id>
    <title>A Synthetic Study of {n} Things in
  Machine Learning</title>
    <updated>2026-11-18T10:00:00Z</updated>
    <link href="https://arxiv.org/abs/2611.00001v1" rel="alternate" type="text/html"/>
    <summary>{abstract}</summary>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <published>2026-11-18T10:00:00Z</published>
    <arxiv:comment>12 pages. Code: https://github.com/example/things-{n}</arxiv:comment>
    <arxiv:primary_category term="cs.LG"/>
    <author><name>Ada Lovelace</name></author>
    <author><name>Alan Turing</name></author>
  </entry>
"""
_ENTRY = re.compile(r"  <entry>.*?</entry>\n", re.S)
_ID = re.compile(r"(arxiv\.org/(?:abs|pdf)/)[^<\"]+")
_CATEGORY_TAG = re.compile(r'<category term="[^"]*"')


def templates() -> tuple[list[str], str]:
    week = FIXTURES / "week" / "api-week.xml"
    if week.exists():
        return _ENTRY.findall(week.read_text(encoding="utf-8")), str(week)
    words = "model data learning method results network training task performance".split()
    rng = random.Random(1)
    return [
        SYNTHETIC.format(n=n, abstract=" ".join(rng.choice(words) for _ in range(180)))
        for n in range(100)
    ], "synthetic entries (../shared not found)"


def make_entries(count: int, seed: int = 47) -> tuple[list[str], int]:
    """`count` entries, about 10% of them repeating an earlier id; returns (entries, unique ids)."""
    pool, _ = templates()
    rng = random.Random(seed)
    entries, ids = [], []
    for n in range(count):
        entry = pool[n % len(pool)]
        if ids and rng.random() < 0.10:
            arxiv_id, version = rng.choice(ids)
            version += rng.choice((0, 1))  # the same version cross-listed, or a newer one
        else:
            arxiv_id, version = f"2611.{len(ids):05d}", rng.choice((1, 1, 1, 2, 3))
            ids.append((arxiv_id, version))
        entry = _ID.sub(lambda m, new=f"{arxiv_id}v{version}": f"{m[1]}{new}", entry)
        entry = _CATEGORY_TAG.sub(f'<category term="{rng.choice(CATEGORIES)}"', entry, count=1)
        entries.append(entry)
    return entries, len(ids)


def make_pages(entries: list[str], size: int) -> list[bytes]:
    return [
        (HEAD.format(size=size, total=len(entries), start=start)
         + "".join(entries[start:start + size]) + "</feed>\n").encode("utf-8")
        for start in range(0, len(entries), size)
    ]


def ingest(pages: list[bytes]) -> tuple[int, int]:
    found = []
    for number, page in enumerate(pages):
        parsed = parse_api_feed(page, f"bench page {number}")
        assert not parsed.skipped, parsed.skipped[:3]
        found.extend(parsed.candidates)
    return len(found), len(merge(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=30000)
    parser.add_argument("--page", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    _, origin = templates()
    entries, unique = make_entries(args.entries)
    pages = make_pages(entries, args.page)
    megabytes = sum(map(len, pages)) / 1e6
    print(f"templates: {origin}")
    print(f"{args.entries} entries ({unique} distinct ids) in {len(pages)} pages of "
          f"{args.page}, {megabytes:.1f} MB of XML")
    best = float("inf")
    for run in range(1, args.repeat + 1):
        began = time.perf_counter()
        parsed, merged = ingest(pages)
        seconds = time.perf_counter() - began
        best = min(best, seconds)
        assert (parsed, merged) == (args.entries, unique), (parsed, merged, unique)
        print(f"run {run}: parsed {parsed} entries, {merged} after merge, in {seconds:.2f} s "
              f"({parsed / seconds:,.0f} entries/s, {megabytes / seconds:.1f} MB/s)")
    print(f"best: {best:.2f} s for {args.entries} entries ({args.entries / best:,.0f} entries/s); "
          f"target < 3 s: {'met' if best < 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
