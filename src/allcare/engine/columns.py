"""How the assessment's tables write a column: one entry per row, the one entry every row shares, or coded.

The blood-count, chemistry and maintenance tables hold a hundred or more rows
in a three-year record. Most of their columns (a reference range, a CTCAE term,
a dose) are the same on every row, and the rest take a few distinct entries
again and again (a flag, a term, the limits of a few age bands). So a column is
written in the smallest of three forms that keeps every entry:

- the one entry every row shares (``"Anemia"``);
- coded (:class:`Coded`): its distinct entries once, and for each row the
  position of its entry among them, when it holds few distinct texts or
  decimals (``{"levels": ["low", "normal"], "codes": [0, 0, 1]}``);
- else a list of one entry per row (whole numbers such as grades: a code
  would be no shorter than the number).

:func:`fold` writes a column that way; :func:`unfold` reads any form back as one
entry per row, :func:`entry` reads one row and :func:`pick` some rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Final, Generic, TypeAlias, TypeVar

import msgspec

T = TypeVar("T")

# At most this many distinct entries are coded, so that every code is one digit.
MAX_LEVELS: Final = 10


class Coded(msgspec.Struct, Generic[T], frozen=True, kw_only=True, gc=False):
    """A column as its distinct entries (``levels``) and, per row, the position of the row's entry in them."""

    levels: Annotated[list[T], msgspec.Meta(description="the column's distinct entries")]
    codes: Annotated[
        list[Annotated[int, msgspec.Meta(ge=0)]],
        msgspec.Meta(description="one per row: the position of the row's entry in levels"),
    ]

    def __post_init__(self) -> None:
        if self.codes and max(self.codes) >= len(self.levels):
            raise ValueError(f"a code is {max(self.codes)}, past the last of {len(self.levels)} levels")

    def rows(self) -> list[T]:
        """The column as one entry per row."""
        return list(map(self.levels.__getitem__, self.codes))


# A column's type for entries of type ``T`` (include ``None`` in ``T`` when a row may have no entry).
Column: TypeAlias = list[T] | T | Coded[T]


def _codable(levels: list[Any]) -> bool:
    """Whether coding a column with these distinct entries makes it shorter: few entries, not all whole numbers."""
    return len(levels) <= MAX_LEVELS and not all(level is None or type(level) is int for level in levels)


def fold(column: Sequence[Any]) -> Any:
    """A column as written in a table: the one entry every row shares, coded, or a list
    (``column`` must not be empty)."""
    first = column[0]
    if column.count(first) == len(column):
        return first
    levels = list(dict.fromkeys(column))
    if not _codable(levels):
        return list(column)
    position = {level: n for n, level in enumerate(levels)}
    return Coded(levels=levels, codes=list(map(position.__getitem__, column)))


def fold_records(records: Sequence[Any], fields: Sequence[str]) -> list[Any]:
    """Several columns at once from one column of records (named tuples) that repeat: one folded column per
    field in ``fields``, the records' distinct values found once and shared by all of them."""
    first = records[0]
    if records.count(first) == len(records):
        return [getattr(first, name) for name in fields]
    levels = list(dict.fromkeys(records))
    if len(levels) > MAX_LEVELS:
        return [fold([getattr(record, name) for record in records]) for name in fields]
    position = {level: n for n, level in enumerate(levels)}
    codes = list(map(position.__getitem__, records))
    columns: list[Any] = []
    for name in fields:
        entries = [getattr(level, name) for level in levels]
        if entries.count(entries[0]) == len(entries):
            columns.append(entries[0])
        elif _codable(entries):
            columns.append(Coded(levels=entries, codes=codes))
        else:
            columns.append([entries[code] for code in codes])
    return columns


def unfold(column: list[T] | Coded[T] | T, rows: int) -> list[T]:
    """A table column as a list of one entry per row, whichever form it was written in."""
    if isinstance(column, list):
        return column
    if isinstance(column, Coded):
        return column.rows()
    return [column] * rows


def entry(column: list[T] | Coded[T] | T, row: int) -> T:
    """The entry of one row (negative rows count from the end), whichever form the column was written in."""
    if isinstance(column, list):
        return column[row]
    if isinstance(column, Coded):
        return column.levels[column.codes[row]]
    return column


def pick(column: list[T] | Coded[T] | T, rows: list[int]) -> list[T] | T:
    """The column restricted to ``rows``: a list, or the one entry when every row shares it."""
    if isinstance(column, list):
        return [column[row] for row in rows]
    if isinstance(column, Coded):
        levels, codes = column.levels, column.codes
        return [levels[codes[row]] for row in rows]
    return column
