"""The patient page's assessment section, rendered once per record revision.

Why: that section (alerts, diagnosis panel, charts, derivation trail) is most of
the page's cost: parsing the ~270 KB assessment, building the chart figures and
rendering some 200 KB of HTML, about 25 ms for a record with three years of data.
It depends only on the record (its ``revision`` changes with every write), the
engine and the rule set, never on who is looking, so it is kept, gzip-compressed
(about 25 KB each), in a bounded per-process LRU. The page around it (user,
CSRF token, what the role may do) is rendered for every request as before.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

# Records whose section is kept per process: about 25 MB at 1,024.
FRAGMENT_CACHE_SIZE = 1024


@dataclass(frozen=True)
class PatientFragments:
    meta: Markup
    body: Markup | None


class FragmentCache:
    def __init__(self, size: int = FRAGMENT_CACHE_SIZE):
        self.size = size
        self._items: "OrderedDict[tuple, tuple[bytes, bytes]]" = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: tuple, render: Callable[[], PatientFragments]) -> PatientFragments:
        with self._lock:
            packed = self._items.get(key)
            if packed is not None:
                self._items.move_to_end(key)
        if packed is not None:
            meta, body = (gzip.decompress(part).decode() for part in packed)
            return PatientFragments(Markup(meta), Markup(body) if body else None)
        fragments = render()
        packed = (gzip.compress(str(fragments.meta).encode(), 1), gzip.compress(str(fragments.body or "").encode(), 1))
        with self._lock:
            self._items[key] = packed
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return fragments


def fragment_cache(request) -> FragmentCache:
    """The app's cache (one per app: each app serves one store)."""
    state = request.app.state
    cache = getattr(state, "patient_fragments", None)
    if cache is None:
        cache = state.patient_fragments = FragmentCache()
    return cache
