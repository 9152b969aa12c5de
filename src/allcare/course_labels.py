"""Words for the course section of an assessment (episodes), shared by the CLI, the web page and reports."""

from __future__ import annotations


def _words(value: object, none: str = "cannot determine") -> str:
    if value is None:
        return none
    return str(value).replace("_", " ")


def episode_name(kind: str, number: int) -> str:
    """'Diagnosis', 'Relapse 2', 'Induction failure'."""
    return {"initial": "Diagnosis", "relapse": f"Relapse {number}", "refractory": "Induction failure"}[kind]


def episode_details(e) -> list[str]:
    """The facts of one episode worth a line: site, timing, risk, phenotype change, context, outcome."""
    parts = []
    if e.site or e.sites:
        parts.append(f"site {_words(e.site, 'undetermined')}" + (f" ({', '.join(e.sites)})" if e.sites else ""))
    if e.timing is not None:
        parts.append(f"timing I-BFM {_words(e.timing.ibfm, 'undetermined')}, COG {_words(e.timing.cog, 'undetermined')}")
    if e.risk is not None and (e.risk.bfm or e.risk.intreall or e.risk.cog):
        risk = [f"BFM {e.risk.bfm}" if e.risk.bfm else "", f"IntReALL {e.risk.intreall}" if e.risk.intreall else "",
                f"COG {e.risk.cog}" if e.risk.cog else ""]
        parts.append("risk " + ", ".join(r for r in risk if r))
    if e.lineage_switch:
        parts.append(f"LINEAGE SWITCH to {e.lineage}")
    if e.antigen_loss:
        parts.append(f"{'/'.join(e.antigen_loss)} lost")
    if e.antigen_modulation:
        parts.append(f"{'/'.join(e.antigen_modulation)} dim")
    if e.new_lesions:
        parts.append(f"new: {', '.join(e.new_lesions)}")
    if e.prior_therapy:
        parts.append(f"after {', '.join(t.replace('_', '-') for t in e.prior_therapy)}")
    if e.outcome:
        parts.append(f"then {_words(e.outcome)} {e.outcome_date}")
    return parts
