"""Property-based API testing with every Schemathesis check: no 500, and every answer as the OpenAPI document says.

Schemathesis generates requests from the OpenAPI document (valid and invalid
bodies, queries and paths) and sends them to the app in-process. Each request
carries a token of a role that may use the operation, so validation and the
store are reached instead of a quick 403, and half the generated record ids are
replaced by a real record so writes reach the database. Bounded: a fixed number
of examples per operation, derandomised, no shrinking.

(Schemathesis' pytest plugin does not yet work with pytest 9's node ids, so the
operations are driven through its Python API with Hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CHECKS, load_all_checks

EXAMPLES_PER_OPERATION = 25
load_all_checks()
# Every check: status codes, content types, headers, response schemas, negative and positive data, Allow ...
ALL_CHECKS = CHECKS.get_all()
# Schema-level problems: a request the OpenAPI document calls valid must never get one of these.
SCHEMA_PROBLEMS_NOT_RULES = {"value_error", "invalid_record", "assertion_error", "data_error"}


def _fhir_rule(response) -> bool:
    """A FHIR route's refusal of content the FHIR R4 specification rules out (an OperationOutcome).

    FHIR's own rules (which resource types exist, which elements a resource has)
    are the specification's, not repeated in the OpenAPI document, so a FHIR route
    may refuse schema-valid data with a 400/422 OperationOutcome saying why.
    """
    if response.status_code not in (400, 422):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("resourceType") == "OperationOutcome" and bool(body.get("issue"))


def positive_data_acceptance_beyond_the_schema(ctx, response, case):
    """Positive data, with the rules JSON Schema cannot state.

    A schema-valid request may still break a rule of the record (a finding dated
    before the birth date, an end before its start, a password shorter than the
    configured minimum, text with NUL): those are 422s whose every problem is a
    rule's (value_error, invalid_record). On a FHIR route, a FHIR R4 content rule
    (an OperationOutcome, see ``_fhir_rule``). A 422 for anything the schema does
    state (a type, a length, a pattern, a bound) means the document and the
    server disagree, and fails like Schemathesis' own positive_data_acceptance.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if _is_fhir(case.operation) and _fhir_rule(response):
        return True
    if response.status_code not in (400, 422) or (response.status_code == 400 and not _is_fhir(case.operation)):
        return None
    try:
        problems = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        problems = None
    if isinstance(problems, list) and problems and all(p.get("type") in SCHEMA_PROBLEMS_NOT_RULES for p in problems):
        return True
    raise AssertionError(f"schema-valid request rejected for a reason the schema states: {response.text[:500]}")


def _is_fhir(operation) -> bool:
    return operation.path.startswith("/api/v1/fhir/") or operation.path.endswith("/$everything")


def checks_for(operation):
    """All checks; where a body or FHIR carries rules beyond the schema, positive data allows those rules' refusals."""
    if operation.body or _is_fhir(operation):
        return [check for check in ALL_CHECKS if check.__name__ != "positive_data_acceptance"] + [
            positive_data_acceptance_beyond_the_schema]
    return ALL_CHECKS


def token_for(method: str, path: str) -> str:
    if path.startswith(("/api/v1/users", "/api/v1/audit")):
        return "admin"
    if path.startswith("/api/v1/auth/") and method != "GET":
        return "patient_b"  # token revocation, logout, password: keep the tokens the other cases use
    return "clinician"


def aim(case, world) -> None:
    """Point half the generated ids at real rows; destructive operations at rows nobody else needs."""
    parameters = case.path_parameters or {}
    method, path = case.operation.method.upper(), case.operation.path
    if isinstance(parameters.get("patient_id"), int) and parameters["patient_id"] % 2 == 0:
        parameters["patient_id"] = world.patient_b if method == "DELETE" else world.patient_a
    if isinstance(parameters.get("user_id"), int) and (parameters["user_id"] % 2 == 0
                                                       or parameters["user_id"] in world.user_ids.values()):
        parameters["user_id"] = world.user_ids["patient_b"]  # never lock out the admin or the clinician
    if path == "/api/v1/auth/tokens/{token_id}" and isinstance(parameters.get("token_id"), int):
        parameters["token_id"] = world.token_ids["spare"] if parameters["token_id"] % 2 == 0 else 10**6


def operations(app):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_exercised(app):
    labels = {operation.label for operation in operations(app)}
    assert len(labels) >= 30 and "POST /api/v1/patients/{patient_id}/findings" in labels


def test_no_request_makes_the_server_fail(app, world, store):
    from allcare.store import Actor
    from allcare.store.models import User
    from allcare.store.users import create_token

    with store.transaction() as session:  # a token of patient_b's that the revocation cases may revoke
        owner = session.get(User, world.user_ids["patient_b"])
        world.token_ids["spare"] = create_token(session, Actor.cli("test"), owner, "spare", 1).row.id
    failures = []
    for operation in operations(app):

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def exercise(case):
            aim(case, world)
            # Called at once, inside this iteration: the loop variable is the one meant.
            case.call_and_validate(headers=world.auth(token_for(operation.method.upper(), operation.path)),  # noqa: B023
                                   checks=checks_for(operation))  # noqa: B023

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collect every failing operation
            failures.append(f"{operation.label}: {str(error)[:2000]}")
    if failures:
        pytest.fail("\n\n".join(failures))
