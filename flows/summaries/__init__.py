"""PDF text -> summaries: one section per pick in the editor's voice, grounded in the paper's
text (grounding.py) and checked against the house style (lint.py)."""

from flows.summaries.section import Figure, Section, Voice, digest_style_dir, summarize, voice_for

__all__ = ["Figure", "Section", "Voice", "digest_style_dir", "summarize", "voice_for"]
