"""arXiv -> candidates: the week's window, the arXiv API client, Atom parsing, and the ledger of
papers already featured. `ArxivClient.search(window, categories)` gives the week's candidates."""

from flows.candidates.arxiv import ArxivClient
from flows.candidates.candidate import Candidate, cut_note, merge, split_version, within_limits
from flows.candidates.feed import FeedPage, parse_api_feed
from flows.candidates.ledger import featured_ids, ids_in, ordered_ids
from flows.candidates.taxonomy import parse_categories
from flows.candidates.week import Window, check_complete, last_complete_week, window_between, window_for_week

__all__ = ["check_complete", "ArxivClient", "Candidate", "cut_note", "FeedPage", "Window", "featured_ids", "ids_in", "last_complete_week",
           "merge", "ordered_ids", "parse_api_feed", "parse_categories", "split_version", "window_between", "window_for_week",
           "within_limits"]
