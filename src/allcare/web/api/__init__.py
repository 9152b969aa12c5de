"""The REST API, version 1 (mounted at ``/api/v1``). Routes are thin: they check who asks and call the store."""

from fastapi import APIRouter

from . import admin, assessment, auth, cases, cohort, fhir, findings, patients, treatments

router = APIRouter()
for module in (auth, patients, findings, treatments, assessment, cases, fhir, cohort, admin):
    router.include_router(module.router)


@router.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    """Liveness for load balancers and scripts; no data, no login."""
    return {"status": "ok"}
