"""The disk cache of usable answers: a rerun of the same week pays nothing for what it already has.

The key is what determines the answer (the model, the messages, the parameters and the schema),
never where the backend listens: a local server restarted on another port, or a gateway that
moved, still serves the same answers. Only answers the caller found usable are written, already
redacted; a write that fails never fails the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from flows.files import parse_json, read_back, write_atomic

log = logging.getLogger(__name__)


class AnswerCache:
    """Answers under `directory`/<2 hex>/<sha256>.json."""

    def __init__(self, directory: Path):
        self.directory = directory

    @staticmethod
    def key(model: str, messages: list[dict], params: dict, schema: dict | None = None) -> str:
        blob = json.dumps({"model": model, "messages": messages, "params": params, "schema": schema},
                          sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        return read_back(self._path(key), _content, "cached LLM answer")

    def put(self, key: str, content: str) -> None:
        path = self._path(key)
        try:
            write_atomic(path, json.dumps({"content": content}, ensure_ascii=False))
        except OSError as exc:
            log.warning("could not write LLM cache entry %s: %s", path, exc)


def _content(data: bytes) -> str:
    content = parse_json(data, "the LLM cache entry")["content"]
    if not isinstance(content, str):
        raise TypeError("content is not text")
    return content
