"""The genetic profile: every genetics and cytogenetics finding merged into one summary.

Results arrive from several tests (karyotype, FISH, RT-PCR, panels, RNA-seq
classifiers) on different dates. The classification rules need, for each
defining lesion, one answer: detected, tested negative, contradictory, or not
tested. A lesion reported both found and not found is never resolved by
picking a side: it is listed as conflicting with both sides, and every rule
that depends on it stays undetermined.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from msgspec import structs

from ..assessment import GeneticSummary
from ..case import Cytogenetics, Genetics
from ..explain import Conclusion, EvidenceRef, conclude, contradictory, undetermined
from ..karyotype import Karyotype, parse_under_rules
from ..lesion_vocabulary import display, request_for
from ..sources import ISCN_2020, WHO_HAEM5
from ..view import CaseView, Indexed
from . import ploidy as ploidy_rules
from .lesions import classify_expression, covering_negatives, describes_non_lymphoid_cells, implied_by


@dataclass(frozen=True)
class ExpressionCall:
    text: str
    kind: str | None
    value: str | None
    confidence: float | None
    confident: bool
    ref: EvidenceRef


@dataclass(frozen=True)
class GeneticProfile:
    summary: GeneticSummary
    karyotype: Karyotype | None
    ploidy: ploidy_rules.PloidyCall
    conflicts: dict[str, list[str]]
    evidence: dict[str, list[EvidenceRef]]
    expression: list[ExpressionCall]
    expression_conflict: bool
    findings: list[Indexed[Genetics | Cytogenetics]]
    conclusions: list[Conclusion] = field(default_factory=list)
    # The entity rules ask the status of the same few lesions dozens of times per case.
    _statuses: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def status(self, lesion: str) -> str:
        """detected | negative | conflicting | untested."""
        known = self._statuses.get(lesion)
        if known is None:
            known = self._statuses[lesion] = self._status(lesion)
        return known

    def _status(self, lesion: str) -> str:
        if lesion in self.conflicts:
            return "conflicting"
        if lesion in self.summary.detected:
            return "detected"
        if any(n in self.summary.negative for n in covering_negatives(lesion)):
            return "negative"
        return "untested"

    def refs(self, *lesions: str) -> list[EvidenceRef]:
        out: list[EvidenceRef] = []
        for lesion in lesions:
            out += [r for r in self.evidence.get(lesion, []) if r not in out]
        return out

    def confident_expression(self, kind: str) -> list[ExpressionCall]:
        if self.expression_conflict:
            return []
        return [c for c in self.expression if c.confident and c.kind == kind]


def genetic_profile(view: CaseView, genetics: list[Indexed[Genetics]], cytogenetics: list[Indexed[Cytogenetics]]) -> GeneticProfile:
    """Merge one episode's genetic and cytogenetic results (its work-up, never remission samples)."""
    rules = view.rules
    detected: dict[str, list[EvidenceRef]] = {}
    negative: dict[str, list[EvidenceRef]] = {}

    def note(book: dict[str, list[EvidenceRef]], lesion: str, ref: EvidenceRef) -> None:
        book.setdefault(lesion, []).append(ref)

    for item in genetics:
        f = item.finding
        method = f" ({f.source})" if f.source else ""
        for lesion in [*f.fusions, *f.alterations]:
            note(detected, lesion, item.ref(f"{lesion} detected{method}"))
        if describes_non_lymphoid_cells(" ".join(filter(None, [f.source, f.note]))):
            continue  # a negative in sorted non-blast cells says nothing about the blasts
        for lesion in f.negative:
            note(negative, lesion, item.ref(f"{lesion} not found{method}"))

    parsed: list[tuple[Indexed[Cytogenetics], Karyotype]] = []
    for sample in cytogenetics:
        if sample.finding.karyotype:
            karyotype = parse_under_rules(sample.finding.karyotype, rules)
            parsed.append((sample, karyotype))
            for recurrent in karyotype.recurrent:
                name: str = recurrent.key
                note(detected, name, sample.ref(f"karyotype {recurrent.abnormality}: {name}"))
            for fish in karyotype.fish:
                state = "detected" if fish.detected else "not found"
                extra = f" ({fish.note})" if fish.note else ""
                note(detected if fish.detected else negative, fish.lesion,
                     sample.ref(f"FISH {fish.text}: {fish.lesion} {state}{extra}"))

    expression = _expression_calls(view, genetics)
    conflict_text: list[str] = []
    distinct = {(c.kind, c.value or c.text) for c in expression if c.confident}
    expression_conflict = len(distinct) > 1
    if expression_conflict:
        conflict_text = [f"{c.text} (confidence {c.confidence if c.confidence is not None else 'not given'}, "
                         f"{c.ref.type} on {c.ref.date})" for c in expression if c.confident]
    else:
        for call in expression:
            if call.confident and call.kind == "lesion" and call.value:
                note(detected, call.value, structs.replace(call.ref, summary=f"expression classifier: {call.text}"))

    for lesion in list(detected):
        for implied in implied_by(lesion):
            refs = [structs.replace(r, summary=f"{r.summary} (implies {implied})") for r in detected[lesion]]
            detected.setdefault(implied, []).extend(refs)

    conflicts: dict[str, list[str]] = {}
    evidence: dict[str, list[EvidenceRef]] = {k: list(v) for k, v in detected.items()}
    for name, refs in negative.items():
        evidence.setdefault(name, []).extend(refs)
    for lesion, found in detected.items():
        covers = [n for n in covering_negatives(lesion) if n in negative]
        if not covers:
            continue
        against = [r for n in covers for r in negative[n]]
        sides = [f"{lesion} detected: {_where(found)}", f"not found: {_where(against)}"]
        conflicts[lesion] = sides
        evidence[lesion] = [*found, *against]
        for n in covers:
            if n != lesion:
                conflicts.setdefault(n, sides)
                evidence[n] = [*evidence.get(n, []), *found]

    ploidy = ploidy_rules.call_ploidy(view, cytogenetics, parsed)
    first_karyotype = next((k for _, k in parsed if k.modal_number is not None), parsed[0][1] if parsed else None)
    summary = GeneticSummary(
        detected=[d for d in detected if d not in conflicts],
        negative=[n for n in negative if n not in conflicts],
        conflicting=list(conflicts),
        modal_number=ploidy.modal_number,
        dna_index=ploidy.dna_index,
        ploidy=ploidy.category,
        masked_hypodiploidy_possible=ploidy.masked,
        complex_karyotype=ploidy.complex_karyotype,
        expression_subtype=" / ".join(dict.fromkeys(c.text for c in expression)) or None,
    )
    profile = GeneticProfile(
        summary=summary, karyotype=first_karyotype, ploidy=ploidy, conflicts=conflicts, evidence=evidence,
        expression=expression, expression_conflict=expression_conflict, findings=[*genetics, *cytogenetics],
    )
    conclusions = [_lesion_conclusion(profile, parsed)]
    conclusions += _suggested(profile, parsed)
    conclusions += [
        contradictory("diagnosis.genetics.conflict", "DX.GENETICS.CONFLICT", WHO_HAEM5, sides, evidence[lesion], value=lesion)
        for lesion, sides in conflicts.items()
    ]
    conclusions += [ploidy.conclusion] if ploidy.conclusion else []
    conclusions += _expression_conclusions(profile, conflict_text, rules.expression_confidence_min)
    return replace(profile, conclusions=conclusions)


def _where(refs: list[EvidenceRef]) -> str:
    return "; ".join(f"{r.type} #{r.index} on {r.date} ({r.summary})" for r in refs)


def _expression_calls(view: CaseView, genetics: list[Indexed[Genetics]]) -> list[ExpressionCall]:
    calls = []
    for item in genetics:
        f = item.finding
        if not f.expression_subtype:
            continue
        mapped = classify_expression(f.expression_subtype)
        confident = f.expression_confidence is None or f.expression_confidence >= view.rules.expression_confidence_min
        confidence = "" if f.expression_confidence is None else f", confidence {f.expression_confidence:g}"
        calls.append(ExpressionCall(
            text=f.expression_subtype, kind=mapped[0] if mapped else None, value=mapped[1] if mapped else None,
            confidence=f.expression_confidence, confident=confident,
            ref=item.ref(f"expression subtype {f.expression_subtype}{confidence}"),
        ))
    return calls


def _lesion_conclusion(profile: GeneticProfile, parsed: list[tuple[Indexed[Cytogenetics], Karyotype]]) -> Conclusion:
    s = profile.summary
    parts = [f"detected: {', '.join(s.detected) or 'none'}", f"tested negative: {', '.join(s.negative) or 'none'}"]
    if s.conflicting:
        parts.append(f"conflicting: {', '.join(s.conflicting)}")
    for item, karyotype in parsed:
        errors = [p for p in karyotype.problems if p.severity == "error"]
        if errors:
            parts.append(f"karyotype #{item.index} only partly readable: " + "; ".join(p.message for p in errors))
        warnings = [p for p in karyotype.problems if p.severity == "warning"]
        if warnings:
            parts.append(f"karyotype #{item.index}: " + "; ".join(p.message for p in warnings))
    refs = [r for refs in profile.evidence.values() for r in refs]
    unique = list({(r.index, r.summary): r for r in refs}.values())
    return conclude(
        "diagnosis.genetics", s.detected, "DX.GENETICS.MERGE", f"{WHO_HAEM5}; {ISCN_2020}",
        "; ".join(parts) + ". A partner fusion implies the gene's rearrangement; a gene break-apart negative "
        "covers all of that gene's fusions.", unique,
    )


def _suggested(profile: GeneticProfile, parsed: list[tuple[Indexed[Cytogenetics], Karyotype]]) -> list[Conclusion]:
    """A karyotype change that suggests a defining lesion without showing it (del/add(11)(q23): KMT2A)."""
    out = []
    for item, karyotype in parsed:
        for lesion in karyotype.suggested:
            name = lesion.key
            label = display(name)
            status = profile.status(name)
            ref = item.ref(f"karyotype {lesion.abnormality}: suggests {name}")
            why = (f"{lesion.abnormality} suggests a {label} (a deletion or unknown material at 11q23 can hide one) but "
                   f"does not show it; the {label} is taken from a targeted test: {status}")
            if status == "untested":
                out.append(undetermined("diagnosis.genetics.suggested", "DX.GENETICS.SUGGESTED", f"{WHO_HAEM5}; {ISCN_2020}",
                                        [request_for(name)],
                                        why, [ref], value=name))
            else:
                out.append(conclude("diagnosis.genetics.suggested", name, "DX.GENETICS.SUGGESTED",
                                    f"{WHO_HAEM5}; {ISCN_2020}", why, [ref, *profile.refs(name)]))
    return out


def _expression_conclusions(profile: GeneticProfile, conflict_text: list[str], minimum: float) -> list[Conclusion]:
    out = []
    topic, rule = "diagnosis.genetics.expression", "DX.GENETICS.EXPRESSION"
    if profile.expression_conflict:
        out.append(contradictory(topic, rule, WHO_HAEM5, conflict_text, [c.ref for c in profile.expression]))
        return out
    for call in profile.expression:
        if not call.confident:
            out.append(conclude(
                topic, call.text, rule, WHO_HAEM5,
                f"expression classifier call '{call.text}' has confidence {call.confidence:g} (< {minimum:g}): "
                "reported, not used for classification", [call.ref],
            ))
        elif call.kind is None:
            out.append(conclude(topic, call.text, rule, WHO_HAEM5,
                                f"expression subtype '{call.text}' is not one the classification rules map: reported only",
                                [call.ref]))
        elif call.kind in ("confirm", "ploidy"):
            out.append(conclude(
                topic, call.text, rule, WHO_HAEM5,
                f"expression classifier suggests {call.value}; the entity needs it shown by karyotype, FISH, "
                "RT-PCR or DNA index, so the call is supportive only", [call.ref],
            ))
        else:
            out.append(conclude(topic, call.value, rule, WHO_HAEM5,
                                f"expression classifier call '{call.text}' used as {call.value}", [call.ref]))
    return out
