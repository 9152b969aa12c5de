"""The in-memory caches of a serving process: one bounded LRU class, one owner.

Every cache of the web app is an :class:`LRU`, and all of them are built once,
by ``create_app``, into one :class:`Caches` on the app object. Nothing else
keeps patient data in memory between requests, so there is one place to size
them, to clear them and to evict a deleted record from them.

Keys of cached *records* are ``(epoch, patient id, revision, ...)``:

- the patient id is never reused (SQLite ``AUTOINCREMENT``, PostgreSQL
  sequences), so a new patient can never be served a deleted one's data;
- the epoch is a random value of the store that ``restore`` replaces, so a
  store restored by another process (same ids, same revisions, other content)
  never matches what was cached before;
- the revision changes with every write to the record.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """A bounded, thread-safe map that forgets the least recently used entry first.

    ``size`` 0 keeps nothing (every ``get`` misses). Values are computed outside
    the lock by :meth:`get_or_compute`, so a slow computation never blocks
    readers of other keys; two threads missing the same key may both compute it
    (the results are equal by construction: keys name exactly what was computed).
    """

    def __init__(self, size: int = 1024):
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value

    def evict(self, matches: Callable[[K], bool]) -> int:
        """Drop every entry whose key ``matches``; returns how many were dropped."""
        with self._lock:
            doomed = [key for key in self._items if matches(key)]
            for key in doomed:
                del self._items[key]
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# Records whose rendered patient-page section is kept: about 40 KB each, LZ4-compressed (~40 MB in all).
PAGE_FRAGMENTS = 1024
# Assessments of a whole CDS Hooks prefetch, by the digest of its content.
CDS_ASSESSMENTS = 256


def _record(patient_id: int) -> Callable[[Any], bool]:
    return lambda key: isinstance(key, tuple) and len(key) > 1 and key[1] == patient_id


@dataclass
class Caches:
    """Every cache of one app. Record caches are keyed ``(epoch, patient_id, revision, ...)``."""

    assessments: LRU[tuple, bytes] = field(default_factory=lambda: LRU(2048))
    page_fragments: LRU[tuple, Any] = field(default_factory=lambda: LRU(PAGE_FRAGMENTS))
    cds_assessments: LRU[bytes, Any] = field(default_factory=lambda: LRU(CDS_ASSESSMENTS))

    @classmethod
    def sized(cls, assessments: int) -> Caches:
        return cls(assessments=LRU(assessments))

    def forget_patient(self, patient_id: int) -> None:
        """Evict everything cached about one record (called when it is deleted)."""
        for cache in (self.assessments, self.page_fragments):
            cache.evict(_record(patient_id))
