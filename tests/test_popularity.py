"""The Hugging Face upvotes signal: read when there, and a run that goes on without it."""

from __future__ import annotations

import json
import re
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
from tests.loopback import HeaderDrip, Loopback

WINDOW = window_between("2026-11-16", "2026-11-17")


class Listing(BaseHTTPRequestHandler):
    """A listing server: `answer` sends a JSON body with status 200."""

    def question(self) -> tuple[str, str]:
        """("date", "YYYY-MM-DD") or ("week", "YYYY-Www p=N"): what this request asks."""
        query = {key: values[0] for key, values in parse_qs(urlparse(self.path).query).items()}
        return ("week", f"{query['week']} p={query.get('p')}") if "week" in query else ("date", query.get("date", ""))

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class DailyPapers(Listing):
    """The listing's shape: [{"paper": {"id": ..., "upvotes": ...}, "title": ...}, ...] per date.
    Like a server that knows no `week`, it answers anything but a date with today's papers."""

    days = {"2026-11-18": [{"paper": {"id": "2611.00001", "upvotes": 42}, "title": "A"},
                           {"paper": {"id": "2611.00002v2", "upvotes": 3}, "title": "B"}],
            "2026-11-19": [{"paper": {"id": "2611.00001", "upvotes": 50}, "title": "A"}]}
    today = [{"paper": {"id": "2612.00009", "upvotes": 999}, "publishedAt": "2026-12-07T08:00:00.000Z", "title": "T"},
             {"paper": {"id": "2612.00008", "upvotes": 99}, "publishedAt": "2026-12-07T09:00:00.000Z", "title": "U"}]
    asked: list[str] = []

    def do_GET(self):  # noqa: N802
        kind, value = self.question()
        DailyPapers.asked.append(value)
        self.answer(json.dumps(self.days.get(value, []) if kind == "date" else self.today).encode())


@pytest.mark.parametrize("featured", [("2026-12-06T20:00:00.000Z", "2026-12-07T08:00:00.000Z"),  # after the week
                                      ("2026-11-21T08:00:00.000Z", "2026-11-21T09:00:00Z")])  # a run on the 21st
def test_a_server_that_ignores_week_gives_the_per_day_result(monkeypatch, featured):
    for entry, when in zip(DailyPapers.today, featured):
        monkeypatch.setitem(entry, "publishedAt", when)
    server = Loopback(DailyPapers)
    settings = Settings(hf_papers_url=server.base + "/api/daily_papers")
    try:
        DailyPapers.asked = []
        found, missing = upvotes(WINDOW, settings)
        asked = list(DailyPapers.asked)
        monkeypatch.setattr(popularity, "WEEK_MIN_DAYS", 8)  # no week is asked: the per-day result
        assert upvotes(WINDOW, settings) == (found, missing)
    finally:
        server.stop()
    assert found == {"2611.00001": 50, "2611.00002": 3}  # today's papers are not counted
    assert "partial (2 papers)" in missing and "2026-11-16 (no papers listed); 2026-11-17 (no papers listed)" in missing
    assert "ignored" not in missing
    assert asked == ["2026-W47 p=0", "2026-W47 p=1", "2026-W47 p=2",  # a short first page may be the server's page size
                     "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]


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
    assert time.monotonic() - began < 20  # seven requests of 1 s (the week's, six days'); the whole drip takes 100 s


class Hostile(Listing):
    """Days of a listing gone wrong: the week's listing and one day fail, one answers 10 MB, one
    holds hostile values, one nests its JSON 100,000 deep."""

    asked: list[str] = []

    def do_GET(self):  # noqa: N802
        kind, day = self.question()
        Hostile.asked.append(day)
        if kind == "week" or day == "2026-11-17":
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
        elif day == "2026-11-21":
            body = b"[" * 100_000 + b"]" * 100_000  # nested deeper than any JSON parser recurses
        else:
            body = json.dumps([{"paper": {"id": "2611.00007", "upvotes": 4}}] if day == "2026-11-16" else []).encode()
        self.answer(body)


def test_a_failed_week_and_a_failed_day_keep_the_other_days_and_hostile_values_are_ignored_with_a_flag():
    server = Loopback(Hostile)
    try:
        Hostile.asked = []
        found, why = upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
    finally:
        server.stop()
    assert Hostile.asked == ["2026-W47 p=0", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20",
                             "2026-11-21"]  # the week failed: each day is asked
    assert found == {"2611.00007": 4, "2611.00006": 9}  # the first day's and the one sane entry of the 19th
    assert "2026-11-17 (HTTPStatusError" in why and "2026-11-18 (BodyTooLarge" in why
    assert "2026-11-20 (no papers listed)" in why and "6 entries ignored" in why and "partial (2 papers)" in why
    assert "2026-11-21 (RecursionError" in why
    ranked = score_all([candidate("2611.00001", "A transformer", "x"), candidate("2611.00006", "A transformer", "x")],
                       Profile.load(), upvotes=found)
    assert ranked[0].candidate.arxiv_id == "2611.00006"  # scoring never meets the absurd count


class Slow(Listing):
    """Each day answered after a pause, within any per-day deadline."""

    pause = 1.0

    def do_GET(self):  # noqa: N802
        time.sleep(self.pause)
        self.answer(b'[{"paper": {"id": "2611.00001", "upvotes": 3}}]')


def _timed(server) -> tuple[dict, str | None, float]:
    """upvotes() from `server` (stopped after), and the seconds it took."""
    try:
        began = time.monotonic()
        found, why = upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
        return found, why, time.monotonic() - began
    finally:
        server.stop()


@pytest.mark.timeout(60)
def test_a_slow_listing_is_bounded_for_the_whole_signal_and_says_why_it_stopped(monkeypatch):
    monkeypatch.setattr(popularity, "TOTAL_DEADLINE", 4.5)  # the week's three pages (p=1 may repeat p=0), a day
    found, why, spent = _timed(Loopback(Slow))
    assert found == {"2611.00001": 3}  # the days answered in time are kept
    assert "2026-11-21 (not asked: the signal's 4.5 s were spent)" in why
    assert spent < 7  # the week and six days at 1 s each would be 9 s; a hang, not a speed assertion


FEATURED = [("2611.00001", 42, "2026-11-18T08:00:00.000Z"), ("2611.00003", 50, "2026-11-19T10:00:00+00:00"),
            ("2611.00002v2", 3, "2026-11-18T09:30:00Z"), ("2611.00004", 7, "2026-11-20T23:59:00.000Z"),
            ("2611.00005", 900, "2026-11-22T12:00:00.000Z"),  # W47's Sunday, a day not asked
            ("2611.00006", 5, "soon"), ("2611.00007", 5, "0001-01-01T00:00:00+01:00")]  # no day: ignored


class WeekPapers(Listing):
    """A listing that serves `week=`, paged by `p` and `limit`. `first` is the number of its first
    page (a server counting from 1 answers p=0 with page 1); `mode` "ends" serves FEATURED,
    "ignores p" the same full page whatever `p`, "full then empty" one full page, "endless" a new
    full page for every `p`. Days are answered with nothing."""

    first = 0
    mode = "ends"
    asked: list[str] = []

    def do_GET(self):  # noqa: N802
        kind, value = self.question()
        WeekPapers.asked.append(value)
        query = parse_qs(urlparse(self.path).query)
        if kind == "date":
            return self.answer(b"[]")
        limit, page = int(query["limit"][0]), max(int(query["p"][0]), self.first) - self.first
        rows = {"ends": FEATURED, "ignores p": FEATURED[:limit], "full then empty": FEATURED[:limit],
                "endless": [(f"2611.{page * limit + i + 10:05d}", 1, f"2026-11-{18 + i}T08:00:00Z") for i in range(limit)]
                }[self.mode]
        if self.mode in ("ends", "full then empty"):
            rows = rows[page * limit:(page + 1) * limit]
        self.answer(json.dumps([{"paper": {"id": i, "upvotes": n}, "publishedAt": when, "title": "t"}
                                for i, n, when in rows]).encode())


def _ask_weeks(monkeypatch, mode: str, first: int = 0):
    monkeypatch.setattr(popularity, "PAGE_SIZE", 2)
    monkeypatch.setattr(popularity, "MAX_PAGES", 5)
    monkeypatch.setattr(WeekPapers, "mode", mode)
    monkeypatch.setattr(WeekPapers, "first", first)
    WeekPapers.asked = []
    server = Loopback(WeekPapers)
    try:
        return upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
    finally:
        server.stop()


@pytest.mark.parametrize("first", [0, 1])
def test_the_weeks_listing_serves_the_days_it_lists_and_only_the_others_are_asked(monkeypatch, first):
    found, why = _ask_weeks(monkeypatch, "ends", first)
    assert found == {"2611.00001": 42, "2611.00002": 3, "2611.00003": 50, "2611.00004": 7}  # not the Sunday's
    pages = {0: range(4), 1: range(5)}[first]  # three full pages and a short one; from 1, p=1 repeats p=0
    assert WeekPapers.asked == [f"2026-W47 p={p}" for p in pages] + ["2026-11-16", "2026-11-17", "2026-11-21"]
    assert "2026-11-16 (no papers listed); 2026-11-17 (no papers listed); 2026-11-21 (no papers listed)" in why
    assert "2 entries ignored" in why


@pytest.mark.parametrize(("mode", "pages", "days"), [
    ("ignores p", 3, 4),  # p=1 may repeat p=0 (a listing counting from 1); a second repeat ends it
    ("full then empty", 2, 4),  # the four days the one page does not list are asked alone
    ("endless", 5, 6),  # MAX_PAGES full pages: the listing is cut, so each day is asked
])
def test_paging_a_weeks_listing_stops_at_a_repeated_or_empty_page_and_is_bounded(monkeypatch, mode, pages, days):
    found, why = _ask_weeks(monkeypatch, mode)
    assert WeekPapers.asked[:pages] == [f"2026-W47 p={p}" for p in range(pages)]
    assert len(WeekPapers.asked) == pages + days and not any("W" in a for a in WeekPapers.asked[pages:])
    assert found == ({} if days == 6 else {"2611.00001": 42, "2611.00003": 50})


class Failing(Listing):
    """A listing that answers every request with HTTP 500."""

    def do_GET(self):  # noqa: N802
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_a_failing_listing_behind_credentials_never_shows_the_password(caplog):
    server = Loopback(Failing)
    url = server.base.replace("http://", "http://user:s3cretpw@") + "/api/daily_papers"
    try:
        with caplog.at_level("INFO"):
            found, why = upvotes(WINDOW, Settings(hf_papers_url=url))
    finally:
        server.stop()
    assert found == {} and "2026-11-16 (HTTPStatusError: HTTP 500)" in why  # the week failed too, and was logged
    assert "W47" in caplog.text and "HTTP 500" in caplog.text
    assert "s3cretpw" not in why and "s3cretpw" not in caplog.text


def test_a_query_in_hf_papers_url_is_kept_on_every_request():
    class Keyed(DailyPapers):
        paths: list[str] = []

        def do_GET(self):  # noqa: N802
            Keyed.paths.append(self.path)
            super().do_GET()

    server = Loopback(Keyed)
    try:
        found, why = upvotes(window_between("2026-11-18", "2026-11-19"),
                             Settings(hf_papers_url=f"{server.base}/api/daily_papers?token=pr0xy"))
    finally:
        server.stop()
    assert found["2611.00001"] == 50
    queries = [parse_qs(urlparse(path).query) for path in Keyed.paths]
    assert len(queries) >= 2 and all(q.get("token") == ["pr0xy"] and ("date" in q or "week" in q) for q in queries)


@pytest.mark.timeout(120)  # a hang, not a speed assertion: the drip never ends
def test_a_listing_dripping_its_headers_is_bounded_and_names_the_days(monkeypatch):
    monkeypatch.setattr(popularity, "DEADLINE", 1.0)
    monkeypatch.setattr(popularity, "TOTAL_DEADLINE", 3.5)
    found, why, spent = _timed(HeaderDrip())
    assert found == {} and "2026-11-16 (DeadlineExceeded: the Hugging Face listing: no complete answer within 1 s)" in why
    assert "2026-11-21 (not asked: the signal's 3.5 s were spent)" in why
    assert spent < 10
    waited = re.findall(r"no complete answer within (\S+) s", why)
    assert len(waited) >= 3 and all(re.fullmatch(r"\d+(\.\d)?", w) for w in waited)  # the last gets what is left


class FiftyAPage(Listing):
    """A week's listing that serves at most 50 papers a page whatever `limit` asks, newest first:
    20 papers featured on each day of 2026-W47; a day asked alone answers its 20."""

    asked: list[str] = []
    papers = [(f"2611.{day * 100 + i:05d}", day, f"2026-11-{day}T{i % 24:02d}:00:00Z")
              for day in range(22, 15, -1) for i in range(20)]

    def do_GET(self):  # noqa: N802
        kind, value = self.question()
        FiftyAPage.asked.append(value)
        query = parse_qs(urlparse(self.path).query)
        if kind == "date":
            rows = [row for row in self.papers if row[2].startswith(value)]
        else:
            page = int(query["p"][0])
            rows = self.papers[page * 50:(page + 1) * 50]
        self.answer(json.dumps([{"paper": {"id": i, "upvotes": n}, "publishedAt": when} for i, n, when in rows]).encode())


def test_a_listing_serving_fewer_than_limit_a_page_is_paged_to_its_end_and_loses_no_day():
    FiftyAPage.asked = []
    server = Loopback(FiftyAPage)
    try:
        found, why = upvotes(WINDOW, Settings(hf_papers_url=server.base + "/api/daily_papers"))
    finally:
        server.stop()
    assert why is None
    assert len(found) == 6 * 20 and found["2611.01600"] == 16 and found["2611.02119"] == 21
    assert FiftyAPage.asked == ["2026-W47 p=0", "2026-W47 p=1", "2026-W47 p=2"]  # 50, 50 and 40 papers
