"""Plain words for the patient report, aimed at a reading age of about 12.

The same keys as the care team's words in :mod:`allcare.labels`, explained for a family; kept beside
them so every label of the assessment has one home (``tests/test_labels.py`` checks both cover every key).

Written for allcare from the facts in the project's clinical reference
(the guidelines cited in ``docs/rules.md`` and ``docs/decisions.md``) and what patient-information
pages say patients are told to expect; no sentence is copied from them. Short
sentences, everyday words, and every medical word explained the first time it
appears. The engine's exact values (``complete_remission``, ``b_all_bcr_abl1``
...) are the keys, so a new value the words do not know falls back to a neutral
sentence instead of a wrong one.
"""

from __future__ import annotations

import math
from typing import Any

# Texts with {fields} name a clinical threshold: the report fills them from the rule set it was
# assessed with (numbers(rules)), so a centre's ALLCARE_RULES changes the words the family reads too.

DISEASE = {
    "ALL": (
        "Acute lymphoblastic leukaemia (ALL)",
        "ALL is a cancer of the blood and the bone marrow. Bone marrow is the soft part inside some bones, "
        "where new blood cells are made. In ALL, very young white blood cells, called blasts, grow out of "
        "control. They fill up the marrow and leave less room for the healthy cells that carry oxygen, fight "
        "germs and stop bleeding. \"Acute\" means it can get worse quickly, so treatment usually starts soon.",
    ),
    "LBL": (
        "Lymphoblastic lymphoma (LBL)",
        "Lymphoblastic lymphoma is a close relative of ALL: it is the same kind of young white blood cell. The "
        "difference is where most of it is. In lymphoma, most of the illness is in a lump, for example in a "
        "lymph gland or in the chest, and fewer than {lymphoma_blasts} in every 100 cells in the bone marrow are blasts. It is usually "
        "treated in the same way as ALL.",
    ),
    "MPAL": (
        "Mixed phenotype acute leukaemia (MPAL)",
        "In this rare kind of leukaemia, the leukaemia cells show signs of more than one family of blood cells. "
        "For example, they look partly like lymphoid cells (the family of ALL) and partly like myeloid cells "
        "(the family of another leukaemia, AML). Your care team will explain which treatment fits best.",
    ),
    "not_ALL": (
        "The results do not fit ALL",
        "The tests recorded so far do not match acute lymphoblastic leukaemia. Your care team will explain "
        "what the results do show.",
    ),
    "indeterminate": (
        "Not decided yet",
        "The tests recorded so far are not enough to say exactly which illness this is. More tests may be "
        "needed before the care team can be sure.",
    ),
}

LINEAGE = {
    "B": "The leukaemia cells came from young B cells. Healthy B cells make antibodies, which help the body fight "
         "germs. B-cell ALL is the most common kind: about 4 out of every 5 people with ALL have it.",
    "T": "The leukaemia cells came from young T cells. Healthy T cells help the body find and destroy germs. "
         "T-cell ALL is less common than B-cell ALL and happens more often in adults than in children.",
    "B/myeloid": "The leukaemia cells show signs of both B cells and myeloid cells.",
    "T/myeloid": "The leukaemia cells show signs of both T cells and myeloid cells.",
    "B/T": "The leukaemia cells show signs of both B cells and T cells.",
    "B/T/myeloid": "The leukaemia cells show signs of B cells, T cells and myeloid cells.",
}

# The lineage of a lymphoblastic lymphoma (disease LBL): the same young cells as ALL, mostly in a lump, so never
# called "B-cell ALL" or "T-cell ALL" (the entity's name is "lymphoblastic leukaemia/lymphoma").
LINEAGE_LBL = {
    "B": "The lymphoma cells came from young B cells. Healthy B cells make antibodies, which help the body fight "
         "germs. B-cell lymphoblastic lymphoma is the less common kind.",
    "T": "The lymphoma cells came from young T cells. Healthy T cells help the body find and destroy germs. Most "
         "lymphoblastic lymphomas are of this T-cell kind.",
}
SUBTYPE_LBL = {
    "b_all_nos": "No special gene change was found in the tests done so far.",
    "t_all_nos": "No special subtype was found.",
}

# What the subtype (the WHO-HAEM5 entity) is, in plain words.
SUBTYPE = {
    "b_all_nos": "No special gene change was found in the tests done so far, so this is called B-ALL "
                 "\"not otherwise specified\".",
    "b_all_high_hyperdiploidy": "The leukaemia cells have extra chromosomes: {hyperdiploid_min} to {hyperdiploid_max} instead of the usual 46. "
                                "Chromosomes are the tiny packages that hold our genes. This is one of the most "
                                "common kinds of ALL in children.",
    "b_all_hypodiploidy": "The leukaemia cells have fewer chromosomes than usual (fewer than {hypodiploid_below} instead of 46). "
                          "Chromosomes are the tiny packages that hold our genes.",
    "b_all_iamp21": "The leukaemia cells have many extra copies of one piece of chromosome 21 (called iAMP21).",
    "b_all_bcr_abl1": "Pieces of chromosomes 9 and 22 have swapped places. This joins two genes, BCR and ABL1, "
                      "into one (BCR::ABL1). The changed chromosome 22 is called the Philadelphia chromosome, "
                      "so this is also called Ph-positive ALL. There are medicines that aim right at it.",
    "b_all_bcr_abl1_like": "The genes of the leukaemia cells behave like Philadelphia-positive ALL, but the "
                           "BCR::ABL1 join itself is not there. This is called BCR::ABL1-like (or Ph-like) ALL.",
    "b_all_kmt2a": "A gene called KMT2A, on chromosome 11, is broken and joined to another gene. This kind is "
                   "most common in babies.",
    "b_all_etv6_runx1": "Pieces of chromosomes 12 and 21 have swapped places, joining two genes called ETV6 and "
                        "RUNX1. This is one of the most common kinds of ALL in children.",
    "b_all_etv6_runx1_like": "The genes of the leukaemia cells behave like the ETV6::RUNX1 kind, without the "
                             "join itself.",
    "b_all_tcf3_pbx1": "Pieces of chromosomes 1 and 19 have swapped places, joining two genes called TCF3 and PBX1.",
    "b_all_igh_il3": "Pieces of chromosomes 5 and 14 have swapped places, joining two genes called IGH and IL3.",
    "b_all_tcf3_hlf": "Pieces of chromosomes 17 and 19 have swapped places, joining two genes called TCF3 and HLF.",
    "b_all_other_defined": "The tests found another known gene change that defines its own kind of B-ALL.",
    "t_all_nos": "This is T-cell ALL without a special subtype.",
    "etp_all": "This is early T-cell precursor ALL (ETP-ALL): the leukaemia cells stopped growing up at a very "
               "early stage, before they became proper T cells.",
    "mpal_bcr_abl1": "The mixed leukaemia cells also carry the BCR::ABL1 join (the Philadelphia chromosome).",
    "mpal_kmt2a": "The mixed leukaemia cells also have a broken KMT2A gene.",
    "mpal_b_myeloid": "The leukaemia cells are a mix of B-cell and myeloid features.",
    "mpal_t_myeloid": "The leukaemia cells are a mix of T-cell and myeloid features.",
    "mpal_other": "The leukaemia cells are a rare mix of features.",
}

NCI_RISK = {
    "standard": "Standard risk. This group is based on age at diagnosis ({infant_age} year or older and under "
                "{nci_age} years) and a first white blood cell count below {nci_wbc}.",
    "high": "High risk. This group is based on age ({nci_age} years or older) or a first white blood cell count of {nci_wbc} "
            "or more. It usually means stronger treatment.",
    "infant": "Infant. Babies under {infant_age} year old with ALL have their own treatment plans.",
    "not_applicable": "Doctors use the grouping by age and first white cell count for children with B-cell ALL. "
                      "It does not apply here.",
}
GENETIC_RISK = {
    "standard": "The gene and chromosome changes found are in the \"standard risk\" group.",
    "poor": "The gene and chromosome changes found are in a \"higher risk\" group. This can mean the leukaemia "
            "is harder to treat, so doctors may choose stronger treatment.",
}
# A part of the risk group the engine could not decide (the conclusion's topic), said before what would decide it.
RISK_UNDECIDED = {
    "risk.nci": "The grouping by age and first white blood cell count is not decided yet.",
    "risk.genetic": "The risk group from the gene and chromosome changes is not decided yet.",
    "risk.adult": "The risk group for adults is not decided yet.",
}
STILL_NEEDED = "Still needed (the names the care team uses for these results): {items}."
# Which NCI criterion decided the group, with the patient's own value ({age} years, {wbc} x10^9/L).
NCI_BECAUSE_AGE_HIGH = "Here it is because of age: {age} at diagnosis ({limit} years or older)."
NCI_BECAUSE_WBC_HIGH = ("Here it is because of the first white blood cell count: {wbc} thousand million per litre "
                        "({limit} or more).")
NCI_BECAUSE_STANDARD = ("Here: {age} at diagnosis (under {age_limit} years) and a first white blood cell count of {wbc} "
                        "thousand million per litre (below {wbc_limit}).")
RISK_INTRO = (
    "Doctors sort people with ALL into risk groups. A risk group helps them choose how strong the treatment "
    "needs to be. A higher risk group does not mean the treatment will not work: it means the plan is made "
    "stronger to give the best chance."
)

CNS = {
    "CNS1": "No leukaemia cells were seen in the fluid around the brain and spinal cord.",
    "CNS2a": "A few leukaemia cells were seen in the fluid around the brain and spinal cord, but only a few "
             "white cells were there.",
    "CNS2b": "A few leukaemia cells were seen in the spinal fluid, and some blood got into the sample.",
    "CNS2c": "Leukaemia cells were seen in the spinal fluid, but a closer look showed they most likely came "
             "from blood that got into the sample.",
    "CNS3a": "Leukaemia cells were found in the fluid around the brain and spinal cord.",
    "CNS3b": "Leukaemia cells were found in the fluid around the brain and spinal cord, even after allowing "
             "for blood in the sample.",
    "CNS3c": "There are signs that the leukaemia has reached the brain, the nerves of the face or the eyes.",
}
CNS_UNDECIDED = "Whether leukaemia is in the fluid around the brain and spinal cord is not decided yet."
CNS_AT_DIAGNOSIS = "At diagnosis{date}: "  # the CNS grade is the one found at diagnosis
# A relapse in the course of the disease ({where}: the sites it came back in).
RELAPSE_EPISODE = "The leukaemia came back (relapse) on {date}{where}."
RELAPSE_WHERE = ", in {sites}"
RELAPSE_SITES = {"marrow": "bone marrow", "blood": "blood"}
CNS_AFTER = "Your care team will tell you how the treatment takes care of the brain and spinal cord."
# The CNS grade itself in words: doctors write CNS1, CNS2 or CNS3 (with a letter for the detail).
CNS_GRADE = {
    "CNS1": "CNS1: grade 1 of 3, no leukaemia cells seen in the spinal fluid",
    "CNS2": "CNS2: grade 2 of 3, a few leukaemia cells seen in the spinal fluid",
    "CNS3": "CNS3: grade 3 of 3, leukaemia found in the spinal fluid or signs of it in the brain or nerves",
}

STATUS = {
    "newly_diagnosed": ("Just diagnosed", "The leukaemia has just been found. Treatment is about to start or has "
                        "only just started."),
    "on_treatment": ("On treatment", "Treatment is going on. The tests so far do not yet show whether the "
                     "leukaemia has gone into remission."),
    "complete_remission": ("In remission", "The latest tests found fewer than {m1_below} blasts in every 100 bone marrow "
                           "cells, no blasts in the blood, and blood counts that have come back up. This is called "
                           "remission. Remission is very good news, but it is not the end: treatment goes on to "
                           "stop the leukaemia from coming back."),
    "cr_incomplete_recovery": ("In remission, counts still recovering", "The bone marrow looks clear of leukaemia, "
                               "but the blood counts have not fully come back up yet."),
    "refractory": ("Not yet in remission after the first treatment", "The leukaemia did not go away with the first "
                   "part of treatment. Doctors call this refractory. There are other treatments to try."),
    "suspected_relapse": ("Possibly coming back", "Some results suggest that the leukaemia may be coming back. More "
                          "tests are needed to be sure."),
    "relapse": ("Come back (relapse)", "The leukaemia has come back after a remission. This is called a relapse. "
                "There are treatments for relapse."),
    "indeterminate": ("Not clear yet", "The results recorded so far are not enough to say."),
}
# Remission, said without "counts have come back up" when the latest count is low (in maintenance the
# medicines keep the counts down on purpose). {low}: the low counts, e.g. "neutrophils and platelets".
STATUS_REMISSION_LOW_COUNTS = (
    "In remission", "The bone marrow looks clear of leukaemia and there are no blasts in the blood. This is called "
    "remission. Remission is very good news, but it is not the end: treatment goes on to stop the leukaemia from "
    "coming back. The latest blood test shows low {low}: the medicines also slow down the making of healthy blood "
    "cells, so your care team watches these counts (see the blood test below).")
# Said after a remission status when the latest MRD test is positive: the marrow looks clear, yet the sensitive
# test still found leukaemia cells ({date}: that test's date).
REMISSION_MRD_POSITIVE = ("But the latest MRD test, on {date}, still found leukaemia cells (see the MRD test below). "
                          "Your care team will explain what this means for the treatment.")
# A gene change one test found and another did not (the engine's genetics.conflicting): label and meaning.
GENETICS_CONFLICT = ("Tests that disagree", "One test found this change and another did not. Until the care team "
                     "has checked it, for example with a repeat test, it is not known whether the leukaemia has it.")
LOW_COUNT_NAMES = {"wbc": "white cells", "anc": "neutrophils", "hemoglobin": "haemoglobin", "platelets": "platelets"}

PHASE = {
    "prephase": ("Prephase", "A short first step, often about a week of steroid medicine, that gently lowers "
                 "the number of leukaemia cells before the main treatment."),
    "induction": ("Induction", "The first main part of treatment. It usually lasts about {induction_weeks} weeks and uses "
                  "several medicines together. The goal is remission: no sign of leukaemia in the blood and "
                  "bone marrow."),
    # The phase's words say what the phase is for, never that the person reached remission (the status says that).
    "consolidation": ("Consolidation", "The part that follows induction, to get rid of leukaemia cells that may still "
                      "be hiding. It lasts one to a few months."),
    "interim_maintenance": ("Interim maintenance", "A calmer stretch of about 2 months between stronger blocks, "
                            "mostly with a medicine called methotrexate."),
    "delayed_intensification": ("Delayed intensification", "A block of about 2 months that repeats some of the "
                                "early medicines. It makes it less likely that the leukaemia comes back."),
    "maintenance": ("Maintenance", "The longest part of treatment: gentler medicine, mostly tablets at home, for "
                    "about 1 to 3 years, to keep the leukaemia away."),
    "hsct": ("Stem cell transplant", "Strong treatment first, then healthy blood-making cells (stem cells), "
             "usually from a donor, are given through a drip. They grow into a new blood and immune system."),
    "car_t": ("CAR T-cell therapy", "Some of the person's own T cells are collected, changed in a lab so that "
              "they can find the leukaemia cells, and then given back through a drip."),
    "targeted": ("Targeted medicine", "A medicine that aims at one special feature of the leukaemia cells, such as "
                 "the BCR::ABL1 join. It is often given together with other treatment."),
    "salvage": ("Treatment after relapse or when leukaemia has not gone away", "Treatment used when the leukaemia "
                "came back or did not go away with earlier treatment."),
    "other": ("Other treatment", "Another kind of treatment recorded by the care team."),
}
PHASES_INTRO = (
    "Treatment for ALL is given in parts, one after another. Most plans start with induction, then "
    "consolidation, then one or more stronger blocks, and end with a long, gentler maintenance part. "
    "The whole plan often takes 2 to 3 years. Every plan is made for one person, so yours may differ."
)

TESTS = {
    "cbc": ("Blood count", "A small blood sample is checked to count the different blood cells."),
    "marrow": ("Bone marrow test", "A doctor uses a needle to take a small sample of bone marrow, usually from the "
               "back of the hip bone. The lab counts how many of the cells are blasts."),
    "immunophenotype": ("Cell marker test (flow cytometry)", "A machine looks at markers on and inside the "
                        "leukaemia cells. The markers show which kind of cell the leukaemia came from."),
    "genetics": ("Chromosome and gene tests", "The lab looks at the chromosomes of the leukaemia cells under a "
                 "microscope, and tests such as FISH or PCR look for particular gene changes. Chromosomes are the "
                 "packages that hold our genes. Some changes help choose the treatment."),
    "csf": ("Spinal fluid test (lumbar puncture)", "A thin needle takes a little fluid from the lower back. The lab "
            "looks for leukaemia cells in the fluid around the brain and spinal cord."),
    "mrd": ("MRD test", "MRD means measurable residual disease. It is a very sensitive test that looks for "
            "leukaemia cells left over after treatment, even when there is only {mrd_one_in} cells or fewer."),
    "extramedullary": ("Checks outside the blood and marrow", "Doctors check whether leukaemia is in other places, "
                       "such as the chest, the testicles, lymph glands or the skin."),
}

SITES = {
    "cns": "brain and spinal cord", "testis": "testicles", "mediastinum": "chest, between the lungs",
    "lymph_node": "lymph glands", "liver": "liver", "spleen": "spleen", "skin": "skin", "other": "another place",
}

ANALYTE = {
    "wbc": ("White blood cells", "White blood cells fight germs."),
    "anc": ("Neutrophils", "Neutrophils are the white blood cells that fight infection first."),
    "hemoglobin": ("Haemoglobin", "Haemoglobin is the part of red blood cells that carries oxygen around the body."),
    "platelets": ("Platelets", "Platelets help the blood clot and stop bleeding."),
    "rbc": ("Red blood cells", "Red blood cells carry oxygen."),
    "blasts_pct": ("Blasts in the blood", "Blasts are young leukaemia cells. Healthy blood has none."),
}
# Units as a family reads them: the lab's symbol explained (10^9/L is a thousand million cells in a litre,
# which is the same number of thousands in one microlitre, a tiny drop).
ANALYTE_UNITS = {"wbc": "thousand million per litre (x10^9/L)", "anc": "thousand million per litre (x10^9/L)",
                 "platelets": "thousand million per litre (x10^9/L)",
                 "hemoglobin": "grams in every 100 millilitres (g/dL)",
                 "rbc": "million million per litre (x10^12/L)", "blasts_pct": "in every 100 white cells (%)"}
LOW_MEANS = {
    "hemoglobin": "When it is low, a person can feel tired, look pale or get out of breath.",
    "platelets": "When they are low, bruising and bleeding happen more easily.",
    "anc": "When they are low, infections are more likely. Ask your care team what to do if there is a fever.",
    "wbc": "When they are low, the body is less able to fight germs.",
}
FLAG_WORDS = {"low": "lower than usual", "normal": "in the usual range", "high": "higher than usual"}
# A result the lab reported as a bound ("< 5"): the true value is only known to lie on one side.
COMPARATOR_WORDS = {"<": "below", "<=": "at most", ">=": "at least", ">": "above"}

MRD_STATUS = {
    "negative": "Negative: fewer than {mrd_one_in} cells ({mrd_pct}%) were leukaemia cells, and the test was sensitive "
                "enough to see that few. This is the result doctors hope for.",
    "positive": "Positive: leukaemia cells could still be found. Your care team will explain what this means for "
                "the treatment plan.",
    "not_evaluable": "Cannot be judged: the test used was not sensitive enough to be sure that fewer than {mrd_one_in} "
                     "cells were leukaemia cells.",
}
MARROW_MEANS = (
    "In healthy bone marrow fewer than 5 in every 100 cells are blasts. When ALL is found, it is usually "
    "{leukaemia_blasts} or more in every 100. After treatment, fewer than {m1_below} in 100 is one of the signs of remission."
)

# Progress through front-line treatment. Whole-course lengths of 2 to 3 years follow the COG and UKALL
# trial protocols (e.g. COG AALL0932, UKALL 2011); the record does not say which plan a person is on.
PROGRESS = "Month {month} of treatment, which began on {start}. Treatment for ALL usually lasts about 2 to 3 years in all."
# The same without the length of ALL treatment: for a disease the engine did not find to be ALL (or its kin).
PROGRESS_NOT_ALL = "Month {month} of treatment, which began on {start}."
# No phase in the record is going on at the report's date: no "month of treatment" is counted.
PROGRESS_ENDED = ("{what} began on {start}. The last part of treatment in the record ended on {end}, and the record "
                  "does not show a part of treatment going on now. Your care team can tell you whether treatment has "
                  "finished or what comes next.")
PROGRESS_RELAPSE = "Month {month} since the treatment for the relapse began on {start}."
# By the kind of the course's current episode (engine: initial, relapse, refractory): a leukaemia that never went
# into remission did not "relapse".
PROGRESS_BY_EPISODE = {
    "initial": PROGRESS,
    "relapse": PROGRESS_RELAPSE,
    "refractory": "Month {month} since the treatment for the leukaemia that did not go away began on {start}.",
}
TREATMENT_OF_EPISODE = {"initial": "Treatment", "relapse": "Treatment for the relapse",
                        "refractory": "Treatment for the leukaemia that did not go away"}
REFRACTORY_EPISODE = ("On {date}, the tests showed that the leukaemia had not gone away with the first treatment "
                      "(doctors call this refractory).")

GLOSSARY = [
    ("Blasts", "Very young blood cells. In leukaemia, blasts grow out of control and do not grow up properly."),
    ("Bone marrow", "The soft part inside some bones where blood cells are made."),
    ("Chromosomes", "Tiny packages inside each cell that hold our genes. Most cells have 46."),
    ("Genes", "Instructions that tell a cell how to grow and what to do."),
    ("Haemoglobin", "The part of red blood cells that carries oxygen."),
    ("Lumbar puncture", "A test that takes a little fluid from the lower back with a thin needle."),
    ("MRD", "Measurable residual disease: the tiny number of leukaemia cells that may be left after treatment."),
    ("Neutrophils", "White blood cells that are the first to fight infection."),
    ("Platelets", "Small pieces of cells that help blood clot."),
    ("Relapse", "When leukaemia comes back after a remission."),
    ("Remission", "When tests no longer find signs of leukaemia in the blood and bone marrow."),
]

# The first question, by the engine's disease: only a report of ALL asks "what kind of ALL".
QUESTION_KIND = {
    "ALL": "What kind of ALL is this, and how does that change the treatment plan?",
    "LBL": "What kind of lymphoblastic lymphoma is this, and how does that change the treatment plan?",
    "MPAL": "What kind of mixed leukaemia is this, and how does that change the treatment plan?",
    "not_ALL": "What illness do the results show, and what does that mean for the treatment plan?",
    "indeterminate": "Which tests are still needed to know what this illness is, and when will we know?",
}
QUESTIONS_ALWAYS = [
    "Which part of treatment comes next, and how long will it last?",
    "Which side effects should we watch for, and who do we call, day or night?",
    "What should we do if there is a fever or bleeding?",
    "When is the next bone marrow or MRD test, and what result are we hoping for?",
    "Are there clinical trials that could be a good fit?",
    "How can we get copies of test results and treatment records to keep?",
    "Who can we talk to about feelings, school or work, and money worries?",
]
QUESTION_PH = "Will a targeted medicine for the Philadelphia chromosome (BCR::ABL1) be part of treatment?"
QUESTION_MRD_POSITIVE = "What does the MRD result mean for the treatment plan?"
QUESTION_RELAPSE = "What are the choices now, for example immunotherapy, CAR T-cell therapy or a stem cell transplant?"
QUESTION_HIGH_RISK = "Could a stem cell transplant be part of the plan, and why or why not?"
QUESTION_CNS = "How will treatment reach the leukaemia in the fluid around the brain and spinal cord?"
QUESTION_MISSING = "Some results are not in this record yet. Are those tests planned, and when?"
QUESTION_DOWN = "Does Down syndrome change the treatment or the side effects to watch for?"
QUESTION_INFANT = "How is treatment different for a baby?"

ABOUT = (
    "This report explains the results in the care record in everyday words. It was made by a computer program "
    "from the results your care team entered. It can be wrong or out of date. Your care team decides on the "
    "diagnosis and the treatment: please talk with them about anything in this report."
)


def age_in_words(months: int) -> str:
    """An age in whole months as people say it: months under 2 years, years and months for a child (under 18),
    whole years for an adult."""
    def count(n: int, unit: str) -> str:
        return f"{n} {unit}" if n == 1 else f"{n} {unit}s"

    years, rest = divmod(months, 12)
    if months < 24:
        return count(months, "month")
    if years < 18 and rest:
        return f"{count(years, 'year')} and {count(rest, 'month')}"
    return count(years, "year")


def age_months(years: float) -> int:
    """Whole months in an age given in years (counted down: never up across a birthday)."""
    return math.floor(years * 12 + 1e-9)


def numbers(rules: Any) -> dict[str, str]:
    """The thresholds the texts above name, from the rule set (``engine/rules.py``) in the words they use."""
    low, high = rules.induction_days
    return {
        "m1_below": f"{rules.m1_below_pct:g}",
        "leukaemia_blasts": f"{rules.leukaemia_marrow_blast_pct:g}",
        "lymphoma_blasts": f"{rules.lymphoma_marrow_blast_pct:g}",
        "hyperdiploid_min": str(rules.high_hyperdiploid_min),
        "hyperdiploid_max": str(rules.high_hyperdiploid_max),
        "hypodiploid_below": str(rules.hypodiploid_max + 1),
        "infant_age": f"{rules.infant_age_below:g}",
        "nci_age": f"{rules.nci_age_high_from:g}",
        "nci_wbc": f"{rules.nci_wbc_high_from:g}",
        "induction_weeks": f"{low / 7:g} to {high / 7:g}" if low != high else f"{low / 7:g}",
        "mrd_one_in": f"1 in {round(1 / rules.mrd_negative_below):,}",
        "mrd_pct": f"{rules.mrd_negative_below * 100:g}",
    }


def filled(text: str, rules: Any) -> str:
    """``text`` with its thresholds from ``rules``."""
    return text.format(**numbers(rules))
