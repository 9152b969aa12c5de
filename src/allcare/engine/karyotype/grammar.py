"""Low-level ISCN pieces: chromosome names and band (breakpoint) lists.

All patterns are ASCII-only and bounded so that arbitrary text (including
non-ASCII digits) can neither crash `int()` nor make a regex backtrack badly.
Inputs are expected in lower case with whitespace removed.
"""

from __future__ import annotations

import re

_AUTOSOME = re.compile(r"[0-9]{1,2}", re.ASCII)
_BAND_CORE = r"(?:pter|qter|cen|[pq][0-9?]*(?:\.[0-9?]+)?)"
_BAND = re.compile(rf"(?:\?{_BAND_CORE}|{_BAND_CORE}|\?)(?:~{_BAND_CORE})?", re.ASCII)
_ARM_FORM = re.compile(r"([0-9]{1,2}|x|y)([pq])", re.ASCII)


def parse_chromosome(raw: str) -> str | None:
    """Canonical chromosome name (`"9"`, `"X"`, `"?"`), or None if it is not one.

    Leading zeros are dropped and X/Y upper-cased so that the same chromosome
    always compares equal, whatever the lab typed.
    """
    if raw in ("x", "y"):
        return raw.upper()
    if raw == "?":
        return "?"
    if _AUTOSOME.fullmatch(raw) and 1 <= int(raw) <= 22:
        return str(int(raw))
    return None


def parse_chromosome_list(raw: str) -> list[str] | None:
    """The `;`-separated chromosomes of `t(9;22)`, or None if any is unreadable."""
    names = [parse_chromosome(piece) for piece in raw.split(";")]
    if any(name is None for name in names):
        return None
    return [name for name in names if name is not None]


def parse_arm_form(raw: str) -> tuple[str, str] | None:
    """Read the informal arm form `17q` (as in `i(17q)`) as chromosome and arm."""
    match = _ARM_FORM.fullmatch(raw)
    if not match:
        return None
    chromosome = parse_chromosome(match.group(1))
    return (chromosome, match.group(2)) if chromosome else None


def parse_band_run(raw: str) -> list[str] | None:
    """Split `q21q25` into `["q21", "q25"]`; None if anything is not a band.

    Uncertain bands (`q2?`, `?q21`), whole-arm ends (`pter`, `qter`, `cen`)
    and uncertain ranges (`q21~q23`) are kept as single bands, as written.
    """
    bands: list[str] = []
    position = 0
    while position < len(raw):
        match = _BAND.match(raw, position)
        if not match or match.end() == position:
            return None
        bands.append(match.group())
        position = match.end()
    return bands or None


def parse_band_groups(raw: str) -> list[list[str]] | None:
    """Read `p13;q31q33` as one band list per chromosome; None if unreadable."""
    groups = [parse_band_run(piece) for piece in raw.split(";")]
    if any(group is None for group in groups):
        return None
    return [group for group in groups if group is not None]


def band_matches(written: str, wanted: str) -> bool:
    """Whether a written band lies within the wanted band.

    `q11.2` and `q11.21` lie within `q11`, but `q1` (lower resolution) and
    `q110` do not: recognition must never guess a more precise band than the
    lab wrote. A `?` around the band is ignored; an uncertain range `q21~q23`
    matches only if both ends do.
    """
    ends = [end.strip("?") for end in written.split("~")]
    return all(end == wanted or end.startswith(wanted + ".") for end in ends)
