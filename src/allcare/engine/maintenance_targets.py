"""Maintenance count targets and dose-adjustment steps, one preset per protocol family.

Maintenance (daily mercaptopurine, weekly oral methotrexate) is titrated to a
blood count, and every protocol family names its own count, band and steps.
Each preset below is a named part of the rule set (``RuleSet.maintenance``):
every threshold has a name, and the preset carries the publication it comes
from. A centre chooses a family and may override single values
(``maintenance: {family: nopho_all2008, target_high: 3.5}``); the assessment
names the family whose targets it applied.

Only ICiCLe-ALL-14 publishes its whole rule set in a form a program can follow
(hold, 50% reduction, recovery, "2 of 3" escalation); it is the default. For the
WBC-steered families (NOPHO ALL2008, AIEOP-BFM) the published targets are
encoded but not the size of their dose steps, so their suggestions say which
way the protocol adjusts and leave the step to the protocol text.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

ICICLE_SOURCE = (
    "ICiCLe-ALL-14 maintenance rules (Das et al., Trials 2022;23:102; dose-titration rules as implemented in "
    "allMT, Mungle 2020)"
)
NOPHO_SOURCE = "NOPHO ALL2008 maintenance targets (Nielsen et al., Lancet Oncol 2017;18:515; Schmiegelow et al., J Pediatr Hematol Oncol 2014;36:503)"
BFM_SOURCE = "AIEOP-BFM maintenance targets (as tabulated by Schmiegelow et al., J Pediatr Hematol Oncol 2014;36:503)"


class MaintenanceTargets(BaseModel):
    """One protocol family's maintenance targets. Counts in 10^9/L, doses in mg/m2."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str = Field(description="preset key, e.g. icicle_all_14, nopho_all2008, aieop_bfm")
    label: str = Field(description="the protocol family as the assessment names it")
    source: str
    steering: Literal["anc", "wbc"] = Field(description="the count the doses are titrated to")
    target_low: float = Field(ge=0, description="target band, lower line (10^9/L)")
    target_high: float = Field(gt=0, description="target band, upper line (10^9/L)")
    target_low_inclusive: bool = Field(description="whether a count exactly on the lower line is in the band")
    mercaptopurine_mg_m2_day: float = Field(gt=0, description="protocol mercaptopurine dose (100% dose intensity)")
    methotrexate_mg_m2_week: float = Field(gt=0, description="protocol oral methotrexate dose (100% dose intensity)")
    dose_steps: bool = Field(description="whether the family's hold/reduce/increase steps are encoded")
    anc_floor: float | None = Field(default=None, description="WBC-steered families: ANC to keep above while titrating")
    hold_anc_at_or_below: float | None = Field(default=None, description="stop both drugs at ANC <= this")
    hold_platelets_at_or_below: float | None = Field(default=None, description="stop both drugs at platelets <= this")
    reduce_anc_at_or_below: float | None = Field(default=None, description="reduce both drugs at ANC <= this (above the hold line)")
    reduce_platelets_at_or_below: float | None = Field(default=None, description="reduce both drugs at platelets <= this")
    reduce_to_pct_of_mtd: float | None = Field(default=None, gt=0, le=100, description="reduced dose, % of the maximum tolerated dose")
    recover_anc_min: float | None = Field(default=None, description="after a hold or reduction: full dose again at ANC >= this ...")
    recover_platelets_min: float | None = Field(default=None, description="... and platelets >= this")
    escalate_anc_min: float | None = Field(default=None, description="a count at or above this argues for escalation")
    escalate_counts_needed: int | None = Field(default=None, ge=1, description="... in this many of ...")
    escalate_counts_of: int | None = Field(default=None, ge=1, description="... the latest this many counts ...")
    escalate_window_days: int | None = Field(default=None, ge=1, description="... within this many days")
    methotrexate_escalate_after_days: int | None = Field(
        default=None, ge=1, description="methotrexate is escalated when the count is still high this long after a mercaptopurine escalation")
    mtd_min_days: int | None = Field(default=None, ge=1, description="maximum tolerated dose: highest dose given this long without interruption")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.target_low >= self.target_high:
            raise ValueError("target_low must be below target_high")
        if self.dose_steps:
            needed = ("hold_anc_at_or_below", "reduce_anc_at_or_below", "escalate_anc_min", "escalate_counts_needed",
                      "escalate_counts_of", "escalate_window_days", "methotrexate_escalate_after_days")
            unset = [name for name in needed if getattr(self, name) is None]
            if unset:
                raise ValueError(f"a family with dose_steps needs {', '.join(needed)}; not set: {', '.join(unset)}")
        return self


MAINTENANCE_FAMILIES: dict[str, MaintenanceTargets] = {
    "icicle_all_14": MaintenanceTargets(
        family="icicle_all_14", label="ICiCLe-ALL-14", source=ICICLE_SOURCE, steering="anc",
        target_low=0.75, target_high=1.5, target_low_inclusive=False,
        mercaptopurine_mg_m2_day=60.0, methotrexate_mg_m2_week=20.0, dose_steps=True,
        hold_anc_at_or_below=0.5, hold_platelets_at_or_below=50.0,
        reduce_anc_at_or_below=0.75, reduce_platelets_at_or_below=75.0, reduce_to_pct_of_mtd=50.0,
        recover_anc_min=0.75, recover_platelets_min=75.0,
        escalate_anc_min=1.5, escalate_counts_needed=2, escalate_counts_of=3, escalate_window_days=42,
        methotrexate_escalate_after_days=14, mtd_min_days=42,
    ),
    "nopho_all2008": MaintenanceTargets(
        family="nopho_all2008", label="NOPHO ALL2008", source=NOPHO_SOURCE, steering="wbc",
        target_low=1.5, target_high=3.0, target_low_inclusive=True, anc_floor=0.5,
        mercaptopurine_mg_m2_day=75.0, methotrexate_mg_m2_week=20.0, dose_steps=False,
    ),
    "aieop_bfm": MaintenanceTargets(
        family="aieop_bfm", label="AIEOP-BFM", source=BFM_SOURCE, steering="wbc",
        target_low=2.0, target_high=3.0, target_low_inclusive=True,
        mercaptopurine_mg_m2_day=50.0, methotrexate_mg_m2_week=20.0, dose_steps=False,
    ),
}
DEFAULT_MAINTENANCE_FAMILY = "icicle_all_14"


def maintenance_targets(data: dict[str, Any] | MaintenanceTargets, base: MaintenanceTargets | None = None) -> MaintenanceTargets:
    """A family's preset with a centre's overrides: ``{family: nopho_all2008, target_high: 3.5}``.

    Without ``family`` the overrides apply to ``base`` (the rule set's current family).
    """
    if isinstance(data, MaintenanceTargets):
        return data
    if not isinstance(data, dict):
        raise ValueError("maintenance must be an object, e.g. {family: nopho_all2008}")
    family = data.get("family")
    if family is not None:
        if family not in MAINTENANCE_FAMILIES:
            raise ValueError(f"unknown maintenance family {family!r}; presets: {', '.join(MAINTENANCE_FAMILIES)}")
        start = MAINTENANCE_FAMILIES[family]
    else:
        start = base or MAINTENANCE_FAMILIES[DEFAULT_MAINTENANCE_FAMILY]
    return MaintenanceTargets.model_validate(start.model_dump() | data)
