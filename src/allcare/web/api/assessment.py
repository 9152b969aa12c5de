"""The engine's assessment of one record (``allcare.assessment/2``), exactly as the engine returns it."""

from __future__ import annotations

import datetime as dt
import gzip

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...engine.schemas import openapi_components
from ...engine.case.models import EARLIEST_DATE, LATEST_DATE
from ...store.assessments import assessment_gzip
from ..deps import CodedPatientReader, PatientId, store_of

router = APIRouter(tags=["assessment"])

# The assessment is a tree of msgspec structs, not pydantic models: its schema is given to the
# OpenAPI document by hand (``ASSESSMENT_COMPONENTS`` are added in ``create_app``).
ASSESSMENT_SCHEMA_REF, ASSESSMENT_COMPONENTS = openapi_components()


@router.get(
    "/patients/{patient_id}/assessment",
    responses={200: {"content": {"application/json": {"schema": ASSESSMENT_SCHEMA_REF}}}, 404: {}},
)
def assessment(
    patient_id: PatientId,
    request: Request,
    who: CodedPatientReader,
    as_of: Annotated[dt.date | None, Query(ge=EARLIEST_DATE, le=LATEST_DATE)] = None,
) -> Response:
    """Diagnosis, codes, counts, CNS, risk, response, alerts and what is missing, each with its rule and evidence.

    ``as_of`` assesses the record as it stood on that date (default: its latest
    finding). Derived on read and cached until the record changes.
    """
    store = store_of(request)
    with store.transaction() as session:  # its own transaction: the hottest route skips two thread hops
        data = assessment_gzip(session, who.actor, patient_id, store.cache, as_of=as_of)
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(data, media_type="application/json", headers=headers)
    return Response(gzip.decompress(data), media_type="application/json", headers=headers)
