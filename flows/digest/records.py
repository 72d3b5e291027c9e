"""The tool's own records of a drafted week, read back for `top5 show`, `top5 swap` and
`top5 render`: run.json, sections.json and candidates.json. Each is read through
read_editor_json and checked against the shape those commands rely on, so a damaged record
(hand-edited, a bad merge, cut short) is one UnreadableFile naming the file, not a traceback."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from flows.errors import DraftError, UnreadableFile
from flows.files import read_editor_json


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")  # other keys are kept as written


class _Row(_Record):
    arxiv_id: str


class _Figure(_Record):
    role: str
    kind: str
    number: str
    page: int
    caption: str
    image: str | None = None


class _Section(_Row):
    model_config = ConfigDict(extra="forbid")  # Section(**row) takes exactly its fields
    name: str
    problem: str
    idea: str
    results: str
    take: str
    notes: list[str] = []
    figures: list[_Figure] = []
    fallback: bool = False


class RunRecord(_Record):
    week: str | None = None
    style: str | None = None
    window: dict[str, str] = {}
    flags: list[str] = []
    written: dict[str, str] = {}
    counts: dict[str, object] = {}
    tokens: dict = {}
    llm: dict[str, object] = {}
    swaps: list[dict] = []


class SectionsRecord(_Record):
    sections: list[_Section]
    extra: dict | None = None
    offline: bool = False


class CandidatesRecord(_Record):
    picks: list[str]
    runners_up: list[_Row] = []
    candidates: list[_Row]


SHAPES = {"run.json": RunRecord, "sections.json": SectionsRecord, "candidates.json": CandidatesRecord}


def read_record(folder: Path, name: str) -> dict:
    """The JSON object of `folder`/`name` (one of SHAPES) as written, once it has the shape its
    model gives. Raises DraftError when the file is missing (no finished draft), UnreadableFile
    (one line naming the file, "restore it from git") when it is unreadable or of another shape."""
    path = folder / name
    try:
        value = read_editor_json(path)
    except FileNotFoundError:
        raise DraftError(f"{folder} holds no finished draft ({name} missing): run the week first, "
                         "or check --digests-dir") from None
    except OSError as exc:
        raise UnreadableFile(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        SHAPES[name].model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise UnreadableFile(f"{path} is not shaped as the tool wrote it ({where}: {first['msg']}): "
                             "restore it from git (git checkout -- FILE)") from None
    return value
