"""The rule registry is complete and true: every rule an assessment carries is declared, every
declared rule is written by the engine, and docs/rules.md shows the registry as it is."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from allcare.cohort.synthetic import generate_case
from allcare.engine import assess, sources
from allcare.engine.case.models import Case
from allcare.engine.rule_registry import REGISTRY, RULES
from allcare.engine.rules import RuleSet
from allcare.interop.casefile import load_case
from allcare.rule_catalogue import render_catalogue, with_catalogue

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "src" / "allcare" / "engine"
EXAMPLES = sorted(p for p in (ROOT / "examples").iterdir()
                  if p.suffix in (".json", ".yaml") and p.name != "expectations.yaml")


def _rules_in(value, found: set[str]) -> set[str]:
    """Every ``rule`` of every conclusion, alert and nested result of an assessment's JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "rule" and isinstance(item, str):
                found.add(item)
            else:
                _rules_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _rules_in(item, found)
    return found


@pytest.fixture(scope="module")
def emitted() -> set[str]:
    found: set[str] = set()
    for path in EXAMPLES:
        _rules_in(assess(load_case(path)).to_json_dict(), found)
    rng = random.Random(11)
    for number in range(80):
        case = Case.model_validate(generate_case(rng, number, monitoring=number % 2 == 0))
        _rules_in(json.loads(json.dumps(assess(case).to_json_dict())), found)
    return found


def test_every_rule_an_assessment_carries_is_declared(emitted):
    assert len(emitted) > 100  # the examples and generated cases reach most of the engine
    assert sorted(emitted - RULES.keys()) == []


def test_every_declared_rule_is_written_by_the_engine():
    code = "\n".join(p.read_text() for p in ENGINE.rglob("*.py") if p.name != "rule_registry.py")
    written = set(re.findall(r'"([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)+)"', code))
    assert sorted(RULES.keys() - written) == []


def test_every_rule_id_the_engine_writes_is_declared():
    code = "\n".join(p.read_text() for p in ENGINE.rglob("*.py") if p.name != "rule_registry.py")
    written = {r for r in re.findall(r'"([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)+)"', code) if not re.match(r"C\d", r)}
    assert sorted(written - RULES.keys()) == []


def test_rule_ids_are_declared_once():
    ids = [rule.id for area in REGISTRY for rule in area.rules]
    assert len(ids) == len(set(ids))


def test_declared_parameters_are_rule_set_parameters_and_sources_are_the_cited_ones():
    known_sources = {value for name, value in vars(sources).items() if name.isupper()}
    for rule in RULES.values():
        assert set(rule.params) <= RuleSet.model_fields.keys(), rule.id
        assert rule.source in known_sources, rule.id


def test_decision_anchors_exist_in_docs_decisions():
    text = (ROOT / "docs" / "decisions.md").read_text()
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))
    assert sorted({r.decision for r in RULES.values() if r.decision} - anchors) == []


def test_docs_rules_shows_the_registry_as_it_is():
    document = (ROOT / "docs" / "rules.md").read_text()
    assert render_catalogue() in document
    assert with_catalogue(document) == document, "run: allcare rule-catalogue --write docs/rules.md"
