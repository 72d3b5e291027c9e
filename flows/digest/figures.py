"""The draft's figure images: each section's method and results figure cut from its PDF into the
week's figures/ folder, linked from the section, never over an image the editor replaced.

run.json records the hash of every image this tool wrote ("figures/<name>.png" in "written"); an
image whose bytes differ from that record (or that has none) is the editor's and is kept as it is.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flows.files import edited_since_written, sha256_bytes
from flows.pdf.figures import FigureJob, cut_figures
from flows.summaries.section import Figure, Section

FOLDER = "figures"


def image_path(folder: Path, arxiv_id: str, figure: Figure) -> Path:
    """Where `figure` of paper `arxiv_id` lives in the week's `folder`."""
    return folder / FOLDER / f"{arxiv_id.replace('/', '_')}-{figure.kind}-{figure.number}.png"


def with_images(folder: Path, section: Section, pdf: Path | None) -> tuple[Section, dict[str, str]]:
    """`section` with each figure's image cut from `pdf` and linked (relative to `folder`), and the
    hashes of the images written, by path relative to `folder`, for run.json.

    An image the editor replaced is linked and left alone. A figure that could not be cut adds a
    draft note saying why; nothing here raises for a bad PDF.
    """
    if pdf is None or not section.figures:
        return section, {}
    kept = {f: p for f in section.figures if (p := image_path(folder, section.arxiv_id, f)).exists()
            and edited_since_written(p, folder)}
    todo = [f for f in section.figures if f not in kept]
    jobs = [FigureJob(f.kind, f.number, f.page, f.caption, str(image_path(folder, section.arxiv_id, f))) for f in todo]
    cuts = dict(zip(todo, cut_figures(pdf, jobs)))
    figures, notes, hashes = [], list(section.notes), {}
    for fig in section.figures:
        path = kept.get(fig) or (Path(cuts[fig].image) if cuts[fig].image else None)
        if fig in cuts and path is not None:
            hashes[path.relative_to(folder).as_posix()] = sha256_bytes(path.read_bytes())
        elif path is None:
            notes.append(f"{fig.kind.title()} {fig.number} (page {fig.page}) could not be cut out of the PDF: "
                         f"{cuts[fig].reason}. Add a screenshot by hand if the section needs it.")
        figures.append(replace(fig, image=path.relative_to(folder).as_posix() if path else None))
    return replace(section, figures=tuple(figures), notes=tuple(notes)), hashes


def with_all_images(folder: Path, sections: list[Section],
                    pdfs: dict[str, Path]) -> tuple[list[Section], dict[str, str]]:
    """with_images for every section; the written images' hashes of all of them."""
    done, hashes = [], {}
    for section in sections:
        section, written = with_images(folder, section, pdfs.get(section.arxiv_id))
        done.append(section)
        hashes.update(written)
    return done, hashes
