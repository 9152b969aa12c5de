"""The REST API, version 1 (mounted at ``/api/v1``). Routes are thin: they check who asks and call the store."""

from fastapi import APIRouter

from . import admin, assessment, auth, cases, cohort, fhir, findings, patients, treatments

# What any route may answer besides its own results, declared once for the OpenAPI document.
COMMON_RESPONSES: dict = {
    400: {"description": "a malformed request (e.g. a body that is not JSON)"},
    401: {"description": "no valid session cookie or bearer token"},
    403: {"description": "your role may not do this, or the CSRF token is missing"},
    413: {"description": "the request body is over this route's limit"},
    422: {"description": "invalid input; every problem is listed with its field"},
    503: {"description": "the store is busy; retry after the Retry-After seconds"},
}

router = APIRouter()
for module in (auth, patients, findings, treatments, assessment, cases, fhir, cohort, admin):
    router.include_router(module.router, responses=COMMON_RESPONSES)


@router.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    """Liveness for load balancers and scripts; no data, no login."""
    return {"status": "ok"}
