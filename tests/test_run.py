"""The run's checks and bookkeeping, without running the flow: what the flow relies on before it
spends anything, and what it leaves out."""

from __future__ import annotations

import logging

import pytest

from flows.config import Settings
from flows.digest import write
from flows.errors import ConfigError, DraftError
from flows.run import Run
from tests.helpers import candidate
from tests.test_digest import _parts

LOG = logging.getLogger("test-run")


def _run(digests, **changes) -> Run:
    args = dict(week="2026-W47", start=None, end=None, categories=["cs.LG"], top_k=5,
                digests_dir=str(digests), style=None, open_pr=False)
    return Run(Settings(), LOG, **(args | changes))


def test_an_edited_week_is_refused_before_anything_is_spent(tmp_path):
    write(tmp_path / "2026-W47", **_parts())
    _run(tmp_path)  # the tool's own draft may be drafted again
    readme = tmp_path / "2026-W47" / "README.md"
    readme.write_text(readme.read_text().replace("## Paper 1:", "## Paper 1: (my own name)", 1))
    with pytest.raises(DraftError, match="README.md was changed"):
        _run(tmp_path)


def test_papers_featured_in_earlier_digests_are_left_out(tmp_path):
    earlier = tmp_path / "2026-W46"
    earlier.mkdir()
    (earlier / "papers.md").write_text("## Paper 1\n\n[Paper](https://arxiv.org/abs/2611.00002v1)\n")
    run = _run(tmp_path)
    fresh = run.new_candidates([candidate("2611.00001"), candidate("2611.00002", version=3), candidate("2611.00003")])
    assert [c.arxiv_id for c in fresh] == ["2611.00001", "2611.00003"]
    assert run.record.counts == {"candidates": 3, "new": 2, "featured_before": 1}


def test_the_same_week_drafted_again_is_not_featured_before(tmp_path):
    write(tmp_path / "2026-W47", **_parts())  # this week's own draft names 2611.00001..5
    fresh = _run(tmp_path).new_candidates([candidate("2611.00001")])
    assert [c.arxiv_id for c in fresh] == ["2611.00001"]


def test_a_bad_week_is_named(tmp_path):
    with pytest.raises(ConfigError, match="2026-W99"):
        _run(tmp_path, week="2026-W99")


def test_an_explicit_window_is_filed_under_its_calendar_week(tmp_path):
    run = _run(tmp_path, week=None, start="2026-11-16", end="2026-11-22")
    assert run.folder == tmp_path / "2026-W47"


def test_a_new_paper_whose_metadata_was_cut_is_a_flag_of_the_draft(tmp_path):
    from flows.candidates import within_limits

    cut = within_limits(candidate("2611.00002", abstract="words " * 400_000))
    run = _run(tmp_path)
    fresh = run.new_candidates([candidate("2611.00001"), cut])
    (flag,) = run.record.flags
    assert flag.startswith("2611.00002: its metadata was longer than any real paper's and was cut")
    assert flag.endswith("abstract: 2,400,000 characters, cut to 10,000")
    assert [len(c.abstract) for c in fresh] == [len("An abstract."), 10_000]
