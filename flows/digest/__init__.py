"""Summaries -> digest: the draft's pages rendered from a style's templates, written atomically
without ever overwriting the editor's edits; `swap.py` replaces one pick of a drafted week."""

from flows.digest.artifacts import publish_artifacts
from flows.digest.figures import with_images
from flows.digest.learning import what_was_learned
from flows.digest.lock import WeekLock
from flows.digest.pages import (
                                OFFLINE_BANNER,
                                check_unedited,
                                previous_swaps,
                                render_again,
                                render_to,
                                write,
                                write_pages,
)
from flows.digest.show import show

__all__ = ["OFFLINE_BANNER", "WeekLock", "publish_artifacts", "check_unedited", "previous_swaps", "render_again",
           "render_to", "show", "what_was_learned", "with_images",
           "write", "write_pages"]
