"""Web app benchmark: the patient page and the assessment endpoint under 32 concurrent clients.

Fills a store with 1,000 synthetic patients with 3 years of data each (about 170
findings per patient), on SQLite and/or PostgreSQL, assesses every record once
(as ``allcare serve`` does on start), starts ``uvicorn`` as a subprocess on
127.0.0.1 and measures over loopback, with requests written as prepared bytes on keep-alive
sockets (``rawhttp.RawClient``: an HTTP client library's CPU per request was taken from the server):

- the patient page (``PATIENT_PAGE``; until the UI page exists, the API calls a page
  needs: the patient with its summary, then the full assessment);
- the assessment endpoint, GET /api/v1/patients/{id}/assessment.

Each measurement is bounded by a request count and a time limit, after a warm-up.
Prints p50/p99 latency and requests per second. Goal (issue 3): patient page
p99 < 150 ms and assessment p99 < 50 ms at >= 200 requests/s.

Then the page weight (issue 12): Debian's chromium (through Playwright) opens one patient page
cold (empty cache) and warm (reloaded), at 1366 and 390 px wide, and prints the bytes sent
over the wire and decoded, the requests, DOMContentLoaded (which waits for the deferred chart
script) and the time until every chart is drawn. ``--weight-only`` skips the load test.

    .venv/bin/python bench/app.py                         # SQLite, and PostgreSQL if ALLCARE_TEST_PG_URL is set
    .venv/bin/python bench/app.py --db postgresql --pg-url postgresql://user:pw@127.0.0.1:5432/db
    .venv/bin/python bench/app.py --db sqlite --patients 40 --weight-only   # page weight alone
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rawhttp import RawClient
from server_cpu import session_cpu_seconds

from allcare.cohort.synthetic import generate_case
from allcare.engine.case import case_from_dict
from allcare.settings import normalise_database_url
from allcare.store import Actor, Store
from allcare.store.cases import import_case
from allcare.store.users import create_user, make_hasher

# The patient page of the web UI. When the server does not have it (no allcare.web.pages),
# a "page" is the API calls such a page needs (PAGE_API_CALLS) instead.
PATIENT_PAGE = "/patients/{id}"
PAGE_API_CALLS = ("/api/v1/patients/{id}", "/api/v1/patients/{id}/assessment")
ASSESSMENT = "/api/v1/patients/{id}/assessment"
USERNAME, PASSWORD = "bench", "bench-password"


@dataclass
class Result:
    name: str
    latencies: list[float]
    errors: int
    seconds: float
    calls: int = 1  # HTTP requests per sample (a page made of API calls: more than one)

    def line(self) -> str:
        ordered = sorted(self.latencies)
        if not ordered:
            return f"{self.name}: no successful requests ({self.errors} errors)"

        def pct(fraction: float) -> float:
            return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

        return (f"{self.name}\n    n={len(ordered)}  p50={pct(0.50):.1f} ms  p99={pct(0.99):.1f} ms  "
                f"mean={statistics.mean(ordered) * 1000:.1f} ms  {len(ordered) / self.seconds:.1f} samples/s = "
                f"{len(ordered) * self.calls / self.seconds:.1f} requests/s  errors={self.errors}")


def fill(url: str, patients: int, years: float, seed: int) -> None:
    store = Store(url)
    store.migrate()
    rng = random.Random(seed)
    actor = Actor.cli("bench")
    started = time.perf_counter()
    for offset in range(0, patients, 50):
        with store.transaction() as session:
            for number in range(offset, min(offset + 50, patients)):
                import_case(session, actor, case_from_dict(generate_case(rng, number + 1, years=years)))
        print(f"  stored {min(offset + 50, patients)}/{patients} patients", end="\r", file=sys.stderr)
    stored = time.perf_counter() - started
    with store.sessions() as session:
        from sqlalchemy import func, select

        from allcare.store.models import FindingRow

        findings = session.scalar(select(func.count()).select_from(FindingRow))
    with store.transaction() as session:
        create_user(session, actor, make_hasher(), username=USERNAME, password=PASSWORD, role="clinician")
    store.dispose()
    print(f"  {patients} patients, {findings} findings ({findings / patients:.0f} per patient): "
          f"stored and assessed (each summary by its writer) in {stored:.1f} s ({stored / patients * 1000:.1f} ms each)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "ALLCARE_DATABASE_URL": url, "ALLCARE_DEMO": "false",
           "ALLCARE_SECRET_KEY": "bench-" + uuid.uuid4().hex * 2}
    command = [sys.executable, "-m", "uvicorn", "allcare.web.app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("the server did not start")


async def measure(name: str, base: str, paths: tuple[str, ...], ids: list[int], cookies, *, clients: int,
                  requests: int, seconds: float, warmup: int, rate: float | None = None) -> Result:
    """Each sample fetches ``paths`` in turn for one random patient.

    Closed loop (``rate`` None): ``clients`` loops send as fast as answers come, which gives the
    most requests per second the server sustains. Open loop: samples start at ``rate`` per second.
    """
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    client = RawClient(base, {"Cookie": cookie, "Accept-Encoding": "gzip"})  # the bytes as sent; no client-side gunzip
    try:
        rng = random.Random(1)

        async def one() -> float | None:
            patient = rng.choice(ids)
            started = time.perf_counter()
            for path in paths:
                status, _ = await client.request("GET", path.format(id=patient))
                if status != 200:  # a dropped connection (0) is a failed sample, not the end of the run
                    return None
            return time.perf_counter() - started

        async def phase(count: int, limit: float) -> tuple[list[float | None], float]:
            samples: list[float | None] = []
            left = {"n": count}
            started = time.perf_counter()

            async def loop() -> None:
                while left["n"] > 0 and time.perf_counter() < started + limit:
                    left["n"] -= 1
                    samples.append(await one())

            await asyncio.gather(*(loop() for _ in range(clients)))
            return samples, time.perf_counter() - started

        async def paced(count: int, limit: float) -> tuple[list[float | None], float]:
            """Open loop: start a sample every 1/rate s (at most ``clients`` in flight) and time it from
            its scheduled start, so a server that falls behind shows it in the latency."""
            gate = asyncio.Semaphore(clients)
            started = time.perf_counter()
            samples: list[float | None] = []

            async def scheduled(at: float) -> None:
                async with gate:
                    if time.perf_counter() > started + limit:  # a server far behind: not sent, counted as failed
                        samples.append(None)  # (else the queue behind the gate ran for minutes past the limit)
                        return
                    await asyncio.sleep(max(0.0, at - time.perf_counter()))
                    elapsed = await one()
                    samples.append(None if elapsed is None else time.perf_counter() - at)

            tasks = []
            for number in range(count):
                at = started + number / rate
                if at > started + limit:
                    break
                tasks.append(asyncio.create_task(scheduled(at)))
            await asyncio.gather(*tasks)
            return samples, time.perf_counter() - started

        await phase(warmup, seconds)
        samples, elapsed = await (paced(requests, seconds) if rate else phase(requests, seconds))
    finally:
        client.close()
    latencies = [sample for sample in samples if sample is not None]
    return Result(name, latencies, len(samples) - len(latencies), elapsed, calls=len(paths))


def run_database(label: str, url: str, args) -> list[Result]:
    print(f"\n== {label} ==")
    fill(url, args.patients, args.years, args.seed)
    port = free_port()
    server = start_server(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        login = httpx.post(f"{base}/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD}, timeout=60)
        login.raise_for_status()
        ids = list(range(1, args.patients + 1))
        has_page = httpx.get(base + PATIENT_PAGE.format(id=1), cookies=login.cookies, timeout=60).status_code == 200
        if has_page and not args.no_weight:
            for line in page_weight(label, base, patient_id=1):
                print(line)
        if args.weight_only:
            return []
        page = (PATIENT_PAGE,) if has_page else PAGE_API_CALLS
        page_name = f"patient page ({PATIENT_PAGE if has_page else ' + '.join(PAGE_API_CALLS)})"
        options = dict(clients=args.clients, requests=args.requests, seconds=args.seconds, warmup=args.warmup)
        first_view_cpu = first_views(base, page, ids[: args.first_views], login.cookies, server.pid)
        print(f"first view of a revision (each of {min(args.first_views, len(ids))} patients once, nothing cached): "
              f"{first_view_cpu * 1000:.1f} ms server CPU per page (goal <= 5 ms)", flush=True)
        results = []
        endpoints = [(page_name, page), ("assessment endpoint", (ASSESSMENT,))]
        if args.skip_page:
            endpoints = endpoints[1:]
        if args.each_call and not has_page:
            endpoints.insert(1, ("patient endpoint", (PAGE_API_CALLS[0],)))
        for name, paths in endpoints:
            before = session_cpu_seconds(server.pid)
            results.append(asyncio.run(measure(f"{label}: {name}, max rate", base, paths, ids, login.cookies,
                                               **options)))
            cpu = (session_cpu_seconds(server.pid) - before) / max(1, args.warmup + len(results[-1].latencies))
            print(results[-1].line() + f"\n    server CPU {cpu * 1000:.1f} ms per sample (warm-up included; repeat views"
                  " when --first-views covers every patient)", flush=True)
            for rate in args.rates:  # requests per second; a page of two API calls is two requests
                results.append(asyncio.run(measure(f"{label}: {name}, at {rate:g} req/s", base, paths, ids,
                                                   login.cookies, rate=rate / len(paths), **options)))
                print(results[-1].line(), flush=True)
    finally:
        stop_server(server)
    return results


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL to the server's own process group (its workers and import worker) if it
    has not stopped within 30 s: a benchmark must end, and leave no server behind."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)  # start_new_session: the group is the server's alone
        server.wait(timeout=30)


def first_views(base: str, paths: tuple[str, ...], ids: list[int], cookies, session: int) -> float:
    """Server CPU seconds per page for pages no one asked for before (one client, one after the other)."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        client.get(paths[0].format(id=ids[-1]))  # the first request of a process loads its templates
        before = session_cpu_seconds(session)
        for patient in ids[:-1]:
            for path in paths:
                client.get(path.format(id=patient)).raise_for_status()
        return (session_cpu_seconds(session) - before) / max(1, len(ids) - 1)
CHROMIUM = Path(os.environ.get("ALLCARE_CHROMIUM", "/usr/bin/chromium"))
WEIGHT_SCRIPT = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const all = [nav, ...resources];
  return {requests: all.length,
          transfer: all.reduce((sum, e) => sum + (e.transferSize || 0), 0),
          decoded: all.reduce((sum, e) => sum + (e.decodedBodySize || 0), 0),
          domReady: nav.domContentLoadedEventEnd - nav.startTime};
}"""


def page_weight(label: str, base: str, patient_id: int, runs: int = 3) -> list[str]:
    """Bytes and timings of one patient page in chromium, cold and warm, at two widths (medians of ``runs``)."""
    if not CHROMIUM.exists():
        return [f"{label}: page weight skipped (no chromium at {CHROMIUM})"]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [f"{label}: page weight skipped (playwright is not installed)"]
    lines = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        for width, height in ((1366, 900), (390, 844)):
            cold, warm = [], []
            for _ in range(runs):
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.goto(f"{base}/login")
                page.fill("#username", USERNAME)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state("domcontentloaded")
                for sample in (cold, warm):
                    started = time.perf_counter()
                    page.goto(f"{base}{PATIENT_PAGE.format(id=patient_id)}", wait_until="domcontentloaded")
                    page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')]"
                                           ".every(c => c.getAttribute('data-drawn') === 'true')", timeout=60000)
                    drawn = (time.perf_counter() - started) * 1000
                    sample.append({**page.evaluate(WEIGHT_SCRIPT), "drawn": drawn})
                context.close()
            for name, sample in (("cold", cold), ("warm", warm)):
                middle = {key: statistics.median(s[key] for s in sample) for key in sample[0]}
                lines.append(f"{label}: patient page {width}px {name}: {middle['transfer'] / 1024:,.0f} KiB over the wire, "
                             f"{middle['decoded'] / 1024:,.0f} KiB decoded, {middle['requests']:.0f} requests, "
                             f"DOM ready {middle['domReady']:.0f} ms, charts drawn {middle['drawn']:.0f} ms "
                             f"(median of {runs})")
        browser.close()
    return lines


def postgres_schema(base_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema in the given database, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_database_url(base_url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalise_database_url(base_url)).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("ALLCARE_BENCH_PG_URL") or os.environ.get("ALLCARE_TEST_PG_URL"))
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=3000, help="measured samples per endpoint")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured samples first")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per endpoint")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn worker processes; more than 1 currently adds ~40 ms per keep-alive request on "
                             "Linux (uvicorn issue #3149: the shared listener loses TCP_NODELAY)")
    parser.add_argument("--first-views", type=int, default=200, help="patients whose page is asked for once, cold")
    parser.add_argument("--skip-page", action="store_true", help="measure only the assessment endpoint")
    parser.add_argument("--weight-only", action="store_true", help="measure only the page weight in chromium")
    parser.add_argument("--no-weight", action="store_true", help="skip the page weight in chromium")
    parser.add_argument("--each-call", action="store_true", help="also measure each API call of the page alone")
    parser.add_argument("--rates", type=float, nargs="*", default=[200.0],
                        help="also measure latency at these offered loads (samples per second)")
    args = parser.parse_args()
    print(f"{args.patients} patients x {args.years:g} years; {args.clients} concurrent clients; "
          f"{args.workers} server worker(s); up to {args.requests} samples or {args.seconds:g} s per endpoint")

    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run_database("SQLite", f"sqlite:///{folder}/bench.sqlite3", args)
    if args.db in ("postgresql", "both"):
        if not args.pg_url:
            print("\nPostgreSQL skipped: pass --pg-url or set ALLCARE_TEST_PG_URL (scripts/pg-test-cluster start)")
            return
        url, drop = postgres_schema(args.pg_url)
        try:
            run_database("PostgreSQL", url, args)
        finally:
            drop()


if __name__ == "__main__":
    main()
