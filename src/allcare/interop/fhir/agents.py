"""The agents allcare treats as ALL treatment, with their codes (``data/agents.csv``).

A hospital's medication list holds far more than leukaemia treatment (an
antihypertensive, insulin, antibiotics ...). Only antileukaemic agents and the
supportive care given with them become treatment blocks; every other medication
is reported as not used, so that a patient's timeline never fills with blocks of
lisinopril. The same table gives the codes written on export: the ATC code of
every agent, and its RxNorm ingredient code where one was found in a public
listing (the table names the listing).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Agent:
    name: str
    synonyms: tuple[str, ...]
    role: str  # antileukaemic | supportive
    atc: str
    rxnorm: str | None
    rxnorm_source: str | None


@lru_cache(maxsize=1)
def agents() -> tuple[Agent, ...]:
    text = resources.files(__package__).joinpath("data/agents.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(Agent(r["name"], tuple(s for s in r["synonyms"].split("|") if s), r["role"], r["atc"],
                       r["rxnorm"] or None, r["rxnorm_source"] or None) for r in rows)


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern, Agent]]:
    """Every name and synonym as a whole-word pattern, longest first (``pegaspargase`` before ``asparaginase``)."""
    names = [(spelling, agent) for agent in agents() for spelling in (agent.name, *agent.synonyms)]
    names.sort(key=lambda pair: -len(pair[0]))
    return [(re.compile(rf"(?<![A-Za-z0-9]){re.escape(spelling)}(?![A-Za-z0-9])", re.IGNORECASE), agent) for spelling, agent in names]


@lru_cache(maxsize=4096)
def agent_named(text: str) -> Agent | None:
    """The agent a drug's text names ("intrathecal methotrexate", "vinCRIStine 1 MG/ML Injection"), or None."""
    for pattern, agent in _patterns():
        if pattern.search(text):
            return agent
    return None


def agent_coded(system: str, code: str) -> Agent | None:
    """The agent an RxNorm ingredient or ATC code names."""
    for agent in agents():
        if (system == "rxnorm" and agent.rxnorm == code) or (system == "atc" and agent.atc == code):
            return agent
    return None
