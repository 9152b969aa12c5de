"""`parse_karyotype`: from a laboratory karyotype string to a `Karyotype`.

The parser never raises on bad text. Karyotypes arrive typed by hand and
copied between systems; a decision-support tool that crashes on a missing
bracket helps nobody, whereas one that uses what it can read and says
exactly what it could not lets a human fix the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..rules import RuleSet
from .clone import RawClone, parse_clone
from .fish import DEFAULT_IAMP21, Iamp21Lines, read_fish
from .lineage import identity, resolve_clones
from .models import Clone, Karyotype, Problem
from .recurrent import find_recurrent, find_suggested

_FISH = re.compile(r"(?:^|[.\s])((?:nuc\s*)?ish\b.*)", re.IGNORECASE | re.DOTALL)
_NONCLONAL = re.compile(r"\(\s*non[\s-]?clonal\s*\)|non[\s-]?clonal", re.IGNORECASE)


@lru_cache(maxsize=1024)
def parse_karyotype(text: str, *, complex_threshold: int = 5, iamp21: Iamp21Lines = DEFAULT_IAMP21) -> Karyotype:
    """Read an ISCN karyotype; problems are reported in the result, never raised.

    `complex_threshold` is the number of distinct acquired abnormalities from
    which the karyotype counts as complex (5 in current NCCN guidance; some
    protocols use 3 or 4); `iamp21` the rule set's FISH lines for iAMP21. The
    result is immutable and shared by every caller with the same text and
    lines (many records hold the same few karyotypes).
    """
    try:
        return _parse(text, complex_threshold, iamp21)
    except Exception as error:  # noqa: BLE001 - last line of defence, see module docstring
        return _internal_error(text, error)


def parse_under_rules(text: str, rules: RuleSet) -> Karyotype:
    """:func:`parse_karyotype` with the rule set's lines (complex karyotype, iAMP21 by FISH)."""
    return parse_karyotype(text, complex_threshold=rules.complex_karyotype_min, iamp21=Iamp21Lines.of(rules))


def modal_numbers(karyotype: Karyotype) -> list[int]:
    """Modal number of every abnormal clone, in written order.

    Used for ploidy calls (near-haploid, high hyperdiploid ...). Clones with a
    modal range (composite) have no single modal number and are left out;
    their `modal_min` / `modal_max` are on the clone.
    """
    return [c.modal_number for c in karyotype.clones if _is_abnormal(c) and c.modal_number is not None]


def _parse(text: str, complex_threshold: int, iamp21: Iamp21Lines) -> Karyotype:
    """The parse itself; may only raise on a programming error."""
    if not isinstance(text, str):
        problem = Problem(clone=None, text="", message="the karyotype must be text")
        return _assemble("", None, False, [], [problem], complex_threshold, iamp21)
    karyotype_text, fish_text = split_fish(text)
    karyotype_text, nonclonal = strip_nonclonal(karyotype_text)
    problems: list[Problem] = []
    if not karyotype_text.strip():
        if not nonclonal:
            problems.append(Problem(clone=None, text=text, message="empty karyotype"))
        return _assemble(text, fish_text, nonclonal, [], problems, complex_threshold, iamp21)
    raws = _read_clones(karyotype_text, problems)
    clones, clone_problems = resolve_clones(raws)
    return _assemble(text, fish_text, nonclonal, clones, problems + clone_problems, complex_threshold, iamp21)


def split_fish(text: str) -> tuple[str, str | None]:
    """Separate the karyotype from a trailing `.ish ...` / `.nuc ish ...` FISH result."""
    match = _FISH.search(text)
    if match is None:
        return text, None
    karyotype_text = text[: match.start()].rstrip()
    return karyotype_text.removesuffix("."), match.group(1).strip()


def strip_nonclonal(text: str) -> tuple[str, bool]:
    """Remove the word `nonclonal` (or `non-clonal`) and say whether it was there."""
    stripped, found = _NONCLONAL.subn(" ", text)
    return stripped, found > 0


def _read_clones(text: str, problems: list[Problem]) -> list[RawClone]:
    """Split on `//` (recipient // donor) and `/` (clones) and read each clone."""
    recipient, separator, donor = text.partition("//")
    pieces = [(piece, False) for piece in recipient.split("/")]
    if separator:
        pieces += [(piece, True) for piece in donor.split("/")]
    raws: list[RawClone] = []
    empty = 0
    for piece, is_donor in pieces:
        if not piece.strip():
            empty += 1
            continue
        raws.append(parse_clone(len(raws), piece, is_donor))
    if empty:  # one problem quoting the empty part, however often it occurs
        times = f" ({empty} times)" if empty > 1 else ""
        problems.append(Problem(clone=None, text="//" if "//" in text else "/",
                                message=f"empty clone between '/' separators{times}"))
    return raws


def _assemble(
    text: str,
    fish_text: str | None,
    nonclonal: bool,
    clones: list[Clone],
    problems: list[Problem],
    complex_threshold: int,
    iamp21: Iamp21Lines,
) -> Karyotype:
    """Compute the karyotype-level summary from the finished clones."""
    count = abnormality_count(clones)
    return Karyotype(
        text=text,
        fish_text=fish_text,
        clones=clones,
        nonclonal=nonclonal,
        problems=problems,
        recurrent=find_recurrent(clones),
        suggested=find_suggested(clones),
        fish=read_fish(fish_text, clones, iamp21),
        modal_number=_stemline_modal_number(clones),
        abnormality_count=count,
        complex_threshold=complex_threshold,
        is_complex=count >= complex_threshold,
        is_normal=bool(clones) and all(c.is_normal for c in clones),
        parsed_ok=not problems,
    )


def abnormality_count(clones: list[Clone]) -> int:
    """Distinct acquired abnormalities over all abnormal clones.

    An abnormality shared by the stemline and its sidelines counts once, and
    so do copies (`+21,+21`, `+21x2`, `+2mar`): the count is of different
    changes, which is what complexity thresholds are about.
    """
    seen = {
        identity(a) for c in clones if _is_abnormal(c) for a in c.abnormalities if not a.constitutional
    }
    return len(seen)


def _is_abnormal(clone: Clone) -> bool:
    """A readable clone that is not normal."""
    return clone.role in ("stemline", "sideline", "single")


def _stemline_modal_number(clones: list[Clone]) -> int | None:
    """Modal number of the stemline, or of the first clone when all are normal."""
    for clone in clones:
        if _is_abnormal(clone):
            return clone.modal_number
    readable = [c for c in clones if c.role == "normal"]
    return readable[0].modal_number if readable else None


def _internal_error(text: object, error: Exception) -> Karyotype:
    """A result for a bug in this module, so callers still get a Karyotype."""
    message = f"internal error while reading the karyotype ({type(error).__name__}); please report it"
    safe_text = text if isinstance(text, str) else ""
    return Karyotype(text=safe_text, problems=[Problem(clone=None, text=safe_text, message=message)])
