"""Figures cut from real arXiv PDFs: the named figure's region and nothing of its neighbours, a
bad or slow PDF ends as a draft note, and an image the editor replaced is kept."""

from __future__ import annotations

import json

import pypdfium2 as pdfium
from PIL import Image

from flows.digest.figures import image_path, with_images
from flows.files import sha256_bytes
from flows.pdf.figures import FigureJob, cut_figures
from flows.pdf.layout import read_layout
from flows.pdf.regions import find_region
from flows.summaries.section import Figure, Section
from tests.conftest import FIXTURES, require_shared


def _pdf(name: str):
    return require_shared(FIXTURES / "pdf") / name


def _inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _box_of(layout, text: str):
    return next(r.box for r in layout.runs if r.text == text)


def test_a_figure_below_another_is_cut_without_its_neighbour():
    pdf = pdfium.PdfDocument(str(_pdf("nonarxiv_granite-3.0-language-models-report.pdf")))
    layout = read_layout(pdf[0])
    region = find_region(layout, "figure", "2", "Average performance of instruct models")
    assert _inside(_box_of(layout, "Instruct"), region.box)  # the plot's title and its bars
    assert not _inside(_box_of(layout, "Base"), region.box)  # Figure 1, just above
    assert region.box[1] >= region.caption[3] - 1  # above its own caption, not into it


def test_a_one_column_figure_stays_in_its_column():
    pdf = pdfium.PdfDocument(str(_pdf("1801.07779v1.pdf")))
    layout = read_layout(pdf[3], (pdf[4], pdf[5]))  # as the figure worker reads it: with the next pages
    region = find_region(layout, "figure", "3", "A typical Written Language Identification pipeline.")
    for label in ("Raw Text", "Language probabilities"):
        assert _inside(_box_of(layout, label), region.box)
    assert region.box[0] > layout.size[0] / 2 - 5  # the plot in the left column is not part of it


def test_a_table_is_cut_below_its_caption(tmp_path):
    pdf = _pdf("2501.10120v1.pdf")
    target = tmp_path / "table-5.png"
    [cut] = cut_figures(pdf, [FigureJob("table", "5", 8, "Results on AutoScholarQuery test set.", str(target))])
    assert cut.image == str(target) and cut.reason is None
    with Image.open(target) as image:
        assert 700 <= image.width <= 1200 and 200 <= image.height <= 500  # the whole table, not a rule of it
    layout = read_layout(pdfium.PdfDocument(str(pdf))[7])
    region = find_region(layout, "table", "5", "Results on AutoScholarQuery test set.")
    last_rows = [r.box for r in layout.runs if r.text == "PaSa-7b-ensemble"]  # Table 4 above ends with one too
    assert [_inside(box, region.box) for box in last_rows] == [False, True]


def test_a_missing_caption_and_a_broken_pdf_give_reasons_not_errors(tmp_path):
    jobs = [FigureJob("figure", "99", 1, "", str(tmp_path / "a.png")), FigureJob("figure", "1", 40, "", str(tmp_path / "b.png"))]
    cuts = cut_figures(_pdf("2212.08073v1.pdf"), jobs)
    assert [c.image for c in cuts] == [None, None]
    assert "Figure 99's caption was not found on page 1" in cuts[0].reason
    assert "page 40 is not in the PDF" in cuts[1].reason
    broken = require_shared(FIXTURES / "badpdf") / "no-startxref_pdfminer_simple1.pdf"
    [cut] = cut_figures(broken, [FigureJob("figure", "1", 1, "", str(tmp_path / "c.png"))])
    assert cut.image is None and cut.reason


def test_a_worker_that_does_not_finish_in_time_is_stopped_and_said(tmp_path):
    jobs = [FigureJob("figure", "1", 2, "", str(tmp_path / "a.png"))]
    [cut] = cut_figures(_pdf("2212.08073v1.pdf"), jobs, timeout=0.05)
    assert cut.image is None and "no result within 0.05 s" in cut.reason
    assert not (tmp_path / "a.png").exists()


def _section(*figures: Figure) -> Section:
    return Section("2212.08073", "Constitutional AI", "problem " * 5, "idea " * 5, "results " * 3, "take " * 3,
                   figures=figures)


def test_the_draft_links_each_cut_figure_and_notes_the_one_it_could_not_cut(tmp_path):
    section, written = with_images(tmp_path, _section(Figure("method", "figure", "1", 2, "We show the basic steps"),
                                                      Figure("results", "table", "7", 3, "Scores.")),
                                   _pdf("2212.08073v1.pdf"))
    method, results = section.figures
    assert method.image == "figures/2212.08073-figure-1.png"
    assert written == {method.image: sha256_bytes((tmp_path / method.image).read_bytes())}
    assert results.image is None
    assert any(n.startswith("Table 7 (page 3) could not be cut out of the PDF: Table 7's caption was not found")
               for n in section.notes)


def test_an_image_the_editor_replaced_is_kept(tmp_path):
    pdf = _pdf("2212.08073v1.pdf")
    figure = Figure("method", "figure", "1", 2, "We show the basic steps")
    first, written = with_images(tmp_path, _section(figure), pdf)
    (tmp_path / "run.json").write_text(json.dumps({"written": written}))
    path = image_path(tmp_path, "2212.08073", figure)
    drawn = path.read_bytes()

    path.write_bytes(b"\x89PNG the editor's own screenshot")
    again, written_again = with_images(tmp_path, _section(figure), pdf)
    assert path.read_bytes() == b"\x89PNG the editor's own screenshot"
    assert again.figures[0].image == first.figures[0].image and written_again == {}
    assert not again.notes

    (tmp_path / "run.json").write_text(json.dumps({"written": {first.figures[0].image: sha256_bytes(b"other")}}))
    path.write_bytes(drawn[:100])  # not what this tool recorded either: still the editor's
    with_images(tmp_path, _section(figure), pdf)
    assert path.read_bytes() == drawn[:100]


def test_an_image_this_tool_wrote_is_cut_again(tmp_path):
    pdf = _pdf("2212.08073v1.pdf")
    figure = Figure("method", "figure", "1", 2, "We show the basic steps")
    path = image_path(tmp_path, "2212.08073", figure)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stale")
    (tmp_path / "run.json").write_text(json.dumps({"written": {"figures/" + path.name: sha256_bytes(b"stale")}}))
    _, written = with_images(tmp_path, _section(figure), pdf)
    assert path.read_bytes() != b"stale" and written["figures/" + path.name] == sha256_bytes(path.read_bytes())
