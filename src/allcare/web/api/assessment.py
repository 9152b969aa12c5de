"""The engine's assessment of one record (``allcare.assessment/1``), exactly as the engine returns it."""

from __future__ import annotations

import datetime as dt
import gzip

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...engine.assessment import Assessment
from ...engine.case.models import EARLIEST_DATE, LATEST_DATE
from ...store.assessments import assessment_gzip
from ..deps import CodedPatientReader, PatientId, caches_of, store_of

router = APIRouter(tags=["assessment"])


@router.get("/patients/{patient_id}/assessment", response_model=Assessment, responses={404: {}})
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
        data = assessment_gzip(session, who.actor, patient_id, caches_of(request).assessments, as_of=as_of)
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(data, media_type="application/json", headers=headers)
    return Response(gzip.decompress(data), media_type="application/json", headers=headers)
