"""The server's import worker process: FHIR imports.

A 30 MB import is seconds of parsing, validating and mapping; in a thread every
other request of the server waited behind it (measured: reads at 0.6 s instead of
0.3 s, pauses over a second). It runs in a worker process of its own
(:class:`~allcare.serving.WorkerProcess`), started with the app with the importer
loaded. It opens the same store by its URL; SQLite writers of both processes queue
on the store's write lock file, PostgreSQL locks rows, so a record is never written
by both at once. Imports queue in it one at a time.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..serving import WorkerProcess

_stores: dict[str, Any] = {}  # in the worker: one Store per URL, kept between imports


def _load_importer() -> None:
    """(In the worker) import what an import needs: the FHIR reader, the engine and the store."""
    from ..interop.fhir import import_resources  # noqa: F401
    from ..store import Store  # noqa: F401


_IMPORTS = WorkerProcess(warm=_load_importer)


def pool() -> ProcessPoolExecutor:
    return _IMPORTS.pool()


def start() -> None:
    """Start the worker and load the importer in it now, in the background (nothing waits for it)."""
    _IMPORTS.start()


def restart() -> None:
    """After the worker died (killed, out of memory): the next import starts a new one."""
    _IMPORTS.restart()


def store_for(url: str):
    """(In the worker) the store at ``url``, opened once."""
    from ..store import Store

    if url not in _stores:
        for other in _stores.values():  # a server has one store; tests make many, one after the other
            other.dispose()
        _stores.clear()
        _stores[url] = Store(url, pool_size=2)
    return _stores[url]
