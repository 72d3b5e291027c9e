"""The hashed word counts of a week's texts kept on disk by content, so a refit after a newly
merged week hashes only that week (hashing the 60,000 texts of a half-year history takes 8-13 s
on these machines; reading them back about 1 s).

An entry is `<folder>/<sha256 of the hasher's settings and the texts>.npz`: the CSR arrays of
the counts, stored as arrays only and read with `allow_pickle=False`; every array's dtype, shape
and range is checked before it becomes a matrix, so a damaged entry (cut short, bytes flipped,
another shape) is one warning naming the file and a recompute (flows.files.read_back).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import sparse

from flows.files import read_back, sha256_text, write_atomic

FOLDER = "word-counts"  # under the cache folder


def cached_counts(folder: Path, texts: tuple[str, ...], settings: str,
                  compute: Callable[[tuple[str, ...]], sparse.csr_matrix], columns: int) -> sparse.csr_matrix:
    """The counts of `texts`, shape (len(texts), columns), from `folder` when an entry for these
    texts and these hasher `settings` is there and whole, else `compute(texts)`, stored for next time."""
    path = folder / f"{sha256_text(settings + chr(0) + chr(0).join(texts))}.npz"
    most = sum(map(len, texts)) + len(texts)  # a text of n characters has fewer than n words and word pairs
    stored = read_back(path, lambda data: _matrix(data, len(texts), columns, most), "cached word counts")
    if stored is not None:
        return stored
    counts = compute(texts).tocsr()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, data=counts.data.astype(np.float32), indices=counts.indices.astype(np.int32),
                        indptr=counts.indptr.astype(np.int64))
    write_atomic(path, buffer.getvalue())
    return counts


def _matrix(data: bytes, rows: int, columns: int, most: int) -> sparse.csr_matrix:
    """The counts stored in `data`, at most `most` of them, or ValueError saying what is wrong."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # a small entry must not inflate to gigabytes
        if sum(member.file_size for member in archive.infolist()) > 16 * most + 8 * rows + 4096:
            raise ValueError(f"more counts than {rows} texts can hold")
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        values, indices, indptr = arrays["data"], arrays["indices"], arrays["indptr"]
    if values.dtype != np.float32 or indices.dtype != np.int32 or indptr.dtype != np.int64:
        raise ValueError(f"dtypes {values.dtype}, {indices.dtype}, {indptr.dtype}")
    if indptr.shape != (rows + 1,) or indptr[0] != 0 or indptr[-1] != len(values) or len(indices) != len(values):
        raise ValueError(f"{rows} rows expected, the arrays say otherwise")
    if np.any(np.diff(indptr) < 0) or (len(indices) and (indices.min() < 0 or indices.max() >= columns)):
        raise ValueError("row pointers or column indices out of range")
    if not np.isfinite(values).all() or np.any(values < 1) or np.any(values != np.round(values)):
        raise ValueError("a count that is not a whole number of at least 1")
    counts = sparse.csr_matrix((values, indices, indptr), shape=(rows, columns))
    if not counts.has_canonical_format:  # what the hasher writes: sorted columns, each once a row
        raise ValueError("column indices unsorted or repeated within a row")
    return counts
