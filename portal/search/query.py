"""Turns what a citizen typed into a Whoosh query, without ever using a query parser.

The text is cut to a sane length, stripped of control characters and split into words and
"quoted phrases"; each word becomes term queries on the fields of the reader's locale, of Italian
(every service has Italian text) and of English; synonyms add the dictionary's terms; typo
tolerance adds fuzzy terms when asked. Operators such as AND, *, field: are just words here."""

import re
import unicodedata
from dataclasses import dataclass, field

from whoosh import query as q

from portal.search.analysis import words
from portal.search.index import TEXT_FIELDS
from portal.search.synonyms import expansions, is_known_word

MAX_QUERY_CHARS = 200
MAX_WORDS = 24
QUOTED = re.compile(r'"([^"]+)"')

# How much each locale's fields count, relative to the reader's own.
LOCALE_WEIGHT = {"own": 1.0, "it": 0.8}
SYNONYM_WEIGHT = 0.7
# A term in more than this share of documents is left out of the query (see below).
MAX_DOCUMENT_SHARE = 0.4
KEEP_RAREST = 2
SMALL_INDEX = 1000
FUZZY_WEIGHT = 0.35


def clean(text: str | None) -> str:
    """The user's text without control characters, whitespace collapsed, at most 200 chars."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in (text or "")[:2000])
    return " ".join(text.split())[:MAX_QUERY_CHARS]


@dataclass
class ParsedQuery:
    text: str
    phrases: list[str] = field(default_factory=list)
    loose: str = ""

    @property
    def empty(self) -> bool:
        return not (self.phrases or self.loose.strip())


def split(text: str) -> ParsedQuery:
    """Separate "quoted phrases" from loose words; an unbalanced quote is just a character."""
    phrases = [p.strip() for p in QUOTED.findall(text) if p.strip()]
    loose = QUOTED.sub(" ", text).replace('"', " ")
    return ParsedQuery(text=text, phrases=phrases, loose=loose)


def search_locales(locale: str, available) -> list[tuple[str, float]]:
    """The locales whose fields a search in `locale` reads, with their weights: the reader's
    own and Italian, which every service has. Other languages reach the cards through the
    synonym dictionary; reading every locale's fields would cost a search in each."""
    chosen = [(locale, LOCALE_WEIGHT["own"])]
    if locale != "it" and "it" in available:
        chosen.append(("it", LOCALE_WEIGHT["it"]))
    return chosen


def _terms_query(text: str, lang: str, weight: float, fields=TEXT_FIELDS) -> list[q.Query]:
    tokens = list(dict.fromkeys(words(text, lang)))[:MAX_WORDS]
    return [q.Term(f"{name}_{lang}", token, boost=weight) for name in fields for token in tokens]


def _phrase_query(text: str, lang: str, weight: float, fields=TEXT_FIELDS) -> list[q.Query]:
    tokens = words(text, lang)
    if len(tokens) < 2:
        return _terms_query(text, lang, weight, fields)
    return [q.Phrase(f"{name}_{lang}", tokens, boost=weight * 1.5) for name in fields]


def _synonym_terms(parsed: ParsedQuery, locale: str, available) -> list[q.Query]:
    # Synonyms count in titles and keywords only, where they are meant to be found, and as
    # words rather than phrases: phrase matching costs more than it adds there.
    synonym_words = {
        (lang, token)
        for lang, term in expansions(parsed.text, locale)
        if lang in available
        for token in words(term, lang)
    }
    return [
        q.Term(f"head_{lang}", token, boost=SYNONYM_WEIGHT) for lang, token in sorted(synonym_words)
    ]


def _without_common_terms(subqueries: list[q.Query], searcher) -> list[q.Query]:
    """On a large index, drop term clauses that most documents match: they barely change the
    ranking (their IDF is near zero) but cost the most to score. The rarest always stay."""
    total = searcher.doc_count()
    if total < SMALL_INDEX:
        return subqueries  # cheap anyway, and every word helps the ranking and the snippets
    terms = [sub for sub in subqueries if isinstance(sub, q.Term)]
    frequency = {id(t): searcher.doc_frequency(t.fieldname, t.text) for t in terms}
    common = {key for key, df in frequency.items() if df > MAX_DOCUMENT_SHARE * total}
    if len(common) >= len(terms):
        keep = sorted(terms, key=lambda t: frequency[id(t)])[:KEEP_RAREST]
        common -= {id(t) for t in keep}
    return [sub for sub in subqueries if id(sub) not in common]


def build(
    parsed: ParsedQuery, locale: str, available, fuzzy: bool = False, searcher=None
) -> list[q.Query]:
    """The clauses of a search: a document matches when it matches any of them, and its score
    is the sum of theirs (portal.search.engine scores them)."""
    subqueries: list[q.Query] = []
    for lang, weight in search_locales(locale, available):
        subqueries.extend(_terms_query(parsed.loose, lang, weight))
        for phrase in parsed.phrases:
            subqueries.extend(_phrase_query(phrase, lang, weight * 2))
        if fuzzy:
            subqueries.extend(_fuzzy_terms(parsed.text, lang, weight * FUZZY_WEIGHT))
    subqueries.extend(_synonym_terms(parsed, locale, available))
    if searcher is not None:
        subqueries = _without_common_terms(subqueries, searcher)
    return subqueries


def _fuzzy_terms(text: str, lang: str, weight: float) -> list[q.Query]:
    terms = []
    for token in words(text, lang, stem=False)[:MAX_WORDS]:
        if len(token) < 4:
            continue
        distance = 1 if len(token) < 8 else 2
        terms.append(
            q.FuzzyTerm(f"words_{lang}", token, boost=weight, maxdist=distance, prefixlength=1)
        )
    return terms


def prefix_query(text: str, locale: str, available) -> q.Query:
    """Autocomplete: the last word as a prefix, the others as whole words, on titles too."""
    subqueries = []
    for lang, weight in search_locales(locale, available):
        tokens = words(text, lang, stem=False)
        if not tokens:
            continue
        *complete, last = tokens
        parts = [q.Prefix(f"words_{lang}", last, boost=weight)]
        parts += [q.Term(f"words_{lang}", token, boost=weight) for token in complete]
        subqueries.append(q.And(parts))
        # A title or keyword that starts the same way is the best completion.
        stem = (words(last, lang) or [last])[0]
        subqueries.append(q.Prefix(f"head_{lang}", stem, boost=weight * 5))
    return q.Or(subqueries) if subqueries else q.NullQuery


def suggestion(searcher, text: str, locale: str, available, cache=None) -> str | None:
    """The query with mistyped words corrected, or None when every word is known.

    A word is known when some document has it in the reader's locale, Italian or English,
    or when the synonym dictionary has it; only unknown words are corrected, from the
    reader's locale's vocabulary. ``cache`` (an LruCache) keeps the corrections worked out
    for this index generation: Whoosh's corrector takes milliseconds per word on a large index."""
    fieldnames = [f"words_{lang}" for lang, _weight in search_locales(locale, available)]
    generation = searcher.reader().generation()
    changed = False
    corrected = []
    for token in words(text, locale, stem=False):
        known = is_known_word(token) or any(searcher.doc_frequency(f, token) for f in fieldnames)
        if len(token) > 3 and not known:
            key = (generation, locale, token)
            found = cache.get(key) if cache is not None else None
            if found is None:
                found = _correction(searcher, locale, token)
                if cache is not None:
                    cache.put(key, found)
            if found != token:
                corrected.append(found)
                changed = True
                continue
        corrected.append(token)
    return " ".join(corrected) if changed else None


def _correction(searcher, locale: str, token: str) -> str:
    """The closest word of the locale's vocabulary, or the token itself when none is near.
    Closest first: Whoosh ranks suggestions within a distance by frequency."""
    corrector = searcher.corrector(f"words_{locale}")
    found = corrector.suggest(token, limit=1, maxdist=1)
    if not found and len(token) >= 6:
        found = corrector.suggest(token, limit=1, maxdist=2)
    return found[0] if found else token
