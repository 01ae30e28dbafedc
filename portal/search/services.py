"""Searching the catalog: results with facets, snippets and suggestions; autocomplete."""

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup, escape
from whoosh import highlight, sorting
from whoosh import query as q

from portal.search import query as search_query

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


class ResultCache:
    """Recent results, valid until the index changes (keyed by its generation)."""

    def __init__(self, size: int = 512):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _index():
    return current_app.extensions["search_index"]


def _cache() -> ResultCache:
    return current_app.extensions["search_cache"]


def _filter(comune: str | None, category: str | None, area: str | None):
    terms = []
    if comune:
        terms.append(q.Term("comuni", comune))
    if category:
        terms.append(q.Term("category", category))
    if area:
        terms.append(q.Term("area", area))
    return q.And(terms) if terms else None


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
        if parsed.empty:
            results = _browse(searcher, cleaned, comune, category, area, page)
        else:
            results = _search(searcher, parsed, locale, comune, category, area, page)
    _cache().put(key, results)
    return results


def _run(searcher, query, filter_query, page):
    facets = {name: sorting.FieldFacet(name) for name in FACETS}
    return searcher.search_page(
        query,
        page,
        pagelen=PAGE_SIZE,
        filter=filter_query,
        groupedby=facets,
        maptype=sorting.Count,
    )


def _top_score(found) -> float:
    return found.results[0].score if found.total and len(found.results) else 0.0


def _search(searcher, parsed, locale, comune, category, area, page) -> SearchResults:
    available = _index().locales
    filter_query = _filter(comune, category, area)
    found = _run(
        searcher,
        search_query.build(parsed, locale, available, searcher=searcher),
        filter_query,
        page,
    )
    # A mistyped word: search the corrected text too, and show it when it finds better.
    suggestion = search_query.suggestion(searcher, parsed.text, locale, available)
    if suggestion:
        corrected = _run(
            searcher,
            search_query.build(
                search_query.split(suggestion), locale, available, searcher=searcher
            ),
            filter_query,
            page,
        )
        if corrected.total and (
            found.total < FEW_HITS or _top_score(corrected) > _top_score(found)
        ):
            return _results(
                corrected, suggestion, locale, page, corrected=suggestion, original=parsed.text
            )
    if found.total < FEW_HITS:
        fuzzy = _run(
            searcher,
            search_query.build(parsed, locale, available, fuzzy=True, searcher=searcher),
            filter_query,
            page,
        )
        if fuzzy.total > found.total:
            return _results(fuzzy, parsed.text, locale, page, suggestion=suggestion, fuzzy=True)
    return _results(found, parsed.text, locale, page, suggestion=suggestion)


def _browse(searcher, text, comune, category, area, page) -> SearchResults:
    """No words: every service within the filters, most requested first."""
    filter_query = _filter(comune, category, area)
    facets = {name: sorting.FieldFacet(name) for name in FACETS}
    found = searcher.search_page(
        q.Every(),
        page,
        pagelen=PAGE_SIZE,
        filter=filter_query,
        groupedby=facets,
        maptype=sorting.Count,
        sortedby="popularity",
        reverse=True,
    )
    return _results(found, text, None, page)


def _snippet(hit, locale) -> Markup:
    """The best highlighted passage: the summary, else the card's text; the reader's language
    first, then Italian. Empty when nothing matched there (the page shows the summary)."""
    if not locale:
        return Markup("")
    for lang in dict.fromkeys((locale, "it")):
        for stored in (f"summary_{lang}", f"body_{lang}"):
            text_value = hit.get(stored)
            fragment = text_value and hit.highlights(f"text_{lang}", text=text_value, top=2)
            if fragment:
                return Markup(fragment)
    return Markup("")


def _results(
    found, text, locale, page, suggestion=None, fuzzy=False, corrected=None, original=None
) -> SearchResults:
    found.results.formatter = MarkFormatter()
    found.results.fragmenter = highlight.ContextFragmenter(maxchars=220, surround=60)
    hits = [
        Hit(slug=hit["slug"], score=round(hit.score or 0.0, 4), snippet=_snippet(hit, locale))
        for hit in found
    ]
    facets = {name: dict(found.results.groups(name)) for name in FACETS}
    pages = max(1, math.ceil(found.total / PAGE_SIZE))
    return SearchResults(
        text=original or text,
        total=found.total,
        page=min(page, pages),
        pages=pages,
        hits=hits,
        facets=facets,
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
