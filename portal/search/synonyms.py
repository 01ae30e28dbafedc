"""The synonym dictionary: words people use, per language, grouped under shared concepts.

`synonyms/{lang}.yaml` maps a concept key to that language's terms. A query that contains any
term of a concept (compared after the language's own analysis, so plurals and accents match) is
expanded with the concept's Italian and English terms, which is how a query in Urdu or Chinese
finds a card written in Italian."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from portal.search.analysis import words

DICTIONARY_DIR = Path(__file__).resolve().parent / "synonyms"
EXPANSION_LOCALES = ("it", "en")
# libyaml's safe loader when PyYAML has it (its wheels do): the first search reads every file.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Dictionary:
    # concept -> {lang: [terms]}
    concepts: dict
    # lang -> first word -> [(analysed term, concept)]: a query only looks up its own words
    patterns: dict
    # every word of every term, unstemmed: words a spelling corrector must leave alone
    vocabulary: frozenset


@cache
def dictionary(directory: Path = DICTIONARY_DIR) -> Dictionary:
    """Load every language file once per process."""
    concepts: dict[str, dict[str, list[str]]] = {}
    for path in sorted(directory.glob("*.yaml")):
        lang = path.stem
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
        for concept, terms in data.items():
            concepts.setdefault(concept, {})[lang] = [str(term) for term in terms or []]
    patterns: dict[str, dict[str, list[tuple[tuple[str, ...], str]]]] = {}
    vocabulary = set()
    for concept, by_lang in concepts.items():
        for lang, terms in by_lang.items():
            for term in terms:
                analysed = tuple(words(term, lang))
                if analysed:
                    by_first = patterns.setdefault(lang, {})
                    by_first.setdefault(analysed[0], []).append((analysed, concept))
                vocabulary.update(words(term, lang, stem=False))
    return Dictionary(concepts=concepts, patterns=patterns, vocabulary=frozenset(vocabulary))


def is_known_word(word: str) -> bool:
    """Whether the dictionary has this (unstemmed, folded) word in any language."""
    return word in dictionary().vocabulary


def concepts_in(query: str, directory: Path = DICTIONARY_DIR) -> list[str]:
    """The concepts whose terms, in any language, occur in the query."""
    found = []
    for lang, by_first in dictionary(directory).patterns.items():
        analysed = words(query, lang)
        for start, word in enumerate(analysed):
            for pattern, concept in by_first.get(word, ()):
                if (
                    concept not in found
                    and tuple(analysed[start : start + len(pattern)]) == pattern
                ):
                    found.append(concept)
    return found


def expansions(query: str, locale: str) -> list[tuple[str, str]]:
    """(language, term) pairs to search besides the query's own words."""
    book = dictionary()
    result = []
    for concept in concepts_in(query):
        for lang in dict.fromkeys((locale, *EXPANSION_LOCALES)):
            result.extend((lang, term) for term in book.concepts[concept].get(lang, []))
    return result
