"""Soak test: mixed readers, writers, FHIR imports and backups against one server on loopback.

    .venv/bin/python bench/soak.py                      # 5 minutes on SQLite
    .venv/bin/python bench/soak.py --seconds 60 --database postgresql   # needs ALLCARE_TEST_PG_URL

One ``allcare serve`` process on 127.0.0.1 with a fresh store (a temporary
SQLite file, or a fresh schema of the PostgreSQL database in
``ALLCARE_TEST_PG_URL``), seeded with synthetic patients. For ``--seconds``:

- readers open the patient list, records and assessments;
- writers each own a record: they add blood counts and change its demographics
  (with the version they read, re-reading on 409), and remember what was saved;
- importers send a multi-patient FHIR Bundle (a few MB) again and again;
- a backup (``allcare backup``, another process) is taken at intervals.

At the end it prints the figures and checks: every backup restores (into a
fresh SQLite store, rows as its header says), no write was lost (each writer's
saved findings and last demographics are in the store), no request waited more
than 1 s while an import ran, and no answer was a 5xx. Exit status 1 when a
check fails. Loopback only; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

FAST_HASH = {"ALLCARE_ARGON2_TIME_COST": "1", "ALLCARE_ARGON2_MEMORY_KIB": "64", "ALLCARE_ARGON2_PARALLELISM": "1"}
WAIT_LIMIT = 1.0  # seconds a request may take while an import runs


@dataclass
class Call:
    kind: str
    started: float
    ended: float
    status: int

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Log:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, started: float, status: int) -> None:
        with self.lock:
            self.calls.append(Call(kind, started, time.perf_counter(), status))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database(kind: str, folder: Path) -> tuple[str, object]:
    """A fresh store URL and a function that removes it afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'soak.sqlite3'}", lambda: None
    base = os.environ.get("ALLCARE_TEST_PG_URL")
    if not base:
        raise SystemExit("--database postgresql needs ALLCARE_TEST_PG_URL (eval \"$(bash scripts/pg-test-cluster start)\")")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from allcare.settings import normalise_database_url

    schema = f"soak_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_database_url(base))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalise_database_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def seed(url: str, patients: int) -> tuple[str, list[int]]:
    """Synthetic patients and a clinician with an API token; returns (token, patient ids)."""
    from allcare.store import Actor, Store
    from allcare.store.demo import seed_demo
    from allcare.store.users import create_token, create_user, make_hasher

    store = Store(url)
    store.migrate()
    ids = seed_demo(store, patients=patients, with_users=False)
    with store.transaction() as session:
        user = create_user(session, Actor.cli("soak"), make_hasher(1, 64, 1), username="soak", password="soak-password-1",
                           role="clinician")
        token = create_token(session, Actor.cli("soak"), user, "soak", 1).token
    store.dispose()
    return token, ids


def bundle(importer: int, copies: int) -> bytes:
    """A FHIR Bundle of ``copies`` patients (one three-year synthetic record under other ids)."""
    from allcare.cohort.synthetic import generate_case
    from allcare.engine.case import case_from_dict
    from allcare.interop.fhir import bundle_json

    data = generate_case(random.Random(importer), 1, start=dt.date(2021, 1, 1), years=3.0)
    data["patient"]["id"] = "SOAKTEMPLATE"
    one = json.dumps(bundle_json(case_from_dict(data), None)["entry"])[1:-1]
    entries = ",".join(one.replace("SOAKTEMPLATE", f"SOAK-I{importer}-{n}") for n in range(copies))
    return ('{"resourceType": "Bundle", "type": "collection", "entry": [' + entries + "]}").encode()


def timed(log: Log, kind: str, client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError:
        log.add(kind, started, 599)  # no answer at all counts as a server failure
        return None
    log.add(kind, started, response.status_code)
    return response


def reader(base: str, token: str, ids: list[int], log: Log, stop: threading.Event, seed_: int, pause: float) -> None:
    rng = random.Random(seed_)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        while not stop.wait(rng.uniform(0, 2 * pause)):  # people read a page before the next
            patient = rng.choice(ids)
            timed(log, "read assessment", client, "GET", f"/api/v1/patients/{patient}/assessment",
                  headers={"Accept-Encoding": "gzip"})
            timed(log, "read patient", client, "GET", f"/api/v1/patients/{patient}")
            timed(log, "read list", client, "GET", "/api/v1/patients", params={"limit": 20, "offset": rng.randrange(0, 20)})


@dataclass
class Writer:
    number: int
    patient: int = 0
    saved_notes: list[str] = field(default_factory=list)
    saved_name: str | None = None
    failures: list[str] = field(default_factory=list)


def writer(base: str, token: str, state: Writer, log: Log, stop: threading.Event, pause: float) -> None:
    from allcare.engine.case import case_from_dict  # noqa: F401 - the same package the server runs

    headers = {"Authorization": f"Bearer {token}"}
    case = {"schema": "allcare.case/1", "patient": {"id": f"SOAK-W{state.number}", "birth_date": "2015-03-01",
                                                    "sex": "female"},
            "diagnosis_date": "2024-01-08", "findings": [
                {"type": "marrow", "date": "2024-01-09", "blasts_pct": 88, "timepoint": "diagnosis"}]}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        created = timed(log, "write create", client, "POST", "/api/v1/cases", json=case)
        if created is None or created.status_code != 201:
            state.failures.append(f"create: {created.status_code if created else 'no answer'}")
            return
        state.patient = created.json()["id"]
        step = 0
        rng = random.Random(state.number)
        while not stop.wait(rng.uniform(0, 2 * pause)):  # a person types the next result
            step += 1
            note = f"w{state.number}-{step}"
            day = dt.date(2024, 1, 10) + dt.timedelta(days=step % 3000)
            added = timed(log, "write finding", client, "POST", f"/api/v1/patients/{state.patient}/findings",
                          json={"type": "cbc", "date": day.isoformat(), "wbc": 3.0 + step % 50 / 10, "note": note})
            if added is not None and added.status_code == 201:
                state.saved_notes.append(note)
            elif added is not None and added.status_code < 500:
                state.failures.append(f"finding: {added.status_code} {added.text[:200]}")
            if step % 5 == 0:
                name = f"writer {state.number} step {step}"
                for _ in range(5):  # re-read on 409, as a person would reload the form
                    current = timed(log, "read patient", client, "GET", f"/api/v1/patients/{state.patient}")
                    if current is None or current.status_code != 200:
                        break
                    body = current.json()
                    changed = timed(log, "write demographics", client, "PUT", f"/api/v1/patients/{state.patient}",
                                    json={"patient": body["patient"], "diagnosis_date": body["diagnosis_date"],
                                          "display_name": name, "version": body["version"]})
                    if changed is not None and changed.status_code == 200:
                        state.saved_name = name
                        break
                    if changed is None or changed.status_code != 409:
                        break


def importer(base: str, token: str, body: bytes, log: Log, stop: threading.Event, pause: float) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        while not stop.wait(pause):  # pauses between imports: the same requests are also measured without one
            timed(log, "import FHIR", client, "POST", "/api/v1/fhir/import", content=body)


def backups(env: dict, folder: Path, every: float, stop: threading.Event, taken: list[tuple[Path, int, float]]) -> None:
    number = 0
    while not stop.wait(every):
        number += 1
        path = folder / f"backup-{number}.jsonl"
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "allcare", "backup", str(path)], env=env, capture_output=True,
                                text=True, timeout=600)
        taken.append((path, result.returncode, time.perf_counter() - started))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="how long the load runs (default 300)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--patients", type=int, default=30, help="synthetic patients seeded first")
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--importers", type=int, default=1)
    parser.add_argument("--import-patients", type=int, default=4, help="patients per imported Bundle")
    parser.add_argument("--import-pause", type=float, default=5, help="seconds an importer waits between imports")
    parser.add_argument("--backup-every", type=float, default=30, help="seconds between backups")
    parser.add_argument("--pause", type=float, default=1.0,
                        help="mean seconds a reader or writer waits between its requests (0: as fast as possible)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="allcare-soak-"))
    url, drop = database(args.database, folder)
    log, stop = Log(), threading.Event()
    server = None
    try:
        print(f"seeding {args.patients} synthetic patients ({args.database}) ...", flush=True)
        token, ids = seed(url, args.patients)
        port = free_port()
        env = {**os.environ, **FAST_HASH, "ALLCARE_DATABASE_URL": url, "ALLCARE_SECRET_KEY": "soak-" + "k" * 40,
               "ALLCARE_DEMO": "false", "PYTHONPATH": str(ROOT / "src")}
        server_log = (folder / "server.log").open("wb")  # a file, never an unread pipe (it would fill and stop the server)
        server = subprocess.Popen([sys.executable, "-m", "allcare", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start: " + (folder / "server.log").read_text()[-2000:])
            time.sleep(0.2)
        bodies = [bundle(n, args.import_patients) for n in range(args.importers)]
        size = f" ({len(bodies[0]) / 1e6:.1f} MB Bundles)" if bodies else ""
        print(f"load for {args.seconds:.0f} s: {args.readers} readers, {args.writers} writers (pausing "
              f"{args.pause:g} s on average), {args.importers} importers{size}, a backup every {args.backup_every:.0f} s",
              flush=True)
        writers = [Writer(n) for n in range(args.writers)]
        taken: list[tuple[Path, int, float]] = []
        threads = [threading.Thread(target=reader, args=(base, token, ids, log, stop, n, args.pause))
                   for n in range(args.readers)]
        threads += [threading.Thread(target=writer, args=(base, token, w, log, stop, args.pause)) for w in writers]
        threads += [threading.Thread(target=importer, args=(base, token, b, log, stop, args.import_pause))
                    for b in bodies]
        threads.append(threading.Thread(target=backups, args=(env, folder, args.backup_every, stop, taken)))
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        return report(log, writers, taken, elapsed, url)
    finally:
        stop.set()
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        drop()
        shutil.rmtree(folder, ignore_errors=True)


def report(log: Log, writers: list[Writer], taken, elapsed: float, url: str) -> int:
    from allcare.store import Store
    from allcare.store.backup import restore_from_file

    calls = log.calls
    imports = [(c.started, c.ended) for c in calls if c.kind == "import FHIR"]
    print(f"\n{len(calls)} requests in {elapsed:.0f} s ({len(calls) / elapsed:.1f}/s)")
    print(f"{'kind':20} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}  statuses")
    for kind in sorted({c.kind for c in calls}):
        mine = [c for c in calls if c.kind == kind]
        seconds = [c.seconds * 1000 for c in mine]
        statuses = {s: sum(1 for c in mine if c.status == s) for s in sorted({c.status for c in mine})}
        print(f"{kind:20} {len(mine):6d} {percentile(seconds, 0.5):9.1f} {percentile(seconds, 0.99):9.1f} "
              f"{max(seconds):9.1f}  {statuses}")
    during = [c for c in calls if c.kind != "import FHIR" and any(s < c.ended and c.started < e for s, e in imports)]
    overlapping = {id(c) for c in during}
    outside = [c for c in calls if c.kind != "import FHIR" and id(c) not in overlapping]
    worst = max((c.seconds for c in during), default=0.0)
    for label, group in (("while an import ran", during), ("with no import running", outside)):
        seconds = [c.seconds * 1000 for c in group]
        print(f"requests {label}: {len(group)}, p50 {percentile(seconds, 0.5):.1f} ms, "
              f"p99 {percentile(seconds, 0.99):.1f} ms, max {max(seconds, default=0):.1f} ms")
    server_errors = [c for c in calls if c.status >= 500]

    lost: list[str] = []
    store = Store(url)
    from allcare.store.findings import rows_of
    from allcare.store.models import Patient

    with store.sessions() as session:
        for state in writers:
            lost += [f"writer {state.number}: {problem}" for problem in state.failures]
            if not state.patient:
                continue
            notes = {row.reported.get("note") for row in rows_of(session, state.patient)}
            missing = [note for note in state.saved_notes if note not in notes]
            if missing:
                lost.append(f"writer {state.number}: {len(missing)} saved findings missing")
            patient = session.get(Patient, state.patient)
            if state.saved_name is not None and patient.display_name != state.saved_name:
                lost.append(f"writer {state.number}: demographics {patient.display_name!r}, saved {state.saved_name!r}")
    store.dispose()
    saved = sum(len(w.saved_notes) for w in writers)

    unrestorable: list[str] = []
    for path, status, _seconds in taken:
        if status != 0:
            unrestorable.append(f"{path.name}: allcare backup exited {status}")
            continue
        header = json.loads(path.open().readline())
        target = Store(f"sqlite:///{path.with_suffix('.restored.sqlite3')}")
        try:
            counts = restore_from_file(target, path)
            expected = {k: v for k, v in header["tables"].items() if v and k != "audit_events"}
            if {k: v for k, v in counts.items() if k != "audit_events"} != expected:
                unrestorable.append(f"{path.name}: restored {counts}, header {header['tables']}")
        except Exception as error:  # noqa: BLE001 - reported as a failed check
            unrestorable.append(f"{path.name}: {type(error).__name__}: {error}")
        finally:
            target.dispose()
    backup_seconds = [seconds for _, _, seconds in taken]
    print(f"backups: {len(taken)} taken (each {statistics.mean(backup_seconds) if taken else 0:.1f} s on average), "
          f"{len(taken) - len(unrestorable)} restore")
    print(f"writes saved: {saved} findings by {len(writers)} writers")

    checks = [
        ("every backup restores", not unrestorable and bool(taken), "; ".join(unrestorable) or "no backup taken" if not taken else ""),
        ("no write lost", not lost, "; ".join(lost[:5])),
        (f"no request waited more than {WAIT_LIMIT:.0f} s while an import ran", worst <= WAIT_LIMIT, f"max {worst:.2f} s"),
        ("zero 5xx", not server_errors, f"{len(server_errors)} answers: "
         + ", ".join(sorted({f'{c.kind} {c.status}' for c in server_errors}))),
    ]
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + ("" if ok else f"  ({detail})"))
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
