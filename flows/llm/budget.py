"""Tokens, cost and the run's budget, per stage.

`Usage` adds up what each answer used (thread-safe: the summaries run in parallel tasks);
answers without a `usage` member count estimated tokens and say so. `Prices` turns tokens into
US dollars. `Budget` checks a call's worst case (prompt + max_tokens) against
TOP5_BUDGET_TOKENS / TOP5_BUDGET_USD before it is sent and holds it while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from flows.errors import LLMError

STAGES = ("rank", "summarize")
# USD per 1M tokens (prompt, completion). Check your provider's current prices; override or
# extend with TOP5_PRICES='{"model": [prompt, completion]}'.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


def check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown LLM stage {stage!r}; expected one of {STAGES}")


@dataclass
class StageUsage:
    requests: int = 0  # answers received from the backend (repair attempts included)
    cached: int = 0  # answers served from the disk cache (no HTTP request)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    estimated: int = 0  # answers whose tokens were estimated: the backend sent no `usage`

    def add(self, other: StageUsage) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


class Usage:
    """Thread-safe accumulator of requests, tokens and cost, per stage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stages = {stage: StageUsage() for stage in STAGES}

    def record(self, stage: str, prompt_tokens: int, completion_tokens: int, cost_usd: float, cached: bool,
               *, estimated: bool = False) -> None:
        check_stage(stage)
        one = StageUsage(requests=int(not cached), cached=int(cached), prompt_tokens=prompt_tokens,
                         completion_tokens=completion_tokens, cost_usd=cost_usd, estimated=int(estimated))
        with self._lock:
            self._stages[stage].add(one)

    def total(self) -> StageUsage:
        with self._lock:
            total = StageUsage()
            for usage in self._stages.values():
                total.add(usage)
            return total

    def to_json(self) -> dict:
        """Per stage and in total; `estimated` > 0 means some token counts are estimates
        (CHARS_PER_TOKEN characters a token) because the backend sent no usage."""
        with self._lock:
            out = {stage: asdict(usage) for stage, usage in self._stages.items()}
        out["total"] = asdict(self.total())
        for entry in out.values():
            entry["cost_usd"] = round(entry["cost_usd"], 6)
            if entry["estimated"]:
                entry["note"] = (f"{entry['estimated']} answer(s) came without token counts: their tokens "
                                 "are estimates from the text's length")
        return out


class Prices:
    """USD per 1M tokens for each model (DEFAULT_PRICES plus TOP5_PRICES); dated snapshots such
    as gpt-4o-mini-2024-07-18 cost what their family costs."""

    def __init__(self, extra: dict[str, tuple[float, float]], free: bool = False):
        self._prices = {**DEFAULT_PRICES, **extra}
        self.free = free  # the embedded model costs nothing

    def of(self, model: str) -> tuple[float, float] | None:
        if model in self._prices:
            return self._prices[model]
        family = [name for name in self._prices if model.startswith(name + "-")]
        return self._prices[max(family, key=len)] if family else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = None if self.free else self.of(model)
        if price is None:
            return 0.0
        return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000

    def describe(self, model: str) -> str | dict:
        if self.free:
            return "local model: no cost"
        price = self.of(model)
        if price is None:
            return "unknown: cost counted as 0 (set TOP5_PRICES)"
        return {"prompt_usd_per_1m": price[0], "completion_usd_per_1m": price[1]}


class Budget:
    """The run's limits on tokens and dollars, checked before each call (LLMError when a call
    could go over; `on_stop` is told once per limit so the draft can say so)."""

    def __init__(self, usage: Usage, prices: Prices, tokens: int | None, usd: float | None,
                 on_stop: Callable[[str], None]):
        self.usage, self.prices, self.tokens, self.usd = usage, prices, tokens, usd
        self._on_stop = on_stop
        self._lock = threading.Lock()
        self._held_tokens, self._held_usd = 0, 0.0
        self._unpriced: set[str] = set()

    def reserve(self, stage: str, model: str, prompt_tokens: int, max_tokens: int) -> None:
        """Hold the call's worst case; raises LLMError (and tells on_stop) when it does not fit."""
        tokens, usd = prompt_tokens + max_tokens, self.prices.cost(model, prompt_tokens, max_tokens)
        with self._lock:
            self._check_price(stage, model)
            used = self.usage.total()
            spent = used.prompt_tokens + used.completion_tokens + self._held_tokens
            if self.tokens is not None and spent + tokens > self.tokens:
                raise self._stop(f"{stage}: budget: this call may use ~{tokens} tokens and {spent} are used or "
                                 f"in flight, over TOP5_BUDGET_TOKENS={self.tokens}",
                                 f"TOP5_BUDGET_TOKENS={self.tokens}")
            spent_usd = used.cost_usd + self._held_usd
            if self.usd is not None and spent_usd + usd > self.usd:
                raise self._stop(f"{stage}: budget: this call may cost ~${usd:.4f} and ${spent_usd:.4f} is spent "
                                 f"or in flight, over TOP5_BUDGET_USD={self.usd:g}", f"TOP5_BUDGET_USD={self.usd:g}")
            self._held_tokens += tokens
            self._held_usd += usd

    def _check_price(self, stage: str, model: str) -> None:
        """A model missing from the price list is flagged once; with TOP5_BUDGET_USD set its calls
        are refused, since their cost cannot be counted (TOP5_BUDGET_TOKENS still can)."""
        if self.prices.free or self.prices.of(model) is not None:
            return
        if model not in self._unpriced:
            self._unpriced.add(model)
            self._on_stop(f"model {model!r} is not in the price list: its cost is not counted (add it to TOP5_PRICES)")
        if self.usd is not None:
            raise self._stop(f"{stage}: budget: model {model!r} has no price, so TOP5_BUDGET_USD={self.usd:g} "
                             "cannot be kept: add its price to TOP5_PRICES, or use TOP5_BUDGET_TOKENS",
                             f"TOP5_BUDGET_USD={self.usd:g}")

    def release(self, model: str, prompt_tokens: int, max_tokens: int) -> None:
        with self._lock:
            self._held_tokens -= prompt_tokens + max_tokens
            self._held_usd -= self.prices.cost(model, prompt_tokens, max_tokens)

    def _stop(self, message: str, setting: str) -> LLMError:
        self._on_stop(f"LLM budget reached ({setting}): later LLM calls were skipped")
        return LLMError(message)
