"""Keeping each record's stored summary fresh: by the writer, and by a background pass.

A list of patients serves the stored ``patient_summaries`` rows and never runs
the engine while it answers: a list read that recomputed stale rows wrote to the
store inside a read request, so it queued behind any import holding the write
lock, and one slow import made every list wait.

- **The writer** recomputes the summary of every record it changed, in the same
  transaction, just before it commits (:func:`summarise_written`, a
  ``before_commit`` hook on every session of a Store), under the record's write
  lock it already holds. A committed record therefore always has the summary of
  its own revision: readers never see a new revision with an old summary.
- **The background pass** (:func:`refresh_stale`, run by :class:`SummaryRefresher`
  in the server, off the event loop) recomputes what no writer touched: rows of
  an older engine or rule set, and records restored from a backup. Until it has,
  a list shows the old row marked ``fresh=False``. It runs the engine outside any
  lock and writes only if the record is still at the revision it assessed, so it
  never holds up a writer for an engine run, and never overwrites a newer summary.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from .assessments import (
    compute_summary,
    engine_available,
    read_record,
    refresh_summaries,
    save_summary,
    stale_patient_ids,
    store_epoch,
)
from .errors import NotFound
from .patients import WRITTEN_KEY, lock_record

if TYPE_CHECKING:
    from .core import Store

log = logging.getLogger("allcare.store.summaries")


def summarise_written(session: Session) -> None:
    """``before_commit``: recompute the summary of each record this transaction changed.

    Pending changes to the record are flushed first, so the engine reads exactly what is
    committed. The transaction's audit events are sealed after this hook (:func:`.audit.seal_pending`,
    registered after it), so the store-wide lock of the audit chain is not held while the engine runs.
    Without the engine (a store used before it is installed) the background pass does it later.
    """
    written = session.info.pop(WRITTEN_KEY, None)
    if not written or not engine_available():
        return
    session.flush()
    refresh_summaries(session, sorted(written))


def forget_written(session: Session, _previous_transaction=None) -> None:
    """``after_soft_rollback``: a rolled-back change needs no summary."""
    session.info.pop(WRITTEN_KEY, None)


def refresh_one(store: Store, patient_id: int) -> bool:
    """Recompute one stale summary without holding a lock while the engine runs; False if it changed meanwhile.

    The record is read in one snapshot and assessed outside any transaction; the result is
    written under the record's lock only if the record is still at that revision in that
    store (else its writer has already stored a newer summary, or a restore replaced it).
    """
    with store.sessions() as session:
        try:
            record = read_record(session, None, patient_id)
        except NotFound:
            return False
        computed = compute_summary(session, record.patient)
    with store.transaction() as session:
        try:
            patient = lock_record(session, patient_id)
        except NotFound:
            return False
        if patient.revision != record.patient.revision or store_epoch(session) != record.epoch:
            return False
        save_summary(session, patient, record.epoch, *computed)
    return True


def refresh_stale(store: Store, *, stop: threading.Event | None = None, batch: int = 50) -> int:
    """The background pass: recompute every stale summary, one record per short transaction."""
    if not engine_available():
        return 0
    done = 0
    while stop is None or not stop.is_set():
        with store.sessions() as session:
            stale = stale_patient_ids(session, limit=batch)
        refreshed = 0
        for patient_id in stale:
            if stop is not None and stop.is_set():
                break
            refreshed += refresh_one(store, patient_id)
        done += refreshed
        if len(stale) < batch or not refreshed:
            break
    return done


class SummaryRefresher:
    """A daemon thread of the server running :func:`refresh_stale` at start, when woken, and every ``interval`` s.

    Woken by a list read that served a stale row (``wake``), so an engine or rule-set
    upgrade, or a restore run by another process, is caught up without any reader waiting.
    """

    def __init__(self, store: Store, interval: float = 30.0):
        self.store = store
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="allcare-summaries", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                refresh_stale(self.store, stop=self._stop)
            except Exception:
                log.exception("refreshing stale patient summaries failed; retrying later")
            self._wake.wait(self.interval)
            self._wake.clear()
