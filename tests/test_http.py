"""The shared HTTP helpers: Retry-After in every form servers send, URLs safe to show, and
answers read whole within a wall-clock deadline and a size limit (real servers on loopback)."""

from __future__ import annotations

import gzip
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from flows.http import (
    BodyTooLarge,
    DeadlineExceeded,
    fetch_within,
    joined,
    retry_after,
    safe_error,
    safe_url,
    with_params,
)
from tests.loopback import HeaderDrip, Loopback


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "7"}, 7.0),
    ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),  # OpenAI's milliseconds win
    ({"retry-after": "-3"}, 0.0),
    ({"retry-after": "soon"}, None),
    ({}, None),
    (None, None),
])
def test_retry_after_seconds_and_milliseconds(headers, expected):
    assert retry_after(headers) == expected


def test_retry_after_http_date():
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 <= retry_after({"retry-after": format_datetime(when, usegmt=True)}) <= 30
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past


@pytest.mark.parametrize(("base", "params", "expected"), [
    ("https://m/api/query?TOKEN", {"start": 0}, "https://m/api/query?TOKEN&start=0"),  # a bare key stays bare
    ("https://m/api?key=a/b:c", {"q": "cat:cs.AI AND x"}, "https://m/api?key=a/b:c&q=cat%3Acs.AI+AND+x"),
    ("https://m/api?start=9&key=K", {"start": 0}, "https://m/api?key=K&start=0"),  # the run's value wins
    ("https://m/api", None, "https://m/api")])
def test_a_settings_query_is_kept_as_written_beside_the_requests_own(base, params, expected):
    assert str(with_params(base, params)) == expected


@pytest.mark.parametrize(("base", "expected"), [
    ("https://m/pdf?key=K", "https://m/pdf/2611.00001v1?key=K"),
    ("https://m/pdf/", "https://m/pdf/2611.00001v1"),
    ("http://u:p@m:8080/a%20b?TOKEN", "http://u:p@m:8080/a%20b/2611.00001v1?TOKEN")])
def test_a_path_joins_a_settings_url_before_its_query(base, expected):
    assert str(joined(base, "2611.00001v1")) == expected


@pytest.mark.parametrize(("path", "expected"), [
    ("2611.01234?x=1v1", "https://m/pdf/2611.01234%3Fx%3D1v1?key=K"),  # never a second query
    ("2611\u201301234v1", "https://m/pdf/2611%E2%80%9301234v1?key=K"),  # not ASCII: encoded, no crash
    ("hep-th/9901001v1", "https://m/pdf/hep-th/9901001v1?key=K")])
def test_the_joined_path_is_percent_encoded_but_for_its_slashes(path, expected):
    assert str(joined("https://m/pdf?key=K", path)) == expected


def test_a_joined_path_never_climbs_out_of_the_settings_path():
    with pytest.raises(ValueError, match="segment"):
        joined("https://arxiv.org/pdf?key=K", "../../admin v1")


def test_safe_url_drops_credentials_query_and_fragment():
    assert safe_url("https://user:sk-secret@api.example:8443/v1?key=sk-x#frag") == "https://api.example:8443/v1"


@pytest.mark.parametrize("url, shown", [
    ("http://u:p@[::1]:8080/api", "http://[::1]:8080/api"),
    ("http://[::1]/api", "http://[::1]/api"),
])
def test_safe_url_keeps_the_brackets_of_an_ipv6_host(url, shown):
    assert safe_url(url) == shown


@pytest.mark.parametrize("url", ["http://u:p@ss@127.0.0.1:8080/api", "http://u:p%40ss@127.0.0.1:8080/api",
                                 "http://u:p@s@s@127.0.0.1:8080/api"])
def test_safe_error_cuts_a_password_holding_an_at_sign_whole(url):
    assert safe_error(Exception(f"boom at {url} failed")) == "boom at http://127.0.0.1:8080/api failed"


class _Server(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/drip":  # a byte every 0.2 s: no read ever times out
            self.send_response(200)
            self.send_header("content-length", "200")
            self.end_headers()
            for _ in range(200):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path == "/gzip-bomb":  # 50 KB on the wire, 50 MB inflated
            body = gzip.compress(b"0" * 50_000_000)
            self._answer(body, {"content-encoding": "gzip"})
        elif self.path == "/declared-huge":
            self.send_response(200)
            self.send_header("content-length", str(3 * 1024**3))
            self.end_headers()
        else:
            self._answer(b"whole answer")

    def _answer(self, body: bytes, headers: dict | None = None):
        self.send_response(200)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    loopback = Loopback(_Server)
    yield loopback.base
    loopback.stop()


def _fetch(base: str, path: str, **limits):
    with httpx.Client(timeout=10) as client:
        return fetch_within(client, client.build_request("GET", base + path), what=f"test {path}", **limits)


def test_a_whole_answer_is_read(server):
    fetched = _fetch(server, "/", deadline=10)
    assert (fetched.status_code, fetched.text) == (200, "whole answer")


def test_a_dripping_server_meets_the_wall_clock_deadline(server):
    began = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="test /drip"):
        _fetch(server, "/drip", deadline=1)
    assert time.monotonic() - began < 5  # the drip alone would take 40 s


def test_a_declared_size_over_the_limit_is_refused_before_reading(server):
    with pytest.raises(BodyTooLarge, match="declares 3,221,225,472 bytes"):
        _fetch(server, "/declared-huge", deadline=10, max_bytes=1_000_000)


def test_bytes_are_counted_after_decompression(server):
    with pytest.raises(BodyTooLarge, match="exceeds the limit of 1,000,000 bytes"):
        _fetch(server, "/gzip-bomb", deadline=30, max_bytes=1_000_000)


@pytest.fixture
def header_drip():
    server = HeaderDrip()
    yield server
    server.stop()


@pytest.mark.timeout(60)  # a hang, not a speed assertion: the drip never ends
def test_a_server_dripping_its_headers_meets_the_wall_clock_deadline(header_drip):
    began = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="test /slow-headers: no complete answer within 1.5 s"):
        _fetch(header_drip.base, "/slow-headers", deadline=1.5)
    assert time.monotonic() - began < 5
