"""Shared helpers for the FHIR, CDS Hooks and classifier tests (no test functions here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures"
BRIAN = FIXTURES / "fhir" / "mcode-brian-l.bundle.json"
EXAMPLE_CASES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".json", ".yaml", ".yml") and p.name != "expectations.yaml") \
    if EXAMPLES.exists() else []



def allcare_cli(*args: str, cwd: Path = ROOT, database: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``allcare ...`` as a real process; the record store (if a command uses it) is ``database``
    (default: a throw-away SQLite file, never the user's own store)."""
    if database is None:
        database = Path(tempfile.mkdtemp(prefix="allcare-cli-")) / "store.db"
    env = {**os.environ, "ALLCARE_DATABASE_URL": f"sqlite:///{database}", "ALLCARE_ARGON2_MEMORY_KIB": "64",
           "ALLCARE_ARGON2_TIME_COST": "1", "ALLCARE_ARGON2_PARALLELISM": "1"}
    return subprocess.run([sys.executable, "-m", "allcare", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """A real uvicorn server for an ASGI app on 127.0.0.1, in a background thread."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)
