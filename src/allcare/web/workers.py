"""A worker process for the heavy requests of a server: FHIR imports.

A thread is not enough for a 30 MB import: parsing, validating and mapping it
is seconds of Python that holds the interpreter lock in slices, and its many
objects make the garbage collector pause the whole process; every other
request of the server waited behind it (measured: reads at 0.6 s instead of
0.3 s, pauses over a second). In a process of its own the import runs on
another core and the server's event loop and request threads are untouched.

One worker process per server process, started with the app (``spawn``, never
``fork``: the server has threads and open connections) and ended with the
interpreter. It loads the importer as soon as it starts (:func:`start`), so the
first import after a restart does not wait seconds for a cold interpreter. It opens the same store by its URL; SQLite writers of both
processes queue on the store's write lock file, PostgreSQL locks rows, so a
record is never written by both at once. Imports queue in it one at a time.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()
_stores: dict[str, Any] = {}  # in the worker: one Store per URL, kept between imports


def pool() -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per process, started on first use
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def start() -> None:
    """Start the worker and load the importer in it now, in the background (nothing waits for it)."""
    pool().submit(_load_importer)


def _load_importer() -> None:
    """(In the worker) import what an import needs: the FHIR reader, the engine and the store."""
    from ..interop.fhir import import_resources  # noqa: F401
    from ..store import Store  # noqa: F401


def restart() -> None:
    """After the worker died (killed, out of memory): the next import starts a new one."""
    global _pool
    with _lock:
        broken, _pool = _pool, None
    if broken is not None:
        broken.shutdown(wait=False, cancel_futures=True)


def store_for(url: str):
    """(In the worker) the store at ``url``, opened once."""
    from ..store import Store

    if url not in _stores:
        for other in _stores.values():  # a server has one store; tests make many, one after the other
            other.dispose()
        _stores.clear()
        _stores[url] = Store(url, pool_size=2)
    return _stores[url]
