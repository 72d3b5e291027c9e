"""JSON mode: which `response_format` the backend takes, learnt once and kept for the run.

Backends differ: OpenAI and most servers take {"type": "json_object"}; LM Studio answers HTTP 400
"'response_format.type' must be 'json_schema' or 'text'"; some take neither. With
TOP5_LLM_JSON_MODE=auto the client starts with json_object, steps down to json_schema (the
pydantic model's schema) and then to prompt-only (the schema in the prompt, the answer
validated) the first time the backend rejects one, and keeps what worked for every later call.
A mode set explicitly is used alone. The embedded llama.cpp server gets json_object with the
schema, which it turns into a grammar the tiny model cannot leave.
"""

from __future__ import annotations

import threading

from pydantic import BaseModel

MODES = ("json_object", "json_schema", "prompt")


class JsonMode:
    def __init__(self, setting: str = "auto", *, offline: bool = False):
        self._modes = list(MODES) if setting == "auto" else [setting]
        self.offline = offline
        self._lock = threading.Lock()

    @property
    def current(self) -> str:
        with self._lock:
            return self._modes[0]

    def response_format(self, schema: type[BaseModel], mode: str) -> dict | None:
        if mode == "prompt":
            return None
        if mode == "json_schema":
            return {"type": "json_schema",
                    "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False}}
        if self.offline:
            return {"type": "json_object", "schema": _grammar_schema(schema.model_json_schema())}
        return {"type": "json_object"}

    def step_down(self, rejected: str) -> bool:
        """After the backend rejected `rejected`: whether another mode is left to try."""
        with self._lock:
            if self._modes[0] == rejected and len(self._modes) > 1:
                self._modes.pop(0)
            return self._modes[0] != rejected

    def describe(self) -> str:
        return self.current


def _grammar_schema(schema: object) -> object:
    """The schema without maxLength: llama.cpp spells a length bound out as a grammar rule per
    character, and a 2,000-character bound kills its server (the answer is still validated
    against the full schema afterwards). A minLength of a few dozen stays: it keeps the tiny
    model from closing a field at once."""
    if isinstance(schema, dict):
        return {k: _grammar_schema(v) for k, v in schema.items() if k != "maxLength"}
    if isinstance(schema, list):
        return [_grammar_schema(v) for v in schema]
    return schema
