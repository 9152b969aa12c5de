"""Reading one clone (`47,XY,+8,t(9;22)(q34;q11.2)[20]`) on its own.

Sidelines (`idem`, `sl`, `sdl`) are only noted here; they are expanded in
`lineage`, which sees all clones. Every problem is collected rather than
raised so that one bad token never costs the rest of the clone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .models import Abnormality, Problem, Severity
from .tokens import TokenError, parse_abnormality

_MODAL = re.compile(r"([0-9]{1,3})(?:[~\-\u2013]([0-9]{1,3}))?(<[0-9]{1,2}n>)?", re.ASCII)
_SEX = re.compile(r"[xy]{1,8}c?", re.ASCII)
_LINEAGE = re.compile(r"idem|sl|sdl[0-9]{0,2}", re.ASCII)
_CELLS = re.compile(r"\[(cp)?([0-9]{1,4})(\])?", re.ASCII)


@dataclass
class RawClone:
    """A clone as written, before sidelines are expanded."""

    index: int
    text: str
    donor: bool
    readable: bool = True
    modal_number: int | None = None
    modal_min: int | None = None
    modal_max: int | None = None
    ploidy_level: str | None = None
    sex_chromosomes: str | None = None
    cell_count: int | None = None
    composite: bool = False
    based_on: str | None = None
    own: list[Abnormality] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def report(self, text: str, message: str, severity: Severity = "error") -> None:
        """Record a problem against this clone."""
        self.problems.append(Problem(clone=self.index, text=text, message=message, severity=severity))


def parse_clone(index: int, text: str, donor: bool) -> RawClone:
    """Read one clone; an unreadable modal number makes the whole clone unreadable."""
    clone = RawClone(index=index, text=text.strip(), donor=donor)
    body = _take_cell_count(clone)
    fields = [piece.strip() for piece in body.split(",")]
    fields = [piece for piece in fields if piece]
    if not fields or not _take_modal_number(clone, fields[0]):
        _mark_unreadable(clone)
        return clone
    remaining = _take_sex_or_lineage(clone, fields[1:])
    for token in remaining:
        _take_token(clone, token)
    return clone


def _mark_unreadable(clone: RawClone) -> None:
    """Keep the clone's text but nothing read from it, as half-read clones mislead."""
    clone.readable = False
    clone.own = []
    clone.unparsed = [clone.text]
    clone.report(clone.text, "no modal number: the clone could not be read")


def _take_cell_count(clone: RawClone) -> str:
    """Remove and read the trailing `[20]` / `[cp10]`; return the rest of the clone.

    Only a bracket after the last comma counts, so that a stray bracket inside
    a token stays with that token and is reported there.
    """
    text = clone.text
    start = text.rfind("[")
    if start < 0 or "," in text[start:]:
        return text
    tail = "".join(text[start:].split()).lower()
    match = _CELLS.fullmatch(tail)
    if match is None:
        clone.report(text[start:], "cannot read the cell count")
        return text[:start]
    composite, cells, closed = match.groups()
    clone.composite = bool(composite)
    clone.cell_count = int(cells)
    if not closed:
        clone.report(text[start:], "cell count bracket is not closed", "warning")
    return text[:start]


def _take_modal_number(clone: RawClone, raw: str) -> bool:
    """Read `46`, `45~48`, `45-48` or `92<4n>`; False when it is none of these."""
    match = _MODAL.fullmatch("".join(raw.split()).lower())
    if match is None:
        return False
    low, high, ploidy = match.groups()
    low_number = int(low)
    high_number = int(high) if high else low_number
    if high_number < low_number:
        clone.report(raw, "modal number range is reversed", "warning")
        low_number, high_number = high_number, low_number
    clone.modal_min, clone.modal_max = low_number, high_number
    clone.modal_number = low_number if low_number == high_number else None
    clone.ploidy_level = ploidy
    return True


def _take_sex_or_lineage(clone: RawClone, fields: list[str]) -> list[str]:
    """Read the sex chromosomes, or idem/sl/sdl in their place; return the other fields."""
    if not fields:
        clone.report(clone.text, "no sex chromosomes")
        return []
    first = "".join(fields[0].split()).lower()
    if _SEX.fullmatch(first):
        clone.sex_chromosomes = _canonical_sex(first)
        return fields[1:]
    if _LINEAGE.fullmatch(first):
        return fields
    clone.report(fields[0], "no sex chromosomes")
    return fields


def _canonical_sex(raw: str) -> str:
    """`xyc` -> `XYc`: upper-case chromosomes, lower-case constitutional mark."""
    if raw.endswith("c"):
        return raw[:-1].upper() + "c"
    return raw.upper()


def _take_token(clone: RawClone, token: str) -> None:
    """Read one abnormality (or lineage word) into the clone, reporting failures."""
    compact = "".join(token.split()).lower()
    if _LINEAGE.fullmatch(compact):
        _take_lineage(clone, token, compact)
        return
    result = parse_abnormality(token)
    if isinstance(result, TokenError):
        clone.unparsed.append(token)
        clone.report(token, result.message)
        return
    clone.own.append(result)


def _take_lineage(clone: RawClone, token: str, word: str) -> None:
    """Note idem/sl/sdl; a second one in the same clone is contradictory."""
    if clone.based_on is not None:
        clone.unparsed.append(token)
        clone.report(token, f"clone is already based on '{clone.based_on}'")
        return
    clone.based_on = word
