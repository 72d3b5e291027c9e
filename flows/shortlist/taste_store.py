"""A fitted taste on disk as arrays and JSON (numpy's .npz, read with allow_pickle=False): a cache
entry that loads no code, so whoever can write the cache folder cannot make the run execute
anything. Only the fitted attributes of the few scikit-learn estimators the taste uses are
stored; loading rebuilds each view's unfitted model (learned._model) and sets them back, after
checking every array's shape against the view it belongs to.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np

from flows.files import parse_json
from flows.shortlist import features
from flows.shortlist.embeddings import Embedder

# The fitted attributes scikit-learn's estimators read when they transform or score.
FITTED = {"TfidfTransformer": ("idf_",), "StandardScaler": ("mean_", "scale_", "var_"),
          "LogisticRegression": ("coef_", "intercept_", "classes_")}
_INPUT_WIDTH = {"tfidf": features.N_FEATURES,
                "metadata": len(features.METADATA_COLUMNS) + len(features.POPULARITY_COLUMNS)}


def _steps(model) -> list:
    return [step for _, step in model.steps] if hasattr(model, "steps") else [model]


def dump(taste) -> bytes:
    """The .npz bytes of a learned.LearnedTaste."""
    arrays = {}
    for view, model in taste.models.items():
        for i, step in enumerate(_steps(model)):
            for name in FITTED[type(step).__name__]:
                arrays[f"{view}.{i}.{name}"] = np.asarray(getattr(step, name))
    meta = {"views": list(taste.models), "known_authors": taste.known_authors, "weeks": taste.weeks,
            "picks": taste.picks, "seconds": taste.seconds, "upvote_weeks": taste.upvote_weeks}
    arrays["meta"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def load(data: bytes, taste_class: type, unfitted: Callable[[str], object], embedder: Embedder):
    """The taste dump() wrote, rebuilt with `unfitted(view)` models. Raises ValueError (or what
    numpy and zipfile raise on damaged bytes) when anything is missing, of another shape or not
    finite; see flows.files.read_back."""
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        meta = parse_json(str(stored["meta"][()]), "the cached taste's meta")
        models = {}
        for view in meta["views"]:
            width = _INPUT_WIDTH.get(view, embedder.dim)
            models[view] = _rebuilt(view, unfitted(view), stored, width)
    known = {str(a): int(n) for a, n in dict(meta["known_authors"]).items()}
    seconds = {str(v): float(s) for v, s in dict(meta["seconds"]).items()}
    return taste_class(models, known, int(meta["weeks"]), int(meta["picks"]), seconds, int(meta["upvote_weeks"]))


def _rebuilt(view: str, model, stored, width: int):
    for i, step in enumerate(_steps(model)):
        for name in FITTED[type(step).__name__]:
            value = stored[f"{view}.{i}.{name}"]
            expected = {"coef_": (1, width), "intercept_": (1,), "classes_": (2,)}.get(name, (width,))
            if value.shape != expected or (value.dtype.kind == "f" and not np.isfinite(value).all()):
                raise ValueError(f"{view} {name}: shape {value.shape}, expected {expected}")
            setattr(step, name, value)
        step.n_features_in_ = width
    return model
