"""Scoring with arrays: Whoosh analyses, stores and finds the postings; numpy adds them up.

Whoosh's collectors score one posting at a time in Python. At 50,000 services a query of a
dozen words walks a hundred thousand postings and takes half a second. Here each term's postings
are decoded once into arrays, kept per segment while the segment lives (segments never change;
deletions are applied as a mask), and a query's scores, filters, facet counts and ranking are a
handful of vector operations over one slot per document.

Scores are Whoosh's TF-IDF, as before: a term adds boost x weight x idf (the posting's weight
already carries its field's boost); a phrase adds what Whoosh's phrase matcher scores; a fuzzy
term adds its boost once to every document holding any of its expansions. Ties keep index order.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as q
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher

EMPTY_IDS = np.zeros(0, dtype=np.int32)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)


class ArrayCache:
    """Decoded postings and columns of segments, least recently used first out, within a
    memory budget. Keys start with the segment's id, which no other segment ever has."""

    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self.used = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, compute):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                return value
        value = compute()  # outside the lock: two threads may decode the same term once each
        size = sum(part.nbytes for part in value if isinstance(part, np.ndarray))
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self.used += size
            while self.used > self.budget and len(self._items) > 1:
                _key, old = self._items.popitem(last=False)
                self.used -= sum(part.nbytes for part in old if isinstance(part, np.ndarray))
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0


def _leaf_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """(document numbers, weights) of one segment's postings of a term."""
    if isinstance(matcher, FilterMatcher):  # deletions: the caller masks them itself
        matcher = matcher.child
    if type(matcher) is W3LeafMatcher:
        return _w3_postings(matcher)
    return _generic_postings(matcher)


def _w3_postings(matcher: W3LeafMatcher) -> tuple[np.ndarray, np.ndarray]:
    """Whole blocks at a time from Whoosh 3 posting files: each block is a pickled tuple of
    delta-encoded ids and of weights, which numpy turns into arrays without a Python loop."""
    ids, weights = [], []
    while matcher.is_active():
        matcher._read_data()
        deltas, block_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        if matcher._byteids:
            ids.append(np.asarray(deltas, dtype=np.int64))
        else:
            ids.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
        if block_weights is None:
            weights.append(np.ones(count, dtype=np.float32))
        elif isinstance(block_weights, float):
            weights.append(np.full(count, block_weights, dtype=np.float32))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float32))
        matcher._next_block()
    if not ids:
        return EMPTY_IDS, EMPTY_WEIGHTS
    return np.concatenate(ids).astype(np.int32), np.concatenate(weights)


def _generic_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """Any other matcher, one posting at a time."""
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32)


@dataclass(frozen=True)
class Leaf:
    reader: object  # a Whoosh segment reader
    offset: int
    key: str


class ArraySearcher:
    """One Whoosh searcher seen as arrays with a slot per document (deleted ones included)."""

    def __init__(self, searcher, cache: ArrayCache):
        self.searcher = searcher
        self.cache = cache
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        self.leaves = [
            Leaf(leaf, offset, leaf.segment().segment_id())
            for leaf, offset in _leaves(reader)
            if leaf.doc_count_all()  # an empty index has one reader and no segment
        ]
        self.live = np.ones(self.size, dtype=bool)
        for leaf in self.leaves:
            deleted = self._deleted(leaf)
            if deleted.size:
                self.live[deleted + leaf.offset] = False

    def _deleted(self, leaf: Leaf) -> np.ndarray:
        if not leaf.reader.has_deletions():
            return EMPTY_IDS
        deleted = leaf.reader.deleted_docs_set
        return self.cache.get(
            (leaf.key, "deleted", len(deleted)),
            lambda: (np.fromiter(sorted(deleted), dtype=np.int32, count=len(deleted)),),
        )[0]

    # -- postings -----------------------------------------------------------------------------

    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and weights of a term across segments (deleted ones included)."""
        parts = []
        for leaf in self.leaves:
            ids, weights = self.cache.get(
                (leaf.key, fieldname, text),
                lambda leaf=leaf: _segment_postings(leaf, fieldname, text),
            )
            if ids.size:
                parts.append((ids + leaf.offset if leaf.offset else ids, weights))
        if len(parts) < 2:
            return parts[0] if parts else (EMPTY_IDS, EMPTY_WEIGHTS)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def mask(self, fieldname: str, text: str) -> np.ndarray:
        """Live documents holding a term, as a boolean array."""
        found = np.zeros(self.size, dtype=bool)
        found[self.postings(fieldname, text)[0]] = True
        return found & self.live

    def codes(self, fieldname: str) -> tuple[list[str], np.ndarray]:
        """A single-valued keyword field as (its values, each document's value number or -1)."""
        key = ("codes", fieldname, *(leaf.key for leaf in self.leaves))
        values, codes = self.cache.get(key, lambda: self._codes(fieldname))
        return values, codes

    def _codes(self, fieldname: str):
        values = sorted(_text(value) for value in self.searcher.lexicon(fieldname))
        codes = np.full(self.size, -1, dtype=np.int32)
        for number, value in enumerate(values):
            codes[self.postings(fieldname, value)[0]] = number
        return values, codes

    def numbers(self, fieldname: str) -> np.ndarray:
        """A sortable numeric field of every document, read once per segment."""
        parts = []
        for leaf in self.leaves:
            (values,) = self.cache.get(
                (leaf.key, "column", fieldname),
                lambda leaf=leaf: (_segment_column(leaf, fieldname),),
            )
            parts.append(values)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)

    # -- scoring ------------------------------------------------------------------------------

    def score(self, clauses: list[q.Query]) -> tuple[np.ndarray, np.ndarray]:
        """(scores, matched): the sum of every clause's score and which live documents match."""
        scores = np.zeros(self.size, dtype=np.float64)
        matched = np.zeros(self.size, dtype=bool)
        for clause in clauses:
            if isinstance(clause, q.FuzzyTerm):
                hit = np.zeros(self.size, dtype=bool)
                for fieldname, text in clause.expanded_terms(self.searcher.reader()):
                    hit[self.postings(fieldname, _text(text))[0]] = True
                scores[hit] += clause.boost
                matched |= hit
            elif isinstance(clause, q.Term):
                ids, weights = self.postings(clause.fieldname, clause.text)
                if ids.size:
                    idf = self.searcher.idf(clause.fieldname, clause.text)
                    scores[ids] += weights * (clause.boost * idf)
                    matched[ids] = True
            else:  # phrases and anything else: Whoosh's own matcher, one document at a time
                ids, values = _matches(clause, self.searcher)
                np.add.at(scores, ids, values)
                matched[ids] = True
        matched &= self.live
        return scores, matched

    @staticmethod
    def ranked(keys: np.ndarray, matched: np.ndarray, count: int) -> np.ndarray:
        """The first ``count`` matching documents by ``keys`` descending, then index order."""
        candidates = np.flatnonzero(matched)
        if candidates.size > count:
            values = keys[candidates]
            # Everything scoring at least the count-th best (ties included), then sorted.
            threshold = np.partition(values, values.size - count)[values.size - count]
            candidates = candidates[values >= threshold]
        order = np.lexsort((candidates, -keys[candidates]))
        return candidates[order][:count]


def _leaves(reader):
    return reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]


def _text(text) -> str:
    return text.decode("utf-8") if isinstance(text, bytes) else text


def _segment_postings(leaf: Leaf, fieldname: str, text: str):
    if (fieldname, text) not in leaf.reader:
        return EMPTY_IDS, EMPTY_WEIGHTS
    return _leaf_postings(leaf.reader.postings(fieldname, text))


def _segment_column(leaf: Leaf, fieldname: str) -> np.ndarray:
    reader = leaf.reader
    if not reader.has_column(fieldname):
        return np.zeros(reader.doc_count_all(), dtype=np.float64)
    column = reader.column_reader(fieldname)
    return np.fromiter(column, dtype=np.float64, count=reader.doc_count_all())


def _matches(clause: q.Query, searcher) -> tuple[np.ndarray, np.ndarray]:
    matcher = clause.matcher(searcher)
    ids, values = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        values.append(matcher.score())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(values, dtype=np.float64)
