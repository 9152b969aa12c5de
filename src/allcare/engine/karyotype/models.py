"""Result models of the karyotype parser.

The models are frozen pydantic models because they are copied verbatim into
the JSON output of the product: a reader of that output must be able to see
exactly what was read from the laboratory text, and nothing downstream should
be able to change it after the fact.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    "KMT2A-r",
    "TCF3::HLF",
    "IGH::IL3",
    "iAMP21",
]


class _Frozen(BaseModel):
    """Base for all result models: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Abnormality(_Frozen):
    """One abnormality as written in one clone.

    `chromosomes` and `breakpoint_groups` line up one-to-one (one group of
    bands per chromosome) for every kind except a derivative built from other
    rearrangements (`der(22)t(9;22)(q34;q11)`): there `chromosomes` is the
    union of the chromosomes involved, `breakpoint_groups` is empty and the
    aligned detail lives in `parts`, one entry per rearrangement.
    """

    text: str = Field(description="The token as written (surrounding whitespace removed).")
    kind: AbnormalityKind
    symbol: str = Field(
        default="",
        description="ISCN operator, lower case (t, der, iamp, mar, dmin ...); empty for whole-chromosome changes.",
    )
    sign: Sign = Field(default="", description="Leading + or - (a gained or lost chromosome or derivative).")
    chromosomes: list[str] = Field(default_factory=list)
    breakpoints: list[str] = Field(default_factory=list, description="All bands, flattened, lower case.")
    breakpoint_groups: list[list[str]] = Field(default_factory=list)
    derivative: str | None = Field(default=None, description="For der: the chromosome(s) named in der(...).")
    parts: list[Abnormality] = Field(default_factory=list)
    constitutional: bool = False
    uncertain: bool = Field(default=False, description="A '?' appears in the token.")
    count: int = Field(default=1, description="Copies: +21x2 and +2mar give 2.")


QUOTE_LIMIT = 60


class Problem(_Frozen):
    """Something in the text that could not be read, or looks inconsistent."""

    clone: int | None = Field(description="0-based clone index, None when the problem is not in one clone.")
    text: str = Field(description=f"The offending part as written (at most {QUOTE_LIMIT} characters).")
    message: str
    severity: Severity = "error"

    @field_validator("text")
    @classmethod
    def _quote(cls, value: str) -> str:
        """A quote, not a copy: a problem in a 2,000-character karyotype must not carry it whole."""
        return value if len(value) <= QUOTE_LIMIT else value[:QUOTE_LIMIT - 1] + "…"


class Clone(_Frozen):
    """One clone (a `/`-separated part) of the karyotype, with sidelines expanded."""

    index: int
    text: str
    donor: bool = Field(default=False, description="Written after `//` (donor cells after transplant).")
    modal_number: int | None = Field(description="None when a range was written (see modal_min/modal_max).")
    modal_min: int | None = None
    modal_max: int | None = None
    ploidy_level: str | None = Field(default=None, description="A written ploidy level such as <3n>.")
    sex_chromosomes: str = ""
    cell_count: int | None = None
    composite: bool = False
    role: CloneRole
    based_on: str | None = Field(default=None, description="idem, sl, sdl, sdl1 ... when written.")
    abnormalities: list[Abnormality] = Field(default_factory=list)
    gains: list[str] = Field(
        default_factory=list, description="Whole chromosomes gained, one entry per copy, acquired only."
    )
    losses: list[str] = Field(default_factory=list)
    structural: list[Abnormality] = Field(
        default_factory=list, description="Acquired abnormalities other than whole-chromosome gains/losses."
    )
    unparsed: list[str] = Field(default_factory=list)
    is_normal: bool = False


class RecurrentLesion(_Frozen):
    """A WHO/ICC-defining ALL lesion recognised in the karyotype."""

    key: RecurrentKey
    abnormality: str = Field(description="The abnormality text it was recognised in.")
    clone: int
    rule: str = Field(description="Identifier of the recognition rule, e.g. KARYO.T_9_22.")


class FishResult(_Frozen):
    """A lesion the FISH part of the string shows (``detected``) or excludes, read from one probe group."""

    text: str = Field(description="The probe group as written, e.g. (ABL1 con BCRx2).")
    lesion: str = Field(description="Canonical lesion name: BCR::ABL1, KMT2A_rearrangement, iAMP21, CDKN2A_deletion ...")
    detected: bool
    rule: str = Field(description="FISH.FUSION, FISH.BREAK_APART, FISH.COPY_NUMBER or FISH.IAMP21")
    note: str = ""


class Karyotype(_Frozen):
    """Everything read from one karyotype text."""

    text: str
    fish_text: str | None = Field(default=None, description="The .ish / .nuc ish part, as written.")
    fish: list[FishResult] = Field(default_factory=list, description="What the FISH part shows or excludes.")
    clones: list[Clone] = Field(default_factory=list)
    nonclonal: bool = False
    problems: list[Problem] = Field(default_factory=list)
    recurrent: list[RecurrentLesion] = Field(default_factory=list)
    suggested: list[RecurrentLesion] = Field(
        default_factory=list, description="lesions the karyotype suggests but cannot show, e.g. del(11)(q23): KMT2A FISH needed"
    )
    modal_number: int | None = None
    abnormality_count: int = 0
    complex_threshold: int = 5
    is_complex: bool = False
    is_normal: bool = False
    parsed_ok: bool = False
