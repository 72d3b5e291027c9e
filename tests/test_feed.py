"""Feed parsing: every real arXiv response we have, arXiv's error feeds, hostile and broken XML."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from flows.candidates.candidate import merge
from flows.candidates.feed import parse_api_feed
from flows.candidates.week import window_between
from flows.errors import FeedError
from flows.text import find_links
from tests.conftest import FIXTURES, WEEK, require_shared

API = FIXTURES / "arxiv" / "api"
RSS = FIXTURES / "arxiv" / "rss"
UTC = timezone.utc


def api_page(name: str):
    path = require_shared(API / name)
    return parse_api_feed(path.read_bytes(), name)


def only(page):
    assert len(page.candidates) == 1, page
    return page.candidates[0]


def atom_feed(*entries: str, total: str = "3") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        f"<opensearch:totalResults>{total}</opensearch:totalResults>"
        "<opensearch:startIndex>0</opensearch:startIndex>"
        "<opensearch:itemsPerPage>3</opensearch:itemsPerPage>"
        + "".join(entries)
        + "</feed>"
    ).encode()


def atom_entry(id_="http://arxiv.org/abs/2611.01234v2", published="2026-11-17T10:00:00Z",
               title="A title", extra="") -> str:
    id_xml = f"<id>{id_}</id>" if id_ is not None else ""
    published_xml = f"<published>{published}</published>" if published is not None else ""
    return (
        f"<entry>{id_xml}<title>{title}</title>{published_xml}"
        f"<updated>{published or '2026-11-17T10:00:00Z'}</updated>"
        "<summary>An abstract.</summary><author><name>A. Author</name></author>"
        '<category term="cs.LG"/><arxiv:primary_category term="cs.LG"/>'
        f"{extra}</entry>"
    )


# -- every real API response ------------------------------------------------------------------


_NO_SHARED = pytest.param(None, marks=pytest.mark.skip(reason=f"{FIXTURES} not found: these tests read the shared "
                                                           "third-party fixtures from ../shared next to the repository"))


def api_responses() -> list:
    return sorted(API.glob("*.xml")) if API.is_dir() else [_NO_SHARED]


@pytest.mark.parametrize("path", api_responses(), ids=lambda p: p.stem if p else "no-shared")
def test_every_recorded_api_response_parses_or_fails_as_arxiv_said(path):
    url, status = path.with_suffix(".url").read_text().splitlines()[:2]
    if status.strip() == "status: 400":
        with pytest.raises(FeedError) as err:
            parse_api_feed(path.read_bytes(), url)
        assert url in str(err.value) and "incorrect id format" in str(err.value)
        return
    page = parse_api_feed(path.read_bytes(), url)
    assert not page.skipped
    # the page holds what the totals promise, no more, no less
    assert len(page.candidates) == min(page.items_per_page, page.total_results - page.start_index)
    query = parse_qs(urlsplit(url).query)
    if "start" in query:
        assert page.start_index == int(query["start"][0])
    for cand in page.candidates:
        assert cand.arxiv_id and "v" not in cand.arxiv_id.split("/")[-1]
        assert cand.version >= 1 and cand.title and cand.abstract and cand.authors
        assert cand.primary_category == cand.categories[0]
        assert len(set(cand.categories)) == len(cand.categories)
        assert cand.published.tzinfo is not None and cand.updated >= cand.published
        assert "\n" not in cand.title + cand.abstract and "  " not in cand.title + cand.abstract
        if cand.version == 1:
            assert cand.updated == cand.published  # arXiv: v1 has published == updated


def test_current_format_page_of_100():
    page = api_page("new2026_arxivpy_q_testing_s0_m100_cfe7536492ca.xml")
    assert (page.total_results, page.start_index, page.items_per_page) == (214881, 0, 100)
    first = page.candidates[0]
    assert first.versioned_id == "2202.12139v1"
    assert first.title == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert (first.primary_category, first.categories) == ("cs.SE", ("cs.SE", "cs.LG"))
    assert first.published == datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC)
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert first.comment == "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022"
    assert first.journal_ref.startswith("Artificial Intelligence in Software Testing @ 2022 IEEE")
    assert sum(c.version > 1 for c in page.candidates) == 36
    assert {"cs/0503050", "hep-ph/0301050", "gr-qc/0103067"} <= {c.arxiv_id for c in page.candidates}
    # UTF-8 read from the bytes: not the double-encoded "LÃ¤mmerzahl"
    haugan = next(c for c in page.candidates if c.arxiv_id == "gr-qc/0103067")
    assert haugan.authors == ("Mark P. Haugan", "C. Lämmerzahl")


def test_paging_series_lines_up_with_the_100_entry_page():
    def ids(name):
        return [c.arxiv_id for c in api_page(name).candidates]

    hundred = ids("new2026_arxivpy_q_testing_s0_m100_cfe7536492ca.xml")
    assert ids("new2026_arxivpy_q_testing_s0_m10_bc5a6c384fe9.xml") == hundred[0:10]
    assert ids("new2026_arxivpy_q_testing_s5_m10_c0e94a259d4a.xml") == hundred[5:15]
    assert ids("new2026_arxivpy_q_testing_s9_m15_0b78d4b4d476.xml") == hundred[9:24]
    assert ids("new2026_arxivpy_q_testing_s50_m10_7f488ab8598c.xml") == hundred[50:60]


def test_old_style_ids_keep_their_archive_and_lose_the_version():
    hep = only(api_page("new2026_arxivpy_id_hep-ex_0406020v1_s0_m100_84b15d66c0ce.xml"))
    assert (hep.arxiv_id, hep.version, hep.versioned_id) == ("hep-ex/0406020", 1, "hep-ex/0406020v1")
    assert hep.title == "Sparticle Reconstruction at LHC"
    assert hep.authors == ("Alessia Tricomi",)
    assert hep.comment.startswith("Presented at XXXIX Rencontres de Moriond")
    quant = only(api_page("new2026_arxivpy_id_quant-ph_0201082v1_s0_m100_86989fe779ef.xml"))
    assert (quant.arxiv_id, quant.categories) == ("quant-ph/0201082", ("quant-ph", "cs.PL"))
    knuth = only(api_page("old2019_pubs_id_math_9501234_http200.xml"))
    assert (knuth.arxiv_id, knuth.authors) == ("math/9501234", ("Donald E. Knuth",))


def test_old_format_hard_wrapped_entry_is_normalised():
    cand = only(api_page("old2016_arxivpy_id_1111.2011v2.xml"))
    assert (cand.arxiv_id, cand.version) == ("1111.2011", 2)
    assert cand.title == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    assert cand.abstract.startswith("Theoretical description of anisotropic systems, such as layered superconductors")
    assert cand.published == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert cand.updated == datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)
    assert cand.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert (cand.doi, cand.journal_ref) == ("10.1103/PhysRevB.85.115117", "Phys. Rev. B 85, 115117 (2012)")
    assert cand.comment == "8 pages, 3 figures. Published version"


def test_old_format_doi_journal_ref_and_link_in_comment():
    zoia = only(api_page("old2020_zoia_id_1601.00001.xml"))
    assert (zoia.doi, zoia.journal_ref) == ("10.1063/1.4944470", "J. Chem. Phys. 144, 124107 (2016)")
    assert zoia.primary_category == "cond-mat.mes-hall"
    supernova = only(api_page("old2019_pubs_id_astro-ph_9812133_http200.xml"))
    assert supernova.arxiv_id == "astro-ph/9812133" and len(supernova.authors) == 32
    assert supernova.categories == ("astro-ph", "hep-ex", "hep-ph")
    assert supernova.links == ("http://www-supernova.lbl.gov/",)  # from the hard-wrapped comment


def test_msc_classes_are_not_arxiv_categories():
    perelman = only(api_page("old2019_pubs_id_math_0211159_http200.xml"))  # lists MSC "53C"
    assert perelman.categories == ("math.DG",)


def test_empty_result_is_an_empty_page():
    page = api_page("new2026_arxivpy_id_0000.0000_s0_m100_8b51d9633a68.xml")
    assert (page.total_results, page.candidates, page.skipped) == (0, (), ())


@pytest.mark.parametrize("name", ["old2019_pubs_id_INVALIDID_http400.xml", "new2026_arxivpy_id_abc_s0_m100_b79c8dcf6bc3.xml"])
def test_arxiv_error_feed_names_the_query_and_quotes_arxiv(name):
    data = require_shared(API / name).read_bytes()
    source = "arXiv query id_list=INVALIDID"
    with pytest.raises(FeedError) as err:
        parse_api_feed(data, source)
    assert source in str(err.value)
    assert re.search(r"'incorrect id format for (INVALIDID|abc)'", str(err.value))


# -- the week mirror ---------------------------------------------------------------------------


def test_week_mirror_has_119_candidates_matching_the_hand_cleaned_metadata():
    page = parse_api_feed(require_shared(WEEK / "api-week.xml").read_bytes(), "week mirror")
    assert (page.total_results, len(page.candidates), page.skipped) == (119, 119, ())
    assert len(merge(list(page.candidates))) == 119  # no id twice
    window = window_between("2026-11-16", "2026-11-22")
    assert all(window.contains(c.published) and window.contains(c.updated) for c in page.candidates)
    by_id = {c.versioned_id: c for c in page.candidates}
    truth = json.loads((WEEK / "metadata.json").read_text())["entries"]
    assert len(truth) == 19 and set(truth) <= set(by_id)
    for versioned_id, meta in truth.items():
        cand = by_id[versioned_id]
        assert cand.title == meta["title"]
        assert cand.abstract == meta["abstract"]
        assert list(cand.authors) == meta["authors"]
        assert cand.primary_category == meta["primary_category"]
        assert list(cand.categories) == meta["categories"]
        assert (cand.comment, cand.journal_ref, cand.doi) == (
            meta.get("comment", ""), meta.get("journal_ref", ""), meta.get("doi", ""))
    assert by_id["2501.10120v1"].code_links == ("https://github.com/bytedance/pasa",)
    assert by_id["2103.15348v2"].project_links == ("https://layout-parser.github.io",)


def test_truncated_feed_fails_naming_the_source():
    name = "atom_cs.AI_2025-08-20_TRUNCATED_zotero-arxiv-daily.xml"
    data = require_shared(RSS / name).read_bytes()
    with pytest.raises(FeedError) as err:
        parse_api_feed(data, name)
    assert name in str(err.value) and "truncated" in str(err.value)


def test_bad_entries_are_skipped_with_a_reason_and_the_rest_survives(caplog):
    data = atom_feed(
        atom_entry(id_=None, title="Nameless"),
        atom_entry(id_="http://arxiv.org/abs/2611.05555v1", published="20 Nov 2026", title="Odd date"),
        atom_entry(id_="http://arxiv.org/abs/2611.06666v1", published="2026-11-17T10:00:00", title="No zone"),
        atom_entry(id_="http://arxiv.org/abs/2611.07777v1", published=None, title="Undated"),
        atom_entry(id_="http://example.org/not-an-id", title="Stranger"),
        atom_entry(title="Good\n   one", extra="<arxiv:comment>Code at https://github.com/a/b.</arxiv:comment>"),
        total="6",
    )
    with caplog.at_level(logging.WARNING, logger="flows.candidates.feed"):
        page = parse_api_feed(data, "test query")
    (good,) = page.candidates
    assert (good.arxiv_id, good.version, good.title) == ("2611.01234", 2, "Good one")
    assert good.links == ("https://github.com/a/b",)
    nameless, odd, no_zone, undated, stranger = page.skipped
    assert "entry 1" in nameless and "Nameless" in nameless and "no id" in nameless
    assert "2611.05555v1" in odd and "'20 Nov 2026'" in odd
    assert "2611.06666v1" in no_zone and "UTC offset" in no_zone
    assert "2611.07777v1" in undated and "no <published>" in undated
    assert "not-an-id" in stranger and "not an arXiv identifier" in stranger
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 5
    assert all("test query" in r.getMessage() for r in caplog.records)


def test_whitespace_is_collapsed_and_text_kept_verbatim():
    title = "Why $\\alpha$-nets  &amp;\n\t &lt;i&gt;GANs&lt;/i&gt;? \u00e9t\u00e9 "
    page = parse_api_feed(atom_feed(atom_entry(title=title)), "q")
    assert page.candidates[0].title == "Why $\\alpha$-nets & <i>GANs</i>? \u00e9t\u00e9"
    # mark-up elements inside a text field: their text is kept, not cut off at the first tag
    page = parse_api_feed(atom_feed(atom_entry(title="Why <i>GANs</i>\n  <b>work</b>")), "q")
    assert page.candidates[0].title == "Why GANs work"


def test_unversioned_api_id_is_version_1():
    page = parse_api_feed(atom_feed(atom_entry(id_="https://arxiv.org/abs/hep-th/9901001")), "q")
    assert (page.candidates[0].arxiv_id, page.candidates[0].version) == ("hep-th/9901001", 1)


# -- hostile and broken input --------------------------------------------------------------


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE feed [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2611.00001v1</id>
<title>&lol9;</title><published>2026-11-17T10:00:00Z</published></entry></feed>"""


@pytest.mark.timeout(20)  # a guard against hanging, not a speed assertion
def test_entity_expansion_is_refused_not_expanded():
    with pytest.raises(FeedError) as err:
        parse_api_feed(BILLION_LAUGHS, "hostile feed")
    assert "hostile feed" in str(err.value) and "refused" in str(err.value)


def test_external_entities_are_refused_and_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    for doctype in (
        f'<!DOCTYPE feed [<!ENTITY x SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE feed SYSTEM "file://{secret}">',
        f'<!DOCTYPE feed [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>',
    ):
        data = (f'<?xml version="1.0"?>{doctype}<feed xmlns="http://www.w3.org/2005/Atom">'
                "<entry><title>&x;</title></entry></feed>").encode()
        with pytest.raises(FeedError) as err:
            parse_api_feed(data, "hostile feed")
        assert "hostile feed" in str(err.value) and "refused" in str(err.value)
        assert "TOP-SECRET" not in str(err.value)


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "empty response"),
        (b"<html><body>503 Service Unavailable</body></html>", "root element <html>"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "truncated"),
        ('<?xml version="1.0" encoding="UTF-8"?><feed>\u00e9'.encode("latin-1"), "malformed"),
    ],
)
def test_unreadable_responses_raise_feed_error_naming_the_source(data, expected):
    with pytest.raises(FeedError) as err:
        parse_api_feed(data, "arXiv query cat:cs.LG (start=2000)")
    assert "arXiv query cat:cs.LG (start=2000)" in str(err.value) and expected in str(err.value)


def test_garbled_totals_raise_feed_error():
    with pytest.raises(FeedError) as err:
        parse_api_feed(atom_feed(atom_entry(), total="lots"), "q7")
    assert "q7" in str(err.value) and "'lots'" in str(err.value)


def oai_and_listing_files() -> list:
    root = FIXTURES / "arxiv"
    return sorted((root / "oai").glob("*.xml")) + sorted((root / "listing").glob("*")) if root.is_dir() else [_NO_SHARED]


@pytest.mark.parametrize("path", oai_and_listing_files(), ids=lambda p: p.name if p else "no-shared")
def test_oai_pmh_and_listing_files_are_not_feeds(path):
    # OAI-PMH and the internal listing files are other protocols the project does not read:
    # handing one to the feed parsers must fail clearly, never yield an empty page.
    with pytest.raises(FeedError) as err:
        parse_api_feed(path.read_bytes(), path.name)
    assert path.name in str(err.value)


# -- links ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, links",
    [
        ("Code: https://github.com/org/repo.", ("https://github.com/org/repo",)),
        ("(see https://github.com/org/repo), and https://org.github.io/proj/;",
         ("https://github.com/org/repo", "https://org.github.io/proj/")),
        ("at github.com/org/repo and gitlab.com/g/p!", ("https://github.com/org/repo", "https://gitlab.com/g/p")),
        ("Models on huggingface.co/org/model-7b, demo at layout-parser.github.io.",
         ("https://huggingface.co/org/model-7b", "https://layout-parser.github.io")),
        (r"\url{https://github.com/a/b}.", ("https://github.com/a/b",)),
        ("https://en.wikipedia.org/wiki/Foo_(bar).", ("https://en.wikipedia.org/wiki/Foo_(bar)",)),
        ("https://github.com/a/b https://github.com/a/b/ github.com/a/b.git https://github.com/a/c",
         ("https://github.com/a/b", "https://github.com/a/c")),
        ("Extends arXiv:2101.00001 (https://arxiv.org/abs/2101.00001, https://doi.org/10.1/x, "
         "http://dx.doi.org/10.2/y, https://export.arxiv.org/api/query)", ()),
        ("mail me at someone@github.com or see e.g. Fig. 3", ()),
        ("Code on GitHub (https://github.com) and gitlab.com/, gist at gist.github.com/u/1.",
         ("https://gist.github.com/u/1",)),
        ("HTTPS://GitHub.com/Org/Repo: mixed case is kept", ("HTTPS://GitHub.com/Org/Repo",)),
        ("\u0130stanbul team, code: \u0130 GitHub.com/Org/Repo", ("https://GitHub.com/Org/Repo",)),
        ("", ()),
    ],
)
def test_find_links(text, links):
    assert find_links(text) == links


@pytest.mark.parametrize("bad", ["\x1b[31m", "\x0c", "&#x1b;", "&#0;", "&#27;", "&#xFFFE;", "\x01"])
def test_a_character_xml_forbids_costs_that_character_not_the_page(bad, caplog):
    data = atom_feed(
        atom_entry(id_="http://arxiv.org/abs/2611.01111v1", title=f"Bad{bad}title",
                   extra=f"<author><name>B.{bad} Author</name></author>"),
        atom_entry(id_="http://arxiv.org/abs/2611.02222v1", title="Clean title"),
        total="2",
    )
    with caplog.at_level(logging.WARNING, logger="flows.candidates.feed"):
        page = parse_api_feed(data, "q")
    first, second = page.candidates
    assert first.title.startswith("Bad") and first.title.endswith("title") and "\x1b" not in first.title
    assert second.title == "Clean title" and not page.skipped
    assert any("XML 1.0 forbids" in r.getMessage() for r in caplog.records)
    legal = parse_api_feed(atom_feed(atom_entry(title="caf&#xe9; &#9;tab &#x1F600;")), "q")
    assert legal.candidates[0].title == "caf\u00e9 tab \U0001F600"


def test_an_entry_with_a_2_mb_abstract_is_cut_and_named_and_the_others_are_untouched(caplog):
    """One hostile or broken entry must not make every later stage hold megabytes per paper."""
    from flows.candidates.candidate import TEXT_LIMITS

    huge = atom_entry(id_="http://arxiv.org/abs/2611.01111v1", title="Long " * 40_000,
                      extra="<arxiv:comment>see https://github.com/a/b " + "x" * 5_000 + "</arxiv:comment>")
    huge = huge.replace("An abstract.", "Words of an abstract. " * 100_000)  # 2.2 MB
    data = atom_feed(huge, atom_entry(id_="http://arxiv.org/abs/2611.02222v1", title="Normal title"), total="2")
    with caplog.at_level(logging.WARNING, logger="flows.candidates.candidate"):
        cut, normal = parse_api_feed(data, "q").candidates
    assert len(cut.abstract) == TEXT_LIMITS["abstract"] and cut.abstract.endswith("…")
    assert cut.abstract.startswith("Words of an abstract. Words")
    assert len(cut.title) == TEXT_LIMITS["title"] and len(cut.comment) == TEXT_LIMITS["comment"]
    assert [line.split(":")[0] for line in cut.cut] == ["title", "abstract", "comment"]
    assert cut.cut[1] == "abstract: 2,199,999 characters, cut to 10,000"  # normalised: the last space dropped
    assert cut.links == ("https://github.com/a/b",)  # looked for in the text kept
    assert any("2611.01111" in r.getMessage() and "abstract" in r.getMessage() for r in caplog.records)
    assert (normal.title, normal.abstract, normal.cut) == ("Normal title", "An abstract.", ())
