"""Age- and sex-specific reference intervals for the blood count (the sources below; docs/decisions.md#ctcae-counts).

CTCAE grade 1 starts below the lower limit of normal (LLN), and a child's LLN is
not an adult's: a haemoglobin of 10 g/dL is normal at 4 months and low at 9
months. The reporting lab's range always wins (it knows its analyser and its
population); this table is the fallback when the lab gave none.

Rows are transcribed from the sources named in §7.2 and nothing is filled in
between them: where the reference has no row (haemoglobin at 1-2 years,
platelets under 4 years, red cell counts at any age) there is no interval, and
grade 1 stays undecided rather than borrowed from a neighbouring age.

Age bands are half-open, ``[from, below)`` in years of continuous age. Iowa's
month bands and the "2-4 y" / ">4 y" pair meet at their stated edges; the Davis
haemoglobin rows are written in whole years ("2-6 y", "7-15 y", "16-18 y"), so
"2-6 y" runs to the 7th birthday and "7-15 y" to the 16th. Paediatric rows end
at 18 years, where the adult (Mayo Clinic) intervals begin.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

_MONTH = 1.0 / 12.0
_ADULT_FROM = 18.0
_NO_LIMIT = float("inf")

ANY_SEX = "any"


@dataclass(frozen=True)
class Interval:
    """One row: analyte, sex (or any), age band in years, lower and upper limit, and where it came from."""

    analyte: str
    sex: str
    age_from: float
    age_below: float
    lower: float
    upper: float
    source: str

    def covers(self, age_years: float, sex: str) -> bool:
        return self.age_from <= age_years < self.age_below and self.sex in (ANY_SEX, sex)


_MAYO = "Mayo Clinic, complete blood count: adult reference ranges"
_IOWA = "University of Iowa Health Care pathology handbook: paediatric normal values"
_DAVIS = "Davis's Lab and Diagnostic Tests (F.A. Davis)"
_ALSF = "Alex's Lemonade Stand Foundation, blood test values in healthy children"

INTERVALS: tuple[Interval, ...] = (
    # Haemoglobin, g/dL
    Interval("hemoglobin", ANY_SEX, 0.0, 1 * _MONTH, 13.4, 19.9, _IOWA),
    Interval("hemoglobin", ANY_SEX, 1 * _MONTH, 2 * _MONTH, 10.7, 17.1, _IOWA),
    Interval("hemoglobin", ANY_SEX, 2 * _MONTH, 3 * _MONTH, 9.0, 14.1, _IOWA),
    Interval("hemoglobin", ANY_SEX, 3 * _MONTH, 6 * _MONTH, 9.5, 14.1, _IOWA),
    Interval("hemoglobin", ANY_SEX, 6 * _MONTH, 1.0, 11.3, 14.1, _IOWA),
    Interval("hemoglobin", ANY_SEX, 2.0, 7.0, 10.0, 13.3, _DAVIS),
    Interval("hemoglobin", ANY_SEX, 7.0, 16.0, 10.7, 14.0, _DAVIS),
    Interval("hemoglobin", ANY_SEX, 16.0, _ADULT_FROM, 11.0, 15.0, _DAVIS),
    Interval("hemoglobin", "male", _ADULT_FROM, _NO_LIMIT, 13.5, 17.5, _MAYO),
    Interval("hemoglobin", "female", _ADULT_FROM, _NO_LIMIT, 12.0, 15.5, _MAYO),
    # White cells, 10^9/L
    Interval("wbc", ANY_SEX, 0.0, 1 * _MONTH, 9.0, 30.0, _IOWA),
    Interval("wbc", ANY_SEX, 1 * _MONTH, 3 * _MONTH, 5.0, 19.5, _IOWA),
    Interval("wbc", ANY_SEX, 3 * _MONTH, 1.0, 6.0, 17.5, _IOWA),
    Interval("wbc", ANY_SEX, 1.0, 2.0, 6.0, 17.0, _IOWA),
    Interval("wbc", ANY_SEX, 2.0, 4.0, 5.5, 15.5, _IOWA),
    Interval("wbc", ANY_SEX, 4.0, _ADULT_FROM, 5.0, 15.0, _ALSF),
    Interval("wbc", ANY_SEX, _ADULT_FROM, _NO_LIMIT, 3.5, 10.5, _MAYO),
    # Neutrophils, 10^9/L. The adult source gives none; §7.2 names the 5-18 y row as the nearest.
    Interval("anc", ANY_SEX, 0.0, 1 * _MONTH, 1.0, 20.0, _IOWA),
    Interval("anc", ANY_SEX, 1 * _MONTH, 3 * _MONTH, 1.0, 9.0, _IOWA),
    Interval("anc", ANY_SEX, 3 * _MONTH, 6 * _MONTH, 1.0, 8.5, _IOWA),
    Interval("anc", ANY_SEX, 6 * _MONTH, 5.0, 1.5, 8.5, _IOWA),
    Interval("anc", ANY_SEX, 5.0, _NO_LIMIT, 1.7, 7.5, _IOWA + " (5-18 y row, also used for adults)"),
    # Platelets, 10^9/L: no paediatric row under 4 years in the retrieved sources.
    Interval("platelets", ANY_SEX, 4.0, _ADULT_FROM, 160.0, 380.0, _ALSF),
    Interval("platelets", ANY_SEX, _ADULT_FROM, _NO_LIMIT, 150.0, 450.0, _MAYO),
    # Blood blasts, %: healthy blood has none (the CR criterion "no circulating blasts", §6.1).
    Interval("blasts_pct", ANY_SEX, 0.0, _NO_LIMIT, 0.0, 0.0, "no circulating blasts in healthy blood (§6.1)"),
)


def _single(values: list[float]) -> float | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _sex_key(sex: object) -> str:
    return str(getattr(sex, "value", sex) or "unknown").lower()


def find_interval(analyte: str, age_years: float | None, sex: object) -> Interval | None:
    """The row for this analyte, age and sex, or None (no row, unknown age, or unknown sex where rows differ)."""
    if age_years is None:
        return None
    key = _sex_key(sex)
    for row in INTERVALS:
        if row.analyte == analyte and row.covers(age_years, key):
            return row
    return None


def possible_intervals(analyte: str, age_years: float | None, sex: object) -> list[Interval]:
    """Every row the patient could fall in: one for a known sex; both sexes' rows when sex is not recorded.

    Grading uses this so that an unknown sex only leaves a grade open when the
    answer actually depends on it (an adult haemoglobin of 16 g/dL is not low
    for either sex; 13 g/dL is low for a man and normal for a woman).
    """
    return list(age_band(analyte, age_years, sex).rows)


def _possible_intervals(analyte: str, age_years: float | None, sex: object) -> list[Interval]:
    """The table scan behind :func:`possible_intervals` (run once per stretch of age, see :func:`age_bands`)."""
    row = find_interval(analyte, age_years, sex)
    if row is not None:
        return [row]
    if age_years is None or _sex_key(sex) in ("male", "female"):
        return []
    rows = [find_interval(analyte, age_years, s) for s in ("male", "female")]
    return [r for r in rows if r is not None]


@dataclass(frozen=True, eq=False)
class AgeBand:
    """The rows that apply to a patient over a stretch of age (see :func:`age_bands`).

    One object per distinct set of rows, compared and hashed by identity, so
    it can key a cache of values graded against those rows.
    """

    rows: tuple[Interval, ...] = field(default=())

    @property
    def lower(self) -> float | None:
        """The lower limit when every row agrees (one row, or both sexes alike); None otherwise."""
        return _single([r.lower for r in self.rows])

    @property
    def upper(self) -> float | None:
        return _single([r.upper for r in self.rows])


NO_ROWS = AgeBand()
_ANALYTES = tuple(dict.fromkeys(r.analyte for r in INTERVALS))
# Every row starts and ends on one of these ages, so between two consecutive edges
# each row covers every age or none: which rows apply is the same across the stretch.
EDGES = tuple(sorted({r.age_from for r in INTERVALS} | {r.age_below for r in INTERVALS}))
_SEX_KEYS = ("male", "female", ANY_SEX)


def _table_for(sex: str) -> tuple[dict[str, AgeBand], ...]:
    """The rows of every analyte for each stretch of age (stretch i: ages from EDGES[i - 1] below EDGES[i])."""
    bands: dict[tuple[Interval, ...], AgeBand] = {(): NO_ROWS}
    table: list[dict[str, AgeBand]] = [{}]  # stretch 0: below the first edge (age 0), no rows
    for age in EDGES[:-1]:  # the first age of each stretch is in it (rows are [from, below))
        rows = {a: tuple(_possible_intervals(a, age, sex)) for a in _ANALYTES}
        table.append({a: bands.setdefault(r, AgeBand(r)) for a, r in rows.items()})
    table.append({})  # at or beyond the last edge (infinity): never reached
    return tuple(table)


_TABLE: dict[str, tuple[dict[str, AgeBand], ...]] = {sex: _table_for(sex) for sex in _SEX_KEYS}


def band_table(sex: object) -> tuple[dict[str, AgeBand], ...]:
    """The precomputed rows by stretch of age for a sex: index it with ``bisect_right(EDGES, age)``.

    Sexes other than male and female match the same rows (the any-sex rows, or
    both sexes' rows, see :func:`possible_intervals`), so they share one table.
    """
    key = _sex_key(sex)
    return _TABLE[key if key in _TABLE else ANY_SEX]


def age_bands(age_years: float | None, sex: object) -> dict[str, AgeBand]:
    """:func:`possible_intervals` for every analyte with rows, as shared :class:`AgeBand` objects.

    A case has hundreds of blood counts, each at a slightly different age, but
    the answer only changes at a row edge, so it is looked up in a table made
    once per sex and stretch of age (:func:`band_table`).
    """
    if age_years is None:
        return {}
    return band_table(sex)[bisect_right(EDGES, age_years)]


def age_band(analyte: str, age_years: float | None, sex: object) -> AgeBand:
    """The :class:`AgeBand` of one analyte (no rows: an empty band)."""
    return age_bands(age_years, sex).get(analyte, NO_ROWS)


def reference_range(analyte: str, age_years: float | None, sex: str) -> tuple[float | None, float | None] | None:
    """(lower, upper) reference limits in the canonical unit, or None when the reference has no row.

    ``sex`` is "male", "female", "other" or "unknown"; where the reference gives
    different adult rows by sex (haemoglobin), an unrecorded sex has no interval.
    """
    row = find_interval(analyte, age_years, sex)
    return None if row is None else (row.lower, row.upper)
