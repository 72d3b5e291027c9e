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
