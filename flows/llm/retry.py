"""The retry policy of LLM requests: the only layer that retries them (tenacity).

Retried: 429 (except `insufficient_quota`: waiting will not bring credit back), 5xx, errors a
backend reports inside an HTTP 200 body with such a code, lost connections, and answers that
missed their deadline. The wait is what the server asked (Retry-After, retry-after-ms), else an
exponential backoff from TOP5_LLM_BACKOFF; tries stop at TOP5_LLM_MAX_ATTEMPTS, once the waits
would pass TOP5_LLM_MAX_WAIT, or as soon as the run is stopping (a wait ends early then). The embedded model is never asked again after a missed deadline:
llama.cpp serves one request at a time, and a retry would queue behind the one it still finishes.
httpx does not retry and the flow's Prefect tasks have no retries, so tries never multiply.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception

from flows.config import Settings
from flows.llm.transport import BackendError, NoAnswer

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
T = TypeVar("T")


def retryable(exc: BaseException, *, offline: bool = False) -> bool:
    if isinstance(exc, NoAnswer):
        return exc.kind == "connect" or (exc.kind == "timeout" and not offline)
    if isinstance(exc, BackendError):
        if exc.status == 429:
            return exc.code != "insufficient_quota"
        return exc.status >= 500
    return False


class RetryPolicy:
    """Runs one request under the policy; `attempts` says how many tries the last run took."""

    def __init__(self, settings: Settings, stage: str, *, offline: bool = False,
                 stopping: threading.Event | None = None):
        self.settings, self.stage, self.offline = settings, stage, offline
        self.stopping = stopping or threading.Event()
        self.attempts = 0

    def run(self, request: Callable[[], T]) -> T:
        retrying = Retrying(retry=retry_if_exception(lambda e: retryable(e, offline=self.offline)),
                            wait=self._wait, stop=self._stop, before_sleep=self._log, reraise=True,
                            sleep=self.stopping.wait)
        try:
            return retrying(request)
        finally:
            self.attempts = retrying.statistics.get("attempt_number", 1)

    def describe(self) -> str:
        return f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception()
        if isinstance(exc, BackendError) and exc.wait is not None:
            return exc.wait
        backoff = min(MAX_BACKOFF, self.settings.llm_backoff * 2 ** (state.attempt_number - 1))
        return backoff * random.uniform(1.0, 1.1)

    def _stop(self, state: RetryCallState) -> bool:
        if self.stopping.is_set() or state.attempt_number >= self.settings.llm_max_attempts:
            return True
        return state.idle_for + state.upcoming_sleep > self.settings.llm_max_wait

    def _log(self, state: RetryCallState) -> None:
        exc = state.outcome.exception()
        what = f"HTTP {exc.status}" if isinstance(exc, BackendError) else getattr(exc, "kind", type(exc).__name__)
        log.warning("%s: %s from the LLM backend; retry %d/%d in %.2f s", self.stage, what,
                    state.attempt_number, self.settings.llm_max_attempts - 1, state.upcoming_sleep)
