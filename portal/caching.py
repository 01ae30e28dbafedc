"""A small thread-safe cache of the most recently used entries, for one process.

Callers put what makes an entry stale into its key (the search index's generation, the versions
of an inbox's queues), so an entry is never wrong, only dropped when the cache is full. ``ttl``
bounds how long one lives as well, for what a key cannot capture; a ttl of 0 keeps nothing."""

import threading
import time
from collections import OrderedDict


class LruCache:
    def __init__(self, size: int = 512, ttl: float | None = None):
        self.size = size
        self.ttl = ttl
        self._items: OrderedDict = OrderedDict()  # key -> (expiry or None, value)
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires is not None and expires < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        if self.ttl is not None and self.ttl <= 0:
            return
        expires = None if self.ttl is None else time.monotonic() + self.ttl
        with self._lock:
            self._items[key] = (expires, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
