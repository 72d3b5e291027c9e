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
        WordLlama pads each batch of 64 to its longest text; texts of like length batched together
        pad less (a sixth less time for a history, the same vectors)."""
        order = np.argsort([len(text) for text in texts], kind="stable")
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        vectors[order] = _model().embed([texts[i] for i in order], norm=True)
        return vectors

    def _compute(self, key: str, texts: list[str]) -> np.ndarray:
        vectors = self.vectors(texts)
        if self.folder is not None:
            buffer = io.BytesIO()
            np.save(buffer, vectors)
            write_atomic(self.folder / f"{key}.npy", buffer.getvalue())
        return vectors
