"""Stage 1's caches read back: the taste loads no code, and a damaged entry (cut short, bytes
flipped, another shape) is a warning naming the file and a recompute."""

from __future__ import annotations

import io
import logging
from dataclasses import replace

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


def test_each_text_keeps_its_own_vector_in_a_batch_of_many_lengths():
    """Texts are embedded sorted by length; each row is still its own text's vector, the same as
    embedding that text alone, and the same texts in another order give the same rows."""
    texts = [("graph neural networks " * n).strip() or "soil" for n in (9, 0, 30, 2, 17, 1, 70, 4)] * 20
    texts = [f"{i} {text}" for i, text in enumerate(texts)]  # 160 texts: three of WordLlama's batches
    embedder = Embedder()
    together = embedder.vectors(texts)
    alone = np.vstack([embedder.vectors([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    reverse = embedder.vectors(texts[::-1])
    np.testing.assert_allclose(reverse[::-1], together, atol=1e-6)


class _Recording:
    """Stands in for WordLlama: records each batch it is given, answers unit vectors."""

    def __init__(self):
        self.batches: list[list[str]] = []

    def embed(self, texts, norm, batch_size):
        assert len(texts) <= batch_size
        self.batches.append(texts)
        return np.ones((len(texts), 256), dtype=np.float32) / 16


def test_a_1_mb_text_is_embedded_as_its_first_128_kb_in_a_batch_of_its_own(monkeypatch):
    """WordLlama pads a batch to its longest text: 56 texts and a 1.9 MB abstract asked for 19 GiB."""
    from flows.shortlist import embeddings

    model = _Recording()
    monkeypatch.setattr(embeddings, "_model", lambda: model)
    texts = [f"paper {i} on graphs" for i in range(100)] + ["é" * 500_000, "x" * 1_000_000]  # 1 MB each
    assert Embedder().vectors(texts).shape == (102, 256)
    sizes = [[len(t.encode()) + 1 for t in batch] for batch in model.batches]
    assert all(len(batch) * max(batch) <= embeddings.BATCH_BYTES for batch in sizes), sizes
    assert sorted(len(batch) for batch in model.batches) == [1, 1, 36, 64]  # short texts batched as before
    assert {len(b[0]) for b in model.batches if len(b) == 1} == {embeddings.BATCH_BYTES // 2 - 1, embeddings.BATCH_BYTES - 1}


def test_a_text_past_the_limit_has_the_vector_of_its_first_128_kb_and_the_others_their_own():
    from flows.shortlist.embeddings import BATCH_BYTES

    embedder = Embedder()
    long = "attention over long documents " * 6_000  # 180 KB
    short = ["graph neural networks", "soil moisture from satellites"]
    vectors = embedder.vectors([short[0], long, short[1]])
    np.testing.assert_array_equal(vectors[[0, 2]], embedder.vectors(short))
    np.testing.assert_array_equal(vectors[1], embedder.vectors([long[:BATCH_BYTES - 1]])[0])


def test_the_text_a_candidate_is_read_by_is_bounded_however_it_was_made():
    from flows.candidates.candidate import TEXT_LIMITS
    from flows.shortlist.features import text_of, word_counts

    normal = candidate(title="A title", abstract="An abstract.")
    assert text_of(normal) == "A title. A title. An abstract."
    huge = candidate(title="t" * 300_000, abstract="word " * 400_000)  # made in the process: never cut
    assert len(text_of(huge)) == 2 * TEXT_LIMITS["title"] + TEXT_LIMITS["abstract"] + 4
    assert word_counts([huge]).sum() < 2 * TEXT_LIMITS["abstract"]


def _counts_entry(stored: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **stored)
    return buffer.getvalue()


def _out_of_range(data: bytes) -> bytes:
    stored = dict(np.load(io.BytesIO(data), allow_pickle=False))
    stored["indices"] = stored["indices"] + np.int32(2**21)  # columns past the hasher's 2**20
    return _counts_entry(stored)


def _negative(data: bytes) -> bytes:
    stored = dict(np.load(io.BytesIO(data), allow_pickle=False))
    stored["data"] = -stored["data"]
    return _counts_entry(stored)


def _count_of(value: float):
    def damage(data: bytes) -> bytes:
        stored = dict(np.load(io.BytesIO(data), allow_pickle=False))
        stored["data"][0] = value  # a zero becomes -inf in the word view's log: every fit would fail
        return _counts_entry(stored)

    return damage


def _columns_repeated(data: bytes) -> bytes:
    stored = dict(np.load(io.BytesIO(data), allow_pickle=False))
    stored["indices"][1] = stored["indices"][0]
    return _counts_entry(stored)


def _inflating(data: bytes) -> bytes:
    """A few hundred KB that would inflate to 400 MB of counts."""
    stored = dict(np.load(io.BytesIO(data), allow_pickle=False))
    stored["data"] = np.ones(100_000_000, dtype=np.float32)
    return _counts_entry(stored)


def _pointers_of_another_week(data: bytes) -> bytes:
    stored = dict(np.load(io.BytesIO(data), allow_pickle=False))
    stored["indptr"] = stored["indptr"][:-1]  # one row short
    return _counts_entry(stored)


def test_a_refit_reads_each_weeks_word_counts_back_instead_of_hashing_it_again(tmp_path, monkeypatch):
    """A week merged since the last run: the next fit hashes only the texts it has not seen."""
    from flows.shortlist import features

    weeks = [History(w.name, [replace(c, title=f"{c.title} of {w.name}") for c in w.candidates], w.picks)
             for w in _weeks()]  # three weeks of different texts
    learned.fit_cached(weeks[:2], Embedder(tmp_path), tmp_path)
    before = [features.word_counts(w.candidates) for w in weeks]
    features._counts.cache_clear()  # a new run: nothing in memory
    hashed = []
    hasher = features._HASHER
    monkeypatch.setattr(features, "_HASHER", _Spy(hasher, hashed))
    learned.fit_cached(weeks, Embedder(tmp_path), tmp_path)
    assert [len(texts) for texts in hashed] == [len(weeks[2].candidates)]  # the new week alone
    features._counts.cache_clear()
    for week, counts in zip(weeks, before, strict=True):
        assert (features.word_counts(week.candidates, tmp_path) != counts).nnz == 0  # read back, the same counts


class _Spy:
    """The hasher itself, noting the texts it is asked to hash."""

    def __init__(self, hasher, hashed: list):
        self._hasher, self._hashed = hasher, hashed

    def transform(self, texts):
        self._hashed.append(texts)
        return self._hasher.transform(texts)

    def get_params(self):
        return self._hasher.get_params()


@pytest.mark.parametrize("damage", [lambda d: d[: len(d) // 2], _flip, _out_of_range, _negative, _count_of(0.0),
                                    _count_of(1.5), _columns_repeated, _inflating, _pointers_of_another_week,
                                    lambda d: b""],
                         ids=["cut", "flipped", "columns out of range", "negative", "zero", "fraction",
                              "column repeated", "inflating", "rows", "empty"])
def test_a_damaged_word_counts_entry_is_a_warning_naming_it_and_a_recompute(tmp_path, caplog, damage):
    from flows.shortlist import features

    cands = _weeks()[0].candidates
    counts = features.word_counts(cands, tmp_path)
    (path,) = (tmp_path / "word-counts").glob("*.npz")
    path.write_bytes(damage(path.read_bytes()))
    features._counts.cache_clear()
    with caplog.at_level(logging.WARNING):
        again = features.word_counts(cands, tmp_path)
    assert str(path) in caplog.text and "cached word counts" in caplog.text
    assert again.shape == counts.shape and (again != counts).nnz == 0
    features._counts.cache_clear()
    caplog.clear()
    features.word_counts(cands, tmp_path)  # written again whole
    assert "cached word counts" not in caplog.text


def test_texts_holding_nul_never_share_a_cache_entry_with_other_texts(tmp_path):
    """The caches key a list of texts by the texts joined with NUL: ("ab\\0cd", "ef") and
    ("ab", "cd\\0ef") must not be served each other's counts or vectors."""
    from flows.shortlist import features

    # joined with NUL, both are "aa. aa. bb\\0cc. cc. dd\\0ee. ee. ff" (text_of: title twice, abstract)
    first = [candidate("2601.00001", "aa", "bb\0cc. cc. dd"), candidate("2601.00002", "ee", "ff")]
    second = [candidate("2601.00001", "aa", "bb"), candidate("2601.00002", "cc", "dd\0ee. ee. ff")]
    for cands in (first, second):
        features._counts.cache_clear()
        cached = features.word_counts(cands, tmp_path)
        features._counts.cache_clear()
        fresh = features._HASHER.transform([features.text_of(c) for c in cands])
        assert (cached != fresh).nnz == 0  # what hashing these very texts gives
    texts = [["ab\0cd graph", "ef"], ["ab", "cd\0ef graph"]]  # both "ab\\0cd graph\\0ef" joined
    vectors = [Embedder(tmp_path).embed(t) for t in texts]
    np.testing.assert_allclose(vectors[1], Embedder().vectors([t.replace("\0", " ") for t in texts[1]]), atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])
