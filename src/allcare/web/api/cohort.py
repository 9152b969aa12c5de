"""Cohort counts by coded outputs (registrars and clinicians)."""

from __future__ import annotations

from fastapi import APIRouter

from ...store.listing import cohort_counts
from ..deps import CodedDataReader, DbSession
from .schemas import CohortOut

router = APIRouter(tags=["cohort"])


@router.get("/cohort", response_model=CohortOut)
def cohort(who: CodedDataReader, db: DbSession) -> CohortOut:
    return CohortOut(**cohort_counts(db, who.actor))
