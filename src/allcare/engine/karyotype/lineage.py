"""Expanding sidelines (`idem`, `sl`, `sdl`, `sdlN`) and assigning clone roles.

ISCN lets a sideline list only what it adds to an earlier clone. Downstream
rules (risk groups, complexity, ploidy) need every clone's full set of
abnormalities, so each sideline is given its parent's abnormalities plus its
own here. The stemline is the first abnormal clone in the written order, as
ISCN asks labs to write it first.
"""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import structs

from .checks import modal_number_warning
from .clone import RawClone
from .models import Abnormality, Clone, CloneRole, Problem, Severity

_NORMAL_SEX = ("XX", "XY")


@dataclass(frozen=True)
class _Parent:
    """What a sideline inherits from the clone it is based on."""

    abnormalities: list[Abnormality]
    sex_chromosomes: str


def resolve_clones(raws: list[RawClone]) -> tuple[list[Clone], list[Problem]]:
    """Expand every sideline, then set roles; return clones and all their problems."""
    abnormal: list[_Parent] = []
    clones: list[Clone] = []
    problems: list[Problem] = []
    for raw in raws:
        clone, clone_problems = _resolve_one(raw, abnormal)
        problems.extend(clone_problems)
        if clone.role not in ("normal", "unknown"):
            abnormal.append(_Parent(clone.abnormalities, clone.sex_chromosomes))
        clones.append(clone)
    return _mark_single(clones), problems


def _resolve_one(raw: RawClone, abnormal: list[_Parent]) -> tuple[Clone, list[Problem]]:
    """Build the final Clone for one raw clone given the abnormal clones before it."""
    problems = list(raw.problems)
    if not raw.readable:
        return _build(raw, [], raw.sex_chromosomes or "", "unknown"), problems
    parent, lineage_problem = _find_parent(raw, abnormal)
    if lineage_problem:
        problems.append(lineage_problem)
    abnormalities = merge_abnormalities(parent.abnormalities if parent else [], raw.own)
    sex = _sex_chromosomes(raw, parent)
    normal = _is_normal(raw, abnormalities, sex)
    role: CloneRole = "normal" if normal else ("stemline" if not abnormal else "sideline")
    clone = _build(raw, abnormalities, sex, role, normal)
    lineage_broken = raw.based_on is not None and parent is None
    if not lineage_broken:
        problems += _modal_problems(clone)
    return clone, problems


def _sex_chromosomes(raw: RawClone, parent: _Parent | None) -> str:
    """The clone's own sex chromosomes, else its parent's (`47,idem,+8` omits them)."""
    if raw.sex_chromosomes is not None:
        return raw.sex_chromosomes
    return parent.sex_chromosomes if parent else ""


def _modal_problems(clone: Clone) -> list[Problem]:
    """The modal number warning as a Problem, if there is one."""
    warning = modal_number_warning(clone)
    if warning is None:
        return []
    return [Problem(clone=clone.index, text=clone.text, message=warning, severity="warning")]


def _find_parent(raw: RawClone, abnormal: list[_Parent]) -> tuple[_Parent | None, Problem | None]:
    """The clone a sideline refers to, or a problem explaining why there is none."""
    word = raw.based_on
    if word is None:
        return None, None
    if not abnormal:
        return None, _problem(raw, f"'{word}' is used before any abnormal clone")
    if word in ("idem", "sl"):
        return abnormal[0], None
    if word == "sdl":
        if len(abnormal) >= 2:
            return abnormal[-1], None
        return abnormal[0], _problem(raw, "'sdl' without an earlier sideline: the stemline was used", "warning")
    number = int(word[3:])
    if 1 <= number < len(abnormal):
        return abnormal[number], None
    return None, _problem(raw, f"'{word}' refers to a sideline that was not written before it")


def _problem(raw: RawClone, message: str, severity: Severity = "error") -> Problem:
    """A lineage problem, reported against the clone's whole text."""
    return Problem(clone=raw.index, text=raw.text, message=message, severity=severity)


def merge_abnormalities(inherited: list[Abnormality], own: list[Abnormality]) -> list[Abnormality]:
    """Parent abnormalities plus the sideline's own.

    A loss written in a sideline that undoes an inherited gain (stemline
    `+8`, sideline `idem,-8`) removes that gain instead of being listed next
    to it, and the same for a gain undoing an inherited loss, so the counts
    reflect what the sideline really carries.
    """
    kept = list(inherited)
    added: list[Abnormality] = []
    for abnormality in own:
        undone = _find_undone(kept, abnormality)
        if undone is None:
            added.append(abnormality)
        else:
            kept = _remove_one_copy(kept, undone)
    return kept + added


def _find_undone(inherited: list[Abnormality], abnormality: Abnormality) -> int | None:
    """Index of the inherited abnormality that `abnormality` reverses, if any."""
    if not abnormality.sign:
        return None
    for position, candidate in enumerate(inherited):
        if _reverses(abnormality, candidate):
            return position
    return None


def _reverses(new: Abnormality, old: Abnormality) -> bool:
    """`-8` reverses `+8`, `+7` reverses `-7`, `-der(22)...` reverses `der(22)...`."""
    if body_identity(new) != body_identity(old) or new.constitutional or old.constitutional:
        return False
    return (new.sign == "-" and old.sign in ("+", "")) or (new.sign == "+" and old.sign == "-")


def _remove_one_copy(merged: list[Abnormality], position: int) -> list[Abnormality]:
    """Drop one copy of an abnormality (`+21x2` becomes `+21` once)."""
    target = merged[position]
    if target.count > 1:
        return [*merged[:position], structs.replace(target, count=target.count - 1), *merged[position + 1 :]]
    return [*merged[:position], *merged[position + 1 :]]


def body_identity(abnormality: Abnormality) -> tuple[object, ...]:
    """What an abnormality is, regardless of sign, copies and how it was typed."""
    kind = "whole" if abnormality.kind in ("gain", "loss") else abnormality.kind
    return (
        kind,
        abnormality.symbol,
        tuple(abnormality.chromosomes),
        tuple(tuple(group) for group in abnormality.breakpoint_groups),
        tuple(abnormality.breakpoints),
        abnormality.derivative,
        tuple(body_identity(part) for part in abnormality.parts),
    )


def identity(abnormality: Abnormality) -> tuple[object, ...]:
    """What an abnormality is, including its sign (`+8` and `-8` differ)."""
    return (abnormality.sign, abnormality.constitutional, *body_identity(abnormality))


def _is_normal(raw: RawClone, abnormalities: list[Abnormality], sex: str) -> bool:
    """No acquired abnormality and the patient's constitutional chromosome number.

    Constitutional findings (`47,XY,+21c`, `47,XXYc`) are the patient's own
    constitution rather than a leukaemic change, so such a clone is normal.
    """
    if raw.unparsed or any(not a.constitutional for a in abnormalities):
        return False
    if sex not in _NORMAL_SEX and not sex.endswith("c"):
        return False
    return raw.modal_number is not None and raw.modal_number == _constitutional_number(abnormalities, sex)


def _constitutional_number(abnormalities: list[Abnormality], sex: str) -> int:
    """Chromosome number implied by the sex chromosomes and constitutional changes."""
    sex_count = len(sex.rstrip("c"))
    change = sum(a.count * (1 if a.sign == "+" else -1) for a in abnormalities if a.sign)
    return 44 + sex_count + change


def _build(
    raw: RawClone, abnormalities: list[Abnormality], sex: str, role: CloneRole, normal: bool = False
) -> Clone:
    """Assemble the frozen Clone, deriving the gain/loss/structural views."""
    acquired = [a for a in abnormalities if not a.constitutional]
    return Clone(
        index=raw.index,
        text=raw.text,
        donor=raw.donor,
        modal_number=raw.modal_number,
        modal_min=raw.modal_min,
        modal_max=raw.modal_max,
        ploidy_level=raw.ploidy_level,
        sex_chromosomes=sex,
        cell_count=raw.cell_count,
        composite=raw.composite,
        role=role,
        based_on=raw.based_on,
        abnormalities=abnormalities,
        gains=_whole_chromosomes(acquired, "gain"),
        losses=_whole_chromosomes(acquired, "loss"),
        structural=[a for a in acquired if a.kind not in ("gain", "loss")],
        unparsed=list(raw.unparsed),
        is_normal=normal,
    )


def _whole_chromosomes(abnormalities: list[Abnormality], kind: str) -> list[str]:
    """Chromosomes gained (or lost), one entry per copy."""
    return [a.chromosomes[0] for a in abnormalities if a.kind == kind for _ in range(a.count)]


def _mark_single(clones: list[Clone]) -> list[Clone]:
    """A stemline without any sideline is the `single` abnormal clone."""
    abnormal = [c for c in clones if c.role in ("stemline", "sideline")]
    if len(abnormal) != 1:
        return clones
    return [structs.replace(c, role="single") if c.role == "stemline" else c for c in clones]
