"""Where a CDS Hooks request's cold work runs: the assessor process, or (to profile it) a thread.

A cold request (a prefetch not assessed before) is 35 to 45 ms of Python: decoding a megabyte of FHIR
JSON, checking and mapping ~1,000 resources, assessing. In a thread of the server it holds the
interpreter lock in slices, so the warm requests of the same server process (answered from the
assessment kept for their content in ~2 ms) waited behind it: at 100 requests/s with one request in
ten cold, the warm ones' p99 went over 100 ms (issue 11's figures). In a worker process of its own
(:class:`~allcare.serving.WorkerProcess`, one per server process) the cold work runs on another core,
and the server's event loop answers warm requests meanwhile.

The process gets the prefetch's text and the rule set, and answers with the assessment as its JSON
(``allcare.assessment``'s own format: smaller and quicker across a pipe than pickled objects) and
where its time went; the server keeps the assessment for the next request of the same content.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ...engine.assessment import assessment_from_json, assessment_to_json
from ...engine.rules import RuleSet
from ...serving import WorkerProcess, prepare_server_process
from .prefetch import Assessed, CdsRefusal, NeedsFetch, Timing, assess_prefetch

# (texts, patient id, rules, timing, complete) -> the outcome: how the service runs the cold work.
Assessor = Callable[[dict[str, bytes], str, RuleSet, Timing, bool], Awaitable[Assessed | NeedsFetch]]


def _warm() -> None:
    """(In the assessor process) what a cold request needs, loaded before the first: the FHIR reader,
    the engine, the UCUM registry; and the server's collector thresholds (30% less CPU per request)."""
    prepare_server_process()


_PROCESS = WorkerProcess(warm=_warm)


def start_assessor(*, wait: bool = False) -> None:
    """Start this server process's assessor process, warmed, in the background (or ``wait`` until it is)."""
    _PROCESS.start(wait=wait)


async def in_process(texts: dict[str, bytes], patient_id: str, rules: RuleSet, timing: Timing,
                     complete: bool) -> Assessed | NeedsFetch:
    """The cold work in this server process's assessor process (restarted once if it had died); its
    stages timed there, handing it over and back timed as ``transfer``."""
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        try:
            kind, payload, stages = await loop.run_in_executor(
                _PROCESS.pool(), _assess_in_process, texts, patient_id, rules, complete)
            break
        except BrokenProcessPool:
            _PROCESS.restart()
            if attempt == 2:
                raise CdsRefusal(503, "the assessment process stopped twice; try again") from None
    if kind == "fetch":
        timing.lap_after(stages, "transfer")
        return NeedsFetch(*payload)
    patient_id, assessment_json = payload
    assessment = assessment_from_json(assessment_json)
    timing.lap_after(stages, "transfer")
    return Assessed(patient_id, assessment)


def in_thread(offload: Callable[..., Awaitable[Any]]) -> Assessor:
    """The cold work in the server's own threads (``offload``: Starlette's thread pool, or run inline to
    count and profile it, as ``bench/cds_cold.py`` does), its stages timed by the request's clock."""

    async def assessor(texts: dict[str, bytes], patient_id: str, rules: RuleSet, timing: Timing,
                       complete: bool) -> Assessed | NeedsFetch:
        outcome: Assessed | NeedsFetch = await offload(assess_prefetch, texts, patient_id, rules, timing.lap, complete=complete)
        return outcome

    return assessor


def _assess_in_process(texts: dict[str, bytes], patient_id: str, rules: RuleSet,
                       complete: bool) -> tuple[str, Any, list[tuple[str, float]]]:
    """(In the assessor process) the outcome as plain data: ("assessed", (patient id, assessment JSON))
    or ("fetch", (missing, partial)), with the time of each stage; a refusal crosses as itself."""
    stages: list[tuple[str, float]] = []
    last = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal last
        now = time.perf_counter()
        stages.append((stage, (now - last) * 1000))
        last = now

    outcome = assess_prefetch(texts, patient_id, rules, lap, complete=complete)
    if isinstance(outcome, NeedsFetch):
        return "fetch", (outcome.missing, outcome.partial), stages
    return "assessed", (outcome.patient_id, assessment_to_json(outcome.assessment)), stages
