"""arXiv categories: validated against the taxonomy shipped with the package, normalised, and a
typo named with the closest valid categories (a typo used to mean "no new papers")."""

from __future__ import annotations

import pytest

from flows.candidates import parse_categories
from flows.candidates.taxonomy import categories
from flows.errors import ConfigError


def test_the_taxonomy_holds_every_archive_and_the_categories_people_ask_for():
    known = set(categories().values())
    assert {"stat.ML", "eess.IV", "q-bio.NC", "cs.AI", "cs.CL", "cs.CV", "cs.LG", "math.OC", "hep-th",
            "quant-ph", "astro-ph.CO", "cond-mat.dis-nn", "physics.comp-ph", "q-fin.ST", "econ.EM"} <= known
    assert {code.split(".")[0] for code in known} == {
        "cs", "econ", "eess", "math", "astro-ph", "cond-mat", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th",
        "math-ph", "nlin", "nucl-ex", "nucl-th", "physics", "q-bio", "q-fin", "quant-ph", "stat"}
    assert len(known) > 150


@pytest.mark.parametrize("given, expected", [
    ("cs.cl", ["cs.CL"]),
    ("CS.AI, cs.LG", ["cs.AI", "cs.LG"]),
    ("cs.AI cs.LG", ["cs.AI", "cs.LG"]),  # a space instead of a comma
    ("cs AI", ["cs.AI"]),
    ("stat_ml+eess-iv", ["stat.ML", "eess.IV"]),
    ("Q-BIO.NC;hep-th", ["q-bio.NC", "hep-th"]),
    ("cs.AI,cs.ai", ["cs.AI"]),
])
def test_case_and_separators_are_normalised(given, expected):
    assert parse_categories(given) == expected


@pytest.mark.parametrize("given, named, closest", [
    ("cs.XX", "'cs.XX'", None),
    ("cs.AI,cs.LGG", "'cs.LGG'", "cs.LG"),
    ("stat.MLL", "'stat.MLL'", "stat.ML"),
    ("qbio.NCC", "'qbio.NCC'", "q-bio.NC"),
])
def test_an_unknown_category_is_named_with_the_closest_valid_ones(given, named, closest):
    with pytest.raises(ConfigError) as caught:
        parse_categories(given)
    message = caught.value.message
    assert f"unknown arXiv category {named}" in message and "closest valid ones: " in message
    suggested = message.split("closest valid ones: ")[1].split(" (")[0].split(", ")
    assert len(suggested) == 3 and set(suggested) <= set(categories().values())
    assert closest is None or suggested[0] == closest


def test_no_category_is_an_error():
    with pytest.raises(ConfigError, match="no arXiv category"):
        parse_categories(" , ")
