"""The ledger: papers featured in earlier digests are left out of later weeks."""

from flows.candidates.ledger import featured_ids, ids_in


def test_reads_ids_from_every_digest_but_the_current_week(tmp_path):
    (tmp_path / "2026-W46").mkdir()
    (tmp_path / "2026-W46" / "papers.md").write_text("[Paper](https://arxiv.org/abs//2306.17848)\n")
    (tmp_path / "2026-W47").mkdir()
    (tmp_path / "2026-W47" / "README.md").write_text("[Paper](https://arxiv.org/abs/2611.00001v2)\n")
    assert featured_ids(tmp_path) == {"2306.17848", "2611.00001"}
    assert featured_ids(tmp_path, except_week="2026-W47") == {"2306.17848"}
    assert featured_ids(tmp_path / "missing") == set()


def test_old_style_and_pdf_links():
    text = "see https://arxiv.org/abs/hep-ph/0301050v2 and http://arxiv.org/pdf/2212.08073v1"
    assert ids_in(text) == {"hep-ph/0301050", "2212.08073"}


def test_only_each_sections_own_link_is_a_pick():
    from flows.candidates.ledger import ordered_ids

    readme = ("# Digest\n\n## Paper 1: Name\n\nThis builds on https://arxiv.org/abs/2611.09999 and "
              "[that one](https://arxiv.org/abs/2611.08888).\n\n[Paper](https://arxiv.org/abs/2611.00001v2)\n\n"
              "## Paper 2: Other\n\nPaper: https://arxiv.org/abs/2611.00002\n#weeklytop5\n")
    assert ordered_ids(readme) == ["2611.00001", "2611.00002"]
    hand_written = readme + "\n## Paper 3: Hand-written\n\nI read [this paper](https://arxiv.org/abs/2611.00003) twice.\n"
    assert ordered_ids(hand_written) == ["2611.00001", "2611.00002", "2611.00003"]  # no link line: its first link
    papers = ("## Paper 1\n\nTitle\n\n[Paper](https://arxiv.org/abs//2306.17848)\n\nAbstract:\n\n"
              "We extend arxiv.org/abs/2301.00001 further.\n")
    assert ordered_ids(papers) == ["2306.17848"]


def test_bookmarks_rows_and_list_items_are_the_picks():
    from flows.candidates.ledger import ordered_ids

    page = ("|--- ||--- |\n|2026||[A title, arXiv](https://arxiv.org/abs/2611.00001)|\n"
            "||| It improves on https://arxiv.org/abs/2611.07777 a lot. |\n"
            "- [A title](https://arxiv.org/abs/2611.00001) · [code](https://github.com/a/b)\n"
            "- [B title](https://arxiv.org/abs/2611.00002)\n")
    assert ordered_ids(page) == ["2611.00001", "2611.00002"]
    assert ordered_ids("free prose naming arxiv.org/abs/2611.00003 inline") == ["2611.00003"]
