"""The patient page's assessment section, rendered once per record revision.

Why: that section (alerts, diagnosis panel, charts, derivation trail) is most of
the page's cost: parsing the ~270 KB assessment, building the chart figures and
rendering some 200 KB of HTML, about 25 ms for a record with three years of data.
It depends only on the record (its key: store epoch, id and revision), the
engine and the rule set, never on who is looking, so it is kept, gzip-compressed
(about 25 KB each), in the app's ``Caches.page_fragments``. The page around it
(user, CSRF token, what the role may do) is rendered for every request as before.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from ...caches import LRU


@dataclass(frozen=True)
class PatientFragments:
    meta: Markup
    body: Markup | None


def cached_fragments(cache: LRU, key: tuple, render: Callable[[], PatientFragments]) -> PatientFragments:
    packed = cache.get(key)
    if packed is not None:
        meta, body = (gzip.decompress(part).decode() for part in packed)
        return PatientFragments(Markup(meta), Markup(body) if body else None)  # noqa: S704 - our own rendered HTML
    fragments = render()
    cache.put(key, (gzip.compress(str(fragments.meta).encode(), 1), gzip.compress(str(fragments.body or "").encode(), 1)))
    return fragments
