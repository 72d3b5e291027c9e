"""Scripted LLM answers for pipeline tests: deterministic, shaped like a good model's.

Ranking: every paper of the batch gets a score from its own text (language-model papers
score high), so the order is reproducible, mirrored for the reading against featuring it; the
title screen scores titles the same way. Summary: the fields of a section, built from
the paper given in the prompt, with a number copied from that paper's text.
"""

from __future__ import annotations

import hashlib
import json
import re


def against(request: dict) -> bool:
    """Whether a ranking request asks for the case against featuring each paper (the second reading)."""
    return "AGAINST featuring" in request["messages"][0]["content"]


def framed(request: dict, score: float) -> float:
    """A fair judge's `score` (0-10, for featuring) as the request's reading asks for it."""
    return round(10 - score, 2) if against(request) else score


def reply(request: dict) -> str:
    system = request["messages"][0]["content"]
    user = request["messages"][-1]["content"]
    if '"rankings"' in system:
        return json.dumps({"rankings": [{**r, "score": framed(request, r["score"])} for r in map(_rank, _papers(user))]})
    if '"take"' in system:
        return json.dumps(_section(user))
    for fields in REVIEW_FIELDS:
        if f'"{fields[0]}"' in system:  # the year in review (flows/review/writing.py)
            return json.dumps(_review(user, fields))
    if '"scores"' in system:  # the title screen
        return json.dumps({"scores": [{"id": i, "score": _rank((i, title))["score"]} for i, title in _titles(user)]})
    raise AssertionError(f"unexpected prompt: {system[:200]}")


REVIEW_FIELDS = (("builds_on", "details", "why_it_matters"), ("paragraph",), ("opening",))


def _review(user: str, fields: tuple[str, ...]) -> dict:
    """Each review field a paragraph naming the first paper's title, with a number from its text."""
    title = re.search(r"title: (.*)", user).group(1).strip()
    text = re.sub(r"\b\d{4}\.\d{4,5}\b|\b\d{4}-W\d{2}\b|EDITOR-NOTE\S*", " ", user.split("bstract", 1)[-1])  # no ids, weeks
    number = re.search(r"\b\d+(?:\.\d+)?%?", text)
    figure = number.group(0) if number else "several"
    return {name: f"Scripted {name} for {title}: the paper reports {figure} in its main experiment, and I think "
                  "it shaped the year." for name in fields}


def _titles(user: str) -> list[tuple[str, str]]:
    inside = user.split("<titles>", 1)[-1].split("</titles>", 1)[0]
    return [tuple(part.strip() for part in line.split(" | ", 1)) for line in inside.splitlines() if " | " in line]


def _papers(user: str) -> list[tuple[str, str]]:
    return re.findall(r'<paper id="([^"]+)">(.*?)</paper>', user, flags=re.S)


def _rank(paper: tuple[str, str]) -> dict:
    arxiv_id, text = paper
    score = 5.0 + 3.0 * bool(re.search(r"language model|LLM", text, re.I))
    score += int(hashlib.sha256(arxiv_id.encode()).hexdigest(), 16) % 100 / 100
    return {"id": arxiv_id, "score": round(score, 2), "reason": f"scripted judgement of {arxiv_id}"}


def _section(user: str) -> dict:
    title = re.search(r"title: (.*)", user).group(1).strip()
    number = re.search(r"\b\d+(?:\.\d+)?%?", user.split("\n", 3)[-1])
    figure = number.group(0) if number else "several"
    return {
        "name": " ".join(title.split()[:5]),
        "problem": f"This paper looks at a real problem: {title}. I explain it in plain words here, for beginners.",
        "idea": "The idea is simple. The authors change one thing in the usual recipe and measure carefully what it does.",
        "results": f"The results: the paper reports {figure} in its main experiment, which is a clear gain.",
        "take": "My hypothesis is that this will matter most for people with small budgets and little data.",
    }
