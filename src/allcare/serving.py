"""Process-wide settings for a process that serves requests (the web app, the CDS Hooks service)."""

from __future__ import annotations

import gc

# Python's defaults (700, 10, 10) run a young collection every 700 allocations and a full
# one every hundred of those. A server keeps large caches (validated FHIR resources,
# assessments) and every request allocates hundreds of thousands of objects (parsing a
# megabyte of JSON), so the collector walked the whole heap several times per request:
# in the CDS Hooks service it took more than half of a request's time (38 ms -> 17 ms per
# request with these values, measured in-process). Reference counting still frees almost
# everything at once; only reference cycles wait longer.
SERVING_GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Collect cyclic garbage less often (see SERVING_GC_THRESHOLDS). Call once, in the app factory."""
    gc.set_threshold(*SERVING_GC_THRESHOLDS)


def prepare_server_process() -> None:
    """What every server process does once in its app factory, before its first request: load the
    tables a request would otherwise load on first use (the UCUM unit registry: a second or more,
    paid by the first request of every worker process) and set the collector's thresholds."""
    from .engine.case.units import load_unit_registry

    load_unit_registry()
    tune_garbage_collector()
