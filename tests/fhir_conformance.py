"""Independent checks of exported FHIR: the official R4 JSON Schema, and the mCODE STU4 profiles.

The profile check reads the mCODE package's own StructureDefinitions (snapshot) and, for every
exported resource that claims a profile, checks what they state: each element's minimum
cardinality (where its parent is present), fixed and pattern values, required bindings to the
value sets shipped with the package, extension URLs of sliced extensions, and every error-level
invariant FHIRPath expression that fhirpathpy can evaluate. No test functions here.
"""

from __future__ import annotations

import gzip
import json
from functools import cache, lru_cache

import jsonschema
from fhirpathpy import compile  # noqa: A004 - fhirpathpy's name
from fhirpathpy.models import models

R4 = models["r4"]

from fhir_helpers import FIXTURES

HL7 = FIXTURES / "fhir" / "hl7"


@lru_cache(maxsize=1)
def _r4_schema() -> dict:
    return json.loads(gzip.decompress((HL7 / "fhir.schema.json.gz").read_bytes()))


@cache
def _validator(resource_type: str):
    """A validator of one resource type's definition (the schema's root is a oneOf over all ~150 types,
    which makes a Bundle take seconds); for a Bundle, entries' resources are checked on their own."""
    schema = _r4_schema()
    definitions = dict(schema["definitions"])
    # The published R4 schema's fhirVersion enum stops at 4.0.0 (it was generated before the 4.0.1
    # technical correction); allcare's CapabilityStatement says 4.0.1, the version it implements.
    capability = json.loads(json.dumps(definitions["CapabilityStatement"]))
    capability["properties"]["fhirVersion"]["enum"].append("4.0.1")
    definitions["CapabilityStatement"] = capability
    if resource_type == "Bundle":
        definitions["ResourceList"] = {"type": "object"}
    return jsonschema.Draft6Validator({"definitions": definitions, "$ref": f"#/definitions/{resource_type}"})


def schema_errors(resource: dict) -> list[str]:
    """Every problem the official R4 JSON Schema finds in a resource, or in a Bundle and each of its resources."""
    rtype = resource.get("resourceType")
    if rtype not in _r4_schema()["definitions"]:
        return [f"resourceType {rtype!r} is not an R4 resource"]
    errors = [f"{rtype}/{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:200]}" for e in _validator(rtype).iter_errors(resource)]
    if rtype == "Bundle":
        for n, entry in enumerate(resource.get("entry", [])):
            errors += [f"entry[{n}] {e}" for e in schema_errors(entry.get("resource", {}))]
    return errors


@lru_cache(maxsize=1)
def _package() -> dict[str, dict]:
    data = json.loads(gzip.decompress((HL7 / "mcode-stu4-profiles.json.gz").read_bytes()))
    return {r["url"]: r for r in data["resources"]}


def value_set_codes(url: str) -> set[tuple[str, str]] | None:
    vs = _package().get(url.split("|", maxsplit=1)[0])
    if vs is None or vs.get("resourceType") != "ValueSet":
        return None
    codes = set()
    for include in vs.get("compose", {}).get("include", []):
        if "concept" not in include:
            return None  # defined by filter: not enumerable here
        codes |= {(include["system"], c["code"]) for c in include["concept"]}
    return codes


@cache
def _compiled(expression: str):
    try:
        return compile(expression, R4)
    except Exception:  # noqa: BLE001 - syntax fhirpathpy does not parse
        return None


def _eval(resource: dict, expression: str) -> list | None:
    """The expression on the resource (R4 model, ``%resource``); None when fhirpathpy cannot evaluate it."""
    function = _compiled(expression)
    if function is None:
        return None
    try:
        return function(resource, {"resource": resource})
    except Exception:  # noqa: BLE001 - functions fhirpathpy lacks (conformsTo, memberOf, htmlChecks ...)
        return None


def _pattern_matches(value, pattern) -> bool:
    if isinstance(pattern, dict) and "coding" in pattern:
        codings = value.get("coding", []) if isinstance(value, dict) else []
        return all(any(all(c.get(k) == v for k, v in want.items()) for c in codings) for want in pattern["coding"])
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(value.get(k) == v for k, v in pattern.items())
    return value == pattern


class ProfileReport:
    def __init__(self):
        self.problems: list[str] = []
        self.invariants_checked = 0
        self.resources_checked = 0


def profile_problems(resource: dict, report: ProfileReport | None = None) -> list[str]:
    """What the mCODE StructureDefinitions a resource claims (meta.profile) say is wrong with it."""
    report = report or ProfileReport()
    for url in resource.get("meta", {}).get("profile", []):
        sd = _package().get(url)
        if sd is None:
            continue
        report.resources_checked += 1
        name = f"{resource['resourceType']}/{resource.get('id')} ({sd['name']})"
        _check(resource, sd, name, report)
    return report.problems


def _check(resource: dict, sd: dict, name: str, report: ProfileReport) -> None:
    """Walk the snapshot: cardinality, fixed/pattern values, required bindings, invariants (FHIRPath, R4 model)."""
    root = sd["type"]
    extension_urls = set()
    for element in sd["snapshot"]["element"]:
        element_id, path = element["id"], element["path"].replace("[x]", "")
        if ":" in element_id:  # a slice: only the URLs of extension slices are used here
            if element["path"] == f"{root}.extension" and element_id.count(":") == 1:
                for t in element.get("type", []):
                    extension_urls.update(t.get("profile", []))
            continue
        parent, _, leaf = path.rpartition(".")
        if parent and element.get("min", 0) >= 1 and _eval(resource, f"{parent}.all({leaf}.exists())") == [False]:
            report.problems.append(f"{name}: {path} is required (min {element['min']})")
        values = _eval(resource, path) or []
        for key, pattern in element.items():
            if key.startswith(("pattern", "fixed")):
                for v in values:
                    if not _pattern_matches(v, pattern):
                        report.problems.append(f"{name}: {path} does not match the profile's {key} {pattern}")
        binding = element.get("binding", {})
        if binding.get("strength") == "required" and binding.get("valueSet"):
            allowed = value_set_codes(binding["valueSet"])
            if allowed is not None:
                for v in values:
                    codings = v.get("coding", []) if isinstance(v, dict) else []
                    if codings and not any((c.get("system"), c.get("code")) in allowed for c in codings):
                        report.problems.append(f"{name}: {path} is not in the required value set {binding['valueSet']}")
        for constraint in element.get("constraint", []):
            if constraint.get("severity") != "error" or not constraint.get("expression"):
                continue
            expression = constraint["expression"] if path == root else f"{path}.all({constraint['expression']})"
            result = _eval(resource, expression)
            if result is None:
                continue
            report.invariants_checked += 1
            if result == [False]:
                report.problems.append(f"{name}: invariant {constraint['key']} fails at {path}: {constraint.get('human', '')}")
    # A sliced extension whose URL is the profile's is only written under that URL (catches a deprecated one).
    for ext in resource.get("extension", []):
        url = ext.get("url", "")
        if url.startswith("http://hl7.org/fhir/us/mcode/") and extension_urls and url not in extension_urls:
            report.problems.append(f"{name}: extension {url} is not one the profile defines ({sorted(extension_urls)})")


def shape_signature(resource: dict) -> str:
    """The resource's structure with its codes, systems and URLs (other values left out): resources of
    one signature are checked against a profile once (the profile check costs ~0.1 s per resource)."""

    def walk(value, path: str, out: set) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("system", "code", "url", "resourceType", "profile", "status", "comparator"):
                    out.add(f"{path}.{key}={item}")
                walk(item, f"{path}.{key}", out)
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]", out)
        else:
            out.add(path)

    found: set = set()
    walk(resource, "", found)
    return "|".join(sorted(found))
