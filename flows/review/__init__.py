"""Merged weekly digests -> the year in review: the editor's published picks of a period
(candidates), a first order from the signals and the LLM's tournament (choose), the top three
at length and seven paragraphs (writing), the review's folder (pages). The flow is
flows/year_review.py; `top5 review` is command.py."""
