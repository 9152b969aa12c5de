"""Plain-language lines describing a parsed karyotype (printed by the CLI).

Clones are numbered from 1 here because these lines are for people; the
models keep 0-based indices for programs.
"""

from __future__ import annotations

from .models import Clone, Karyotype, Problem, RecurrentLesion


def describe(karyotype: Karyotype) -> list[str]:
    """One line per clone, then recurrent lesions, then problems."""
    lines = [describe_clone(clone) for clone in karyotype.clones]
    if karyotype.nonclonal:
        lines.append("Nonclonal findings are mentioned in the report.")
    if karyotype.fish_text:
        lines.append(f"FISH result: {karyotype.fish_text}")
    lines += [describe_lesion(lesion) for lesion in karyotype.recurrent]
    lines += [f"Suggested, not shown: {lesion.key} from {lesion.abnormality} in clone {lesion.clone + 1} [{lesion.rule}]"
              for lesion in karyotype.suggested]
    lines += [f"FISH {fish.text}: {fish.lesion} {'detected' if fish.detected else 'not detected'}"
              + (f" ({fish.note})" if fish.note else "") + f" [{fish.rule}]" for fish in karyotype.fish]
    lines += [describe_problem(problem) for problem in karyotype.problems]
    return lines


def describe_clone(clone: Clone) -> str:
    """`Clone 1 (stemline): modal 47, XY, 10 cells; +8, t(9;22)(q34;q11.2)`."""
    role = f"{clone.role}, donor" if clone.donor else clone.role
    facts = [f"modal {_modal_text(clone)}"]
    if clone.sex_chromosomes:
        facts.append(clone.sex_chromosomes)
    facts.append(_cells_text(clone))
    if clone.based_on:
        facts.append(f"based on {clone.based_on}")
    line = f"Clone {clone.index + 1} ({role}): {', '.join(facts)}; {_abnormalities_text(clone)}"
    if clone.unparsed:
        line += f"; not read: {', '.join(clone.unparsed)}"
    return line


def _modal_text(clone: Clone) -> str:
    """The modal number, its range, or `?` when unreadable."""
    if clone.modal_number is not None:
        number = str(clone.modal_number)
    elif clone.modal_min is not None and clone.modal_max is not None:
        number = f"{clone.modal_min}~{clone.modal_max}"
    else:
        number = "?"
    return f"{number}{clone.ploidy_level or ''}"


def _cells_text(clone: Clone) -> str:
    """`20 cells`, `composite of 10 cells` or `cell count not given`."""
    if clone.cell_count is None:
        return "cell count not given"
    noun = "cell" if clone.cell_count == 1 else "cells"
    return f"composite of {clone.cell_count} {noun}" if clone.composite else f"{clone.cell_count} {noun}"


def _abnormalities_text(clone: Clone) -> str:
    """The abnormalities as written, or why there are none."""
    if clone.abnormalities:
        return ", ".join(a.text + (" (constitutional)" if a.constitutional else "") for a in clone.abnormalities)
    if clone.role == "unknown":
        return "could not be read"
    return "no abnormalities"


def describe_lesion(lesion: RecurrentLesion) -> str:
    """`Recurrent lesion BCR::ABL1: t(9;22)(q34;q11.2) in clone 1 [KARYO.T_9_22]`."""
    return f"Recurrent lesion {lesion.key}: {lesion.abnormality} in clone {lesion.clone + 1} [{lesion.rule}]"


def describe_problem(problem: Problem) -> str:
    """`Problem in clone 2: 'foo(3)': unknown abnormality 'foo'`."""
    where = f" in clone {problem.clone + 1}" if problem.clone is not None else ""
    label = "Warning" if problem.severity == "warning" else "Problem"
    return f"{label}{where}: '{problem.text}': {problem.message}"
