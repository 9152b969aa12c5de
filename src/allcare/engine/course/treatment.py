"""Treatment history: THE definition of treatment start, the induction start, and prior exposures.

Several rules ask "had treatment started?": the presenting WBC is the count
before it, a blood count before it describes the presentation rather than an
adverse event, the work-up of an episode ends with it. They must all mean the
same day, so it is defined once here: **treatment starts on the first day of the
first treatment block of any phase**. A steroid prephase counts: it lowers the
white count and the blast count within days, so a count taken during it no
longer shows the untreated disease. (A diagnostic marrow taken in the first
days of a prephase is still part of the work-up: see the work-up's sample grace
in :mod:`.episodes`.)

The *induction* start is a different date with its own use: it is day 0 of the
response time points (day 8, day 29, end of induction).

Prior exposure to antigen-directed therapy and transplant is read from the
blocks' phases and agent names (US prescribing information names; brand names
accepted): it is part of a relapse's context (antigen-loss relapse after CD19-
directed therapy; relapse after HSCT).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from ..case import Treatment
from ..explain import EvidenceRef
from ..view import CaseView, Indexed

# Add-on therapy given alongside the backbone phases (e.g. a TKI through induction and
# consolidation): it neither ends nor is ended by the backbone blocks.
CONCURRENT_PHASES = frozenset({"targeted"})

# Therapy classes a relapse's context names, recognised by phase or by agent name.
EXPOSURE_PHASES = {"car_t": "car_t", "hsct": "hsct"}
EXPOSURE_AGENTS: dict[str, tuple[str, ...]] = {
    "blinatumomab": ("blinatumomab", "blincyto"),
    "inotuzumab": ("inotuzumab", "besponsa"),
    "car_t": ("tisagenlecleucel", "kymriah", "brexucabtagene", "tecartus", "obecabtagene", "aucatzyl", "car-t",
              "car t-cell", "car t cell", "chimeric antigen receptor"),
    "hsct": ("hsct", "stem cell transplant", "bone marrow transplant", "haematopoietic stem cell",
             "hematopoietic stem cell", "allograft"),
    "tki": ("imatinib", "dasatinib", "nilotinib", "ponatinib", "bosutinib"),
}
EXPOSURE_NAMES = {
    "blinatumomab": "blinatumomab (CD19)", "inotuzumab": "inotuzumab ozogamicin (CD22)",
    "car_t": "CD19 CAR-T cells", "hsct": "haematopoietic stem cell transplant", "tki": "tyrosine kinase inhibitor",
}
CD19_DIRECTED = ("blinatumomab", "car_t")
CD22_DIRECTED = ("inotuzumab",)


@dataclass(frozen=True)
class Block:
    """One treatment block as recorded."""

    item: Indexed[Treatment]

    @property
    def phase(self) -> str:
        return self.item.finding.phase

    @property
    def start(self) -> dt.date:
        return self.item.finding.start

    @property
    def end(self) -> dt.date | None:
        return self.item.finding.end

    @property
    def index(self) -> int:
        return self.item.index

    def ref(self, summary: str | None = None) -> EvidenceRef:
        return self.item.ref(summary or f"{self.phase} started {self.start}")

    def exposures(self) -> list[str]:
        """The therapy classes this block gives (blinatumomab, inotuzumab, car_t, hsct, tki)."""
        found = [EXPOSURE_PHASES[self.phase]] if self.phase in EXPOSURE_PHASES else []
        text = " ".join(self.item.finding.agents).lower()
        found += [kind for kind, names in EXPOSURE_AGENTS.items() if any(name in text for name in names)]
        return list(dict.fromkeys(found))


class TreatmentHistory:
    """The treatment blocks started by ``as_of``, in start order."""

    def __init__(self, view: CaseView):
        items = sorted(view.of_type("treatment"), key=lambda x: (x.finding.start, x.index))
        self.blocks: list[Block] = [Block(item) for item in items]

    @property
    def start(self) -> dt.date | None:
        """Treatment start: the first day of the first block of any phase (prephase included)."""
        return self.blocks[0].start if self.blocks else None

    @cached_property
    def induction(self) -> Block | None:
        """The first induction block (day 0 of the first-line response time points)."""
        return next((b for b in self.blocks if b.phase == "induction"), None)

    @property
    def induction_start(self) -> dt.date | None:
        return self.induction.start if self.induction else None

    def first_from(self, when: dt.date) -> Block | None:
        """The first block started on or after ``when``."""
        return next((b for b in self.blocks if b.start >= when), None)

    def before(self, when: dt.date) -> list[Block]:
        """Blocks started before ``when``."""
        return [b for b in self.blocks if b.start < when]

    def exposures_before(self, when: dt.date) -> dict[str, Block]:
        """Each therapy class given before ``when``, with the first block that gave it."""
        found: dict[str, Block] = {}
        for block in self.before(when):
            for kind in block.exposures():
                found.setdefault(kind, block)
        return found
