"""CTCAE v5.0 terms an ``adverse_event`` finding may name, folded onto one key each.

A clinician records the event and its grade (the grades of these terms depend
on symptoms and interventions, never on a number the engine could read). Terms
are written as CTCAE spells them ("Thromboembolic event") or as keys
(``thromboembolic_event``); any other CTCAE term is kept as its key. For the
few terms whose grade scale has gaps, a grade CTCAE does not define is refused
(CTCAE v5.0 defines no grade 1 or 2 for febrile neutropenia or anaphylaxis and
no grade 1 for pancreatitis). ``category`` groups terms a rule reads together
(the clinical criteria of tumour lysis: an arrhythmia, a seizure, sudden death).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AdverseTerm:
    key: str
    ctcae: str
    grades: tuple[int, ...] = (1, 2, 3, 4, 5)
    category: str | None = None


_TERMS = (
    AdverseTerm("pancreatitis", "Pancreatitis", (2, 3, 4, 5)),
    AdverseTerm("thromboembolic_event", "Thromboembolic event"),
    AdverseTerm("osteonecrosis", "Osteonecrosis"),
    AdverseTerm("peripheral_sensory_neuropathy", "Peripheral sensory neuropathy"),
    AdverseTerm("peripheral_motor_neuropathy", "Peripheral motor neuropathy"),
    AdverseTerm("allergic_reaction", "Allergic reaction"),
    AdverseTerm("anaphylaxis", "Anaphylaxis", (3, 4, 5)),
    AdverseTerm("febrile_neutropenia", "Febrile neutropenia", (3, 4, 5)),
    AdverseTerm("seizure", "Seizure", category="tls_clinical"),
    AdverseTerm("atrial_fibrillation", "Atrial fibrillation", category="tls_clinical"),
    AdverseTerm("supraventricular_tachycardia", "Supraventricular tachycardia", category="tls_clinical"),
    AdverseTerm("ventricular_arrhythmia", "Ventricular arrhythmia", category="tls_clinical"),
    AdverseTerm("ventricular_tachycardia", "Ventricular tachycardia", category="tls_clinical"),
    AdverseTerm("ventricular_fibrillation", "Ventricular fibrillation", category="tls_clinical"),
    AdverseTerm("cardiac_arrest", "Cardiac arrest", category="tls_clinical"),
    AdverseTerm("sudden_death", "Sudden death NOS", (5,), category="tls_clinical"),
    AdverseTerm("acute_kidney_injury", "Acute kidney injury"),
    AdverseTerm("hepatic_failure", "Hepatic failure"),
    AdverseTerm("sinusoidal_obstruction_syndrome", "Sinusoidal obstruction syndrome"),
    AdverseTerm("encephalopathy", "Encephalopathy"),
    AdverseTerm("sepsis", "Sepsis"),
)
TERMS: dict[str, AdverseTerm] = {t.key: t for t in _TERMS}


def term_key(text: str) -> str:
    """'Thromboembolic event' / 'thromboembolic-event' -> 'thromboembolic_event'."""
    key = "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    for term in _TERMS:
        if key == "_".join(term.ctcae.lower().split()):
            return term.key
    return key


def term_label(key: str) -> str:
    term = TERMS.get(key)
    return term.ctcae if term else key.replace("_", " ").capitalize()
