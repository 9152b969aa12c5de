"""Calendar arithmetic for clinical cut-offs: ages by birthdays, intervals in calendar months.

Guidelines state ages in years ("1 to younger than 10 years", "< 6 months") and
relapse timing in months ("< 18 months from diagnosis"). Counting days and
dividing by 365.25 puts a child diagnosed on their 10th birthday at 9.998 years,
so the cut-off would fall a day late. Here a year is twelve calendar months and
a month ends on the same day of the next month: an age reaches exactly 10.0 on
the 10th birthday and exactly 0.5 on the day the child turns six months, so every
cut-off in whole months (0.5, 1, 10, 13, 18 years ...) compares exactly on that
day. Between two such days the age grows linearly with the days of that month.
A date that does not exist in the target month (31 April, 29 February in a
common year) is read as the last day of that month.
"""

from __future__ import annotations

import datetime as dt

_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` moved by whole calendar months (negative: back), clamped to the month's last day."""
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    return dt.date(year, month + 1, min(start.day, _days_in(year, month + 1)))


def whole_months(start: dt.date, end: dt.date) -> int:
    """Complete calendar months from ``start`` to ``end`` (``end`` on or after ``start``)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < min(start.day, _days_in(end.year, end.month)):
        months -= 1
    return months


def exact_years(start: dt.date, end: dt.date) -> float:
    """Years from ``start`` to ``end`` counted in calendar months (exact on every month-day).

    ``exact_years(birth, on)`` is the age: it is exactly ``n`` on the n-th birthday
    and exactly ``m / 12`` on the day the child is ``m`` months old. Negative when
    ``end`` is before ``start``. (Integer arithmetic on purpose: it runs for every
    blood count of a case.)
    """
    if end < start:
        return -exact_years(end, start)
    months = (end.year - start.year) * 12 + (end.month - start.month)
    in_month = _days_in(end.year, end.month)
    anchor = min(start.day, in_month)  # the month-day in the end's month
    if end.day >= anchor:
        year, month = (end.year, end.month + 1) if end.month < 12 else (end.year + 1, 1)
        elapsed = end.day - anchor
        span = in_month - anchor + min(start.day, _days_in(year, month))
    else:
        months -= 1
        year, month = (end.year, end.month - 1) if end.month > 1 else (end.year - 1, 12)
        before = _days_in(year, month) - min(start.day, _days_in(year, month))
        elapsed, span = before + end.day, before + anchor
    return (months + elapsed / span) / 12
