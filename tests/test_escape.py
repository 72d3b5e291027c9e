"""Markup injection: titles, abstracts and LLM text land in every page as the characters they are."""

from __future__ import annotations

import re

import pytest

from flows.digest.pages import render_pages
from flows.escape import jekyll, md, url
from flows.shortlist.ranking import Profile
from flows.summaries.section import Figure, Section
from tests.helpers import candidate

PHISH_TITLE = "Efficient transformers](https://evil.example/phish) [for LLM inference"
SCRIPT = "<script>alert(1)</script> and <img src=x onerror=alert(2)>"
PIPES = "Vision | Language | Models"
BEACON = "A clear gain ![](https://beacon.example/t.png) on every task"
LIQUID = "{{ site.github.token }} {% include secret.html %} {: .evil}"


def _pages(style: str) -> dict[str, str]:
    paper = candidate("2611.00001", f"{PHISH_TITLE} {PIPES}", f"{SCRIPT} {LIQUID}",
                      links=("https://github.com/a/b",))
    section = Section(paper.arxiv_id, name=PHISH_TITLE, problem=f"{SCRIPT}\n\n## Paper 9: forged",
                      idea=PIPES, results=BEACON, take=LIQUID, notes=(f"note {SCRIPT}",),
                      figures=(Figure("method", "figure", "1", 1, PHISH_TITLE, image='x.png" onerror="alert(3)'),))
    return render_pages(style, profile=Profile.load(), sections=[section], papers=[paper],
                        banners=["the tool's own banner"], week="2026-W47")


def _links(markdown: str) -> list[str]:
    """Targets of markdown links and images that a renderer would make (unescaped brackets)."""
    return re.findall(r"(?<!\\)\]\((?P<target>[^)\s]+)\)", markdown)


@pytest.mark.parametrize("style", ["weekly", "bookmarks"])
def test_no_page_links_where_arxiv_or_the_llm_put_a_link(style):
    for name, page in _pages(style).items():
        targets = _links(page)
        assert targets and all(t.startswith(("https://arxiv.org/abs/", "https://github.com/")) or t == "papers.md"
                               for t in targets), (name, targets)


@pytest.mark.parametrize("style", ["weekly", "bookmarks"])
def test_no_page_carries_html_tags_from_arxiv_or_the_llm(style):
    for name, page in _pages(style).items():
        assert not re.search(r"(?<!\\)<(?:script|img src=x)|onerror=\"alert", page), name


def test_weekly_sections_cannot_forge_a_heading_or_a_table_row():
    readme = _pages("weekly")["README.md"]
    assert re.findall(r"^## Paper \d+:", readme, re.M) == ["## Paper 1:"]
    assert "Vision \\| Language \\| Models" in readme


def test_bookmarks_rows_keep_their_cells_and_liquid_stays_text():
    page = _pages("bookmarks")["README.md"]
    rows = [line for line in page.splitlines() if line.startswith("|") and "2611.00001" in line]
    assert len(rows) == 1 and rows[0].count("|") == 4  # |year||[title, arXiv](...)|
    assert "{{" not in page.split("---", 2)[2] and "{%" not in page and "{:" not in page


def test_one_helper_per_destination():
    assert md("a | b [c](d) <e>") == "a \\| b \\[c\\](d) \\<e\\>"
    assert md("# not a heading") == "\\# not a heading"
    assert jekyll("{{ x }}") == "&#123;&#123; x &#125;&#125;"
    assert url("javascript:alert(1)") == "#"
    assert url("https://github.com/a/b)x") == "https://github.com/a/b%29x"


def test_the_pull_request_body_links_only_to_arxiv():
    from flows.pull_request.body import render_body

    run = {"week": "2026-W47", "flags": [f"Paper 1: {BEACON}"], "counts": {}, "llm": {}, "tokens": {}}
    rows = [{"arxiv_id": "2611.00001", "title": PHISH_TITLE, "rank": 1, "reason": BEACON},
            {"arxiv_id": "2611.00002", "title": PIPES, "rank": 2, "reason": SCRIPT}]
    body = render_body(run, {"picks": ["2611.00001"], "runners_up": [{"arxiv_id": "2611.00002"}], "candidates": rows})
    assert _links(body) == ["https://arxiv.org/abs/2611.00001", "https://arxiv.org/abs/2611.00002"]
    assert not re.search(r"(?<!\\)<(?:script|img)", body)


def test_bidi_controls_and_format_characters_never_reach_a_page_or_the_terminal():
    from flows.escape import html, jekyll, md, shown

    spoof = "Safe\u202e txt.exe\u2066 hidden\u2069 zero\u200bwidth\u00ad"
    for shown_text in (md(spoof), md(spoof, 20), html(spoof), jekyll(spoof), shown(spoof)):
        assert not any(ch in shown_text for ch in "\u202e\u2066\u2069\u200b\u00ad"), shown_text
    assert shown(spoof) == "Safe txt.exe hidden zerowidth"
