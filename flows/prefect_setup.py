"""Prefect as this project runs it: the environment defaults (set in flows/__init__.py, before
Prefect is imported) and the one line a user gets when Prefect cannot be reached or refuses the
run's credentials.

A run with no Prefect server starts a temporary one. Prefect gives it 20 s by default, which a
busy two-core machine misses; EPHEMERAL_STARTUP_TIMEOUT is our default, and the user's own
PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS always wins.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

import httpx

from flows.errors import ConfigError, Top5Error
from flows.http import safe_url, split_credentials, without_credentials

EPHEMERAL_STARTUP_TIMEOUT = "300"
SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
PROJECT_SETTINGS = Path("prefect.toml")  # read by Prefect from the working directory
TEMPORARY_PROFILE = "ephemeral"  # a profile of the project's profiles file: no server, a temporary one
AUTH_SETTING = "PREFECT_API_AUTH_STRING"  # Prefect 3.8's user:password for a server's basic auth (settings/models/api.py)


def project_api_url(folder: Path = Path(), profile: str | None = None) -> str | None:
    """The Prefect server the project's settings in `folder` name: prefect.toml's `profiles_path`,
    that file's active profile (or `profile`), its PREFECT_API_URL (Prefect 3.8 reads them in this
    order when neither the environment nor .env set them: prefect/settings/sources.py). None when
    unset."""
    return project_profile(folder, profile)[2].get("PREFECT_API_URL")


def project_profile(folder: Path = Path(), profile: str | None = None) -> tuple[Path | None, str, dict]:
    """(profiles file, profile name, its settings) of the project's Prefect profile in `folder`
    (see `project_api_url`); (None, "", {}) when prefect.toml or that profile is not there."""
    try:
        path = folder / _toml(folder / PROJECT_SETTINGS)["profiles_path"]
        data = _toml(path)
        name = profile or data["active"]
        settings = data["profiles"][name]
        if isinstance(settings, dict) and isinstance(name, str):
            return path, name, settings
    except (OSError, KeyError, TypeError, AttributeError, tomllib.TOMLDecodeError):
        pass
    return None, "", {}


def server_or_temporary() -> str | None:
    """Before Prefect is imported: when no server answers where the project's Prefect profile
    points, this process uses the `ephemeral` profile (a temporary server: the offline `make run`)
    and says so in one line; None when nothing changed. A PREFECT_API_URL or PREFECT_PROFILE the
    user set is theirs, answering or not (`unreachable` then says what to do)."""
    chosen = {"PREFECT_API_URL", "PREFECT_PROFILE"} & set(os.environ)
    settings = {} if chosen else project_profile()[2]
    url = settings.get("PREFECT_API_URL")
    if not url:
        return None
    try:
        if _answers(str(url), os.environ.get(AUTH_SETTING) or settings.get(AUTH_SETTING)):
            return None
    except httpx.InvalidURL:
        raise _not_a_url() from None
    os.environ["PREFECT_PROFILE"] = TEMPORARY_PROFILE
    return (f"no Prefect server answers at {safe_url(url)} (the project's Prefect profile): this run starts a "
            "temporary one; `make server` keeps the runs in its UI")


_url_from_environment: list[bool] = []  # credentials_apart's record: whose PREFECT_API_URL the run has


def credentials_apart() -> None:
    """Before Prefect is imported: a PREFECT_API_URL (the environment's, else the project profile's)
    with user:password@ becomes the address without them, in the environment, and the decoded
    user:password becomes PREFECT_API_AUTH_STRING unless the user set one. Prefect prints its
    address (the run's "View at" line, its events client's warnings, an HTTP error); its client
    sends PREFECT_API_AUTH_STRING as the same Basic auth and never prints it."""
    _url_from_environment[:] = [bool(os.environ.get("PREFECT_API_URL"))]
    url = _run_api_url()
    if not url:
        return
    try:
        plain, pair = without_credentials(str(url))
    except httpx.InvalidURL:
        raise _not_a_url() from None
    if pair is None:
        return
    os.environ["PREFECT_API_URL"] = plain
    os.environ.setdefault(AUTH_SETTING, ":".join(pair))


def _run_api_url() -> str | None:
    """The run's PREFECT_API_URL: the environment's, else the project profile's (PREFECT_PROFILE or the active one)."""
    return os.environ.get("PREFECT_API_URL") or project_api_url(profile=os.environ.get("PREFECT_PROFILE"))


def _not_a_url() -> ConfigError:
    where, _ = _where_the_address_is_set()
    return ConfigError(f"the Prefect address ({where}) is not a URL httpx can send to (a control character "
                       "or a space in it?)")


def refused(exc: BaseException) -> ConfigError | None:
    """The error to report (exit 2, one line naming the settings, never their values) when `exc`
    is the run's Prefect server (PREFECT_API_URL, the environment's or the profile's) answering
    401: its PREFECT_SERVER_API_AUTH_STRING is not what this run sent. None for any other error."""
    url = _run_api_url()
    if not (isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401 and url):
        return None
    plain = without_credentials(url)[0].rstrip("/")
    if not str(exc.request.url).startswith(plain):
        return None
    where, _ = _where_the_address_is_set()
    return ConfigError(f"the Prefect server at {safe_url(url)} ({where}) refused this run's user:password "
                       f"(401 Unauthorized): set {AUTH_SETTING}, or user:password@ in PREFECT_API_URL, to the "
                       "server's PREFECT_SERVER_API_AUTH_STRING")


def before_prefect() -> None:
    """Before Prefect is imported, for every command that runs a flow: the Prefect server the run
    uses (the project's, or a temporary one when it is down, said in one line on stderr), the
    address's user:password apart (`credentials_apart`), and SIGTERM taken as Ctrl-C. Raises
    ConfigError naming where the address is set when it is no URL."""
    import sys

    if note := server_or_temporary():
        print(f"top5 note: {note}", file=sys.stderr)
    credentials_apart()
    _stop_on_sigterm()


def run_flow(flow, **parameters):
    """`flow(**parameters)` (a Prefect flow, called after `before_prefect`) on the temporary server
    when the run has none, and its return value. Raises ConfigError (exit 2) when the server
    refuses the run's credentials, Top5Error (exit 1) with what to do when Prefect cannot be
    reached; any other error as it came."""
    try:
        start_temporary_server()
        return flow(**parameters)
    except httpx.HTTPStatusError as exc:
        if (error := refused(exc)) is None:
            raise
        raise error from None
    except RuntimeError as exc:
        if (hint := unreachable(exc)) is None:
            raise
        raise Top5Error(hint) from None


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken the way Ctrl-C is (Prefect raises its own TerminationSignal while a flow runs)."""

    signal = 15  # signal.SIGTERM


def _stop_on_sigterm() -> None:
    """SIGTERM ends the run like Ctrl-C: Python unwinds (the default action would kill this
    process and leave the temporary Prefect server it started running), one line, exit 143."""
    import signal

    def terminated(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, terminated)


def _toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _answers(api_url: str, auth_string: str | None = None) -> bool:
    """Whether a Prefect server answers 200 at `api_url`/health, sent the address's user:password,
    else `auth_string` (PREFECT_API_AUTH_STRING: a proxy in front of the server may ask for it).
    Prefect 3.8 itself lets that probe through without credentials (prefect/server/api/server.py:
    unauthenticated health and ready probes), so a 401 there is no Prefect server answering.
    Raises httpx.InvalidURL for an address httpx cannot send to."""
    url, auth = split_credentials(f"{api_url.rstrip('/')}/health")  # httpx's log line shows no password
    if auth is None and auth_string:
        auth = httpx.BasicAuth(*auth_string.partition(":")[::2])
    try:
        return httpx.get(url, auth=auth, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def unreachable(exc: BaseException) -> str | None:
    """What to do when `exc` says Prefect could not be reached (one line), or None for any other
    error. Prefect raises RuntimeError for both cases (Prefect 3.8: "Timed out while attempting to
    connect to ephemeral Prefect API server." and "Failed to reach API at <url>")."""
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc)
    if "ephemeral Prefect API server" in text:
        waited = os.environ.get(SETTING, "20")
        return (f"Prefect's temporary server did not start within {SETTING}={waited} s (a busy machine "
                f"needs longer): raise {SETTING}, or start a server with `make server` (prefect.toml points every run from the "
                "project folder at it)")
    if text.startswith("Failed to reach API at "):
        url = text.removeprefix("Failed to reach API at ").rstrip(".")  # Prefect strips its user:password
        where, instead = _where_the_address_is_set()
        return (f"the Prefect server at {safe_url(url)} ({where}) does not answer: start it with "
                f"`make server`, or {instead} to run with a temporary one")
    return None


def _where_the_address_is_set() -> tuple[str, str]:
    """(where the run's PREFECT_API_URL is set, how to run without it) for `unreachable`."""
    from_environment = _url_from_environment[0] if _url_from_environment else "PREFECT_API_URL" in os.environ
    if from_environment:
        return "PREFECT_API_URL", "unset PREFECT_API_URL"
    path, name, _ = project_profile(profile=os.environ.get("PREFECT_PROFILE"))
    if path is None:
        return ("Prefect's active profile, `prefect config view` shows it",
                "`prefect profile use` one without PREFECT_API_URL")
    instead = (f"set PREFECT_PROFILE={TEMPORARY_PROFILE}" if project_profile(profile=TEMPORARY_PROFILE)[0]
               else f"add a profile without PREFECT_API_URL to {path.name}")
    return f"profile {name} of {path.name}", instead


class ExpectedFailures(logging.Filter):
    """Drops the traceback from a Prefect engine log record whose exception is one the tool
    raises on purpose (flows.errors.Top5Error: arXiv or the LLM out of reach, a refused setting or
    week): the line keeps the error's message, in the terminal and in the UI's log. Any other
    exception keeps its traceback: that is a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flows.errors import Top5Error

        if record.exc_info and isinstance(record.exc_info[1], Top5Error):
            record.exc_info, record.exc_text = None, None
        return True


ENGINE_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")  # where Prefect's engines log a run's failure


def quiet_expected_failures() -> None:
    """Installs ExpectedFailures on Prefect's run loggers (once per process)."""
    for name in ENGINE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ExpectedFailures) for f in logger.filters):
            logger.addFilter(ExpectedFailures())


def start_temporary_server() -> None:
    """After Prefect is imported, before the flow: when this run has no Prefect server (no
    PREFECT_API_URL), the temporary one Prefect would start, started now in a session of its own.
    A SIGTERM to the run's process group (a service manager, a closed terminal) then leaves it up
    to record how the run ended; Prefect still stops it when this process exits (its atexit hook),
    and on Linux it gets SIGTERM when this process dies without one (PR_SET_PDEATHSIG)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    if None not in SubprocessASGIServer._instances:  # Prefect's own calls get this one (as its test harness does)
        SubprocessASGIServer._instances[None] = _own_session_server(SubprocessASGIServer)
    SubprocessASGIServer().start()


def _own_session_server(base: type):
    """A `base` (Prefect's SubprocessASGIServer) whose uvicorn process starts in a new session."""
    import subprocess
    import sys
    from functools import partial
    from types import SimpleNamespace

    class OwnSessionServer(base):
        def _run_uvicorn_command(self):
            module = sys.modules[base.__module__]  # its Popen call, with start_new_session added
            module.subprocess = SimpleNamespace(Popen=partial(subprocess.Popen, start_new_session=True,
                                                              preexec_fn=_stopped_with_parent()))
            try:
                return super()._run_uvicorn_command()
            finally:
                module.subprocess = subprocess

    server = object.__new__(OwnSessionServer)
    server.__init__()
    return server


def _stopped_with_parent():
    """What the server's process runs before exec so that it gets SIGTERM when the run's process
    dies (Linux's PR_SET_PDEATHSIG), or None elsewhere. Resolved here: nothing to load after fork."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
