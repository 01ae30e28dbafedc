"""The search index: one document per published service, with fields per locale.

Each locale the portal supports has two analysed fields: `head_*` (title and keywords, where a
match counts most) and `text_*` (summary and the card's sections); an unstemmed `words_*` field
serves spelling suggestions, typo tolerance and prefixes; summary and body are stored for the
snippets. Few fields keep queries fast: each word becomes one term per field and locale.
Filters and facets use the category, area and comuni keyword fields."""

import logging
import re
import shutil
import threading
import warnings
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.scoring import TF_IDF
from whoosh.writing import AsyncWriter

from portal.caching import LruCache
from portal.search.analysis import analyzer
from portal.search.engine import ArrayCache

log = logging.getLogger(__name__)

# TF-IDF rather than Whoosh's default BM25F: it ranks the judged queries as well and costs
# about 40% less per query, because it does not read each document's field length.
WEIGHTING = TF_IDF()

# Searched fields and how much a match in each counts.
TEXT_FIELDS = {"head": 5.0, "text": 1.0}
SECTIONS = ("audience", "how_to", "documents", "outputs", "times", "costs", "access", "conditions")


def build_schema(locales) -> Schema:
    fields = {
        "slug": ID(stored=True, unique=True),
        "category": KEYWORD(stored=True, sortable=True),
        "topics": KEYWORD(commas=True),
        "area": KEYWORD(stored=True, sortable=True),
        "comuni": KEYWORD(commas=True),
        "life_events": KEYWORD(commas=True),
        "popularity": NUMERIC(stored=True, sortable=True),
    }
    for locale in locales:
        for name, boost in TEXT_FIELDS.items():
            fields[f"{name}_{locale}"] = TEXT(analyzer=analyzer(locale), field_boost=boost)
        fields[f"words_{locale}"] = TEXT(analyzer=analyzer(locale, stem=False), phrase=False)
        fields[f"summary_{locale}"] = STORED()
        fields[f"body_{locale}"] = STORED()
    return Schema(**fields)


def service_document(service, locales) -> dict:
    """The index document of a service: its text in every locale it has, and its filters."""
    rows = {row.locale: row for row in service.translations}
    comuni = sorted({c.slug for o in service.offerings for c in o.desk.comuni})
    doc = {
        "slug": service.slug,
        "category": service.category.slug,
        "topics": ",".join(topic.slug for topic in service.topics),
        "area": service.area.slug,
        "comuni": ",".join(comuni),
        "life_events": ",".join(event.slug for event in service.life_events),
        "popularity": service.popularity,
    }
    for locale in locales:
        row = rows.get(locale)
        if row is not None:
            body = "\n".join(getattr(row, name) or "" for name in SECTIONS)
            doc.update(locale_fields(locale, row.title, row.keywords, row.summary, body))
    return doc


MARKDOWN_MARKS = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+|\*\*|__", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """Card text without list markers and emphasis, as snippets show it."""
    return MARKDOWN_MARKS.sub("", markdown)


def locale_fields(locale, title, keywords, summary, body) -> dict:
    """The fields one locale's text fills (also used by the benchmark's synthetic catalog)."""
    body = plain_text(body)
    return {
        f"head_{locale}": f"{title}\n{keywords}",
        f"text_{locale}": f"{summary}\n{body}",
        f"words_{locale}": " ".join((title, keywords, summary, body)),
        f"summary_{locale}": summary,
        f"body_{locale}": body,
    }


class _Borrowed:
    """`with index.searcher() as s:` for a searcher the index keeps open for reuse."""

    def __init__(self, searcher):
        self.searcher = searcher

    def __enter__(self):
        return self.searcher

    def __exit__(self, *exc):
        return False


class SearchUnavailable(RuntimeError):
    """The index is missing (not yet built: the database was unreachable at start-up)."""


class SearchIndex:
    """The deployment's index on disk, opened once per process."""

    def __init__(self, directory: str, locales, array_cache_bytes: int = 256 * 2**20):
        self.directory = Path(directory)
        self.locales = tuple(locales)
        self.schema = build_schema(self.locales)
        # Postings decoded for scoring, by segment: segments never change, so entries stay
        # valid until evicted; a rebuild starts afresh.
        self.arrays = ArrayCache(array_cache_bytes)
        self.corrections = LruCache(size=4096)  # keyed by the index generation
        self._ix = None
        self._local = threading.local()

    @property
    def ix(self):
        if self._ix is None:
            if not self.exists():
                raise SearchUnavailable(str(self.directory))
            self._ix = whoosh_index.open_dir(str(self.directory))
        return self._ix

    def exists(self) -> bool:
        return whoosh_index.exists_in(str(self.directory))

    def is_usable(self) -> bool:
        """The index is there, readable, and has the fields this configuration needs."""
        if not self.exists():
            return False
        try:
            ix = whoosh_index.open_dir(str(self.directory))
        except Exception as error:  # any read failure means a corrupt index: rebuild it
            log.warning("search index at %s is unreadable: %s", self.directory, str(error))
            return False
        # Whoosh leaves the files of a segment it fails to read open; they are closed when the
        # exception is released, which must not warn: the failure is expected and handled.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            try:
                with ix.searcher() as searcher:
                    searcher.doc_count()
                    for name in ("slug", "words_it"):
                        list(searcher.lexicon(name))
            except Exception as error:  # as above: corrupt segments
                log.warning("search index at %s is corrupt: %s", self.directory, str(error))
                return False
            finally:
                ix.close()
        return set(self.schema.names()) <= set(ix.schema.names())

    def close(self) -> None:
        current = getattr(self._local, "searcher", None)
        if current is not None:
            current.close()
            self._local.searcher = None
        if self._ix is not None:
            self._ix.close()
            self._ix = None

    def create_empty(self) -> None:
        self.close()
        self.arrays.clear()
        self.corrections.clear()
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ix = whoosh_index.create_in(str(self.directory), self.schema)

    def rebuild(self, services, progress=None) -> int:
        """Replace the index with these services; returns how many were indexed."""
        documents = (service_document(service, self.locales) for service in services)
        return self.rebuild_from_documents(documents, progress)

    def rebuild_from_documents(self, documents, progress=None) -> int:
        """Replace the index with these documents, in one optimised segment."""
        self.create_empty()
        writer = self.ix.writer(limitmb=256)
        count = 0
        try:
            for document in documents:
                writer.add_document(**document)
                count += 1
                if progress:
                    progress(1)
            writer.commit(optimize=True)
        except BaseException:
            writer.cancel()
            raise
        return count

    def update(self, upserts, deletions) -> None:
        """Apply changed services and removed slugs in one commit."""
        if not upserts and not deletions:
            return
        writer = AsyncWriter(self.ix, writerargs={"timeout": 5.0})
        for slug in deletions:
            writer.delete_by_term("slug", slug)
        for doc in upserts:
            writer.update_document(**doc)
        writer.commit()

    def generation(self) -> int:
        return self.ix.latest_generation()

    def doc_count(self) -> int:
        with self.ix.searcher() as searcher:
            return searcher.doc_count()

    def searcher(self):
        """A searcher on the latest index, reused by this thread while the index is unchanged
        (opening one reads every segment's metadata). Use it as a context manager.

        A changed index gets a new searcher, never Whoosh's refresh(): refresh reuses the
        reader of a segment whose deletions have changed since, so withdrawn services and the
        old copies of edited ones would still be found."""
        current = getattr(self._local, "searcher", None)
        if current is None or not current.up_to_date():
            if current is not None:
                current.close()
            current = self.ix.searcher(weighting=WEIGHTING)
        self._local.searcher = current
        return _Borrowed(current)
