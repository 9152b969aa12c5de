"""Blood-count side of complete remission: CR, CRi, or not decidable.

A marrow with < 5% blasts is only half of a remission: CR also needs no
circulating blasts and recovered counts (ANC >= 1.0, platelets >= 100 x10^9/L)
on a blood count within a week of the marrow (NCCN/ELN, decisions.md). Only
the counts failing makes it CRi; a missing count decides nothing. A missing
peripheral blast count does not block CR (many counts do not report it) but is
named as missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from ..explain import EvidenceRef
from ..view import CaseView

Outcome = Literal["cr", "cri", "undetermined", "circulating_blasts"]


@dataclass(frozen=True)
class RecoveryCheck:
    outcome: Outcome
    evidence: list[EvidenceRef] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def check_recovery(view: CaseView, when: dt.date) -> RecoveryCheck:
    """Judge the blood counts nearest ``when`` (the marrow date) against the CR criteria."""
    rules = view.rules
    window = rules.cr_count_window_days
    evidence: list[EvidenceRef] = []
    missing: list[str] = []

    blasts = view.nearest_cbc(when, window, having="blasts_pct")
    if blasts is not None:
        value = blasts.finding.blasts_pct.value
        evidence.append(blasts.ref(f"peripheral blasts {value:g}%"))
        if value > 0:
            return RecoveryCheck(
                "circulating_blasts",
                evidence,
                conflicts=[f"blood count on {blasts.date} shows {value:g}% circulating blasts"],
            )

    anc = view.nearest_cbc(when, window, having="anc")
    platelets = view.nearest_cbc(when, window, having="platelets")
    failing: list[str] = []
    if anc is not None:
        value = anc.finding.anc.value
        evidence.append(anc.ref(f"ANC {value:g} x10^9/L"))
        if value < rules.cr_anc_min:
            failing.append(f"ANC {value:g} < {rules.cr_anc_min:g} x10^9/L")
    else:
        missing.append(f"ANC on a blood count within {window} days of the marrow")
    if platelets is not None:
        value = platelets.finding.platelets.value
        if platelets is not anc:
            evidence.append(platelets.ref(f"platelets {value:g} x10^9/L"))
        else:
            evidence[-1] = anc.ref(f"ANC {anc.finding.anc.value:g}, platelets {value:g} x10^9/L")
        if value < rules.cr_platelets_min:
            failing.append(f"platelets {value:g} < {rules.cr_platelets_min:g} x10^9/L")
    else:
        missing.append(f"platelets on a blood count within {window} days of the marrow")
    if blasts is None:
        if view.nearest_cbc(when, window) is not None:
            missing.append("peripheral blast percentage on the blood count (circulating blasts assumed absent)")
    if failing:
        return RecoveryCheck("cri", evidence, failing, [m for m in missing if "peripheral" in m])
    if anc is None or platelets is None:
        return RecoveryCheck("undetermined", evidence, [], missing)
    return RecoveryCheck("cr", evidence, [], missing)
