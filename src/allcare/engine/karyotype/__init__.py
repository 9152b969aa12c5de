"""ISCN 2020 karyotype parser for acute lymphoblastic leukaemia.

Pure functions, no I/O: `parse_karyotype` turns a laboratory karyotype string
into frozen, JSON-serialisable models; `describe` renders them as plain lines;
`modal_numbers` feeds ploidy calls. Bad text never raises: what cannot be read
is reported in `Karyotype.problems`.
"""

from .describe import describe
from .models import (
    Abnormality,
    AbnormalityKind,
    Clone,
    CloneRole,
    FishResult,
    Karyotype,
    Problem,
    RecurrentKey,
    RecurrentLesion,
)
from .parser import modal_numbers, parse_karyotype, parse_under_rules

__all__ = [
    "Abnormality",
    "AbnormalityKind",
    "Clone",
    "CloneRole",
    "FishResult",
    "Karyotype",
    "Problem",
    "RecurrentKey",
    "RecurrentLesion",
    "describe",
    "modal_numbers",
    "parse_karyotype",
    "parse_under_rules",
]
