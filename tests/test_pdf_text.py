"""Tests for flows.pdf: cleaning, sections, captions, typed failures, the killing pool."""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pdf_builders import build_pdf, write_slow_pdf, write_text_pdf  # noqa: E402

from flows.errors import PdfError  # noqa: E402
from flows.pdf import REASONS, Extraction, extract_many, extract_pdf  # noqa: E402
from flows.pdf.clean import clean_text  # noqa: E402
from flows.summaries.prompt_text import select_for_prompt  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
PAPERS = SHARED / "pdf"
BADPDF = SHARED / "badpdf"


def paper(name: str) -> Path:
    path = PAPERS / name
    if not path.exists():
        pytest.skip(f"../shared/fixtures not found: {path} (real arXiv PDFs live outside the repo)")
    return path


def raw_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


# --------------------------------------------------------------------------- clean_text, synthetic


def test_clean_text_applies_nfkc_to_ligatures():
    assert clean_text("a \ufb01ne e\ufb00ect, \ufb02oat") == "a fine effect, float"


def test_clean_text_joins_words_hyphenated_across_lines():
    assert clean_text("during train-\ning the model") == "during training the model"


def test_clean_text_keeps_compounds_the_text_also_writes_with_a_hyphen():
    raw = "We read left-to-\nright. Reading left-to-right is common. A pre-\ntrained model is pre-trained."
    cleaned = clean_text(raw)
    assert "read left-to-right." in cleaned
    assert "A pre-trained model" in cleaned


def test_clean_text_keeps_hyphen_before_a_capital_or_digit():
    assert clean_text("the RL-\nCAI model and GPT-\n3 too") == "the RL-CAI model and GPT-3 too"


def test_clean_text_removes_the_arxiv_side_stamp():
    raw = "Title of the paper\narXiv:2212.08073v1  [cs.CL]  15 Dec 2022\nBody text."
    assert clean_text(raw) == "Title of the paper\nBody text."


def test_clean_text_strips_control_and_private_use_characters():
    assert clean_text("F(x)\x01+\x01x and \ue000glyph\x0c") == "F(x)+x and glyph"


def test_clean_text_drops_running_headers_and_page_numbers():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    pages = [
        f"Journal of Tests, Vol. 7, page {n}\n" + "\n".join(f"{w} on page {n}: {w * n}." for w in words) + f"\n{n}"
        for n in range(1, 5)
    ]
    cleaned = clean_text("\f".join(pages))
    assert "Journal of Tests" not in cleaned
    assert "alpha on page 3: alphaalphaalpha." in cleaned and "theta on page 4" in cleaned
    assert not any(line.strip().isdigit() for line in cleaned.splitlines())


def test_clean_text_keeps_the_only_line_of_a_short_page():
    assert clean_text("\f".join(f"Page{n}" for n in range(1, 5))) == "Page1\nPage2\nPage3\nPage4"


# --------------------------------------------------------------------------- a synthetic paper end to end


def synthetic_paper(path: Path) -> Path:
    header = "Proceedings of Synthetic Papers 2025"
    pages = [
        [header, "A Tiny Paper", "Abstract", "We study tiny papers. Code: https://github.com/example/tiny-paper.",
         "1 Introduction", "Tiny papers are everywhere. They are short.", "1"],
        [header, "2 Method", "We count the words on every page.", "Figure 1: Word counts per page of a tiny paper.",
         "3 Results", "Counting works well. Counting is fast.", "2"],
        [header, "4 Conclusion", "Tiny papers can be counted.", "References", "[1] A. Author. Counting. 2020.",
         "A Appendix", "Extra tables live here.", "3"],
    ]
    return write_text_pdf(path, pages)


def test_extract_pdf_finds_sections_captions_and_urls_of_a_synthetic_paper(tmp_path):
    text = extract_pdf(synthetic_paper(tmp_path / "tiny.pdf"))
    assert (text.pages, text.pages_read) == (3, 3)
    assert text.sections["abstract"].startswith("We study tiny papers.")
    assert text.sections["introduction"] == "Tiny papers are everywhere. They are short."
    assert text.sections["method"] == "We count the words on every page.\nFigure 1: Word counts per page of a tiny paper."
    assert text.sections["results"] == "Counting works well. Counting is fast."
    assert text.sections["conclusion"] == "Tiny papers can be counted."
    assert text.sections["references"] == "[1] A. Author. Counting. 2020."
    assert "Extra tables live here." in text.sections["appendix"]
    assert [(c.kind, c.number, c.text, c.page) for c in text.captions] == [
        ("figure", "1", "Word counts per page of a tiny paper.", 2)
    ]
    assert text.urls == ("https://github.com/example/tiny-paper",)
    assert "Proceedings of Synthetic Papers" not in text.body  # running header
    assert "[1] A. Author" not in text.body and "Extra tables" not in text.body
    assert text.seconds > 0


def test_page_cap_limits_pages_read(tmp_path):
    path = write_text_pdf(tmp_path / "long.pdf", [[f"Page {n} talks about topic {n}."] for n in range(1, 11)])
    text = extract_pdf(path, max_pages=4)
    assert (text.pages, text.pages_read) == (10, 4)
    assert "topic 4." in text.body and "topic 5." not in text.body


# --------------------------------------------------------------------------- typed failures, synthetic


def test_not_pdf_empty_and_too_large_are_typed_and_name_the_file(tmp_path):
    html = tmp_path / "2401.00001v1.pdf"
    html.write_text("<html><body>Rate limited</body></html>")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    big = synthetic_paper(tmp_path / "big.pdf")
    for path, reason, kwargs in [(html, "not_pdf", {}), (empty, "empty", {}), (big, "too_large", {"max_bytes": 100})]:
        with pytest.raises(PdfError) as info:
            extract_pdf(path, **kwargs)
        assert info.value.reason == reason
        assert str(path) in str(info.value)


def test_pdf_error_survives_pickling(tmp_path):
    with pytest.raises(PdfError) as info:
        extract_pdf(tmp_path / "missing.pdf")
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.reason, clone.message) == (info.value.reason, info.value.message)


def test_password_protection_is_typed_but_an_empty_user_password_is_read(tmp_path):
    pytest.importorskip("cryptography", reason="AES encryption needs the cryptography package")
    from pypdf import PdfReader, PdfWriter

    plain = synthetic_paper(tmp_path / "plain.pdf")
    for password, name in [("secret", "locked.pdf"), ("", "open.pdf")]:
        writer = PdfWriter(clone_from=PdfReader(plain))
        writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
        writer.write(tmp_path / name)
    with pytest.raises(PdfError) as info:
        extract_pdf(tmp_path / "locked.pdf")
    assert info.value.reason == "encrypted"
    assert "locked.pdf" in info.value.message
    assert extract_pdf(tmp_path / "open.pdf").sections["conclusion"] == "Tiny papers can be counted."


def test_a_download_cut_in_half_is_truncated_and_named(tmp_path):
    data = paper("2212.08410v3.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 2])
    [result] = extract_many([cut], timeout=30)
    assert (result.text, result.reason) == (None, "truncated")
    assert str(cut) in result.detail


def test_page_without_text_is_no_text_layer(tmp_path):
    path = tmp_path / "blank.pdf"
    path.write_bytes(build_pdf([b"0 0 m 100 100 l S", b"0 0 m 50 50 l S"]))
    with pytest.raises(PdfError) as info:
        extract_pdf(path)
    assert info.value.reason == "no_text_layer"


# --------------------------------------------------------------------------- the pool


def test_extract_many_keeps_order_and_isolates_bad_files(tmp_path):
    good = synthetic_paper(tmp_path / "good.pdf")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n%%EOF\n")
    html = tmp_path / "page.pdf"
    html.write_text("<html></html>")
    results = extract_many([bad, good, html, good], timeout=30, workers=2)
    assert [r.path for r in results] == [str(bad), str(good), str(html), str(good)]
    assert [r.reason for r in results] == ["broken", None, "not_pdf", None]
    assert results[1].text.sections["results"] == "Counting works well. Counting is fast."
    assert "bad.pdf" in results[0].detail


def test_a_hanging_file_is_killed_and_the_others_still_finish(tmp_path):
    slow = write_slow_pdf(tmp_path / "slow.pdf", operators=1_000_000)  # pypdf needs >15 s for this page
    good = synthetic_paper(tmp_path / "good.pdf")
    started = time.monotonic()
    results = extract_many([slow, good], timeout=3.0, workers=1)
    elapsed = time.monotonic() - started
    assert results[0].reason == "timeout" and results[0].text is None
    assert "slow.pdf" in results[0].detail
    # workers=1: the good file ran after the slow one was killed, in a fresh worker
    assert results[1].reason is None and results[1].text.sections["conclusion"] == "Tiny papers can be counted."
    assert elapsed < 12, f"the hanging worker was waited on ({elapsed:.1f} s), not killed"


def test_tiny_timeout_on_a_real_paper_is_timeout_and_the_pool_recovers():
    real = paper("2212.08073v1.pdf")
    [result] = extract_many([real], timeout=0.01)
    assert result == Extraction(str(real), None, "timeout", result.detail)
    [again] = extract_many([real], timeout=60)
    assert again.reason is None and again.text.pages == 34


# --------------------------------------------------------------------------- every bad PDF of the fixtures

CANNOT_OPEN = {"no-startxref_pdfminer_simple1.pdf", "evil-xobjects_pdfminer_issue-1113.pdf"}
PASSWORD = {
    "encrypted_pdfminer_aes128_pw-foo.pdf", "encrypted_pdfminer_aes256-r6_pw-usersecret.pdf",
    "encrypted_pdfminer_rc4-40_pw-foo.pdf", "encrypted_pypdf_aes128_r4_pw-asdfzxcv.pdf",
    "encrypted_pypdf_aes256_pw-password.pdf", "encrypted_pypdf_encrypted-file_pw-test.pdf",
    "encrypted_pypdf_libreoffice_pw-openpassword.pdf", "encrypted_pypdf_rc4-40_r2_pw-asdfzxcv.pdf",
    "encrypted_unstructured_pw-password.pdf",
}
NO_TEXT = {
    "encrypted_pypdf_no-trailer-ID_empty-pw.pdf", "image-only_pdfminer_jbig2.pdf", "image-only_pypdf_ccittfax.pdf",
    "scanned-no-text_docling_ocr_test.pdf", "scanned-no-text_markitdown_medical_report_3pp.pdf",
}
TEXT = {  # file -> text the extraction must contain (EXPECTED.md: "extract text normally")
    "bad-colorspace_unstructured.pdf": None,
    "bad-offsets_pypdf_toy.pdf": "AWAY again1",
    "broken-xref_pypdf_issue-297.pdf": "test example",
    "corrupted_pdfminer_zen_of_python.pdf": "Beautiful is better than ugly.",
    "invalid-structure_unstructured_pdfminer-one-page.pdf": "Cybersecurity",
    "missing-xref-trailer_pdfminer.pdf": "Page1\nPage2\nPage3\nPage4",
    "xref-stream-widths_pdfminer_issue-886.pdf": "Hello",
    "scanned-with-ocr-layer_pypdf_vicksburg.pdf": "VICKSBURG",
    "garbage-ocr-layer_unstructured.pdf": "POAH",  # garbage OCR is still a text layer (not judged here)
}
NEEDS_CRYPTO = {  # AES with an empty user (or owner) password: readable only with `cryptography`
    "copy-protected_unstructured_arxiv-2103.15348.pdf": "LayoutParser",
    "encrypted_pypdf_aes256_r6_userpw-asdfzxcv_ownerpw-empty.pdf": "pdf encryption test",
}


@pytest.fixture(scope="module")
def badpdf_results() -> dict[str, Extraction]:
    if not BADPDF.is_dir():
        pytest.skip(f"../shared/fixtures not found: {BADPDF}")
    paths = sorted(BADPDF.glob("*.pdf"))
    return {Path(r.path).name: r for r in extract_many(paths, timeout=30)}


def test_every_bad_pdf_ends_in_text_or_a_typed_reason(badpdf_results):
    names = {p.name for p in BADPDF.glob("*.pdf")}
    assert set(badpdf_results) == names
    assert names == CANNOT_OPEN | PASSWORD | NO_TEXT | set(TEXT) | set(NEEDS_CRYPTO), "a new fixture needs a rule"
    for name, result in badpdf_results.items():
        assert (result.text is None) != (result.reason is None), name
        if result.reason:
            assert result.reason in REASONS and result.reason != "timeout", (name, result.detail)
            assert name in result.detail


def test_bad_pdf_reasons_follow_expected_md(badpdf_results):
    for name in CANNOT_OPEN:
        assert badpdf_results[name].reason == "broken"
        assert "startxref" in badpdf_results[name].detail
    for name in PASSWORD:
        assert badpdf_results[name].reason == "encrypted", name
    for name in NO_TEXT:
        assert badpdf_results[name].reason == "no_text_layer", name
    for name, expected in TEXT.items():
        result = badpdf_results[name]
        assert result.reason is None, (name, result.detail)
        if expected:
            assert expected in result.text.body, name


def test_aes_files_with_an_empty_password_are_read(badpdf_results):
    # pypdf[crypto] is a dependency: AES papers with an empty user password, like real arXiv ones, are read
    for name, expected in NEEDS_CRYPTO.items():
        assert expected in badpdf_results[name].text.body, name


# --------------------------------------------------------------------------- real papers


@pytest.fixture(scope="module")
def cai():
    return extract_pdf(paper("2212.08073v1.pdf"))


def test_constitutional_ai_sections_captions_and_code_url(cai):
    assert cai.sections["abstract"].startswith("As AI systems become more capable, we would like to enlist")
    assert cai.sections["introduction"].startswith(
        "We would like to train AI systems that remain helpful, honest, and harmless")
    assert "Evaluating the Potential for AI Supervision" not in cai.sections["introduction"]  # section 2
    assert "1.1 Motivations" in cai.sections["introduction"]  # subsections stay inside
    assert cai.sections["appendix"].startswith("A Sample critiques and revisions")
    assert cai.sections["references"].startswith("[Askell et al., 2021] Askell, A.")
    assert "[Askell et al., 2021] Askell, A." not in cai.body
    fig1 = next(c for c in cai.captions if (c.kind, c.number) == ("figure", "1"))
    assert fig1.page == 2 and "Constitutional AI (CAI) process" in fig1.text
    assert "https://github.com/anthropics/ConstitutionalHarmlessnessPaper" in cai.urls


def test_clean_text_on_a_real_paper():
    pages = raw_pages(paper("2212.08073v1.pdf"))
    raw = "\f".join(pages)
    assert "\ufb01" in raw and "super-\nvised" in raw and "arXiv:2212.08073v1" in raw  # what pypdf gives
    cleaned = clean_text(raw)
    assert "\ufb01" not in cleaned and "through the specification\nof a short list of principles" in cleaned
    assert "super-\nvised" not in cleaned and "a supervised learning (SL) stage" in cleaned
    assert "chain-of-thought" in cleaned and "chainofthought" not in cleaned
    assert "arXiv:2212.08073v1" not in cleaned
    assert pages[1].rstrip().endswith("\n2")  # page number at the foot of page 2 ...
    assert "harmful aims. See\n" in raw and "for more discussion of our operational definitions of helpful and " \
        "harmless.\nPretrained" in cleaned  # ... is gone: page 2's last line runs into page 3's first


def test_running_header_removed_on_granite_report():
    pages = raw_pages(paper("nonarxiv_granite-3.0-language-models-report.pdf"))[:10]
    assert sum(p.startswith("IBM Granite Language Models") for p in pages) >= 8
    cleaned = clean_text("\f".join(pages))
    assert "IBM Granite Language Models" not in cleaned


def test_multilexsum_sections_and_captions():
    text = extract_pdf(paper("2206.10883v3.pdf"))
    assert text.sections["abstract"].startswith("With the advent of large language models")
    assert text.sections["introduction"].startswith("Automatic summarization is a longstanding goal")
    assert text.sections["results"].startswith("Our experiments on Multi-LexSum focus on two questions")
    assert text.sections["conclusion"].startswith("In this paper, we introduce Multi-LexSum")
    assert text.sections["appendix"].startswith("A Multi-LexSum release")
    captions = {(c.kind, c.number): c for c in text.captions}
    assert captions[("figure", "1")].page == 5
    assert captions[("figure", "1")].text == "The pipeline of creating summaries and structured data for lawsuits."
    assert captions[("table", "1")].page == 3 and "Three different summaries" in captions[("table", "1")].text
    assert "https://multilexsum.github.io" in text.urls


def test_pasa_numbered_subsections_and_appendix():
    text = extract_pdf(paper("2501.10120v1.pdf"))
    assert text.sections["method"].startswith("4.1 Overview")
    assert text.sections["results"].startswith("5.1 Experimental Setting")
    assert text.sections["conclusion"].startswith("In this paper, we introduce PaSa")
    assert text.sections["appendix"].startswith("A Implementation Details of the Crawler")
    fig1 = next(c for c in text.captions if (c.kind, c.number) == ("figure", "1"))
    assert fig1.page == 2 and fig1.text.startswith("Architecture of PaSa.")
    assert "https://github.com/bytedance/pasa" in text.urls


def test_upper_case_headings_of_an_astronomy_paper():
    text = extract_pdf(paper("1707.04066v1.pdf"))
    assert text.sections["abstract"].startswith("We analyzed data from the first year of a survey for Near Earth")
    assert text.sections["introduction"].startswith("Near Earth Objects (NEOs) are minor Solar System bodies")
    assert text.sections["conclusion"].startswith("We are carrying out a 30 night survey")
    fig8 = next(c for c in text.captions if (c.kind, c.number) == ("figure", "8"))
    assert fig8.page == 19 and "cumulative debiased size distribution of NEOs" in fig8.text
    assert "https://bitbucket.org/mpcdev/digest2" in text.urls


def test_ieee_roman_numbered_paper_and_roman_table_numbers():
    text = extract_pdf(paper("1801.07779v1.pdf"))
    assert text.sections["abstract"].startswith("This paper describes the WiLI-2018 benchmark")
    assert text.sections["introduction"].startswith("The identification of written natural language")
    table1 = next(c for c in text.captions if (c.kind, c.number) == ("table", "I"))
    assert table1.page == 2 and "VarDial Workshop 2014" in table1.text


def test_unnumbered_headings_of_an_aaai_paper():
    text = extract_pdf(paper("2202.00535v1.pdf"))
    assert text.sections["introduction"].startswith("The task of paraphrase generation aims at rephrasing")
    assert text.sections["conclusion"].startswith("In this paper, we propose RAPT")
    assert text.sections["references"].startswith("Brown, T.; Mann, B.")


def test_page_cap_on_a_79_page_review():
    text = extract_pdf(paper("2407.01603v3.pdf"), max_pages=5)
    assert (text.pages, text.pages_read) == (79, 5)


# --------------------------------------------------------------------------- select_for_prompt


def test_select_for_prompt_keeps_priority_and_budget(cai):
    small = select_for_prompt(cai, budget_tokens=300)
    assert len(small) <= 300 * 4
    assert small.startswith("## Abstract\nAs AI systems become more capable")
    assert small.rstrip().endswith(".")  # cut at a sentence end, not mid-sentence
    full = select_for_prompt(cai, budget_tokens=3000)
    assert len(full) <= 3000 * 4
    order = [full.index(f"## {name}") for name in ("Abstract", "Introduction", "Results", "Captions")]
    assert order == sorted(order)
    assert "Figure 1: We show the basic steps of our Constitutional AI (CAI) process" in full


def test_select_for_prompt_falls_back_to_body(tmp_path):
    path = write_text_pdf(tmp_path / "plain.pdf", [["Just some text without headings. It has two sentences."]])
    assert select_for_prompt(extract_pdf(path)) == "## Text\nJust some text without headings. It has two sentences."


def test_reasons_lists_every_reason_the_code_gives_and_no_other():
    import re

    import flows.candidates.arxiv
    import flows.pdf

    given: set[str] = set()
    for path in [*Path(flows.pdf.__file__).parent.glob("*.py"), Path(flows.candidates.arxiv.__file__)]:
        code = path.read_text(encoding="utf-8")
        given |= set(re.findall(r'reason="(\w+)"', code))
        given |= set(re.findall(r'_fail\(\w+, "(\w+)"', code))
        given |= set(re.findall(r'Extraction\([^()]*?None, "(\w+)"', code))
        given |= {r for pair in re.findall(r'"(\w+)" if _has_eof\(\w+\) else "(\w+)"', code) for r in pair}
    assert given == set(REASONS)
