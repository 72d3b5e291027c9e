"""A run that starts on any machine: time for Prefect's temporary server, and one line (not a
40-line traceback) when Prefect cannot be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.conftest import REPO

SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"


def _env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {**env, "PREFECT_HOME": str(tmp_path / "prefect"), **extra}


@pytest.mark.parametrize(("given", "expected"), [(None, "300"), ("42", "42")])
def test_the_temporary_server_gets_a_generous_default_the_user_can_override(tmp_path, given, expected):
    env = _env(tmp_path, **({SETTING: given} if given else {}))
    code = ("import flows\nfrom prefect.settings import get_current_settings\n"
            "print(get_current_settings().server.ephemeral.startup_timeout_seconds)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == expected, out.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("case", ["server down", "temporary server too slow"])
def test_prefect_out_of_reach_is_one_line_that_says_what_to_do(tmp_path, case):
    extra = ({"PREFECT_API_URL": f"http://127.0.0.1:{_free_port()}/api"} if case == "server down"
             else {SETTING: "1"})  # no Prefect server starts in 1 s
    result = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--week", "2026-W47", "--no-pr",
         "--digests-dir", str(tmp_path / "digests")],
        cwd=REPO, env=_env(tmp_path, **extra), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    ours = [line for line in result.stderr.splitlines() if line.startswith("top5:")]
    assert len(ours) == 1 and "make server" in ours[0], result.stderr[-3000:]
    assert ("PREFECT_API_URL" if case == "server down" else f"raise {SETTING}") in ours[0]
    assert "Traceback" not in result.stderr


_WHICH = ("from flows.prefect_setup import server_or_temporary\nnote = server_or_temporary()\n"
          "from prefect.settings import get_current_settings\n"
          "print(repr(get_current_settings().api.url), note is not None)")


def test_plain_prefect_commands_from_the_project_folder_reach_the_project_server(tmp_path):
    """prefect.toml -> prefect-profiles.toml: the active profile names make server's address."""
    out = subprocess.run([sys.executable, "-m", "prefect", "config", "view"], cwd=REPO, env=_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert "PREFECT_API_URL='http://127.0.0.1:4200/api' (from profile)" in out.stdout, out.stdout + out.stderr


def test_a_run_with_no_server_at_the_project_address_uses_a_temporary_one(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    project = tmp_path / "project"
    project.mkdir()
    (project / "prefect.toml").write_text((REPO / "prefect.toml").read_text())
    (project / "prefect-profiles.toml").write_text(
        (REPO / "prefect-profiles.toml").read_text().replace("127.0.0.1:4200", f"127.0.0.1:{port}"))
    out = subprocess.run([sys.executable, "-c", _WHICH], cwd=project, env=_env(tmp_path, PYTHONPATH=str(REPO)),
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["None", "True"], out.stdout + out.stderr  # no URL: Prefect starts a temporary server

    # a server the user chose is theirs, answering or not
    chosen = _env(tmp_path, PYTHONPATH=str(REPO), PREFECT_API_URL=f"http://127.0.0.1:{port}/api")
    out = subprocess.run([sys.executable, "-c", _WHICH], cwd=project, env=chosen, capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == [f"'http://127.0.0.1:{port}/api'", "False"], out.stdout + out.stderr


def test_a_password_in_the_prefect_address_is_sent_as_basic_auth_and_never_shown(tmp_path, monkeypatch, caplog):
    """A Prefect server behind a proxy's user:password@: the health check sends them as Basic auth,
    and neither httpx's log line nor the one line a user gets shows the password."""
    import base64
    import logging
    from http.server import BaseHTTPRequestHandler

    from flows import prefect_setup
    from tests.loopback import Loopback

    seen: list[str | None] = []

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append(self.headers.get("Authorization"))
            self.send_response(200 if self.path == "/api/health" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    for name in ("", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    for name in ("PREFECT_API_URL", "PREFECT_PROFILE"):  # set, then removed: both come back after the test
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    password, basic = "s3cret", base64.b64encode(b"user:s3cret").decode()
    project = tmp_path / "project"
    project.mkdir()
    (project / "prefect.toml").write_text((REPO / "prefect.toml").read_text())
    monkeypatch.chdir(project)
    server = Loopback(Health)
    try:
        lines = []
        for base in (server.base, f"http://127.0.0.1:{_free_port()}"):  # answering, then nothing there
            address = base.replace("http://", f"http://user:{password}@") + "/api"
            (project / "prefect-profiles.toml").write_text(
                (REPO / "prefect-profiles.toml").read_text().replace("http://127.0.0.1:4200/api", address))
            lines.append(prefect_setup.server_or_temporary())
            monkeypatch.delenv("PREFECT_PROFILE", raising=False)  # set to the temporary one when nothing answered
        monkeypatch.setenv("PREFECT_API_URL", address)
        lines.append(prefect_setup.unreachable(_failed_to_reach(address)))
        monkeypatch.delenv("PREFECT_API_URL")
        monkeypatch.setenv("PREFECT_PROFILE", "project")  # the profile's address, chosen by the user
        lines.append(prefect_setup.unreachable(_failed_to_reach(address)))
    finally:
        server.stop()

    assert lines[0] is None and seen == [f"Basic {basic}"]  # the server answered, with the Basic auth
    assert f"no Prefect server answers at {address.replace(f'user:{password}@', '')}" in lines[1]
    assert "(PREFECT_API_URL) does not answer" in lines[2] and "unset PREFECT_API_URL" in lines[2]
    assert (f"at {address.replace(f'user:{password}@', '')} (profile project of prefect-profiles.toml) does not answer"
            in lines[3])
    assert "set PREFECT_PROFILE=ephemeral" in lines[3]
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx" and "HTTP Request: GET" in r.getMessage()]
    assert any(server.base.removeprefix("http://") + "/api/health" in line for line in requests)
    everything = "\n".join([caplog.text, *(r.getMessage() for r in caplog.records), *lines[1:]])
    assert password not in everything and basic not in everything


def _failed_to_reach(address: str) -> RuntimeError:
    """Prefect 3.8's error when its server does not answer (client/orchestration: the address
    without user:password)."""
    from prefect._internal.urls import strip_auth_from_url

    return RuntimeError(f"Failed to reach API at {strip_auth_from_url(address)}")


@pytest.fixture(autouse=True)
def _no_earlier_record(monkeypatch):
    """Where PREFECT_API_URL came from is recorded per process: each test starts without a record."""
    from flows import prefect_setup

    monkeypatch.setattr(prefect_setup, "_url_from_environment", [])


def _profiles_at(project, address: str, extra: str = "") -> None:
    project.mkdir(exist_ok=True)
    (project / "prefect.toml").write_text((REPO / "prefect.toml").read_text())
    (project / "prefect-profiles.toml").write_text((REPO / "prefect-profiles.toml").read_text().replace(
        'PREFECT_API_URL = "http://127.0.0.1:4200/api"', f'PREFECT_API_URL = "{address}"{extra}'))


def test_the_down_line_names_the_profile_whose_address_it_was_even_with_a_password_in_it(tmp_path, monkeypatch):
    """The profile's user:password@ address moves to PREFECT_API_URL for Prefect (credentials_apart):
    the line still names the profile and the temporary profile, not an environment variable."""
    from flows import prefect_setup

    for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_PROFILE"):
        monkeypatch.setenv(name, "x")  # set, then removed: all come back after the test
        monkeypatch.delenv(name)
    port = _free_port()
    project = tmp_path / "project"
    _profiles_at(project, f"http://ed:s3cret@127.0.0.1:{port}/api")
    monkeypatch.chdir(project)
    prefect_setup.credentials_apart()
    line = prefect_setup.unreachable(_failed_to_reach(os.environ["PREFECT_API_URL"]))
    assert line == (f"the Prefect server at http://127.0.0.1:{port}/api (profile project of prefect-profiles.toml) "
                    "does not answer: start it with `make server`, or set PREFECT_PROFILE=ephemeral to run with a "
                    "temporary one")

    elsewhere = tmp_path / "elsewhere"  # no prefect.toml: Prefect's own profiles gave the address
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(prefect_setup, "_url_from_environment", [])
    monkeypatch.delenv("PREFECT_API_URL")
    line = prefect_setup.unreachable(_failed_to_reach(f"http://127.0.0.1:{port}/api"))
    assert f"at http://127.0.0.1:{port}/api (Prefect's active profile, `prefect config view` shows it)" in line
    assert "`prefect profile use` one without PREFECT_API_URL" in line


@pytest.mark.parametrize("sent", ["PREFECT_API_AUTH_STRING", "profile", "wrong", "none"])
def test_a_proxy_asking_for_the_auth_string_is_sent_it_and_a_401_is_no_server(tmp_path, monkeypatch, sent):
    """A proxy in front of the user's server asks /health for PREFECT_API_AUTH_STRING (the
    environment's, else the profile's): sent it, the run stays on that server. Prefect itself
    answers /health without credentials, so a 401 there is no Prefect server: a temporary one."""
    import base64
    from http.server import BaseHTTPRequestHandler

    from flows import prefect_setup
    from tests.loopback import Loopback

    expected = f"Basic {base64.b64encode(b'admin:Right5ecret').decode()}"
    seen = []

    class Guarded(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append(self.headers.get("Authorization"))
            self.send_response(200 if self.headers.get("Authorization") == expected else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_PROFILE"):
        monkeypatch.setenv(name, "x")  # set, then removed: all come back after the test
        monkeypatch.delenv(name)
    server = Loopback(Guarded)
    try:
        in_profile = '\nPREFECT_API_AUTH_STRING = "admin:Right5ecret"' if sent == "profile" else ""
        _profiles_at(tmp_path / "project", f"{server.base}/api", in_profile)
        monkeypatch.chdir(tmp_path / "project")
        if sent in ("PREFECT_API_AUTH_STRING", "wrong"):
            monkeypatch.setenv("PREFECT_API_AUTH_STRING", "admin:Right5ecret" if sent != "wrong" else "admin:no")
        note = prefect_setup.server_or_temporary()
    finally:
        server.stop()
    if sent in ("PREFECT_API_AUTH_STRING", "profile"):
        assert note is None and "PREFECT_PROFILE" not in os.environ and seen == [expected]
    else:
        assert note.startswith("no Prefect server answers at") and os.environ["PREFECT_PROFILE"] == "ephemeral"


def test_a_profile_address_httpx_cannot_use_is_one_line_naming_the_profile(tmp_path, monkeypatch):
    from flows import prefect_setup
    from flows.errors import ConfigError

    for name in ("PREFECT_API_URL", "PREFECT_PROFILE"):
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    _profiles_at(tmp_path / "project", "http://127.0.0.1:4200/api\\u0007s3cret")
    monkeypatch.chdir(tmp_path / "project")
    with pytest.raises(ConfigError) as caught:
        prefect_setup.server_or_temporary()
    assert caught.value.message.startswith("the Prefect address (profile project of prefect-profiles.toml) is not "
                                           "a URL httpx can send to")
    assert "s3cret" not in caught.value.message


def test_an_environment_address_httpx_cannot_use_is_one_line_naming_it(tmp_path):
    """`top5 run` with PREFECT_API_URL holding a control character: exit 2, one line, no traceback."""
    env = _env(tmp_path, PREFECT_API_URL="http://127.0.0.1:4200/api\as3cret")
    result = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--week", "2026-W47", "--no-pr",
                             "--digests-dir", str(tmp_path / "digests")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.strip() == ("top5: the Prefect address (PREFECT_API_URL) is not a URL httpx can send to "
                                     "(a control character or a space in it?)")


def test_a_refusal_of_the_profiles_server_is_one_line_naming_the_profile(tmp_path, monkeypatch):
    """The project profile's server, its PREFECT_API_AUTH_STRING wrong: Prefect's 401 becomes one
    line naming the profile and the settings to fix (exit 2), not a traceback."""
    import httpx

    from flows import prefect_setup

    for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_PROFILE"):
        monkeypatch.setenv(name, "x")  # set, then removed: all come back after the test
        monkeypatch.delenv(name)
    port = _free_port()
    _profiles_at(tmp_path / "project", f"http://127.0.0.1:{port}/api", '\nPREFECT_API_AUTH_STRING = "admin:wrong"')
    monkeypatch.chdir(tmp_path / "project")
    prefect_setup.credentials_apart()
    request = httpx.Request("GET", f"http://127.0.0.1:{port}/api/admin/version")
    denied = httpx.HTTPStatusError("401", request=request, response=httpx.Response(401, request=request))
    error = prefect_setup.refused(denied)
    assert error is not None and error.message.startswith(
        f"the Prefect server at http://127.0.0.1:{port}/api (profile project of prefect-profiles.toml) refused")
    elsewhere = httpx.Request("GET", "http://127.0.0.1:9/api/admin/version")  # not the run's server
    assert prefect_setup.refused(httpx.HTTPStatusError("401", request=elsewhere,
                                                       response=httpx.Response(401, request=elsewhere))) is None


def _top5_run(env: dict, tmp_path) -> subprocess.CompletedProcess:
    """`top5 run` over an empty window: the flow run starts on the server (Prefect's client, its
    "View at" line, its events client), then ends with no draft (exit 3) after one arXiv query."""
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--start", "2026-10-01", "--end", "2026-10-02", "--no-pr",
         "--digests-dir", str(tmp_path / "digests")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_a_password_in_prefect_api_url_never_reaches_prefect_output(week_servers, tmp_path):
    """A Prefect server with PREFECT_SERVER_API_AUTH_STRING, its address given with user:password@:
    the run reaches it and nothing it prints (Prefect's own lines included) shows the password;
    with a wrong one, one line naming the settings and exit 2."""
    import base64

    from tests.test_deployment import PREFECT, Service, _wait_healthy

    right, wrong = "admin:Right5ecret", "admin:Wrong5ecret"
    port = _free_port()
    plain = f"http://127.0.0.1:{port}/api"
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "server").mkdir()  # the server's own Prefect home below it
    server = Service("server", [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                     _env(tmp_path / "server", PREFECT_API_URL=plain, PREFECT_SERVER_API_AUTH_STRING=right,
                          PREFECT_SERVER_ANALYTICS_ENABLED="false"), logs)
    try:
        _wait_healthy(plain, server)
        runs = {auth: _top5_run(_env(tmp_path, PREFECT_API_URL=plain.replace("//", f"//{auth}@")), tmp_path)
                for auth in (right, wrong)}
    finally:
        server.stop()

    for auth, result in runs.items():
        printed = result.stdout + result.stderr
        password = auth.split(":")[1]
        assert password not in printed and base64.b64encode(auth.encode()).decode() not in printed
    ok, refused = runs[right], runs[wrong]
    assert ok.returncode == 3 and "no new papers between 2026-10-01" in ok.stderr, ok.stderr[-3000:]
    assert f"View at http://127.0.0.1:{port}/runs/flow-run/" in ok.stdout + ok.stderr  # the server has the run
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) == 1, refused.stderr[-3000:]
    assert f"{plain} (PREFECT_API_URL) refused" in refused.stderr and "PREFECT_API_AUTH_STRING" in refused.stderr


def test_the_prefect_address_user_password_goes_to_prefect_apart(tmp_path, monkeypatch):
    """Decoded from the environment's address or the project profile's; an auth string the user
    set wins, and the address loses its user:password either way."""
    from flows.prefect_setup import credentials_apart

    project = tmp_path / "project"
    project.mkdir()
    (project / "prefect.toml").write_text((REPO / "prefect.toml").read_text())
    (project / "prefect-profiles.toml").write_text((REPO / "prefect-profiles.toml").read_text().replace(
        "http://127.0.0.1:4200/api", "http://ed:pro%40file@127.0.0.1:4200/api"))
    monkeypatch.chdir(project)
    for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_PROFILE"):  # all come back after the test
        monkeypatch.setenv(name, "x")
    seen = []
    for given in ({"PREFECT_API_URL": "http://admin:p%40ss:w@127.0.0.1:4300/api"},
                  {"PREFECT_API_URL": "http://admin:old@127.0.0.1:4300/api", "PREFECT_API_AUTH_STRING": "admin:new"},
                  {}):  # the project profile's
        for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING", "PREFECT_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in given.items():
            monkeypatch.setenv(name, value)
        credentials_apart()
        seen.append((os.environ["PREFECT_API_URL"], os.environ["PREFECT_API_AUTH_STRING"]))
    assert seen == [("http://127.0.0.1:4300/api", "admin:p@ss:w"), ("http://127.0.0.1:4300/api", "admin:new"),
                    ("http://127.0.0.1:4200/api", "ed:pro@file")]


def test_the_worker_starts_prefect_without_the_password_in_its_address(monkeypatch):
    """`make worker` replaces itself with `prefect worker start`: the address it hands on has no
    user:password (Prefect would print it), and the pair travels as PREFECT_API_AUTH_STRING."""
    from flows import worker

    monkeypatch.setenv("PREFECT_API_URL", "http://admin:Right5ecret@127.0.0.1:4300/api")
    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    started = []
    monkeypatch.setattr(worker.os, "execv", lambda path, args: started.append(
        (args, os.environ["PREFECT_API_URL"], os.environ["PREFECT_API_AUTH_STRING"])))
    monkeypatch.setattr(worker.signal, "signal", lambda *args: None)
    worker.main(["--pool", "local-pool"])
    [(args, url, auth)] = started
    assert args[1:] == ["worker", "start", "--pool", "local-pool"]
    assert (url, auth) == ("http://127.0.0.1:4300/api", "admin:Right5ecret")
