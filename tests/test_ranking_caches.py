"""Stage 1's caches read back: the taste loads no code, and a damaged entry (cut short, bytes
flipped, another shape) is a warning naming the file and a recompute."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest

from flows.shortlist import learned
from flows.shortlist.embeddings import Embedder
from flows.shortlist.learned import History
from tests.helpers import candidate


def _weeks() -> list[History]:
    weeks = []
    for n in range(3):
        gnn = [candidate(f"260{n}.0010{i}", f"Graph neural network message passing {i}", "Graph networks.") for i in range(3)]
        rest = [candidate(f"260{n}.0020{i}", f"Soil survey {i}", "Soil maps and crops.") for i in range(12)]
        weeks.append(History(f"2026-W0{n + 1}", gnn + rest, frozenset(c.arxiv_id for c in gnn),
                             upvotes={gnn[0].arxiv_id: 30, rest[0].arxiv_id: 2}))
    return weeks


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:]


def _wrong_shape(data: bytes) -> bytes:
    stored = dict(np.load(io.BytesIO(data), allow_pickle=False))
    stored["embedding.0.coef_"] = np.zeros((1, 7))
    buffer = io.BytesIO()
    np.savez(buffer, **stored)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", [lambda d: d[: len(d) // 2], _flip, _wrong_shape, lambda d: b""],
                         ids=["cut", "flipped", "wrong shape", "empty"])
def test_a_damaged_taste_entry_is_a_warning_naming_it_and_a_refit(tmp_path, caplog, damage):
    weeks, embedder = _weeks(), Embedder()
    first = learned.fit_cached(weeks, embedder, tmp_path)
    (path,) = (tmp_path / "taste").glob("*.npz")
    again = learned.fit_cached(weeks, embedder, tmp_path)
    assert again.seconds == first.seconds  # read back, not refitted
    probe = weeks[0].candidates
    kept = again.view_scores(probe, embedder, weeks[0].upvotes)
    for view, values in first.view_scores(probe, embedder, weeks[0].upvotes).items():
        np.testing.assert_allclose(kept[view], values)
    path.write_bytes(damage(path.read_bytes()))
    with caplog.at_level(logging.WARNING):
        refit = learned.fit_cached(weeks, embedder, tmp_path)
    assert str(path) in caplog.text and "cached taste" in caplog.text
    assert refit.seconds != first.seconds and set(refit.models) == set(first.models)
    assert learned.fit_cached(weeks, embedder, tmp_path).seconds == refit.seconds  # the refit was stored


def test_the_taste_cache_loads_no_code(tmp_path):
    import pickle

    weeks, embedder = _weeks(), Embedder()
    learned.fit_cached(weeks, embedder, tmp_path)
    (path,) = (tmp_path / "taste").glob("*.npz")

    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "executed"), "w"))

    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array([Boom()], dtype=object))  # an object array: pickled inside the .npz
    path.write_bytes(buffer.getvalue())
    assert learned.fit_cached(weeks, embedder, tmp_path) is not None
    assert not (tmp_path / "executed").exists()
    path.write_bytes(pickle.dumps(Boom()))
    learned.fit_cached(weeks, embedder, tmp_path)
    assert not (tmp_path / "executed").exists()


@pytest.mark.parametrize("damage", ["cut", "shape"])
def test_a_damaged_embedding_entry_is_a_warning_naming_it_and_a_recompute(tmp_path, caplog, damage):
    texts = ["Graph neural networks for molecules.", "Soil maps and crops."]
    vectors = Embedder(tmp_path).embed(texts)
    (path,) = (tmp_path / "embeddings").glob("*.npy")
    if damage == "cut":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        buffer = io.BytesIO()
        np.save(buffer, np.zeros((3, 5), dtype=np.float32))
        path.write_bytes(buffer.getvalue())
    with caplog.at_level(logging.WARNING):
        again = Embedder(tmp_path).embed(texts)  # a new run: nothing in memory
    assert str(path) in caplog.text and "cached embeddings" in caplog.text
    np.testing.assert_allclose(again, vectors)
    assert np.load(path, allow_pickle=False).shape == vectors.shape  # written again whole
