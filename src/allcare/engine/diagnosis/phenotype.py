"""The diagnostic immunophenotype, read once for the lineage, ETP and EGIL rules.

Flow reports give a marker as a word (positive, dim, bright, partial, negative)
or as the percentage of blasts expressing it. Every rule here asks three
questions of a marker: is it positive (by the EGIL thresholds: surface >= 20%,
cytoplasmic >= 10%, MPO above the flow cut-off), is it strongly expressed (the
WHO MPAL criteria), and within what range does its percentage lie (the ETP
cut-offs). Each answer may be "unknown" (None): a marker that was not tested,
or a word where a number is needed, must never be read as negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..case import Immunophenotype
from ..explain import EvidenceRef
from ..rules import RuleSet
from ..view import Indexed

STRONG_WORDS = {"strong": True, "bright": True, "weak": False, "dim": False}
"""Intensity words: strong = at least half the intensity of the normal counterpart (WHO-HAEM5)."""

CYTOPLASMIC = frozenset({"cCD3", "cCD79a", "cCD22", "cIgM", "MPO", "TdT", "lysozyme", "NSE"})
"""Markers read inside the cell (cytoplasmic or nuclear): the 10% EGIL threshold applies."""


@dataclass(frozen=True)
class Marker:
    name: str
    value: str | float
    intensity: str | None
    source: Indexed[Immunophenotype]
    """The immunophenotype that reported it (cited by :meth:`Phenotype.ref`)."""


@dataclass(frozen=True)
class Phenotype:
    """Markers merged over the diagnostic immunophenotypes (the first report of a marker wins)."""

    rules: RuleSet
    markers: dict[str, Marker] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    disputed: dict[str, Marker] = field(default_factory=dict)
    """Markers left out because reports disagreed on them (the first report of each)."""

    def resolved(self, readings: dict[str, str]) -> Phenotype:
        """This phenotype with each disputed marker read as given ('positive' or 'negative'), nothing disputed."""
        chosen = {name: Marker(name, readings[name], None, self.disputed[name].source) for name in readings}
        return Phenotype(self.rules, {**self.markers, **chosen})

    @property
    def present(self) -> bool:
        return bool(self.markers)

    def tested(self, name: str) -> bool:
        return name in self.markers

    def threshold(self, name: str) -> float:
        return self.rules.cytoplasmic_marker_positive_pct if name in CYTOPLASMIC else self.rules.surface_marker_positive_pct

    def positive(self, name: str) -> bool | None:
        """Positive at the EGIL thresholds (MPO: above the flow cut-off); None when not tested."""
        marker = self.markers.get(name)
        if marker is None:
            return None
        value = marker.value
        if isinstance(value, str):
            return value != "negative"
        if name == "MPO":
            return float(value) > self.rules.mpo_positive_above_pct
        return float(value) >= self.threshold(name)

    def strong(self, name: str) -> bool | None:
        """Strong expression from a 'strong'/'bright' intensity note or value; weak from 'weak'/'dim'; else None."""
        marker = self.markers.get(name)
        if marker is None:
            return None
        if marker.intensity is not None:
            return STRONG_WORDS[marker.intensity]
        if marker.value == "bright":
            return True
        if marker.value in ("dim", "negative"):
            return False
        return None

    def percent_range(self, name: str) -> tuple[float, float] | None:
        """Range of the % of blasts expressing the marker: a number is exact, 'negative' is 0,
        a positive word is at least the positivity threshold; None when not tested."""
        marker = self.markers.get(name)
        if marker is None:
            return None
        value = marker.value
        if value == "negative":
            return (0.0, 0.0)
        if isinstance(value, str):
            floor = self.rules.mpo_positive_above_pct if name == "MPO" else self.threshold(name)
            return (floor, 100.0)
        return (float(value), float(value))

    def below(self, name: str, limit: float) -> bool | None:
        """Whether the marker is on fewer than ``limit`` % of blasts (None: cannot tell)."""
        span = self.percent_range(name)
        if span is None:
            return None
        if span[1] < limit:
            return True
        return False if span[0] >= limit else None

    def at_least(self, name: str, limit: float) -> bool | None:
        below = self.below(name, limit)
        return None if below is None else not below

    def describe(self, name: str) -> str:
        marker = self.markers.get(name)
        if marker is None:
            return f"{name} not tested"
        value = marker.value if isinstance(marker.value, str) else f"{marker.value:g}%"
        return f"{name} {value}" + (f" ({marker.intensity})" if marker.intensity else "")

    def ref(self, *names: str) -> list[EvidenceRef]:
        """Evidence for the named markers, one reference per finding, listing what it said."""
        by_finding: dict[int, tuple[Indexed[Immunophenotype], list[str]]] = {}
        for name in names:
            marker = self.markers.get(name)
            if marker is None:
                continue
            by_finding.setdefault(marker.source.index, (marker.source, []))[1].append(self.describe(name))
        return [source.ref(", ".join(said)) for source, said in by_finding.values()]


def read_phenotype(items: list[Indexed[Immunophenotype]], rules: RuleSet) -> Phenotype:
    """Merge the diagnostic immunophenotypes; a marker reported positive and negative is dropped as conflicting."""
    markers: dict[str, Marker] = {}
    conflicts: list[str] = []
    dropped: dict[str, Marker] = {}
    for item in items:
        finding = item.finding
        for name, value in finding.markers.items():
            if name in dropped:
                continue
            marker = Marker(name, value, finding.intensity.get(name), item)
            earlier = markers.get(name)
            if earlier is None:
                markers[name] = marker
                continue
            first = Phenotype(rules, {name: earlier}).positive(name)
            second = Phenotype(rules, {name: marker}).positive(name)
            if first != second:
                conflicts.append(
                    f"{name}: {_value_text(earlier)} on {earlier.source.date} vs {_value_text(marker)} on {marker.source.date}"
                )
                dropped[name] = markers.pop(name)
    return Phenotype(rules, markers, conflicts, dropped)


def _value_text(marker: Marker) -> str:
    return marker.value if isinstance(marker.value, str) else f"{marker.value:g}%"
