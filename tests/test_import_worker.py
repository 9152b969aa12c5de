"""The server's import worker process is started, with the importer loaded, when the app is built.

A spawned interpreter takes seconds to import the FHIR reader, the engine and the
store; paying that on the first import after a restart made that request wait
(and, on a loaded machine, time out). The app starts the worker and loads the
importer in the background as it is built.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from allcare.web import workers
from fhir_helpers import free_port


def _modules_loaded_in_worker() -> set[str]:
    return {name for name in ("allcare.interop.fhir", "allcare.store") if name in sys.modules}


def test_the_import_worker_has_the_importer_loaded_before_the_first_import(app):
    loaded = workers.pool().submit(_modules_loaded_in_worker).result(timeout=120)
    assert loaded == {"allcare.interop.fhir", "allcare.store"}


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.add(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.add(pid)
        except OSError:
            continue
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_the_worker_processes_end_with_a_server_stopped_by_sigterm(tmp_path):
    """``kill <server>`` (SIGTERM to the server alone, as an init system or an operator sends it): uvicorn
    shuts down and raises SIGTERM again, so the server exits without ending its worker process (the import
    worker); it was left running on its own, holding a store connection."""
    port = free_port()
    env = {**os.environ, "ALLCARE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "ALLCARE_DEMO": "false",
           "ALLCARE_SECRET_KEY": "k" * 40, "ALLCARE_ARGON2_MEMORY_KIB": "64", "ALLCARE_ARGON2_TIME_COST": "1",
           "ALLCARE_ARGON2_PARALLELISM": "1"}
    env.pop("ALLCARE_PORT", None)
    server = subprocess.Popen([sys.executable, "-m", "allcare", "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers_seen: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while not [pid for pid in workers_seen if b"spawn_main" in _cmdline(pid)]:
            # the import worker, started with the app (and multiprocessing's resource tracker)
            workers_seen = _alive(_children(server.pid))
            assert time.monotonic() < deadline and server.poll() is None, f"allcare serve started {len(workers_seen)} workers"
            time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        deadline = time.monotonic() + 20
        while _alive(workers_seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = {pid: _cmdline(pid).replace(b"\0", b" ").decode()[:200] for pid in _alive(workers_seen)}
        assert not survivors, f"worker processes outlived their server: {survivors}"
    finally:
        for pid in _alive(workers_seen):
            os.kill(pid, signal.SIGKILL)
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
