"""The LLM layer: one OpenAI-compatible client for every stage (retries, deadline, budget, cache,
usage), or the embedded offline model when no LLM is configured. `open_llm(settings)` yields an
`LLM`; `sent_id` maps an id a model wrote back to one that was sent."""

from flows.llm.answers import extract_json, find_json, sent_id
from flows.llm.budget import STAGES, Usage
from flows.llm.client import LLM, open_llm

__all__ = ["LLM", "STAGES", "Usage", "extract_json", "find_json", "open_llm", "sent_id"]
