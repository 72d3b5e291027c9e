"""The week's folder on disk: a killed run never looks like the editor, two runs never share a week."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from flows.config import PROJECT_DIR, Settings
from flows.digest import WeekLock, check_unedited, write
from flows.errors import DraftError
from flows.run import Run
from tests.test_digest import _parts

KILLED_WRITE = textwrap.dedent("""
    import os, signal, sys
    from dataclasses import replace
    from pathlib import Path
    import flows.digest.pages as pages
    from tests.test_digest import _parts

    real = pages.write_json
    def write_json(path, value):
        if path.name == "candidates.json":  # the pages are replaced, run.json not yet written
            os.kill(os.getpid(), signal.SIGKILL)
        real(path, value)
    pages.write_json = write_json
    parts = _parts()
    parts["sections"] = [replace(s, name=s.name + " (second draft)") for s in parts["sections"]]
    pages.write(Path(sys.argv[1]), **parts)
""")


def _killed_redraft(folder) -> None:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR))
    done = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(folder)], env=env, capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "(second draft)" in (folder / "README.md").read_text()  # killed after the pages, before run.json


def test_a_run_killed_between_the_pages_and_run_json_leaves_a_week_it_can_draft_again(tmp_path):
    write(tmp_path, **_parts())
    _killed_redraft(tmp_path)
    check_unedited(tmp_path)  # the tool's own half-finished write is not an editor's edit
    write(tmp_path, **_parts())
    assert "(second draft)" not in (tmp_path / "README.md").read_text()


def test_an_edit_after_a_killed_run_is_still_the_editors(tmp_path):
    write(tmp_path, **_parts())
    _killed_redraft(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text() + "\nMy own words.\n")
    with pytest.raises(DraftError, match="README.md was changed"):
        write(tmp_path, **_parts())
    assert readme.read_text().endswith("My own words.\n")


HOLD_THE_WEEK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from flows.digest import WeekLock
    with WeekLock(Path(sys.argv[1]), Path(sys.argv[2])):
        print("held", flush=True)
        time.sleep(60)
""")


def _run(tmp_path) -> Run:
    settings = Settings(cache_dir=tmp_path / "cache")
    return Run(settings, logging.getLogger("test"), week="2026-W47", start=None, end=None, categories=["cs.LG"],
               top_k=5, digests_dir=str(tmp_path / "digests"), style=None, open_pr=False)


def test_a_second_run_of_the_week_stops_while_another_process_holds_it(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR))
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_WEEK, str(tmp_path / "digests" / "2026-W47"),
                               str(tmp_path / "cache")],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DraftError, match="another run holds the week 2026-W47"):
            _run(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    with _run(tmp_path):  # the holder is gone (even killed): the week is free
        pass


def test_a_run_releases_the_week_when_it_ends(tmp_path):
    with _run(tmp_path):
        with pytest.raises(DraftError, match="another run holds the week"):
            WeekLock(tmp_path / "digests" / "2026-W47", tmp_path / "cache").acquire()
    with WeekLock(tmp_path / "digests" / "2026-W47", tmp_path / "cache"):
        pass


def test_the_lock_leaves_nothing_in_the_digests_folder(tmp_path):
    """The lock lives in the cache: the editor's digests clone holds only the drafts."""
    digests, cache = tmp_path / "digests", tmp_path / "cache"
    with WeekLock(digests / "2026-W47", cache):
        assert not digests.exists()
    assert not digests.exists()  # a week with no new papers leaves nothing behind
    digests.mkdir()
    (digests / ".2026-W47.lock").write_text("")  # where earlier versions left the lock
    with WeekLock(digests / "2026-W47", cache):
        (digests / "2026-W47").mkdir()
        (digests / "2026-W47" / "README.md").write_text("draft\n")
    assert [p.relative_to(digests).as_posix() for p in digests.rglob("*")] == ["2026-W47", "2026-W47/README.md"]


def test_the_same_week_of_two_digests_folders_are_two_locks(tmp_path):
    with WeekLock(tmp_path / "one" / "2026-W47", tmp_path / "cache"):
        with WeekLock(tmp_path / "two" / "2026-W47", tmp_path / "cache"):
            with pytest.raises(DraftError, match="another run holds the week 2026-W47"):
                WeekLock(tmp_path / "one" / "2026-W47", tmp_path / "cache").acquire()


def test_a_week_reached_through_a_symlink_is_the_same_lock(tmp_path):
    """`digests/2026-W48 -> 2026-W47`: two swaps through the two names would each lose the other's."""
    digests, cache = tmp_path / "digests", tmp_path / "cache"
    (digests / "2026-W47").mkdir(parents=True)
    (digests / "2026-W48").symlink_to("2026-W47")
    with WeekLock(digests / "2026-W48", cache):
        with pytest.raises(DraftError, match="another run holds the week"):
            WeekLock(digests / "2026-W47", cache).acquire()
    with WeekLock(digests / "2026-W47", cache):
        with pytest.raises(DraftError, match="another run holds the week"):
            WeekLock(digests / "2026-W48", cache).acquire()
