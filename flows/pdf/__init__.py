"""PDFs -> PDF text: extraction in killable worker processes, cleaning, sections, captions, with a
typed reason for every PDF that could not be read; figures.py cuts the named figures out of the
rendered pages, in a bounded worker too."""

from flows.pdf.cache import read_texts
from flows.pdf.extract import extract_pdf
from flows.pdf.figures import FigureCut, FigureJob, cut_figures
from flows.pdf.paper import REASONS, Caption, Extraction, PaperText
from flows.pdf.pool import extract_many

__all__ = ["REASONS", "Caption", "Extraction", "FigureCut", "FigureJob", "PaperText", "cut_figures", "extract_many",
           "extract_pdf", "read_texts"]
