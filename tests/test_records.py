"""A week's own records read back (flows/records.py): `top5 show`, `top5 swap` and
`top5 render` on a week whose run.json, sections.json or candidates.json was damaged (a bad
merge, a hand edit, a file cut short) stop with exit 2 and one line naming the file, before any
request to arXiv or the LLM, and leave every file of the week as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main as top5
from flows.digest import write
from tests.arxiv_server import ArxivServer, atom_feed
from tests.openai_server import OpenAIServer
from tests.test_digest import _parts

REPO = Path(__file__).resolve().parent.parent
WEEK = "2026-W47"
COMMANDS = {"show": ["show", WEEK], "swap": ["swap", WEEK, "2", "R1", "--no-pr"],
            "render": ["render", WEEK, "--style", "weekly"]}
READS = {"run.json": {"show", "swap"}, "sections.json": {"swap", "render"},
         "candidates.json": {"show", "swap", "render"}}


def _edit(change):
    """A damage that loads the file's JSON, changes it with `change(value)`, and writes it back."""
    def damage(data: bytes) -> bytes:
        value = json.loads(data)
        change(value)
        return json.dumps(value).encode()
    return damage


def _set(path: str, new):
    def change(value):
        *parents, last = path.split(".")
        for key in parents:
            value = value[int(key)] if isinstance(value, list) else value.setdefault(key, {})
        last = int(last) if isinstance(value, list) else last
        if new is KeyError:
            del value[last]
        else:
            value[last] = new
    return _edit(change)


SWAP = {"position": 2, "removed": "2611.00002", "added": "2611.00006", "tokens": {}}  # as `top5 swap` records it
WHOLE = {"a list": lambda data: b"[]", "null": lambda data: b"null", "a number": lambda data: b"42",
         "cut short": lambda data: data[: len(data) // 2], "binary junk": lambda data: bytes(range(256)) * 4,
         "empty": lambda data: b""}
INNER = {
    "run.json": {
        "tokens as text": (_set("tokens.total.prompt_tokens", "51234"), {"show", "swap"}),
        "flags a string": (_set("flags", "Paper 1 failed"), {"show", "swap"}),
        "window a list": (_set("window", ["2026-11-13", "2026-11-20"]), {"show", "swap"}),
        "style null": (_set("style", None), {"show", "swap"}),
        "learned ranks a number": (_set("learned", {"before": 3, "after": [1]}), {"show", "swap"}),
        "written hashes numbers": (_set("written", {"README.md": 1}), {"show", "swap"}),
        "a swap without the paper added": (_set("swaps", [{"position": 2, "removed": "2611.00002"}]), {"show", "swap"}),
        "a swap's position as text": (_set("swaps", [SWAP | {"position": "2"}]), {"show", "swap"}),
        "a swap's position 2.0": (_set("swaps", [SWAP | {"position": 2.0}]), {"show", "swap"}),
        "a swap's position 0": (_set("swaps", [SWAP | {"position": 0}]), {"show", "swap"}),
        "a swap's paper a record": (_set("swaps", [SWAP | {"added": {"arxiv_id": "2611.00006"}}]), {"show", "swap"}),
        "a swap's paper no arXiv id": (_set("swaps", [SWAP | {"removed": "the second one"}]), {"show", "swap"}),
        "a swap a bare id": (_set("swaps", ["2611.00006"]), {"show", "swap"}),
    },
    "sections.json": {
        "sections a number": (_set("sections", 5), {"swap", "render"}),
        "a section without its take": (_set("sections.0.take", KeyError), {"swap", "render"}),
        "a figure without its caption": (_set("sections.0.figures.0.caption", KeyError), {"swap", "render"}),
        "a note as a number": (_set("sections.1.notes", [5]), {"swap", "render"}),
        "one section fewer than the picks": (_edit(lambda v: v["sections"].pop()), {"swap", "render"}),
        "offline as text": (_set("offline", "no"), {"swap", "render"}),
        "extra a list": (_set("extra", []), {"swap", "render"}),
    },
    "candidates.json": {
        "picks null": (_set("picks", None), {"show", "swap", "render"}),
        "no candidates": (_set("candidates", KeyError), {"show", "swap", "render"}),
        "a runner-up as a bare id": (_set("runners_up.0", "2611.00006"), {"show", "swap", "render"}),
        "a pick that is no candidate": (_set("picks.0", "2611.99999"), {"show", "swap", "render"}),
        "a title as a number": (_set("candidates.0.title", 7), {"show", "swap", "render"}),
        "a date that is none": (_set("candidates.0.published", "last Tuesday"), {"swap", "render"}),
        "authors a string": (_set("candidates.1.authors", "A. Author"), {"swap", "render"}),
    },
}
DAMAGES = [(name, label, damage, READS[name]) for name in READS for label, damage in WHOLE.items()] + [
    (name, label, damage, refusing) for name, cases in INNER.items() for label, (damage, refusing) in cases.items()]


@pytest.fixture
def servers(settings_env):
    """arXiv and the LLM on 127.0.0.1, recording every request: a refused command sends none."""
    with ArxivServer(atom_feed([])) as arxiv, OpenAIServer(lambda request: "{}") as llm:
        settings_env.setenv("ARXIV_API_URL", arxiv.api_url)
        settings_env.setenv("ARXIV_PDF_URL", arxiv.pdf_url)
        settings_env.setenv("OPENAI_BASE_URL", llm.base_url)
        settings_env.setenv("OPENAI_API_KEY", "sk-test-NEVER-LOGGED")
        yield arxiv, llm


def _week(digests: Path) -> Path:
    """A drafted week as the weekly run writes it: pages, figures' records, the three records."""
    write(digests / WEEK, **_with_runners_up(_parts()))
    return digests / WEEK


def _with_runners_up(parts: dict) -> dict:
    """_parts() with five more candidates ranked after the picks, so R1..R5 exist."""
    from flows.shortlist.ranking import Ranking, Scored
    from tests.helpers import candidate

    ranking = parts["ranking"]
    more = [Scored(candidate(f"2611.000{i:02d}", f"Runner-up {i}", f"Abstract of runner-up {i}."), cheap=1.0,
                   llm=2.0, reason=f"reason {i}") for i in range(6, 11)]
    parts["ranking"] = Ranking(ranked=ranking.ranked + more, scored=ranking.scored + more, picks=ranking.picks,
                               runners_up=more)
    return parts


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name, label, damage, refusing", DAMAGES, ids=[f"{d[0]}: {d[1]}" for d in DAMAGES])
def test_a_damaged_record_is_one_line_naming_it_and_nothing_changes(tmp_path, servers, capsys, name, label, damage,
                                                                     refusing):
    folder = _week(tmp_path / "digests")
    (folder / name).write_bytes(damage((folder / name).read_bytes()))
    before = _files(folder)
    for command in sorted(refusing):
        capsys.readouterr()
        code = top5([*COMMANDS[command], "--digests-dir", str(tmp_path / "digests")])
        out, err = capsys.readouterr()
        assert code == 2, (command, out, err)
        assert len(err.splitlines()) == 1 and err.startswith("top5: ") and str(folder / name) in err, (command, err)
        assert "Traceback" not in out + err
        assert _files(folder) == before, command
    arxiv, llm = servers
    assert arxiv.log == [] and llm.requests == []


def test_the_records_as_written_pass(tmp_path, servers, capsys):
    """The check refuses only damage: the week as written shows and renders."""
    folder = _week(tmp_path / "digests")
    assert top5(["show", WEEK, "--digests-dir", str(folder.parent)]) == 0
    assert "R1  2611.00006  Runner-up 6" in capsys.readouterr().out
    assert top5(["render", WEEK, "--style", "bookmarks", "--digests-dir", str(folder.parent)]) == 0
    assert "Full title 1: a study" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(READS))
def test_the_real_command_line_says_it_in_one_line(tmp_path, name):
    """`python -m flows.cli` itself: exit 2, one line on stderr naming the file, no traceback."""
    folder = _week(tmp_path / "digests")
    (folder / name).write_bytes(b'{"sections": [], "picks": 3, "tokens": [], "candidates": {}}')
    before = _files(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ARXIV_", "TOP5_"))}
    env.update(PYTHONPATH=str(REPO), TOP5_CACHE_DIR=str(tmp_path / "cache"), ARXIV_API_URL="http://127.0.0.1:9/api",
               ARXIV_PDF_URL="http://127.0.0.1:9/pdf", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    for command in sorted(READS[name]):
        done = subprocess.run([sys.executable, "-m", "flows.cli", *COMMANDS[command], "--digests-dir",
                               str(folder.parent)], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.count("\n") == 1 and str(folder / name) in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
    assert _files(folder) == before


def test_a_review_style_on_a_weekly_draft_is_one_line(tmp_path, capsys):
    folder = _week(tmp_path / "digests")
    assert top5(["render", WEEK, "--style", "review", "--digests-dir", str(folder.parent)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "style review cannot render 2026-W47" in err and "top5 review" in err


def test_a_swap_into_a_weekly_draft_recorded_as_review_style_is_one_line(tmp_path, servers, capsys):
    """run.json says the draft is in the review style, but the folder is a weekly draft: the swap
    refuses as `top5 render --style review` does, before any request, and changes nothing."""
    folder = _week(tmp_path / "digests")
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    (folder / "run.json").write_text(json.dumps({**run, "style": "review"}), encoding="utf-8")
    before = _files(folder)
    assert top5([*COMMANDS["swap"], "--digests-dir", str(folder.parent)]) == 2
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and "style review cannot render 2026-W47" in err and "top5 review" in err, err
    assert "Traceback" not in out + err and _files(folder) == before
    arxiv, llm = servers
    assert arxiv.log == [] and llm.requests == []


def test_a_redraft_over_a_damaged_run_record_keeps_going_and_flags_the_lost_swaps(tmp_path):
    from flows.digest import previous_swaps

    (tmp_path / "run.json").write_text('["not", "a record"]', encoding="utf-8")
    flags: list[str] = []
    assert previous_swaps(tmp_path, flags) == []
    assert len(flags) == 1 and "run.json" in flags[0] and "swaps" in flags[0]
    assert previous_swaps(tmp_path / "absent", flags) == [] and len(flags) == 1  # no earlier draft: nothing to say


@pytest.mark.parametrize("swap", [{"position": "2", "removed": "2611.00002", "added": "2611.00006"},
                                  {"position": 2.0, "removed": "2611.00002", "added": "2611.00006"},
                                  {"position": 2, "removed": "2611.00002"},
                                  {"position": 2, "removed": "2611.00002", "added": {"arxiv_id": "2611.00006"}}],
                         ids=["position as text", "position 2.0", "no added", "added a record"])
def test_a_hand_edited_swap_is_flagged_and_not_carried_into_the_redraft(tmp_path, swap):
    """The re-draft reads the earlier swaps after ranking (paid work): a bad entry must not reach
    shortlist.apply_swaps, where it would crash; it is dropped with a flag naming run.json."""
    from flows.digest import previous_swaps

    folder = _week(tmp_path / "digests")
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    good = {"position": 1, "removed": "2611.00001", "added": "2611.00007", "tokens": {}}
    (folder / "run.json").write_text(json.dumps({**run, "swaps": [good]}), encoding="utf-8")
    assert previous_swaps(folder, flags := []) == [good] and flags == []
    (folder / "run.json").write_text(json.dumps({**run, "swaps": [good, swap]}), encoding="utf-8")
    assert previous_swaps(folder, flags) == []
    assert len(flags) == 1 and str(folder / "run.json") in flags[0] and "swaps.1" in flags[0], flags


def _to_dev_zero(path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("this system has no /dev/zero")
    path.unlink()
    path.symlink_to("/dev/zero")


def _oversized(path: Path) -> None:
    """A real file one byte over the limit, sparse (truncate), so it costs no disk and little time."""
    from flows.files import EDITOR_FILE_LIMIT

    with path.open("r+b") as handle:
        handle.truncate(EDITOR_FILE_LIMIT + 1)


@pytest.mark.parametrize("make", [_to_dev_zero, _oversized], ids=["a link to /dev/zero", "a sparse file over 64 MB"])
@pytest.mark.parametrize("name", sorted(READS))
def test_a_record_too_large_to_be_ours_is_one_line_and_never_read_whole(tmp_path, servers, capsys, name, make):
    import tracemalloc

    folder = _week(tmp_path / "digests")
    make(folder / name)
    for command in sorted(READS[name]):
        capsys.readouterr()
        tracemalloc.start()
        code = top5([*COMMANDS[command], "--digests-dir", str(folder.parent)])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out, err = capsys.readouterr()
        assert code == 2, (command, out, err)
        assert len(err.splitlines()) == 1 and str(folder / name) in err and "larger than 64 MB" in err, (command, err)
        assert peak < 200 * 2**20, (command, peak)  # at most the limit (plus copies), never the whole stream
    arxiv, llm = servers
    assert arxiv.log == [] and llm.requests == []


def test_a_cache_entry_too_large_is_computed_again(tmp_path, caplog, monkeypatch):
    """A cache entry linked to /dev/zero (or any file over CACHE_ENTRY_LIMIT) is damaged: None, one warning."""
    from flows import files
    from flows.files import read_back

    monkeypatch.setattr(files, "CACHE_ENTRY_LIMIT", 2**20)  # the real 512 MB would be read once here

    entry = tmp_path / "entry.json"
    entry.write_bytes(b"{}")
    _to_dev_zero(entry)
    assert read_back(entry, json.loads, "cached LLM answer") is None
    assert "larger than 1 MB" in caplog.text and str(entry) in caplog.text
