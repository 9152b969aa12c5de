"""CPU time of a server under test, read from /proc (Linux): what a request costs whatever else runs.

The benchmarks share their machine with other work, so wall-clock latency and throughput
depend on it; the CPU seconds the server's processes used do not (much).
"""

from __future__ import annotations

import os
from pathlib import Path


def session_cpu_seconds(session: int) -> float:
    """User + system CPU seconds of every live process in a session (a server started with
    ``start_new_session=True`` and its worker processes)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return total / os.sysconf("SC_CLK_TCK")
