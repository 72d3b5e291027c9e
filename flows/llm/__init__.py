"""The LLM layer: one OpenAI-compatible client for every stage (retries, budget, cache, usage),
or the embedded offline model when no LLM is configured. `open_llm(settings)` yields an `LLM`."""

from flows.llm.client import LLM, STAGES, Usage, extract_json, open_llm

__all__ = ["LLM", "STAGES", "Usage", "extract_json", "open_llm"]
