"""``diagnose``: disease, lineage, ETP, maturation, EGIL, genetics and WHO/ICC entity of one case.

The order matters and mirrors how a haematopathologist works: pick the
diagnostic work-up (before treatment), merge the genetics, read the
immunophenotype (lineage, ETP), decide the disease from blast burden and
lineage, and only then name the entity, because an entity needs an
established lymphoblastic neoplasm of a known lineage.
"""

from __future__ import annotations

from msgspec import structs

from ..assessment import Diagnosis
from ..course.episodes import Episode
from ..lesion_vocabulary import B_DEFINING, MPAL_DEFINING, MYC_R
from ..view import CaseView
from .disease import classify_disease
from .egil import egil_score
from .entity import classify_entity
from .etp import call_etp
from .genetics import GeneticProfile, genetic_profile
from .lineage import assign_lineage, b_stage, myc_rearranged_b, t_ordinary, t_stage
from .ploidy import PLOIDY_MISSING
from .workup import episode_phenotype, episode_workup

__all__ = ["diagnose"]



def diagnose(view: CaseView, episode: Episode | None) -> Diagnosis:
    """The diagnosis made on one episode's work-up (the initial episode for the assessment's diagnosis)."""
    workup = episode_workup(view, episode)
    genetics = genetic_profile(view, workup.genetics, workup.cytogenetics)
    phenotype = episode_phenotype(view, episode)
    etp = call_etp(phenotype) if phenotype.present and t_ordinary(phenotype) else None
    lineage = assign_lineage(phenotype, etp)
    if genetics.status(MYC_R) == "detected":
        lineage = myc_rearranged_b(lineage, phenotype, genetics.refs(MYC_R))
    disease = classify_disease(view, workup, lineage, genetics)
    lineage_text = lineage.lineage
    entity = classify_entity(disease, lineage_text, etp if lineage_text == "T" else None, genetics)
    egil, egil_conclusion = egil_score(phenotype)

    conclusions = [*genetics.conclusions, disease.conclusion, lineage.conclusion]
    if lineage.mature_b_conclusion is not None:
        conclusions.append(lineage.mature_b_conclusion)
    stage_b = stage_t = None
    if lineage_text and "B" in lineage_text.split("/"):
        stage_b, stage_conclusion = b_stage(phenotype)
        conclusions.append(stage_conclusion)
    etp_value = None
    if lineage_text and "T" in lineage_text.split("/"):
        stage_t, stage_conclusion = t_stage(phenotype)
        conclusions.append(stage_conclusion)
        if etp is not None:
            etp_value = etp.value
            conclusions.append(etp.conclusion)
    if egil is not None and egil_conclusion is not None:  # both or neither
        conclusions.append(egil_conclusion)
        if egil.biphenotypic != (lineage_text is not None and "/" in lineage_text):
            conclusions[-1] = structs.replace(
                egil_conclusion,
                explanation=egil_conclusion.explanation + f"; differs from the WHO lineage "
                f"({lineage_text or 'undetermined'}), which decides the diagnosis - worth a second look")
    conclusions += entity.conclusions

    summary = structs.replace(genetics.summary, not_tested=_not_tested(genetics, lineage_text))
    return Diagnosis(
        disease=disease.disease,
        lineage=lineage_text,
        etp=etp_value,
        b_stage=stage_b,
        t_stage=stage_t,
        who_haem5=entity.who,
        icc_2022=entity.icc,
        egil=egil,
        genetics=summary,
        karyotype=genetics.karyotype,
        lbl_site=disease.lbl_site,
        conclusions=conclusions,
    )


def _not_tested(genetics: GeneticProfile, lineage: str | None) -> list[str]:
    """Defining lesions without a result: the B-ALL set for B or unknown lineage, BCR::ABL1/KMT2A for MPAL."""
    if lineage == "T":
        return []
    defining = MPAL_DEFINING if lineage and "/" in lineage else B_DEFINING
    missing = [lesion for lesion in defining if genetics.status(lesion) == "untested"]
    if defining is B_DEFINING and genetics.ploidy.state == "untested":
        missing.append(PLOIDY_MISSING)
    return missing
