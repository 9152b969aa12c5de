"""Process-wide settings for a process that serves requests (the web app, the CDS Hooks service), and its
worker processes."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

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


class WorkerProcess:
    """One worker process of a server process, for work that must not share the server's interpreter.

    A thread is not enough for tens of milliseconds (or seconds) of Python: it holds the interpreter
    lock in slices, so every other request of the server waits behind it. In a process of its own the
    work runs on another core and the server's event loop and request threads are untouched.

    Started on first use or by :meth:`start` (``spawn``, never ``fork``: the server has threads and open
    connections), ended with the interpreter; ``warm`` runs in it as soon as it starts, so that the first
    request after a restart does not wait seconds for a cold interpreter. Work queues in it one task
    at a time. After it died (killed, out of memory) :meth:`restart` lets the next task start a new one.
    """

    def __init__(self, warm: Callable[[], None] | None = None) -> None:
        self._warm = warm
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_serve_this_server_only, initargs=(os.getpid(),))
                if self._warm is not None:
                    self._pool.submit(self._warm)
            return self._pool

    def start(self, *, wait: bool = False) -> None:
        """Start the process and warm it now, in the background (nothing waits for it), or ``wait`` until
        it is warm."""
        started = self.pool().submit(_ready)
        if wait:
            started.result()

    def restart(self) -> None:
        """After the process died: the next task starts a new one."""
        with self._lock:
            broken, self._pool = self._pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)


def _serve_this_server_only(server: int) -> None:
    """(In a worker process, first) live and end with the server process that started it.

    Ctrl-C is ignored: a terminal sends it to the whole process group, and the server, which gets it
    too, ends its worker processes itself as it shuts down (each printed a ``KeyboardInterrupt``
    traceback). And the process ends when the server is gone: a server stopped by SIGTERM (uvicorn
    raises it again after its graceful shutdown) or SIGKILL exits without ending its worker processes,
    which were then left running on their own (found with ``kill <server pid>``). ``server`` is its pid as
    the server gave it: a server gone before this process had started would otherwise leave it its new
    parent's pid to watch.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def end_with_the_server() -> None:
        while os.getppid() == server:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=end_with_the_server, name="end-with-the-server", daemon=True).start()


_PARENT_CHECK_SECONDS = 1.0


def _ready() -> None:
    """(In a worker process) nothing: queued after ``warm``, it is done when the process is ready."""
