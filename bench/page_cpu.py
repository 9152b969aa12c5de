"""Server CPU of the patient page, in-process: a first view of each revision, then a repeat view.

Fills a store with synthetic 3-year patients (as ``bench/app.py`` does), builds the app with
``create_app`` and sends it requests straight through ASGI (no sockets, no HTTP client), one
after the other, timing the process's CPU (``time.process_time``: every thread, so the
route's worker thread too). A first view is the first request for a revision in this process
(its page section is rendered and cached); a repeat view finds it cached. ``--profile`` prints
where a repeat view's CPU goes (cProfile, by cumulative time).

    .venv/bin/python bench/page_cpu.py                       # SQLite
    .venv/bin/python bench/page_cpu.py --pg-url "$ALLCARE_TEST_PG_URL"
    .venv/bin/python bench/page_cpu.py --profile first       # or: repeat
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app import PASSWORD, PATIENT_PAGE, USERNAME, fill, postgres_schema

from allcare.settings import Settings
from allcare.web.app import create_app


async def _get(app, path: str, cookie: str) -> int:
    """One GET through the ASGI interface; returns the status (the body is read and dropped)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"bench"), (b"cookie", cookie.encode()), (b"accept-encoding", b"gzip")],
             "client": ("127.0.0.1", 50000), "server": ("bench", 80)}
    status = {}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            status["code"] = message["status"]

    await app(scope, receive, send)
    return status["code"]


def _login(app) -> str:
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://bench") as client:
        response = client.post("/api/v1/auth/login", json={"username": USERNAME, "password": PASSWORD})
        response.raise_for_status()
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def run(url: str, args) -> None:
    fill(url, args.patients, args.years, args.seed)
    settings = Settings(_env_file=None, database_url=url, demo=False, secret_key="bench-" + uuid.uuid4().hex * 2)
    app = create_app(settings)
    cookie = _login(app)
    ids = list(range(1, args.patients + 1))
    if args.profile:  # cProfile sees one thread: run the route's thread-pool work inline
        import anyio.to_thread

        async def inline(func, *call_args, **_options):
            return func(*call_args)

        anyio.to_thread.run_sync = inline  # type: ignore[assignment]

    async def views(patients: list[int], profile: bool) -> float:
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        for patient in patients:
            code = await _get(app, PATIENT_PAGE.format(id=patient), cookie)
            if code != 200:
                raise SystemExit(f"patient {patient}: HTTP {code}")
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        return (time.process_time() - started) / len(patients)

    async def measure() -> tuple[float, float]:  # one event loop, so one thread pool, as in a server
        await views(ids[-1:], False)  # the process's first page loads its templates
        first = await views(ids[:-1], args.profile == "first")
        return first, await views(ids[:-1] * args.repeats, args.profile == "repeat")

    first, repeat = asyncio.run(measure())
    print(f"patient page, server CPU in-process ({len(ids) - 1} patients): first view of a revision "
          f"{first * 1000:.2f} ms, repeat view {repeat * 1000:.2f} ms (goal: first view <= 5 ms)")
    app.state.store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="PostgreSQL instead of SQLite (a fresh schema, dropped afterwards)")
    parser.add_argument("--patients", type=int, default=61)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="repeat views of each patient")
    parser.add_argument("--profile", choices=["first", "repeat"], help="print a cProfile of these views")
    parser.add_argument("--sort", default="cumulative", help="profile order (cumulative, tottime, ...)")
    parser.add_argument("--top", type=int, default=45, help="functions the profile lists")
    args = parser.parse_args()
    if args.pg_url:
        url, drop = postgres_schema(args.pg_url)
        try:
            run(url, args)
        finally:
            drop()
        return
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/bench.sqlite3", args)


if __name__ == "__main__":
    main()
