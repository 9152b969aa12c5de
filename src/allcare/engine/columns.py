"""How the assessment's tables write a column: one entry per row, or the one entry every row shares.

The blood-count table and the maintenance table hold a hundred or more rows in
a three-year record, and most of their columns (a reference range, a CTCAE term,
a dose) are the same on every row: written once, they keep the document small.
:func:`fold` writes a column that way and :func:`unfold` reads either form back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def fold(column: Sequence[Any]) -> Any:
    """A column as written in a table: its entries as a list, or the one entry every row shares
    (``column`` must not be empty)."""
    first = column[0]
    return first if column.count(first) == len(column) else list(column)


def unfold(column: list[T] | T, rows: int) -> list[T]:
    """A table column as a list of one entry per row, whichever form it was written in."""
    return column if isinstance(column, list) else [column] * rows
