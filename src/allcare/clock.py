"""The clock, read only at the edges (CLI, store, web, CDS Hooks); the engine never reads it.

The engine assesses a case as of its latest finding unless told otherwise, so the
same case always gives the same answer. Only a case with nothing dated (a record
just created) needs a date from outside: the edges pass today's date for it.
"""

from __future__ import annotations

import datetime as dt

from .engine.case import Case
from .engine.view import default_as_of


def assessment_date(case: Case, requested: dt.date | None = None) -> dt.date | None:
    """``requested``, else None when the case has a dated finding (the engine's default), else today."""
    if requested is not None or default_as_of(case) is not None:
        return requested
    return dt.date.today()
