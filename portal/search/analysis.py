"""Text analysis per locale: Snowball stemming where Whoosh has it, accent and case folding."""

from functools import cache

from whoosh import lang as whoosh_lang
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

# Words: letters, digits and marks of any script (Devanagari vowel signs are marks), so that
# "mamma's" or "L2" stay tokens; Han characters are single tokens since Chinese has no spaces.
HAN = r"\u4e00-\u9fff\u3400-\u4dbf"
MARKS = r"\u0600-\u06ff\u0900-\u0dff"  # Arabic-script and Indic combining signs
WORD_PATTERN = rf"[{HAN}]|[^\W{HAN}](?:[^\W{HAN}]|[{MARKS}])*"

# Scripts whose combining marks carry meaning: folding them would merge different words.
NO_FOLDING = frozenset({"hi", "pa", "bn", "ur", "ar", "zh"})


def _tokenizer():
    return RegexTokenizer(WORD_PATTERN)


@cache
def analyzer(locale: str, stem: bool = True) -> Analyzer:
    """The analyzer for text in `locale`: lowercase, stop words, stemming, accent folding."""
    chain = _tokenizer() | LowercaseFilter()
    if whoosh_lang.has_stopwords(locale):
        chain = chain | StopFilter(stoplist=whoosh_lang.stopwords_for_language(locale), minsize=1)
    if stem and whoosh_lang.has_stemmer(locale):
        chain = chain | StemFilter(lang=locale, cachesize=50000)
    if locale not in NO_FOLDING:
        chain = chain | CharsetFilter(accent_map)
    return chain


def words(text: str, locale: str, stem: bool = True) -> list[str]:
    """The index terms `text` becomes in a field of `locale`."""
    return [token.text for token in analyzer(locale, stem)(text)]


def fold(text: str) -> str:
    """Lowercase without accents, for matching dictionary phrases against a query."""
    tokens = (_tokenizer() | LowercaseFilter() | CharsetFilter(accent_map))(text)
    return " ".join(token.text for token in tokens)
