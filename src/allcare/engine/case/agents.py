"""Drug names in dose findings, folded onto one spelling per agent.

Treatment monitoring asks "which doses were mercaptopurine?" or "how much
anthracycline?", so a dose written as ``6-MP``, ``Purinethol`` or
``mercaptopurine`` must be the same agent. Only the agents a monitoring rule
reads are listed; any other name is kept as written (trimmed, lower case), so a
dose of an unlisted drug is still recorded, just not interpreted.

``group`` says what a rule does with the agent: ``thiopurine`` (CPIC
TPMT/NUDT15 guidance, maintenance), ``antifolate`` (maintenance, levels),
``anthracycline`` (cumulative doxorubicin-equivalent dose; the factor per agent
is a rule-set parameter), ``asparaginase`` (activity monitoring; the
preparation decides when a level is read).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Agent:
    name: str
    group: str
    synonyms: tuple[str, ...] = ()


AGENTS: tuple[Agent, ...] = (
    Agent("mercaptopurine", "thiopurine", ("6-mercaptopurine", "6-mp", "6mp", "purinethol", "purixan", "xaluprine")),
    Agent("thioguanine", "thiopurine", ("6-thioguanine", "6-tg", "tioguanine", "lanvis")),
    Agent("methotrexate", "antifolate", ("mtx", "amethopterin", "hd-mtx", "high-dose methotrexate")),
    Agent("doxorubicin", "anthracycline", ("adriamycin", "dox", "hydroxydaunorubicin")),
    Agent("daunorubicin", "anthracycline", ("daunomycin", "dnr", "cerubidine", "rubidomycin")),
    Agent("epirubicin", "anthracycline", ("farmorubicin", "ellence")),
    Agent("idarubicin", "anthracycline", ("zavedos", "idamycin")),
    Agent("mitoxantrone", "anthracycline", ("mitozantrone", "novantrone")),
    Agent("pegaspargase", "asparaginase", ("peg-asparaginase", "peg asparaginase", "pegylated asparaginase", "oncaspar")),
    Agent("calaspargase pegol", "asparaginase", ("calaspargase", "asparlas")),
    Agent("asparaginase erwinia", "asparaginase", ("crisantaspase", "erwinase", "erwinaze", "rylaze", "erwinia asparaginase")),
    Agent("asparaginase", "asparaginase", ("l-asparaginase", "native asparaginase", "e. coli asparaginase", "kidrolase", "elspar", "asparaginase medac", "spectrila")),
)

# Which asparaginase preparation each agent is (activity is read at a different time for each).
PREPARATIONS = {
    "pegaspargase": "pegaspargase", "calaspargase pegol": "pegaspargase",
    "asparaginase erwinia": "erwinia", "asparaginase": "native_e_coli",
}


def _key(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


@lru_cache(maxsize=1)
def _by_spelling() -> dict[str, Agent]:
    table = {}
    for agent in AGENTS:
        for spelling in (agent.name, *agent.synonyms):
            table[_key(spelling)] = agent
    return table


def normalise_agent(text: str) -> str:
    """The agent's one spelling (``6-MP`` -> ``mercaptopurine``); an unlisted name trimmed and lower-cased."""
    key = _key(text)
    agent = _by_spelling().get(key)
    return agent.name if agent else key


def agent_group(name: str) -> str | None:
    agent = _by_spelling().get(_key(name))
    return agent.group if agent else None
