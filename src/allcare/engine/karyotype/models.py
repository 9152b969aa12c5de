"""Result models of the karyotype parser.

The models are frozen ``msgspec`` structs because they are copied verbatim into
the JSON output of the product: a reader of that output must be able to see
exactly what was read from the laboratory text, and nothing downstream should
be able to change it after the fact.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from msgspec.structs import force_setattr

AbnormalityKind = Literal[
    "gain",
    "loss",
    "t",
    "der",
    "dic",
    "del",
    "dup",
    "add",
    "i",
    "idic",
    "inv",
    "ins",
    "trp",
    "r",
    "mar",
    "hsr",
    "other",
]
"""Kinds of abnormality; ISCN operators without a kind of their own (iamp, dmin, rob, ...) are `other`."""

Sign = Literal["+", "-", ""]
CloneRole = Literal["stemline", "sideline", "normal", "single", "unknown"]
Severity = Literal["error", "warning"]
RecurrentKey = Literal[
    "BCR::ABL1",
    "ETV6::RUNX1",
    "TCF3::PBX1",
    "KMT2A_rearrangement",
    "TCF3::HLF",
    "IGH::IL3",
    "iAMP21",
    "IGH::MYC",
    "IGK::MYC",
    "IGL::MYC",
    "IGH::CRLF2",
]
"""The lesion vocabulary's keys (``lesion_vocabulary.KARYOTYPE_RECURRENT``; a test keeps the two equal)."""


class _Frozen(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Base for all result models: immutable, strict about unknown fields, a tree (no cycles, gc=False)."""


class Abnormality(_Frozen, frozen=True, kw_only=True):
    """One abnormality as written in one clone.

    `chromosomes` and `breakpoint_groups` line up one-to-one (one group of
    bands per chromosome) for every kind except a derivative built from other
    rearrangements (`der(22)t(9;22)(q34;q11)`): there `chromosomes` is the
    union of the chromosomes involved, `breakpoint_groups` is empty and the
    aligned detail lives in `parts`, one entry per rearrangement.
    """

    text: Annotated[str, Meta(description="The token as written (surrounding whitespace removed).")]
    kind: AbnormalityKind
    symbol: Annotated[str, Meta(description="ISCN operator, lower case (t, der, iamp, mar, dmin ...); empty for whole-chromosome changes.")] = ""
    sign: Annotated[Sign, Meta(description="Leading + or - (a gained or lost chromosome or derivative).")] = ""
    chromosomes: list[str] = []
    breakpoints: Annotated[list[str], Meta(description="All bands, flattened, lower case.")] = []
    breakpoint_groups: list[list[str]] = []
    derivative: Annotated[str | None, Meta(description="For der: the chromosome(s) named in der(...).")] = None
    parts: list[Abnormality] = []
    constitutional: bool = False
    uncertain: Annotated[bool, Meta(description="A '?' appears in the token.")] = False
    count: Annotated[int, Meta(description="Copies: +21x2 and +2mar give 2.")] = 1


QUOTE_LIMIT = 60


class Problem(_Frozen, frozen=True, kw_only=True):
    """Something in the text that could not be read, or looks inconsistent."""

    clone: Annotated[int | None, Meta(description="0-based clone index, None when the problem is not in one clone.")]
    text: Annotated[str, Meta(description=f"The offending part as written (at most {QUOTE_LIMIT} characters).")]
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        """A quote, not a copy: a problem in a 2,000-character karyotype must not carry it whole."""
        if len(self.text) > QUOTE_LIMIT:
            force_setattr(self, "text", self.text[:QUOTE_LIMIT - 1] + "…")


class Clone(_Frozen, frozen=True, kw_only=True):
    """One clone (a `/`-separated part) of the karyotype, with sidelines expanded."""

    index: int
    text: str
    donor: Annotated[bool, Meta(description="Written after `//` (donor cells after transplant).")] = False
    modal_number: Annotated[int | None, Meta(description="None when a range was written (see modal_min/modal_max).")]
    modal_min: int | None = None
    modal_max: int | None = None
    ploidy_level: Annotated[str | None, Meta(description="A written ploidy level such as <3n>.")] = None
    sex_chromosomes: str = ""
    cell_count: int | None = None
    composite: bool = False
    role: CloneRole
    based_on: Annotated[str | None, Meta(description="idem, sl, sdl, sdl1 ... when written.")] = None
    abnormalities: list[Abnormality] = []
    gains: Annotated[list[str], Meta(description="Whole chromosomes gained, one entry per copy, acquired only.")] = []
    losses: list[str] = []
    structural: Annotated[list[Abnormality], Meta(description="Acquired abnormalities other than whole-chromosome gains/losses.")] = []
    unparsed: list[str] = []
    is_normal: bool = False


class RecurrentLesion(_Frozen, frozen=True, kw_only=True):
    """A WHO/ICC-defining ALL lesion recognised in the karyotype."""

    key: RecurrentKey
    abnormality: Annotated[str, Meta(description="The abnormality text it was recognised in.")]
    clone: int
    rule: Annotated[str, Meta(description="Identifier of the recognition rule, e.g. KARYO.T_9_22.")]


class FishResult(_Frozen, frozen=True, kw_only=True):
    """A lesion the FISH part of the string shows (``detected``) or excludes, read from one probe group."""

    text: Annotated[str, Meta(description="The probe group as written, e.g. (ABL1 con BCRx2).")]
    lesion: Annotated[str, Meta(description="Canonical lesion name: BCR::ABL1, KMT2A_rearrangement, iAMP21, CDKN2A_deletion ...")]
    detected: bool
    rule: Annotated[str, Meta(description="FISH.FUSION, FISH.BREAK_APART, FISH.COPY_NUMBER or FISH.IAMP21")]
    note: str = ""


class Karyotype(_Frozen, frozen=True, kw_only=True):
    """Everything read from one karyotype text."""

    text: str
    fish_text: Annotated[str | None, Meta(description="The .ish / .nuc ish part, as written.")] = None
    fish: Annotated[list[FishResult], Meta(description="What the FISH part shows or excludes.")] = []
    clones: list[Clone] = []
    nonclonal: bool = False
    problems: list[Problem] = []
    recurrent: list[RecurrentLesion] = []
    suggested: Annotated[list[RecurrentLesion], Meta(description="lesions the karyotype suggests but cannot show, e.g. del(11)(q23): KMT2A FISH needed")] = []
    modal_number: int | None = None
    abnormality_count: int = 0
    complex_threshold: int = 5
    is_complex: bool = False
    is_normal: bool = False
    parsed_ok: bool = False
