"""An allcare assessment -> CDS Hooks cards: one summary card, one card per alert.

Every card names its source (the guideline the rule follows, or allcare with its
rule-set version) and links back to the patient's page in allcare, where the
full derivation trail is. Summaries are cut to the 140 characters CDS Hooks
allows; the detail carries the rest.
"""

from __future__ import annotations

import uuid

from ...engine.assessment import Assessment
from ...labels import (
    DISEASE,
    GENETIC_RISK,
    LINEAGE,
    MRD_STATUS,
    NCI_RISK,
    UNDETERMINED,
    alert_label,
    cns_label,
    label,
    phase_label,
    status_label,
)
from .models import Card, Coding, Link, Source
from .prefetch import OPTIONAL_PREFETCH

ALERT_TOPICS = "urn:allcare:alerts"
SUMMARY_TOPIC = Coding(system="urn:allcare:codes", code="assessment-summary", display="allcare assessment summary")
_NAMESPACE = uuid.UUID("0d6c9a63-74f1-4d0b-a2a7-3e37b1f0c8d2")


SUMMARY_LIMIT = 140  # CDS Hooks 2.0: a card's summary is under 140 characters


def short(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """``text`` in fewer than ``limit`` characters, cut at a word and ended with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) < limit:
        return text
    cut = text[: limit - 2]  # room for the ellipsis, strictly under the limit
    head = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return head.rstrip(" ,;:·-") + "…"


def _link(patient_url: str | None) -> list[Link] | None:
    return [Link(label="Open in allcare (full derivation trail)", url=patient_url, type="absolute")] if patient_url else None


def _card_id(hook_instance: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{hook_instance}|{key}"))



def summary_card(a: Assessment, hook_instance: str, patient_url: str | None) -> Card:
    d = a.diagnosis
    disease = label(DISEASE, d.disease, UNDETERMINED)
    entity = d.who_haem5.name or (f"{disease}, {label(LINEAGE, d.lineage)} lineage" if d.lineage else disease)
    status = status_label(a.status.current)
    nci = label(NCI_RISK, a.risk.nci, UNDETERMINED)
    summary = short(f"{entity} · NCI risk: {nci} · {status}")
    lines = [
        f"**Diagnosis**: {entity}" + (f" (ICC 2022: {d.icc_2022.name})" if d.icc_2022.name else ""),
        f"**Codes**: ICD-10-CM {a.codes.icd_10_cm or '-'}, ICD-O-3 {a.codes.icd_o_3 or '-'}, SNOMED CT {a.codes.snomed_ct or '-'}",
        f"**Risk**: NCI {nci}; genetic {label(GENETIC_RISK, a.risk.genetic, UNDETERMINED)}",
        f"**Status**: {status}" + (f" since {a.status.since}" if a.status.since else "")
        + (f"; phase {phase_label(a.status.current_phase)}" if a.status.current_phase else ""),
        f"**CNS**: {cns_label(a.cns_status) if a.cns_status else 'no CSF result'}",
    ]
    if a.mrd.latest is not None:
        m = a.mrd.latest
        lines.append(f"**Latest MRD** ({m.date}): {label(MRD_STATUS, m.status)}" + (f", {m.value:.2g}" if m.value is not None else ""))
    if a.missing:
        lines.append("**Would help decide**: " + "; ".join(a.missing[:6]) + (" ..." if len(a.missing) > 6 else ""))
    lines.append(f"_{a.disclaimer}_ Rules {a.rules_version}, assessed as of {a.as_of}.")
    return Card(
        uuid=_card_id(hook_instance, "summary"), summary=summary, detail="\n\n".join(lines),
        indicator="warning" if a.status.current in ("refractory", "relapse", "suspected_relapse") else "info",
        source=Source(label=f"allcare {a.engine_version} (rules {a.rules_version})", topic=SUMMARY_TOPIC),
        links=_link(patient_url),
    )


def alert_card(alert, hook_instance: str, patient_url: str | None) -> Card:
    evidence = "\n".join(f"- {e.type} {e.date}: {e.summary}" for e in alert.evidence)
    detail = f"{alert.message}\n\nRule `{alert.rule}`; source: {alert.source}." + (f"\n\nEvidence:\n{evidence}" if evidence else "")
    return Card(
        uuid=_card_id(hook_instance, f"alert:{alert.code}:{alert.rule}"), summary=short(alert.message), detail=detail,
        indicator=alert.severity, links=_link(patient_url),
        source=Source(label=short(alert.source, 200), topic=Coding(system=ALERT_TOPICS, code=alert.code, display=alert_label(alert.code))),
    )


def not_sent_card(not_sent: tuple[str, ...], hook_instance: str, patient_url: str | None) -> Card:
    """The prefetch keys the EHR did not send (and allcare could not fetch): assessed without them, said plainly."""
    missing = "; ".join(f"'{key}': {OPTIONAL_PREFETCH[key]}" for key in not_sent)
    return Card(
        uuid=_card_id(hook_instance, "not-sent"), indicator="info", links=_link(patient_url),
        summary=short(f"Assessed without {', '.join(not_sent)}: the EHR sent no prefetch for them"),
        detail=(f"The EHR did not send these prefetch keys and named no FHIR server allcare may read them from: "
                f"{missing}. Conclusions that need them say 'cannot determine' or may be incomplete; send them "
                "(or a fhirServer with access) for the full assessment."),
        source=Source(label="allcare CDS Hooks service", topic=Coding(system=ALERT_TOPICS, code="prefetch-not-sent",
                                                                       display="prefetch not sent")),
    )


def assessment_cards(a: Assessment, hook_instance: str, patient_url: str | None, not_sent: tuple[str, ...] = ()) -> list[Card]:
    """Summary first, then what the assessment went without (if anything), then alerts by severity."""
    order = {"critical": 0, "warning": 1, "info": 2}
    alerts = sorted(a.alerts, key=lambda x: order[x.severity])
    without = [not_sent_card(not_sent, hook_instance, patient_url)] if not_sent else []
    return [summary_card(a, hook_instance, patient_url), *without, *(alert_card(x, hook_instance, patient_url) for x in alerts)]
