"""The estimate of a run's LLM use (see the package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows import prompts
from flows.errors import ConfigError
from flows.shortlist import ranking as cascade
from flows.shortlist import screen
from flows.summaries.section import SUMMARY_TOKENS, TEXT_BUDGET_TOKENS, SectionFields, request_messages
from flows.summaries.source import paper_source
from flows.text import estimate_tokens

# tokens of a good model's answer: a title score ({"id", "score"}), an abstract score with its
# one-line reason, a section's five fields in the house style (2-5 short paragraphs)
COMPLETION_TOKENS = {"screen": 12, "rank": 45, "summaries": SUMMARY_TOKENS // 2}
# the share of its TEXT_BUDGET_TOKENS a pick's PDF text takes in the prompt: the sections it is chosen
# from (abstract, introduction, results, conclusion, captions) averaged ~1,100 of 3,000 tokens on the
# shared week's PDFs (bench/dry_run.py prints the estimate against the run)
TEXT_FILL = 0.4


@dataclass(frozen=True)
class StageEstimate:
    """One stage's requests, prompt and completion tokens, and their price in US dollars."""

    stage: str
    model: str
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Estimate:
    """What a run would send: the funnel (candidates, new, screened, shortlisted, picks) and each
    stage's requests; `offline`: the embedded model (no cost, it neither screens nor ranks)."""

    funnel: dict[str, int]
    stages: list[StageEstimate] = field(default_factory=list)
    offline: bool = False

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.stages)

    @property
    def cost_usd(self) -> float:
        return sum(s.cost_usd for s in self.stages)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.stages)

    def lines(self) -> list[str]:
        """The estimate as the terminal and the run's log show it, one line each."""
        f = self.funnel
        out = [f"Funnel: {f['candidates']} candidates → {f['new']} new → {f['screened']} screened → "
               f"{f['shortlisted']} shortlisted → {f['picks']} picks"]
        out += [f"{s.stage}: {s.requests} requests to {s.model}, ~{s.prompt_tokens:,} prompt + "
                f"~{s.completion_tokens:,} completion tokens, ~${s.cost_usd:.4f}" for s in self.stages]
        cost = "no cost (local model)" if self.offline else f"~${self.cost_usd:.4f}"
        out.append(f"Estimate: {self.requests} LLM requests, ~{self.tokens:,} tokens, {cost}")
        return out

    def to_json(self) -> dict:
        return {"funnel": self.funnel, "stages": [vars(s) | {"cost_usd": round(s.cost_usd, 6)} for s in self.stages],
                "tokens": self.tokens, "cost_usd": round(self.cost_usd, 6)}


def estimate_run(scored: list, found: int, profile, llm, voice, *, size: int, screen_size: int,
                 top_k: int) -> Estimate:
    """The estimate for stage 1's `scored` (best first) of `found` candidates, with `llm`'s models,
    prices and JSON mode (no request is sent) and the summaries' `voice`; `size`, `screen_size`
    and `top_k` as the run's settings (TOP5_SHORTLIST_SIZE, TOP5_SCREEN_SIZE, --top-k)."""
    wide = scored[:screen_size] if not llm.offline and len(scored[:screen_size]) > size else []
    shortlist = scored[:size]
    picks = [s.candidate for s in shortlist[:top_k]]
    stages = [_screen(wide, profile, llm), _rank(shortlist, profile, llm), _summaries(picks, llm, voice)]
    funnel = dict(candidates=found, new=len(scored), screened=len(wide), shortlisted=len(shortlist), picks=len(picks))
    return Estimate(funnel, [s for s in stages if s.requests], llm.offline)


def _screen(wide: list, profile, llm) -> StageEstimate:
    system = prompts.render("screen_system.j2", profile=profile)
    requests = [screen.batch_messages([cascade.guarded(s.candidate) for s in wide[i:i + screen.SCREEN_BATCH]], system)
                for i in range(0, len(wide), screen.SCREEN_BATCH)]
    answers = [COMPLETION_TOKENS["screen"] * min(screen.SCREEN_BATCH, len(wide) - i)
               for i in range(0, len(wide), screen.SCREEN_BATCH)]
    return _stage("screen", "rank", llm, [llm.prompt_tokens(m, screen.ScreenAnswer) for m in requests], answers)


def _rank(shortlist: list, profile, llm) -> StageEstimate:
    """Two readings (for and against) of each batch of the shortlist, then of the final round."""
    if llm.offline:
        return StageEstimate("rank", llm.model_for("rank"))
    cands = [cascade.guarded(s.candidate) for s in shortlist]
    batches = [cands[i:i + cascade.RANK_BATCH] for i in range(0, len(cands), cascade.RANK_BATCH)]
    if len(cands) > 1:
        batches.append(sorted(cands[:cascade.FINAL_ROUND], key=lambda c: c.arxiv_id))
    systems = [prompts.render("rank_system.j2", profile=profile, against=against) for against in (False, True)]
    prompt, answers = [], []
    for batch in batches:
        user = prompts.render("rank_user.j2", papers=batch)
        for system in systems:
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            prompt.append(llm.prompt_tokens(messages, cascade.RankAnswer))
            answers.append(COMPLETION_TOKENS["rank"] * len(batch))
    return _stage("rank", "rank", llm, prompt, answers)


def _summaries(picks: list, llm, voice) -> StageEstimate:
    """One request per pick, its PDF text TEXT_FILL of the prompt budget (the abstract stands in, padded)."""
    prompt, answers = [], []
    for cand in picks:
        source = paper_source(cand, None, TEXT_BUDGET_TOKENS)
        tokens = llm.prompt_tokens(request_messages(source.paper, source.text, voice), SectionFields)
        prompt.append(tokens + max(0, int(TEXT_FILL * TEXT_BUDGET_TOKENS) - estimate_tokens(source.text)))
        answers.append(COMPLETION_TOKENS["summaries"])
    return _stage("summaries", "summarize", llm, prompt, answers)


def _stage(name: str, llm_stage: str, llm, prompt: list[int], answers: list[int]) -> StageEstimate:
    p, c = sum(prompt), sum(answers)
    return StageEstimate(name, llm.model_for(llm_stage), len(prompt), p, c, llm.price(llm_stage, p, c))


def check_budget(estimate: Estimate, budget_usd: float | None, budget_tokens: int | None) -> None:
    """Raise ConfigError (one line, nothing spent yet) when the estimate cannot fit the run's budget."""
    if budget_usd is not None and not estimate.offline and estimate.cost_usd > budget_usd:
        raise ConfigError(f"this run would cost ~${estimate.cost_usd:.4f} ({estimate.requests} LLM requests, "
                          f"~{estimate.tokens:,} tokens), over TOP5_BUDGET_USD={budget_usd:g}: nothing was spent; "
                          "raise the budget, lower TOP5_SCREEN_SIZE / TOP5_SHORTLIST_SIZE, or choose cheaper models")
    if budget_tokens is not None and estimate.tokens > budget_tokens:
        raise ConfigError(f"this run would use ~{estimate.tokens:,} tokens ({estimate.requests} LLM requests), over "
                          f"TOP5_BUDGET_TOKENS={budget_tokens}: nothing was spent; raise the budget or lower "
                          "TOP5_SCREEN_SIZE / TOP5_SHORTLIST_SIZE")
