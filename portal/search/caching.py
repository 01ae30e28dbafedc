"""Bounded caches of the search: results and spelling corrections, valid for one index
generation (the generation is part of every key, so a changed index never serves old ones)."""

import threading
from collections import OrderedDict


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
