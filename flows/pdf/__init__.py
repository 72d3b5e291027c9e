"""PDFs -> PDF text: extraction in killable worker processes, cleaning, sections, captions and
figure images, with a typed reason for every PDF that could not be read."""

from flows.pdf.text import (
                            REASONS,
                            Caption,
                            Extraction,
                            PaperText,
                            extract_many,
                            extract_pdf,
                            read_texts,
                            save_page_image_bounded,
                            select_for_prompt,
)

__all__ = ["REASONS", "Caption", "Extraction", "PaperText", "extract_many", "extract_pdf", "read_texts",
           "save_page_image_bounded", "select_for_prompt"]
