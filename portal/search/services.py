"""Searching the catalog: results with facets, snippets and suggestions; autocomplete."""

import math
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from markupsafe import Markup, escape
from whoosh import highlight
from whoosh import query as q

from portal.caching import LruCache
from portal.search import query as search_query
from portal.search.engine import ArraySearcher

PAGE_SIZE = 10
FEW_HITS = 3
FACETS = ("category", "area")


@dataclass(frozen=True)
class Hit:
    slug: str
    score: float
    snippet: Markup


@dataclass(frozen=True)
class SearchResults:
    text: str
    total: int
    page: int
    pages: int
    hits: list[Hit]
    facets: dict = field(default_factory=dict)
    suggestion: str | None = None
    fuzzy: bool = False
    # The corrected spelling whose results are shown instead of the (nearly) empty original.
    corrected: str | None = None


class MarkFormatter(highlight.Formatter):
    """Highlights as <mark>, with everything else escaped."""

    between = " … "

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"

    def format_fragment(self, fragment, replace=False):
        output, index = [], fragment.startchar
        text = fragment.text
        for token in fragment.matches:
            if token.startchar < index:
                continue
            output.append(str(escape(text[index : token.startchar])))
            output.append(self.format_token(text, token, replace))
            index = token.endchar
        output.append(str(escape(text[index : fragment.endchar])))
        return "".join(output)


def _index():
    return current_app.extensions["search_index"]


def _cache() -> LruCache:
    return current_app.extensions["search_cache"]


def _filter(arrays: ArraySearcher, comune: str | None, category: str | None, area: str | None):
    """The live documents within the filters, as a boolean array."""
    allowed = arrays.live
    for fieldname, value in (("comuni", comune), ("category", category), ("area", area)):
        if value:
            allowed = allowed & arrays.mask(fieldname, value)
    return allowed


def search(text, locale, comune=None, category=None, area=None, page=1) -> SearchResults:
    """Published services matching the citizen's words, best first, PAGE_SIZE per page."""
    index = _index()
    cleaned = search_query.clean(text)
    page = max(1, int(page))
    key = (index.generation(), cleaned, locale, comune, category, area, page)
    cached = _cache().get(key)
    if cached is not None:
        return cached
    parsed = search_query.split(cleaned)
    with index.searcher() as searcher:
        arrays = ArraySearcher(searcher, index.arrays)
        allowed = _filter(arrays, comune, category, area)
        if parsed.empty:
            results = _browse(arrays, cleaned, allowed, page)
        else:
            results = _search(arrays, parsed, locale, allowed, page)
    _cache().put(key, results)
    return results


@dataclass(frozen=True)
class Found:
    """One run of a query: how many match, the page's documents and scores, facet counts."""

    total: int
    docnums: list[int]
    scores: list[float]
    facets: dict
    clauses: list

    @property
    def top_score(self) -> float:
        return self.scores[0] if self.scores else 0.0


def _facets(arrays: ArraySearcher, matched) -> dict:
    facets = {}
    for name in FACETS:
        values, codes = arrays.codes(name)
        present = codes[matched]
        counts = np.bincount(present[present >= 0], minlength=len(values))
        facets[name] = {values[i]: int(n) for i, n in enumerate(counts) if n}
    return facets


def _run(arrays: ArraySearcher, clauses, allowed, page, keys=None) -> Found:
    """Score the clauses (or rank by ``keys``) within ``allowed`` and keep page ``page``."""
    if keys is None:
        keys, matched = arrays.score(clauses)
        matched &= allowed
    else:
        matched = allowed
    total = int(np.count_nonzero(matched))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    first = (min(page, pages) - 1) * PAGE_SIZE
    docnums = arrays.ranked(keys, matched, first + PAGE_SIZE)[first:]
    return Found(
        total=total,
        docnums=[int(d) for d in docnums],
        scores=[float(keys[d]) for d in docnums],
        facets=_facets(arrays, matched),
        clauses=clauses,
    )


def _search(arrays, parsed, locale, allowed, page) -> SearchResults:
    searcher = arrays.searcher
    available = _index().locales
    found = _run(
        arrays, search_query.build(parsed, locale, available, searcher=searcher), allowed, page
    )
    # A mistyped word: search the corrected text too, and show it when it finds better.
    suggestion = search_query.suggestion(
        searcher, parsed.text, locale, available, cache=_index().corrections
    )
    if suggestion:
        corrected = _run(
            arrays,
            search_query.build(
                search_query.split(suggestion), locale, available, searcher=searcher
            ),
            allowed,
            page,
        )
        if corrected.total and (found.total < FEW_HITS or corrected.top_score > found.top_score):
            return _results(
                arrays,
                corrected,
                suggestion,
                locale,
                page,
                corrected=suggestion,
                original=parsed.text,
            )
    if found.total < FEW_HITS:
        fuzzy = _run(
            arrays,
            search_query.build(parsed, locale, available, fuzzy=True, searcher=searcher),
            allowed,
            page,
        )
        if fuzzy.total > found.total:
            return _results(
                arrays, fuzzy, parsed.text, locale, page, suggestion=suggestion, fuzzy=True
            )
    return _results(arrays, found, parsed.text, locale, page, suggestion=suggestion)


def _browse(arrays, text, allowed, page) -> SearchResults:
    """No words: every service within the filters, most requested first."""
    found = _run(arrays, [], allowed, page, keys=arrays.numbers("popularity"))
    return _results(arrays, found, text, None, page)


def _highlighted_terms(clauses, fieldname: str) -> frozenset[str]:
    """The words a snippet in ``fieldname`` marks: those the query looked for there."""
    terms = set()
    for clause in clauses:
        if isinstance(clause, q.Term) and clause.fieldname == fieldname:
            terms.add(clause.text)
        elif isinstance(clause, q.Phrase) and clause.fieldname == fieldname:
            terms.update(clause.words)
    return frozenset(terms)


def _snippet(arrays, stored, clauses, locale) -> Markup:
    """The best highlighted passage: the summary, else the card's text; the reader's language
    first, then Italian. Empty when nothing matched there (the page shows the summary)."""
    if not locale:
        return Markup("")
    schema = arrays.searcher.schema
    for lang in dict.fromkeys((locale, "it")):
        fieldname = f"text_{lang}"
        terms = _highlighted_terms(clauses, fieldname)
        if not terms or fieldname not in schema:
            continue
        for name in (f"summary_{lang}", f"body_{lang}"):
            text_value = stored.get(name)
            fragment = text_value and highlight.highlight(
                text_value,
                terms,
                schema[fieldname].analyzer,
                highlight.ContextFragmenter(maxchars=220, surround=60),
                MarkFormatter(),
                top=2,
            )
            if fragment:
                return Markup(fragment)
    return Markup("")


def _results(
    arrays, found, text, locale, page, suggestion=None, fuzzy=False, corrected=None, original=None
) -> SearchResults:
    hits = []
    for docnum, score in zip(found.docnums, found.scores, strict=True):
        stored = arrays.searcher.stored_fields(docnum)
        snippet = _snippet(arrays, stored, found.clauses, locale)
        hits.append(Hit(slug=stored["slug"], score=round(score, 4), snippet=snippet))
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    return SearchResults(
        text=original or text,
        total=found.total,
        page=min(page, pages),
        pages=pages,
        hits=hits,
        facets=found.facets,
        suggestion=suggestion,
        fuzzy=fuzzy,
        corrected=corrected,
    )


def autocomplete(text, locale, limit=8) -> list[str]:
    """Slugs of services whose words start with what has been typed so far."""
    cleaned = search_query.clean(text)
    if len(cleaned) < 2:
        return []
    index = _index()
    with index.searcher() as searcher:
        found = searcher.search(
            search_query.prefix_query(cleaned, locale, index.locales), limit=limit
        )
        return [hit["slug"] for hit in found]
