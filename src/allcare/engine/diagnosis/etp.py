"""Early T-precursor (ETP) and near-ETP immunophenotype (Coustan-Smith 2009; ICC 2022 Table 6).

ETP: CD7+, CD1a < 5%, CD8 < 5%, CD5 negative or on < 75% of blasts, at least one
stem/myeloid marker on >= 25% of blasts, MPO < 3%. Near-ETP: the same pattern with CD5
on >= 75% of blasts. Surface CD3 is usually absent but is not one of the criteria
(Coustan-Smith 2009, WHO-HAEM5, ICC 2022; docs/decisions.md#etp): an unreported or a
positive surface CD3 does not decide the call, and a positive one is noted.

The cut-offs are percentages, so a marker reported only as a word may leave a
criterion open ("positive" CD5 could be on 30% or 90% of blasts): then the call
is left undetermined with the percentage listed as missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..assessment import Etp
from ..explain import Conclusion, conclude, undetermined
from ..sources import ETP_DEF
from .phenotype import Phenotype

TOPIC = "diagnosis.etp"
RULE = "DX.ETP.DEFINITION"
STEM_MYELOID = ("CD34", "CD117", "HLA-DR", "CD13", "CD33", "CD11b", "CD65")


@dataclass(frozen=True)
class EtpCall:
    value: Etp | None
    conclusion: Conclusion
    missing: list[str] = field(default_factory=list)


def _stem_myeloid(p: Phenotype) -> bool | None:
    limit = p.rules.etp_stem_myeloid_min_pct
    answers = [p.at_least(m, limit) for m in STEM_MYELOID]
    if any(a is True for a in answers):
        return True
    return False if all(a is False for a in answers) else None


def call_etp(p: Phenotype) -> EtpCall:
    """ETP / near-ETP / not ETP for a T-lineage phenotype."""
    r = p.rules
    criteria: list[tuple[str, bool | None, str]] = [
        ("CD7 positive", p.positive("CD7"), "CD7"),
        (f"CD1a on < {r.etp_cd1a_below_pct:g}% of blasts", p.below("CD1a", r.etp_cd1a_below_pct), "CD1a percentage of blasts"),
        (f"CD8 on < {r.etp_cd8_below_pct:g}% of blasts", p.below("CD8", r.etp_cd8_below_pct), "CD8 percentage of blasts"),
        (
            f"a stem/myeloid marker ({'/'.join(STEM_MYELOID)}) on >= {r.etp_stem_myeloid_min_pct:g}% of blasts",
            _stem_myeloid(p),
            f"percentage of blasts expressing {'/'.join(STEM_MYELOID)}",
        ),
        (f"MPO on < {r.etp_mpo_below_pct:g}% of blasts", p.below("MPO", r.etp_mpo_below_pct), "MPO percentage of blasts"),
    ]
    evidence = p.ref("CD7", "CD1a", "CD8", "sCD3", "CD5", "MPO", *STEM_MYELOID)
    failed = [text for text, ok, _ in criteria if ok is False]
    if failed:
        return EtpCall("not_etp", conclude(
            TOPIC, "not_etp", RULE, ETP_DEF, "not ETP: fails " + "; ".join(failed), evidence,
        ))
    cd5_near = p.at_least("CD5", r.etp_cd5_near_pct)
    missing = [need for _, ok, need in criteria if ok is None]
    if cd5_near is None:
        missing.append("CD5 percentage of blasts")
    if missing:
        return EtpCall(None, undetermined(
            TOPIC, RULE, ETP_DEF, missing,
            "ETP pattern not excluded; cannot decide ETP / near-ETP / not ETP without: " + "; ".join(missing),
            evidence,
        ), missing)
    note = ("; surface CD3 is reported positive, which is unusual in ETP-ALL but not one of its criteria: worth a "
            "second look at the report" if p.positive("sCD3") else "")
    if cd5_near:
        return EtpCall("near_etp", conclude(
            TOPIC, "near_etp", RULE, ETP_DEF,
            f"ETP pattern with CD5 on >= {r.etp_cd5_near_pct:g}% of blasts: near-ETP (not ETP-ALL){note}", evidence,
        ))
    return EtpCall("etp", conclude(
        TOPIC, "etp", RULE, ETP_DEF,
        "ETP immunophenotype: CD7+, CD1a and CD8 below the cut-offs, CD5 on "
        f"< {r.etp_cd5_near_pct:g}% of blasts, stem/myeloid marker on >= {r.etp_stem_myeloid_min_pct:g}%, "
        f"MPO < {r.etp_mpo_below_pct:g}%{note}", evidence,
    ))
