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

import calendar
import datetime as dt


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` moved by whole calendar months (negative: back), clamped to the month's last day."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def whole_months(start: dt.date, end: dt.date) -> int:
    """Complete calendar months from ``start`` to ``end`` (``end`` on or after ``start``)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if add_months(start, months) > end:
        months -= 1
    return months


def exact_years(start: dt.date, end: dt.date) -> float:
    """Years from ``start`` to ``end`` counted in calendar months (exact on every month-day).

    ``exact_years(birth, on)`` is the age: it is exactly ``n`` on the n-th birthday
    and exactly ``m / 12`` on the day the child is ``m`` months old. Negative when
    ``end`` is before ``start``.
    """
    if end < start:
        return -exact_years(end, start)
    months = whole_months(start, end)
    anchor, following = add_months(start, months), add_months(start, months + 1)
    fraction = (end - anchor).days / (following - anchor).days
    return (months + fraction) / 12
