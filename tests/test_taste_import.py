"""`top5 taste import`: the issues of an editor's archive, the week each is filed under, and the
history folder it writes (arXiv faked in process: a client that serves a listing per week)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from flows.errors import ConfigError
from flows.shortlist import archive
from flows.shortlist.issues import find_issues, week_in
from flows.text import arxiv_ids
from tests.helpers import candidate


def _issues(tmp_path, files: dict[str, str], skipped=None, notes=None) -> list[tuple[str, tuple[str, ...]]]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(text) if isinstance(text, bytes) else (tmp_path / name).write_text(text)
    return [(i.week, i.picks) for i in find_issues(tmp_path, skipped, notes)]


def test_every_paper_an_issue_names_counts_when_one_line_starts_with_a_link(tmp_path):
    picks = "".join(f"{n}. **Paper {n}** by Smith et al. — https://arxiv.org/abs/2506.0610{n}\n" for n in range(1, 6))
    found = _issues(tmp_path, {"2025-06-16.md": f"# Top 5\n\n{picks}\nhttps://arxiv.org/abs/2506.10910\n"
                                                "Also worth a look: https://arxiv.org/abs/2506.10911 (and 2506.10910 again)\n"})
    assert found == [("2025-W25", tuple(f"2506.0610{n}" for n in range(1, 6)) + ("2506.10910", "2506.10911"))]


def test_every_way_of_naming_an_arxiv_paper_counts():
    text = ("https://arxiv.org/abs/2506.00001v2 arxiv.org/pdf/2506.00002v1.pdf https://arxiv.org/html/2506.00003v3 "
            "http://export.arxiv.org/abs/2506.00004 https://www.alphaxiv.org/abs/2506.00005 "
            "https://huggingface.co/papers/2506.00006 arXiv:2506.00007 https://doi.org/10.48550/arXiv.2506.00008 "
            "https://arxiv.org/abs/cs/0601001v1 arXiv:hep-th/9901001 2506.00009 (a bare number is no reference)")
    assert arxiv_ids(text) == [f"2506.0000{n}" for n in range(1, 9)] + ["cs/0601001", "hep-th/9901001"]


@pytest.mark.parametrize("written, week", [
    ("June 9th, 2025", "2025-W24"), ("9 June 2025", "2025-W24"), ("Mon, 9 Jun 2025", "2025-W24"),
    ("Jun. 9, 2025", "2025-W24"), ("Week 24, 2025", "2025-W24"), ("2025-w24", "2025-W24"), ("2025 W24", "2025-W24"),
    ("W24 2025", "2025-W24"), ("2025/06/09", "2025-W24"), ("2025-06-16T08:00:00+02:00", "2025-W25"),
    ("June 9–15, 2025", "2025-W24"), ("16.06.2025", "2025-W25"),
    ("Augmented 4-bit quantization of 2025", None), ("Mayhem 3 in 2025", None)])
def test_the_dates_an_editor_writes_are_read_and_no_month_inside_a_word(written, week):
    assert week_in(written) == (week, None)


def test_an_ambiguous_or_impossible_date_is_refused_with_a_line_saying_how_to_write_it():
    assert "ambiguous" in week_in("09.06.2025")[1] and "2025-06-09" in week_in("09.06.2025")[1]
    assert week_in("2025-02-30")[0] is None and "not a day that exists" in week_in("2025-02-30")[1]


def test_only_issue_level_headings_date_an_issue(tmp_path):
    skipped = []
    found = _issues(tmp_path, {"all.md": (
        "# Archive\n\n## June 9, 2025\n\n1. https://arxiv.org/abs/2506.00001\n\n"
        "## 1. Paper two (first posted June 2, 2025)\n\nhttps://arxiv.org/abs/2506.00002\n\n"
        "## Honourable mentions\n\narXiv:2506.00003\n\n"
        "## Issue 12, 2025\n\nhttps://arxiv.org/abs/2506.00004\n\n"
        "## Issue of 09.06.2025\n\nhttps://arxiv.org/abs/2506.00006\n\n"
        "## Week 25, 2025\n\n### Augmented 4-bit quantization of 2025\n\nhttps://arxiv.org/abs/2506.00005\n")},
        skipped)
    assert found == [("2025-W24", ("2506.00001", "2506.00002", "2506.00003")), ("2025-W25", ("2506.00005",))]
    assert skipped[0].startswith("no week found in all.md 'Issue 12, 2025': 1 papers not counted")
    assert "all.md 'Issue of 09.06.2025': 1 papers not counted: '09.06.2025' is ambiguous" in skipped[1]


def test_setext_headings_and_bold_date_lines_separate_issues(tmp_path):
    found = _issues(tmp_path, {
        "a.md": "June 9, 2025\n============\n\n- https://arxiv.org/abs/2506.00001\n\n"
                "June 16, 2025\n=============\n\n- https://arxiv.org/abs/2506.00002\n",
        "b.md": "# Digest\n\n**June 23, 2025**\n\n- https://arxiv.org/abs/2506.00003\n\n"
                "**June 30, 2025**\n\n- https://arxiv.org/abs/2506.00004\n"})
    assert found == [("2025-W24", ("2506.00001",)), ("2025-W25", ("2506.00002",)),
                     ("2025-W26", ("2506.00003",)), ("2025-W27", ("2506.00004",))]


def test_front_matter_the_line_under_the_title_and_folder_layouts_date_an_issue(tmp_path):
    found = _issues(tmp_path, {
        "a.md": "---\ntitle: x\ndate: 2025-06-16T08:00:00+02:00\n---\n# Issue\n\nhttps://arxiv.org/abs/2506.00001\n",
        "b.md": "# My digest\n*Published June 23, 2025*\n\nhttps://arxiv.org/abs/2506.00002\n",
        "2025/W24/README.md": "# Top 5\n\nhttps://arxiv.org/abs/2506.00003\n",
        "2025/06/30.md": "# Top 5\n\nhttps://arxiv.org/abs/2506.00004\n",
        "2025-06-09.md": "# Augmented 4-bit quantization of 2025\n\nhttps://arxiv.org/abs/2506.00005\n"})
    assert sorted(found) == [("2025-W24", ("2506.00003",)), ("2025-W24", ("2506.00005",)),
                             ("2025-W25", ("2506.00001",)), ("2025-W26", ("2506.00002",)),
                             ("2025-W27", ("2506.00004",))]


def test_when_every_file_is_skipped_the_error_says_why(tmp_path):
    (tmp_path / "t8").mkdir()
    (tmp_path / "t8" / "a.md").write_text("# Picks\n\nhttps://arxiv.org/abs/2506.00001\n")
    with pytest.raises(ConfigError, match=r"no week found in t8/a\.md: 1 papers not counted"):
        find_issues(tmp_path)


def test_id_lists_in_either_order_and_files_found_by_content_and_unread_ones_named(tmp_path):
    skipped, notes = [], []
    found = _issues(tmp_path, {
        "ids.txt": "# my picks\ncs/0601001 2025-06-16\n2025-06-16 2506.10943\n"
                   "https://arxiv.org/abs/2506.09790v2 2025-06-16\n2506.00001 yesterday\n",
        "a.markdown": "# June 9, 2025\n\nhttps://arxiv.org/abs/2506.00002\n",
        "b.MD": "# June 9, 2025\n\nhttps://arxiv.org/abs/2506.00003\n",
        "c.txt": "# June 9, 2025\n\n1. https://arxiv.org/abs/2506.00004\n",
        "d.md": "# June 9, 2025\n\nCafé https://arxiv.org/abs/2506.00005\n".encode("cp1252"),
        "figure.png": b"\x89PNG"}, skipped, notes)
    assert sorted(found) == [("2025-W24", ("2506.00002",)), ("2025-W24", ("2506.00003",)),
                             ("2025-W24", ("2506.00004",)), ("2025-W24", ("2506.00005",)),
                             ("2025-W25", ("cs/0601001", "2506.10943", "2506.09790"))]
    assert any("ids.txt line 5: not `arXiv-id YYYY-MM-DD`" in s and "yesterday" in s for s in skipped)
    assert any("1 files that are not markdown or text (.png)" in s for s in skipped)
    assert any("d.md is not UTF-8" in n for n in notes)


def _listed(arxiv_id: str, week: str):
    year, number = (int(x) for x in week.split("-W"))
    wednesday = datetime.combine(date.fromisocalendar(year, number, 3), datetime.min.time(), timezone.utc)
    return replace(candidate(arxiv_id), published=wednesday.replace(hour=12), updated=wednesday.replace(hour=12))


class FakeArxiv:
    """arXiv as the import asks it: `listings` {week: ids announced}; `asked` the (week, categories) asked."""

    def __init__(self, listings: dict[str, list[str]]):
        self.listings, self.asked = listings, []

    def search(self, window, categories):
        self.asked.append((window.label, tuple(categories)))
        return [_listed(i, window.label) for i in self.listings.get(window.label, [])]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_reimporting_an_archive_makes_its_weeks_picks_what_it_says_now(tmp_path):
    (tmp_path / "a").mkdir()
    arxiv = FakeArxiv({"2025-W24": ["2506.00001", "2506.00002"], "2025-W23": ["2506.00009"]})
    history = tmp_path / "h"
    for picks, expected in ((("2506.00001", "2506.00002"), ["2506.00001", "2506.00002"]), (("2506.00002",), ["2506.00002"])):
        (tmp_path / "a" / "d.md").write_text("# 2025-W24\n\n" + "".join(f"- arXiv:{p}\n" for p in picks))
        archive.import_issues(find_issues(tmp_path / "a"), history, arxiv, ["cs.LG"])
        assert json.loads((history / "picks.json").read_text())["2025-W24"]["picks"] == expected


def test_a_listing_is_kept_per_week_and_categories_and_an_empty_one_is_fetched_again(tmp_path):
    issue = archive.Issue("2025-W24", ("2506.00001",), "src", "d.md")
    arxiv = FakeArxiv({"2025-W24": ["2506.00001"]})  # the week before, W23, comes back empty
    history = tmp_path / "h"
    done = archive.import_issues([issue], history, arxiv, ["cs.LG"])
    assert [w for w, _ in arxiv.asked] == ["2025-W23", "2025-W24"]
    assert done.empty == ["2025-W23: arXiv answered no paper in cs.LG; not kept, fetched again by the next import"]
    assert json.loads((history / "listings.json").read_text()) == {"2025-W24": {"categories": ["cs.LG"]}}
    archive.import_issues([issue], history, arxiv, ["cs.LG"])
    assert arxiv.asked[2:] == [("2025-W23", ("cs.LG",))]  # W24 from disk, the empty W23 asked again
    archive.import_issues([issue], history, arxiv, ["cs.AI", "cs.LG"])
    assert [w for w, _ in arxiv.asked[3:]] == ["2025-W23", "2025-W24"]  # other categories: fetched again
    archive.import_issues([issue], history, arxiv, ["cs.AI", "cs.LG"], refetch=True)
    assert len(arxiv.asked) == 7


def _import(tmp_path, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from flows.cli import main

    monkeypatch.setattr("flows.candidates.arxiv.ArxivClient", lambda settings: FakeArxiv(
        {"2025-W24": ["2506.00001", "2506.00002"], "2025-W25": ["2506.00003"]}))
    code = main(["taste", "import", str(tmp_path / "a"), "--history-dir", str(tmp_path / "h"), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_import_prints_each_issue_with_its_week_and_picks(tmp_path, settings_env, monkeypatch, capsys):
    (tmp_path / "a").mkdir()
    for n in range(3):  # three issues of one week count as three
        (tmp_path / "a" / f"{n}.md").write_text("# June 16, 2025\n\n- arXiv:2506.00003\n- arXiv:2506.00001\n"
                                                "- arXiv:2301.00001\n")
    code, out, _ = _import(tmp_path, monkeypatch, capsys)
    assert code == 0 and out.startswith("3 issues in ")
    assert "issue 0.md 'June 16, 2025': week 2025-W25, 3 picks (1 in 2025-W25, 1 in 2025-W24)" in out
    assert "not in the cs.AI,cs.LG,cs.CL,cs.CV listings of their week or the week before" in out
    assert "--categories chooses them" in out and "2301.00001" in out


def test_bad_categories_and_a_history_dir_that_is_a_file_are_one_line(tmp_path, settings_env, monkeypatch, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "d.md").write_text("# June 16, 2025\n\n- arXiv:2506.00003\n")
    code, _, err = _import(tmp_path, monkeypatch, capsys, "--categories", "cs.AI,cs.XX")
    assert code == 2 and "unknown arXiv category 'cs.XX': closest valid ones:" in err
    (tmp_path / "h").write_text("a file")
    code, _, err = _import(tmp_path, monkeypatch, capsys)
    assert code == 2 and err.strip() == f"top5: taste import: history folder {tmp_path / 'h'} is a file, not a folder (--history-dir)"


def test_eval_names_the_weeks_and_picks_an_editor_weeks_folder_leaves_out(tmp_path, caplog):
    import logging

    archive.write_listing(tmp_path / "2025-W24.jsonl.gz", [_listed("2506.00001", "2025-W24"),
                                                          _listed("2506.00002", "2025-W24")])
    archive.write_listing(tmp_path / "2025-W25.jsonl.gz", [])
    archive.write_listing(tmp_path / "2025-W26.jsonl.gz", [_listed("2506.00003", "2025-W26")])
    (tmp_path / "picks.json").write_text(json.dumps({
        "2025-W24": {"picks": ["2506.00001v2", "2506.0000x", "2506.00009"]},
        "2025-W25": {"picks": ["2506.00004"]}, "2025-W26": {"picks": []}}))
    with caplog.at_level(logging.WARNING):
        weeks = archive.editor_weeks(tmp_path)
    assert [(w.name, set(w.picks)) for w in weeks] == [("2025-W24", {"2506.00001"}), ("2025-W25", set()),
                                                       ("2025-W26", set())]
    [line] = [r.getMessage() for r in caplog.records]
    for named in ("empty listing: 2025-W25", "no picks: 2025-W26", "no arXiv id: 2025-W24 '2506.0000x'",
                  "not in their week's listing: 2025-W24 2506.00009"):
        assert named in line


def test_weeks_an_upvotes_file_does_not_reach_have_unknown_upvotes_not_zeros(caplog):
    import logging

    from flows.shortlist.learned import History
    from flows.shortlist.popularity import Featured
    from flows.shortlist.replay import with_upvotes

    weeks = [History(w, [_listed(f"2506.0000{n}", w)], frozenset()) for n, w in enumerate(("2025-W10", "2025-W24"))]
    rows = [Featured(id="2506.00001", date=date(2025, 6, 11), upvotes=7)]
    with caplog.at_level(logging.WARNING):
        early, covered = with_upvotes(weeks, rows)
    assert early.upvotes is None and covered.upvotes == {"2506.00001": 7}
    assert "1 weeks outside it have no upvotes known (2025-W10)" in caplog.text


def test_references_and_related_work_cite_papers_and_are_no_picks(tmp_path):
    skipped: list[str] = []
    found = _issues(tmp_path, {"2025-06-16.md": (
        "# Top 5, June 16, 2025\n\n- [Pick A](https://arxiv.org/abs/2506.00001)\n- [Pick B](https://arxiv.org/abs/2506.00002)\n"
        "\n## Related work\n\nBuilds on arXiv:1706.03762 and https://arxiv.org/abs/2506.00009.\n"
        "\n## Pick C\n\n[Paper](https://arxiv.org/abs/2506.00003)\n\n"
        "Sources: [1] https://arxiv.org/pdf/2401.00001v2 [2] https://huggingface.co/papers/2402.00002\n")}, skipped)
    assert found == [("2025-W25", ("2506.00001", "2506.00002", "2506.00003"))]
    assert any("4 papers cited under References, Related work, Sources" in line for line in skipped)


def test_a_paper_line_under_the_title_does_not_date_the_issue(tmp_path):
    found = _issues(tmp_path, {"2025-06-16.md": "# My digest\n\n- [Released June 2, 2025: Paper A](https://arxiv.org/abs/"
                                                "2506.00001)\n- [Paper B](https://arxiv.org/abs/2506.00002)\n"})
    assert found == [("2025-W25", ("2506.00001", "2506.00002"))]


@pytest.mark.timeout(120)  # a guard against a hang, not a measurement: the old heading pattern took ~40 min here
def test_one_long_line_is_read_at_once(tmp_path):
    for line in ("a" * 1_000_000, "# " + " #" * 200_000, "**" + "x" * 500_000):
        assert _issues(tmp_path, {"2025-06-16.md": f"{line}\n[p](https://arxiv.org/abs/2306.17848)\n"}) == [
            ("2025-W25", ("2306.17848",))]
