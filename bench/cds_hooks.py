"""CDS Hooks benchmark: latency and throughput of ``POST /cds-services/all-assessment``.

One synthetic patient with ``--years`` of follow-up (``allcare.cohort.synthetic``) is exported
to FHIR with allcare's exporter and sent as the prefetch of every request, by ``--clients``
concurrent clients on loopback, to the CDS Hooks app served by uvicorn in a subprocess
(``--workers`` processes). The run stops after ``--requests`` requests or ``--duration``
seconds, whichever comes first. Prints p50/p90/p99 latency, throughput and errors, and the
unloaded (one client) latency for comparison. Goal (issues 4, 10, 11): p99 < 100 ms at >= 100 requests/s,
cold requests included.

Two ways of loading the server:

* closed loop (default): ``--clients`` clients each send a request as soon as their last one is answered,
  so the arrival rate adapts to the server and queueing shows as lower throughput;
* open loop (``--rate R``): requests arrive at R per second whatever the server does (as chart openings do),
  each latency measured from its *scheduled* send time, so time spent queueing (in the client's
  connection pool, the socket, or the server) counts. The goal is stated at a rate, so this is its measure.

``--patients N`` sends N different patients in turn: a request is *cold* when the worker that answers it
has not assessed that prefetch before (parse, map, assess; with several workers a patient is cold once per
worker, since each keeps its own assessments) and *warm* when it has (its Server-Timing says ``known``);
cold and warm latencies are printed apart, with the server's own split of a cold request (the
``Server-Timing`` header: parse, fetch, check, map, assess, cards). ``--fresh-share F`` (open loop) makes
that share of the requests carry a prefetch no worker has seen (a copy of a patient under a new id, as
when a chart's data have changed since it was last opened), so the cold share is set, not left to the
number of patients and workers.

The open loop sends its requests as prepared bytes over plain keep-alive sockets (``rawhttp.RawClient``):
an HTTP client library costs the load generator several milliseconds of CPU per 0.8 MB request, which on
a 2-core machine it takes from the server (earlier stops: 100 requests/s offered, ~50 sent).

    .venv/bin/python bench/cds_hooks.py [--clients 32 | --rate 100] [--requests 600] [--duration 60] [--workers N]
        [--patients 1] [--fresh-share 0.1] [--http auto|h11|httptools] [--loop auto|asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rawhttp import RawClient  # noqa: E402
from server_cpu import session_cpu_seconds  # noqa: E402

from allcare.cohort.synthetic import generate_case  # noqa: E402
from allcare.engine import case_from_dict  # noqa: E402
from allcare.interop.fhir import case_resources  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def request_body(years: float, seed: int) -> tuple[bytes, int, bytes]:
    """The request, its number of resources and the patient's id (as it appears in the body)."""
    case = case_from_dict(generate_case(random.Random(seed), 1, years=years))
    resources = case_resources(case)

    def searchset(rtype: str) -> dict:
        return {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources if r["resourceType"] == rtype]}

    body = {
        "hook": "patient-view", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench", "patientId": resources[0]["id"]},
        "prefetch": {"patient": resources[0], "observations": searchset("Observation"), "conditions": searchset("Condition"),
                     "medications": searchset("MedicationAdministration"), "careplans": searchset("CarePlan"),
                     "medicationrequests": searchset("MedicationRequest"), "diagnosticreports": searchset("DiagnosticReport")},
    }
    return json.dumps(body).encode(), len(resources), str(resources[0]["id"]).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, http: str = "auto", loop: str = "auto") -> subprocess.Popen:
    # a benchmark on loopback: anonymous calls (a deployment names its trusted EHRs instead)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ALLCARE_CDS_ALLOW_ANONYMOUS": "true"}
    command = [sys.executable, "-m", "uvicorn", "allcare.interop.cdshooks.service:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
               "--http", http, "--loop", loop]
    return subprocess.Popen(command, env=env, start_new_session=True)


def wait_ready(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited with status {server.returncode}")
        try:
            if httpx.get(f"{url}/cds-services", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not become ready")


def stop_server(server: subprocess.Popen) -> None:
    """Stop the uvicorn process this script started (and its workers, in its own session)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


async def load(url: str, bodies: list[bytes], clients: int, requests: int, duration: float):
    """Requests cycle through ``bodies``; returns [(seconds, cold, server timing)], errors, elapsed (cold: see
    :func:`is_cold`)."""
    results: list[tuple[float, bool, dict[str, float]]] = []
    errors = 0
    issued = 0
    started = time.perf_counter()
    deadline = started + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        async def one_client() -> None:
            nonlocal errors, issued
            while issued < requests and time.perf_counter() < deadline:
                which = issued % len(bodies)
                issued += 1
                t0 = time.perf_counter()
                ok, timing = await post(client, url, bodies[which])
                results.append((time.perf_counter() - t0, is_cold(timing), timing))
                errors += not ok

        await asyncio.gather(*(one_client() for _ in range(clients)))
    return results, errors, time.perf_counter() - started


async def post(client: httpx.AsyncClient, url: str, body: bytes) -> tuple[bool, dict[str, float]]:
    """One CDS request: (answered 200, the server's own split of its time)."""
    try:
        response = await client.post(f"{url}/cds-services/all-assessment", content=body,
                                     headers={"Content-Type": "application/json"})
    except httpx.HTTPError:
        return False, {}
    return response.status_code == 200, server_timing(response.headers.get("server-timing", ""))


async def raw_post(client: RawClient, body: bytes) -> tuple[bool, dict[str, float]]:
    """(answered 200, the server's own split of its time)."""
    status, headers = await client.request("POST", "/cds-services/all-assessment", body)
    return status == 200, server_timing(headers.get("server-timing", ""))


def fresh_copy(body: bytes, patient_id: bytes, number: int) -> bytes:
    """``body`` for a patient no worker has seen: its id (same length, so nothing else moves) replaced everywhere."""
    fresh = f"F{number:0{len(patient_id) - 1}d}".encode()
    return body.replace(patient_id, fresh)


async def open_loop(url: str, bodies: list[bytes], rate: float, requests: int, duration: float,
                    fresh_share: float = 0.0, patient_ids: list[bytes] | None = None):
    """Requests sent at ``rate`` per second on a fixed schedule (the i-th at ``start + i / rate``), each
    latency measured from its scheduled time; same return as :func:`load`. Every request whose number
    crosses a multiple of ``1 / fresh_share`` carries a fresh copy of its patient (:func:`fresh_copy`)."""
    results: list[tuple[float, bool, dict[str, float]]] = []
    errors = 0
    total = min(requests, int(duration * rate))
    client = RawClient(url)

    async def one(body: bytes, scheduled: float) -> None:
        nonlocal errors
        ok, timing = await raw_post(client, body)
        results.append((time.perf_counter() - scheduled, is_cold(timing), timing))
        errors += not ok

    started = time.perf_counter()
    tasks = []
    for n in range(total):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        which = n % len(bodies)
        body = bodies[which]
        if fresh_share and patient_ids and int((n + 1) * fresh_share) > int(n * fresh_share):
            body = fresh_copy(body, patient_ids[which], n)
        tasks.append(asyncio.create_task(one(body, scheduled)))
    await asyncio.gather(*tasks)
    client.close()
    return results, errors, time.perf_counter() - started


def is_cold(timing: dict[str, float]) -> bool:
    """Assessed afresh by the worker that answered (an answered request whose Server-Timing has no ``known``)."""
    return bool(timing) and "known" not in timing


def server_timing(header: str) -> dict[str, float]:
    out = {}
    for part in header.split(","):
        name, _, rest = part.strip().partition(";dur=")
        if name and rest:
            out[name] = float(rest)
    return out


def summary(label: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{label}: none"
    ms = [x * 1000 for x in seconds]
    return (f"{label}: {len(ms)} requests, p50 {percentile(ms, 0.50):.0f} ms, p90 {percentile(ms, 0.90):.0f} ms, "
            f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="closed loop: concurrent clients")
    parser.add_argument("--rate", type=float, default=None, help="open loop: requests per second on a fixed schedule")
    parser.add_argument("--http", default="auto", choices=("auto", "h11", "httptools"), help="uvicorn's HTTP parser")
    parser.add_argument("--loop", default="auto", choices=("auto", "asyncio", "uvloop"), help="uvicorn's event loop")
    parser.add_argument("--requests", type=int, default=600, help="stop after this many requests")
    parser.add_argument("--duration", type=float, default=60.0, help="...or after this many seconds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--patients", type=int, default=1, help="different patients sent in turn (cold requests)")
    parser.add_argument("--fresh-share", type=float, default=0.0,
                        help="open loop: share of requests (0-1) carrying a prefetch no worker has seen (cold)")
    args = parser.parse_args()

    if not 0 <= args.fresh_share <= 1:
        parser.error("--fresh-share: a share of the requests, from 0 to 1")
    if args.fresh_share and not args.rate:
        parser.error("--fresh-share needs the open loop (--rate)")
    bodies, patient_ids = [], []
    for n in range(args.patients):
        body, resources, patient_id = request_body(args.years, args.seed + n)
        bodies.append(body)
        patient_ids.append(patient_id)
    print(f"prefetch: {resources} FHIR resources ({args.years:g} years of data), request {len(bodies[-1]) / 1e6:.2f} MB; "
          f"{len(bodies)} different patient(s)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, args.workers, args.http, args.loop)
    try:
        wait_ready(url, server)
        single = []
        with httpx.Client(timeout=120) as client:
            # A server that has been up a while: every worker has done cold work before (prefetches no one sends
            # again), so the measured cold requests do not pay what a process builds on first use.
            for n in range(4 * args.workers):
                client.post(f"{url}/cds-services/all-assessment", content=fresh_copy(bodies[-1], patient_ids[-1], 10**6 + n),
                            headers={"Content-Type": "application/json"})
            for _ in range(args.warmup):  # the last body: warm-up never makes the measured patients warm
                t0 = time.perf_counter()
                response = client.post(f"{url}/cds-services/all-assessment", content=bodies[-1], headers={"Content-Type": "application/json"})
                single.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise SystemExit(f"warm-up request failed: {response.status_code} {response.text[:500]}")
        measured = bodies[:-1] if len(bodies) > 1 else bodies
        cpu_before = session_cpu_seconds(server.pid)
        if args.rate:
            run = open_loop(url, measured, args.rate, args.requests, args.duration, args.fresh_share,
                            patient_ids[:len(measured)])
        else:
            run = load(url, measured, args.clients, args.requests, args.duration)
        results, errors, elapsed = asyncio.run(run)
        server_cpu = session_cpu_seconds(server.pid) - cpu_before
    finally:
        stop_server(server)

    seconds = [r[0] for r in results]
    shape = (f"open loop at {args.rate:g} requests/s (latency from the scheduled send time; "
             f"{args.fresh_share:.0%} of requests with a prefetch no worker has seen)" if args.rate
             else f"closed loop, {args.clients} concurrent clients")
    print(f"server: uvicorn (--http {args.http} --loop {args.loop}), {args.workers} worker(s), {os.cpu_count()} CPU(s); "
          f"load: {shape} on loopback; load average {os.getloadavg()[0]:.1f}")
    print(f"unloaded (1 client, after warm-up): median {statistics.median(single[1:] or single) * 1000:.0f} ms")
    print(f"requests: {len(seconds)} in {elapsed:.1f} s, errors: {errors}")
    print(f"throughput: {len(seconds) / elapsed:.1f} requests/s")
    print(f"server CPU per request: {server_cpu / max(1, len(seconds)) * 1000:.1f} ms (all workers; independent of other "
          f"load on the machine: {os.cpu_count()} cores could serve about {len(seconds) * (os.cpu_count() or 1) / max(server_cpu, 1e-9):.0f} "
          "requests/s if the server had them to itself)")
    print(summary("all", seconds))
    print(summary("cold (assessed afresh by the worker that answered)", [r[0] for r in results if r[1]]))
    print(summary("warm", [r[0] for r in results if not r[1]]))
    cold = [r[2] for r in results if r[1] and r[2]]
    if cold:
        stages = sorted({k for t in cold for k in t})
        print("server time of a cold request (mean ms): " + ", ".join(f"{k} {statistics.mean(t.get(k, 0) for t in cold):.1f}"
                                                                      for k in stages))
    # Open loop: the load is the offered rate when every request sent on schedule was answered (the measured
    # rate falls short of it by the last requests' latency over the run's length); closed loop: the throughput.
    offered = args.rate if args.rate and not errors else len(seconds) / elapsed
    goal = percentile([x * 1000 for x in seconds], 0.99) < 100 and offered >= 100
    print(f"goal p99 < 100 ms at >= 100 requests/s, cold included: {'met' if goal else 'not met'}"
          + ("" if args.rate else " (closed loop: measure the goal with --rate 100)"))


if __name__ == "__main__":
    main()
