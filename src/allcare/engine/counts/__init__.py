"""Blood counts: reference ranges, CTCAE v5 grades and the names patients are told.

``grade_counts(view)`` reads every blood count of a case; ``reference_range``
gives the age- and sex-specific interval used when the lab reported none.
"""

from .grading import grade_counts
from .reference_ranges import reference_range

__all__ = ["grade_counts", "reference_range"]
