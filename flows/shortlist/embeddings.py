"""Static sentence embeddings (WordLlama, 256-d, weights shipped in its wheel): no network.

WordLlama averages learned token vectors: 3,000 abstracts embed in about 0.1 s on one core,
so every candidate of a week is embedded, and the vectors are cached by content so a week's
candidates are embedded once, however often they are ranked or learned from.
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from flows.errors import ConfigError
from flows.files import read_back, sha256_text, write_atomic
from flows.text import without_nul

DIM = 256
BATCH = 64  # texts the model embeds at once (WordLlama's own default)
# WordLlama pads every text of a batch to the batch's longest, in a (texts, tokens, DIM) float32
# array: 56 texts padded to one 1.9 MB abstract asked for 19 GiB. So a batch holds at most
# BATCH_BYTES bytes of UTF-8 per text times its texts, and no text is longer: a token of its
# byte-fallback BPE is at least one byte (and one "▁" is prepended), so the array is at most
# BATCH_BYTES * DIM * 4 bytes = 128 MB (and pooling's product as much again). Real papers' texts
# are under 4 KB: their batches are as before, and padding never changes a vector.
BATCH_BYTES = 2**17


@lru_cache(maxsize=1)
def _model():
    import wordllama

    # 0.4.0.post1 looks for its tokenizer outside its package unless cache_dir points at it
    folder = Path(wordllama.__file__).parent
    try:
        return wordllama.WordLlama.load(dim=DIM, cache_dir=folder, disable_download=True)
    except (OSError, ValueError, FileNotFoundError) as exc:
        raise ConfigError(f"the wordllama model in {folder} cannot be loaded: {exc}") from None


class Embedder:
    """Unit-length vectors, shape (len(texts), DIM), float32; cached in memory and on disk by
    content. A damaged entry on disk (cut short, of another shape) is a warning naming it and a
    recompute."""

    dim = DIM
    folder_name = "embeddings"  # under the cache folder; another model keeps its vectors apart

    def __init__(self, cache_dir: Path | None = None):
        self.cache_dir = cache_dir  # the run's cache folder: the word counts are kept there too
        self.folder = cache_dir / self.folder_name if cache_dir else None
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors of `texts` (a NUL read as a space), shape (len(texts), DIM), float32:
        from memory, else from the cache folder, else from the model, then stored there."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(without_nul(texts))
        key = sha256_text("\x00".join(texts))
        with self._lock:
            if key not in self._memory:
                stored = self._load(key, len(texts)) if self.folder is not None else None
                self._memory[key] = stored if stored is not None else self._compute(key, texts)
            return self._memory[key]

    def _load(self, key: str, rows: int) -> np.ndarray | None:
        def vectors(data: bytes) -> np.ndarray:
            array = np.load(io.BytesIO(data), allow_pickle=False)
            if array.shape != (rows, self.dim) or array.dtype != np.float32 or not np.isfinite(array).all():
                raise ValueError(f"shape {array.shape} {array.dtype}, expected ({rows}, {self.dim}) float32")
            return array

        return read_back(self.folder / f"{key}.npy", vectors, "cached embeddings")

    def vectors(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors of `texts` from the model itself, shape (len(texts), dim), float32: no cache.
        A text longer than BATCH_BYTES - 1 bytes of UTF-8 is embedded as its first that many.
        WordLlama pads each batch to its longest text; texts of like length batched together
        pad less (a sixth less time for a history, the same vectors), and batches of long texts
        hold fewer of them (BATCH_BYTES)."""
        texts = [_within_batch(text) for text in texts]
        sizes = [len(text.encode("utf-8")) + 1 for text in texts]  # at least the tokens of each
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        for batch in _batches(sizes):
            vectors[batch] = _model().embed([texts[i] for i in batch], norm=True, batch_size=len(batch))
        return vectors

    def _compute(self, key: str, texts: list[str]) -> np.ndarray:
        vectors = self.vectors(texts)
        if self.folder is not None:
            buffer = io.BytesIO()
            np.save(buffer, vectors)
            write_atomic(self.folder / f"{key}.npy", buffer.getvalue())
        return vectors


def _within_batch(text: str) -> str:
    """`text`, or its first BATCH_BYTES - 1 bytes of UTF-8 when it is longer (a character cut in two is dropped)."""
    if len(text) < BATCH_BYTES // 4:  # four bytes a character at most
        return text
    data = text.encode("utf-8")
    return text if len(data) < BATCH_BYTES else data[:BATCH_BYTES - 1].decode("utf-8", errors="ignore")


def _batches(sizes: list[int]) -> list[list[int]]:
    """Indices of texts of `sizes` (bytes, each at most BATCH_BYTES) in batches, shortest texts first:
    each at most BATCH texts and at most BATCH_BYTES once padded to its longest."""
    batches: list[list[int]] = [[]]
    for i in np.argsort(sizes, kind="stable"):  # ascending: the text added is its batch's longest
        if batches[-1] and (len(batches[-1]) == BATCH or (len(batches[-1]) + 1) * sizes[i] > BATCH_BYTES):
            batches.append([])
        batches[-1].append(int(i))
    return [b for b in batches if b]
