"""PDFs -> PDF text: extraction in killable worker processes, cleaning, sections, captions, with a
typed reason for every PDF that could not be read; figures.py cuts the named figures out of the
rendered pages, in a bounded worker too."""

from flows.pdf.figures import FigureCut, FigureJob, cut_figures
from flows.pdf.text import (
                            REASONS,
                            Caption,
                            Extraction,
                            PaperText,
                            extract_many,
                            extract_pdf,
                            read_texts,
                            select_for_prompt,
)

__all__ = ["REASONS", "Caption", "Extraction", "FigureCut", "FigureJob", "PaperText", "cut_figures", "extract_many",
           "extract_pdf", "read_texts", "select_for_prompt"]
