"""Reading a chat completion as the model meant it, whatever the OpenAI-compatible backend.

One reader for every shape a backend gives (docs/llm-backends.md lists them, each with the bug
reports it comes from): `message.content` as a string or as a list of parts; reasoning beside
the answer (`reasoning_content`, `reasoning`, "thinking" parts) or inside it (`<think>…</think>`,
a dangling `</think>`); an error inside an HTTP 200 body; no `usage`; streamed chunks. Then
`find_json` finds the JSON value the model meant: bare, fenced, in prose, after drafts in its
reasoning, double-encoded, wrapped in one extra key, a bare list for a one-list schema, or
slightly broken (trailing commas, single quotes: repaired by the json-repair library).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import json_repair
from pydantic import BaseModel, ValidationError

from flows.text import VERSIONED_ARXIV_ID, clip, whole_characters

_THINK = re.compile(r"<(think|thinking|reasoning)>(.*?)(?:</\1>|\Z)", re.S | re.I)
_DANGLING_END = re.compile(r"^(.*)</(?:think|thinking|reasoning)>", re.S | re.I)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)(?:```|\Z)", re.S)
_REASONING_PARTS = {"thinking", "reasoning", "redacted_thinking"}
_REASONING_FIELDS = ("reasoning_content", "reasoning", "thinking")


@dataclass(frozen=True)
class Answer:
    """One completion as read: `text` is the answer the model meant (content parts joined,
    reasoning taken out), `reasoning` what it thought beside it. `usage` is (prompt, completion)
    tokens as the server counted them, None when it did not say."""

    text: str
    reasoning: str = ""
    finish_reason: str | None = None
    refusal: str | None = None
    usage: tuple[int, int] | None = None

    @property
    def cut(self) -> bool:
        """Whether the backend stopped because the answer reached max_tokens."""
        return self.finish_reason in ("length", "max_tokens")


class InBandError(Exception):
    """An error the backend reported inside an HTTP 200 body (OpenRouter, gateways): `status`
    is the code it gives (502 when it gives none), `message` its own words."""

    def __init__(self, status: int, message: str, code: str = ""):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def read_completion(body: object) -> Answer:
    """The Answer in a chat-completion body (a dict from JSON). Raises InBandError for an error
    body, ValueError for a body that is no completion at all."""
    if not isinstance(body, dict):
        raise ValueError(f"the answer is JSON but not a completion object ({type(body).__name__})")
    choices = body.get("choices") or []
    if body.get("error") and not choices:
        raise in_band_error(body["error"])
    if not choices and "content" not in body:
        raise ValueError("the answer has no choices")
    choice = choices[0] if choices and isinstance(choices[0], dict) else body
    message = choice.get("message") or choice.get("delta") or {}
    content = message.get("content", choice.get("text"))  # legacy completions put it in "text"
    reasoning = _reasoning_field(message)
    text, inline = _split_content(content)
    return _answer(text, reasoning + inline, choice.get("finish_reason"), message.get("refusal"),
                   usage_of(body))


def read_stream(events: Iterable[dict]) -> Answer:
    """The Answer in streamed chunks (server-sent `data:` events already decoded), joined."""
    texts, reasoning, finish, refusal, usage = [], [], None, None, None
    for event in events:
        if event.get("error"):
            raise in_band_error(event["error"])
        usage = usage_of(event) or usage
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            text, inline = _split_content(delta.get("content"))
            texts.append(text)
            reasoning.append(_reasoning_field(delta) + inline)
            refusal = delta.get("refusal") or refusal
            finish = choice.get("finish_reason") or finish
    return _answer("".join(texts), "".join(reasoning), finish, refusal, usage)


def _answer(text: str, reasoning: str, finish: str | None, refusal: object, usage) -> Answer:
    text, inline = split_thinking(text)
    return Answer(text.strip(), (reasoning + inline).strip(), finish,
                  str(refusal) if refusal else None, usage)


def split_thinking(text: str) -> tuple[str, str]:
    """(answer, reasoning) of a text that may hold `<think>…</think>` (an unclosed one runs to
    the end: the answer was cut while thinking) or a dangling `</think>` whose opening tag the
    server swallowed."""
    thoughts = [m.group(2) for m in _THINK.finditer(text)]
    text = _THINK.sub("", text)
    dangling = _DANGLING_END.match(text)
    if dangling:
        thoughts.append(dangling.group(1))
        text = text[dangling.end():]
    return text, "\n".join(thoughts)


def _split_content(content: object) -> tuple[str, str]:
    """(text, reasoning) of `content`: a string, or a list of parts ({"type": "text", ...},
    {"type": "thinking", ...}) as Anthropic-style gateways send."""
    if content is None:
        return "", ""
    if isinstance(content, str):
        return content, ""
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return str(content), ""
    text, reasoning = [], []
    for part in content:
        if isinstance(part, str):
            text.append(part)
        elif isinstance(part, dict):
            words = part.get("text") or part.get("thinking") or part.get("content") or ""
            (reasoning if part.get("type") in _REASONING_PARTS else text).append(str(words))
    return "".join(text), "\n".join(reasoning)


def _reasoning_field(message: dict) -> str:
    for name in _REASONING_FIELDS:
        value = message.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def usage_of(body: dict) -> tuple[int, int] | None:
    """(prompt, completion) tokens from `usage`, or None when absent or unreadable."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return prompt, completion


def in_band_error(error: object) -> InBandError:
    """InBandError from an `error` member: its code as the HTTP status when it is one, the
    provider's message (and the upstream one OpenRouter nests in metadata.raw)."""
    if not isinstance(error, dict):
        return InBandError(502, clip(str(error)))
    code = error.get("code") or error.get("status")
    status = int(code) if isinstance(code, int) or (isinstance(code, str) and code.isdigit()) else 502
    status = status if 400 <= status <= 599 else 502
    message = str(error.get("message") or error.get("type") or "no message")
    raw = (error.get("metadata") or {}).get("raw") if isinstance(error.get("metadata"), dict) else None
    if raw:
        message += f" (upstream: {clip(str(raw), 200)})"
    return InBandError(status, clip(message), "" if isinstance(code, int) else str(code or ""))


# --- the JSON value the model meant -----------------------------------------------------------

class NoJson(ValueError):
    """No JSON value in the answer validates against the schema; the message says why."""


def find_json(answer: Answer | str, schema: type[BaseModel]) -> tuple[object, BaseModel]:
    """(value, validated model) of the last JSON value in the answer that `schema` accepts:
    drafts and restated examples come before the final answer. Looks in the answer's text, then
    (when the text has none, as vLLM does when it files the whole answer as reasoning) in its
    reasoning. Raises NoJson naming the closest miss."""
    answer = answer if isinstance(answer, Answer) else Answer(str(answer))
    problems: list[str] = []
    for source in (answer.text, answer.reasoning):
        for value in reversed(list(_candidates(source, schema))):
            try:
                return value, schema.model_validate(value)
            except ValidationError as exc:
                problems.append(_problems(exc, schema))
    if problems:
        raise NoJson(problems[-1] if len(problems) == 1 else problems[0])
    raise NoJson("no JSON object found in the answer")


def extract_json(text: str) -> object:
    """The first JSON value in `text` (bare, fenced, in prose, slightly broken). ValueError if none."""
    for value in _values(text):
        return value
    raise ValueError("no JSON object found in the answer")


def _candidates(text: str, schema: type[BaseModel]) -> Iterator[object]:
    for value in _values(text):
        yield from _unwrapped(value, schema)


def _values(text: str) -> Iterator[object]:
    """JSON values in `text`, in order: the whole text, fenced blocks, then each value that starts
    at a brace outside those already read; json-repair's reading of the text last."""
    text = text.strip()
    if not text:
        return
    try:
        yield whole_characters(json.loads(text))
        return
    except (json.JSONDecodeError, RecursionError):
        pass
    found = False
    for fenced in _FENCE.findall(text):
        for value in _decoded_at_braces(fenced):
            found = True
            yield value
    for value in _decoded_at_braces(text):
        found = True
        yield value
    if not found and re.search(r"[{\[]", text):
        try:
            repaired = json_repair.repair_json(text[re.search(r"[{\[]", text).start():], return_objects=True)
            repaired = whole_characters(repaired)
        except RecursionError:  # nested too deeply to repair: no value
            return
        if repaired not in ("", None, [], {}):
            yield repaired


def _decoded_at_braces(text: str) -> Iterator[object]:
    decoder, end = json.JSONDecoder(), 0
    for match in re.finditer(r"[{\[]", text):
        if match.start() < end:
            continue  # inside a value already read
        try:
            value, end = decoder.raw_decode(text, match.start())
            value = whole_characters(value)
        except json.JSONDecodeError:
            continue
        except RecursionError:  # nested too deeply, and so is every brace inside it
            return
        yield value


def _unwrapped(value: object, schema: type[BaseModel], depth: int = 0) -> Iterator[object]:
    """`value`, then the ways small models wrap it: a JSON string inside JSON, one extra key
    ({"response": {...}}), a one-item list, or a bare list where the schema has one list field."""
    yield value
    if depth > 2:
        return
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        for inner in _values(value):
            yield from _unwrapped(inner, schema, depth + 1)
    elif isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, dict | list | str) and next(iter(value)) not in schema.model_fields:
            yield from _unwrapped(inner, schema, depth + 1)
    elif isinstance(value, list):
        lists = [n for n, f in schema.model_fields.items() if "list" in str(f.annotation).lower()]
        if len(lists) == 1 and len(schema.model_fields) == 1:
            yield {lists[0]: value}
        if len(value) == 1:
            yield from _unwrapped(value[0], schema, depth + 1)


def _problems(exc: ValidationError, schema: type[BaseModel]) -> str:
    found = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
    return f"does not match {schema.__name__}: {found}"


def sent_id(raw: str, sent: set[str] | frozenset[str]) -> str | None:
    """The arXiv id among `sent` that `raw` names, however the model wrote it ("arXiv:2611.00042v2",
    an abs/pdf URL, brackets), or None: only ids that were sent are ever accepted."""
    raw = str(raw).strip()
    if raw in sent:
        return raw
    match = VERSIONED_ARXIV_ID.search(raw)
    return match.group("id") if match and match.group("id") in sent else None
