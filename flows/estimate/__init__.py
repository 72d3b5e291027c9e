"""Stage 1 -> estimate: the LLM requests, tokens and dollars a run would spend, before it spends any.

From stage 1's order alone (no LLM request), the requests each stage would send are built as the
stages build them (the same templates, the same guarded paper text) and counted as the LLM layer's
budget counts them (LLM.prompt_tokens: CHARS_PER_TOKEN characters a token). What is not known
before the requests are sent is assumed, and named: the title screen keeps stage 1's order, each
answer is as long as a good model's (COMPLETION_TOKENS), each pick's PDF text fills TEXT_FILL of its
prompt budget, and no answer is asked again. `top5 run --dry-run` prints it; a real run logs it first and
refuses a run it says cannot fit TOP5_BUDGET_USD / TOP5_BUDGET_TOKENS.
"""

from flows.estimate.estimate import Estimate, StageEstimate, check_budget, estimate_run

__all__ = ["Estimate", "StageEstimate", "check_budget", "estimate_run"]
