"""Cohort counts by coded outputs (registrars and clinicians)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...store.listing import cohort_counts
from ..deps import CodedDataReader, DbSession, caches_of
from .schemas import CohortOut

router = APIRouter(tags=["cohort"])


@router.get("/cohort", response_model=CohortOut)
def cohort(request: Request, who: CodedDataReader, db: DbSession) -> CohortOut:
    return CohortOut(**cohort_counts(db, who.actor, caches_of(request).assessments))
