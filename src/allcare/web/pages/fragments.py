"""The patient page's assessment section, rendered once per record revision.

Why: that section (alerts, diagnosis panel, charts, derivation trail) is most of
the page's cost: reading the assessment, building the chart figures and rendering
some 155 KB of HTML, 7-10 ms of CPU for a record with three years of data.
It depends only on the record (its key: store epoch, id and revision), the
engine and the rule set, never on who is looking, so it is kept, LZ4-compressed
(about 40 KB each), in the app's ``Caches.page_fragments``. LZ4 rather than gzip:
for a three-year record's section (then ~180 KB) it packs in ~0.3 ms instead of ~1.3 ms and
unpacks, on every view, in ~0.2 ms instead of ~0.7 ms, for ~20% more memory. The page around it
(user, CSRF token, what the role may do) is rendered for every request as before.

The findings list under it is kept the same way (:class:`FindingsSection`), keyed by the
record, the type filter, how many are shown and the day (an end-phase form proposes today):
reading, decoding and summarising its rows was most of a repeat view's cost. Its forms
carry the viewer's CSRF token, so it is kept with a placeholder that each request fills in.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import lz4.frame
from markupsafe import Markup, escape

from ...caches import LRU


@dataclass(frozen=True)
class PatientFragments:
    meta: Markup
    body: Markup | None


def cached_fragments(cache: LRU, key: tuple, render: Callable[[], PatientFragments]) -> PatientFragments:
    packed = cache.get(key)
    if packed is not None:
        meta, body = (lz4.frame.decompress(part).decode() for part in packed)
        return PatientFragments(Markup(meta), Markup(body) if body else None)  # noqa: S704 - our own rendered HTML
    fragments = render()
    cache.put(key, (_packed(str(fragments.meta)), _packed(str(fragments.body or ""))))
    return fragments


# Stands for the viewer's CSRF token in a cached findings list. Random per process, so no text
# stored in a record (written before the process started, or by someone who cannot see it) holds it.
CSRF_PLACEHOLDER = "csrf-" + secrets.token_hex(16)


@dataclass(frozen=True)
class FindingsSection:
    """The findings list (HTML with :data:`CSRF_PLACEHOLDER`) and the date of the record's latest finding."""

    html: str
    latest: dt.date | None

    def for_viewer(self, csrf_token: str) -> Markup:
        return Markup(self.html.replace(CSRF_PLACEHOLDER, str(escape(csrf_token))))  # noqa: S704 - our own rendered HTML


def cached_findings(cache: LRU, key: tuple, render: Callable[[], FindingsSection]) -> FindingsSection:
    packed = cache.get(key)
    if packed is not None:
        html, latest = packed
        return FindingsSection(lz4.frame.decompress(html).decode(), latest)
    section = render()
    cache.put(key, (_packed(section.html), section.latest))
    return section


def _packed(html: str) -> bytes:
    return lz4.frame.compress(html.encode())
