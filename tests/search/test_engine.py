"""The array scorer against Whoosh's own: same documents, same scores, deletions honoured."""

import pytest
from whoosh import query as q

from portal.search.analysis import words
from portal.search.engine import ArrayCache, ArraySearcher, _generic_postings, _w3_postings
from portal.search.index import SearchIndex, locale_fields

LOCALES = ("it", "en")
TEXTS = [
    ("assistenza-domiciliare", "Assistenza domiciliare", "anziani, badante", "Aiuto a casa."),
    ("asilo-nido", "Asilo nido comunale", "bambini, nido", "Posti al nido per bambini."),
    ("trasporto", "Trasporto sociale", "anziani, disabili", "Accompagnamento alle visite."),
    ("pasti", "Pasti a domicilio", "anziani, casa", "Pasti caldi a casa degli anziani."),
]


def document(number, slug, title, keywords, summary, area="anziani"):
    doc = {
        "slug": slug,
        "category": area,
        "topics": area,
        "area": area,
        "comuni": "comune-a" if number % 2 else "comune-b",
        "life_events": "",
        "popularity": number,
    }
    for locale in LOCALES:
        doc.update(locale_fields(locale, title, keywords, summary, summary * 3))
    return doc


@pytest.fixture
def index(tmp_path):
    index = SearchIndex(str(tmp_path / "index"), LOCALES)
    # Enough documents for posting lists of several blocks.
    documents = [
        document(i, f"{slug}-{i}", title, keywords, summary)
        for i in range(400)
        for slug, title, keywords, summary in [TEXTS[i % len(TEXTS)]]
    ]
    index.rebuild_from_documents(iter(documents))
    yield index
    index.close()


def clauses(*texts):
    """Term clauses for Italian words, as the query builder makes them (stemmed)."""
    stems = [stem for text in texts for stem in words(text, "it")]
    return [q.Term(f"{field}_it", stem, boost=0.8) for field in ("head", "text") for stem in stems]


def whoosh_scores(searcher, query_clauses):
    found = searcher.search(q.Or(query_clauses), limit=None)
    return {hit.docnum: hit.score for hit in found}


def engine_scores(searcher, cache, query_clauses):
    arrays = ArraySearcher(searcher, cache)
    scores, matched = arrays.score(query_clauses)
    return {int(d): float(scores[d]) for d in matched.nonzero()[0]}


def test_scores_are_whooshs_tf_idf(index):
    query_clauses = clauses("anziani casa nido")
    with index.searcher() as searcher:
        expected = whoosh_scores(searcher, query_clauses)
        got = engine_scores(searcher, ArrayCache(2**20), query_clauses)
    assert expected and got.keys() == expected.keys()
    assert all(got[d] == pytest.approx(score, rel=1e-5) for d, score in expected.items())


def test_block_decoding_reads_what_the_matcher_reads(index):
    with index.searcher() as searcher:
        reader = searcher.reader()
        fast = _w3_postings(reader.postings("head_it", words("anziani", "it")[0]))
        slow = _generic_postings(reader.postings("head_it", words("anziani", "it")[0]))
    assert len(fast[0]) > 128  # more than one block
    assert fast[0].tolist() == slow[0].tolist()
    assert fast[1].tolist() == pytest.approx(slow[1].tolist())


def test_an_edit_in_a_new_segment_replaces_the_old_document(index):
    cache = ArrayCache(2**20)
    with index.searcher() as searcher:
        engine_scores(searcher, cache, clauses("anziani"))  # the first segment's postings cached
    edited = document(0, "assistenza-domiciliare-0", "Assistenza domiciliare", "ornitorinco", "")
    index.update([edited], ["pasti-3"])
    with index.searcher() as searcher:
        arrays = ArraySearcher(searcher, cache)
        assert len(arrays.leaves) == 2
        _scores, matched = arrays.score(clauses("ornitorinco"))
        assert [searcher.stored_fields(int(d))["slug"] for d in matched.nonzero()[0]] == [
            "assistenza-domiciliare-0"
        ]
        _scores, matched = arrays.score(clauses("anziani"))
        slugs = {searcher.stored_fields(int(d))["slug"] for d in matched.nonzero()[0]}
        assert "pasti-3" not in slugs and "pasti-7" in slugs
        assert "assistenza-domiciliare-0" not in slugs  # its old text is gone with the old copy


def test_ranking_breaks_ties_by_index_order(index):
    with index.searcher() as searcher:
        arrays = ArraySearcher(searcher, ArrayCache(2**20))
        scores, matched = arrays.score(clauses("nido"))
        ranked = arrays.ranked(scores, matched, 5).tolist()
        expected = sorted(matched.nonzero()[0].tolist(), key=lambda d: (-scores[d], d))[:5]
    assert ranked == expected


def test_the_cache_stays_within_its_budget(index):
    cache = ArrayCache(budget_bytes=2_000)
    with index.searcher() as searcher:
        arrays = ArraySearcher(searcher, cache)
        for stem in words("anziani casa nido bambini pasti", "it"):
            arrays.postings("head_it", stem)
    assert 0 < cache.used <= 2_000 or len(cache._items) == 1
