"""The Hugging Face upvotes signal: read when there, and a run that goes on without it."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

import pytest

from flows.candidates.week import window_between
from flows.config import Settings
from flows.shortlist import popularity
from flows.shortlist.popularity import upvotes
from flows.shortlist.ranking import Profile, score_all
from tests.helpers import candidate
from tests.loopback import Loopback

WINDOW = window_between("2026-11-16", "2026-11-17")


class Listing(BaseHTTPRequestHandler):
    """A listing server: `answer` sends a JSON body with status 200."""

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class DailyPapers(Listing):
    """The listing's shape: [{"paper": {"id": ..., "upvotes": ...}, "title": ...}, ...] per date."""

    days = {"2026-11-18": [{"paper": {"id": "2611.00001", "upvotes": 42}, "title": "A"},
                           {"paper": {"id": "2611.00002v2", "upvotes": 3}, "title": "B"}],
            "2026-11-19": [{"paper": {"id": "2611.00001", "upvotes": 50}, "title": "A"}]}
    asked: list[str] = []

    def do_GET(self):  # noqa: N802
        day = parse_qs(urlparse(self.path).query)["date"][0]
        DailyPapers.asked.append(day)
        self.answer(json.dumps(self.days.get(day, [])).encode())


def test_upvotes_for_the_window_and_the_days_it_is_announced():
    server = Loopback(DailyPapers)
    try:
        found, missing = upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
    finally:
        server.stop()
    assert found == {"2611.00001": 50, "2611.00002": 3}
    assert "partial (2 papers)" in missing and "2026-11-16 (no papers listed); 2026-11-17 (no papers listed)" in missing
    assert DailyPapers.asked == ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]


def test_an_unreachable_listing_is_said_not_fatal():
    found, missing = upvotes(WINDOW, Settings(hf_papers_url="http://127.0.0.1:9/api/daily_papers"))
    assert found == {}
    assert "popularity signal" in missing and "127.0.0.1:9" in missing and "2026-11-16" in missing


def test_switched_off_asks_nothing():
    assert upvotes(WINDOW, Settings(popularity=False, hf_papers_url="http://127.0.0.1:9/x")) == ({}, None)


def test_upvotes_lift_a_paper_in_the_cheap_score():
    same = [candidate("2611.00001", "A transformer", "x"), candidate("2611.00002", "A transformer", "x")]
    ranked = score_all(same, Profile.load(), upvotes={"2611.00002": 40})
    assert [s.candidate.arxiv_id for s in ranked] == ["2611.00002", "2611.00001"]
    assert ranked[0].upvotes == 40 and ranked[1].upvotes is None


class Dripping(BaseHTTPRequestHandler):
    """A listing sent one byte every 0.2 s: no single read ever times out."""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        for byte in b"[" + b" " * 500 + b"]":
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.2)

    def log_message(self, *args):
        pass


@pytest.mark.timeout(60)  # without a deadline the drip takes minutes: a hang, not a speed assertion
def test_a_dripping_listing_meets_its_deadline_and_the_run_goes_on(monkeypatch):
    monkeypatch.setattr(popularity, "DEADLINE", 1.0)
    server = Loopback(Dripping)
    try:
        began = time.monotonic()
        found, why = upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
    finally:
        server.stop()
    assert found == {} and "no complete answer within 1 s" in why
    assert time.monotonic() - began < 10  # the whole drip would take 100 s


class Hostile(Listing):
    """Days of a listing gone wrong: one day fails, one answers 10 MB, one holds hostile values."""

    def do_GET(self):  # noqa: N802
        day = parse_qs(urlparse(self.path).query)["date"][0]
        if day == "2026-11-17":
            self.send_response(500)
            self.end_headers()
            return
        if day == "2026-11-18":
            body = json.dumps([{"paper": {"id": f"2611.{i:05d}", "upvotes": 1}, "summary": "x" * 1000}
                               for i in range(10_000)]).encode()
        elif day == "2026-11-19":
            body = ('[{"paper": {"id": "2611.00001", "upvotes": 1' + "0" * 400 + '}}, '
                    '{"paper": {"id": "2611.00002", "upvotes": -3}}, {"paper": {"id": "2611.00003", "upvotes": "12"}}, '
                    '{"paper": {"id": "2611.00004", "upvotes": 1e18}}, {"paper": {"id": "", "upvotes": 5}}, '
                    '{"paper": {"id": "2611.00005\\n", "upvotes": 5}}, {"paper": {"id": "2611.00006v1", "upvotes": 9}}]'
                    ).encode()
        else:
            body = json.dumps([{"paper": {"id": "2611.00007", "upvotes": 4}}] if day == "2026-11-16" else []).encode()
        self.answer(body)


def test_a_failed_day_keeps_the_other_days_and_hostile_values_are_ignored_with_a_flag():
    server = Loopback(Hostile)
    try:
        found, why = upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
    finally:
        server.stop()
    assert found == {"2611.00007": 4, "2611.00006": 9}  # the first day's and the one sane entry of the 19th
    assert "2026-11-17 (HTTPStatusError" in why and "2026-11-18 (BodyTooLarge" in why
    assert "2026-11-20 (no papers listed)" in why and "6 entries ignored" in why and "partial (2 papers)" in why
    ranked = score_all([candidate("2611.00001", "A transformer", "x"), candidate("2611.00006", "A transformer", "x")],
                       Profile.load(), upvotes=found)
    assert ranked[0].candidate.arxiv_id == "2611.00006"  # scoring never meets the absurd count


class Slow(Listing):
    """Each day answered after a pause, within any per-day deadline."""

    pause = 1.0

    def do_GET(self):  # noqa: N802
        time.sleep(self.pause)
        self.answer(b'[{"paper": {"id": "2611.00001", "upvotes": 3}}]')


@pytest.mark.timeout(60)
def test_a_slow_listing_is_bounded_for_the_whole_signal_and_says_why_it_stopped(monkeypatch):
    monkeypatch.setattr(popularity, "TOTAL_DEADLINE", 2.5)
    server = Loopback(Slow)
    try:
        began = time.monotonic()
        found, why = upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
        spent = time.monotonic() - began
    finally:
        server.stop()
    assert found == {"2611.00001": 3}  # the days answered in time are kept
    assert "2026-11-21 (not asked: the signal's 2.5 s were spent)" in why
    assert spent < 5  # six days at 1 s each would be 6 s; a hang, not a speed assertion
