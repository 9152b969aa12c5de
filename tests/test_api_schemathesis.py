"""Property-based API testing: nothing a client can send makes the server answer 500.

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
from schemathesis.checks import not_a_server_error

EXAMPLES_PER_OPERATION = 25


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
            case.call_and_validate(headers=world.auth(token_for(operation.method.upper(), operation.path)),
                                   checks=[not_a_server_error])

        try:
            exercise()
        except Exception as error:  # noqa: BLE001 - collect every failing operation, then report them all
            failures.append(f"{operation.label}: {str(error)[:2000]}")
    if failures:
        pytest.fail("\n\n".join(failures))
