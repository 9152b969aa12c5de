"""The demo cohort: synthetic patients and demo users, so a first start shows a living system.

Never real patient data. Each case comes from :mod:`allcare.cohort.synthetic`,
whose distributions are cited there (lineage ~85% B / 15% T in children; B-ALL
subtype shares such as high hyperdiploidy ~25% and ETV6::RUNX1 ~25% of childhood
B-ALL, BCR::ABL1 ~3% of children and ~25% of adults, KMT2A-r commonest in
infants — PDQ Childhood ALL Treatment; >95% of children in CR after induction,
Leukemia & Lymphoma Society; 5-year survival ~89% under 20 and ~35% over 20
years, Cancer.Net/American Cancer Society, which its relapse and refractory rates approximate;
an age peak at 2-5 years). Two things are added here:

- sex: 56.6% male, from the American Cancer Society's 2025 estimate of 6,100 new
  ALL cases, 3,450 male and 2,650 female (American Cancer Society, Key statistics for ALL, 2025);
- time: diagnoses are spread evenly over the three years before today and every
  record is cut at today, so the cohort holds patients in induction, in
  consolidation, in maintenance, in remission and relapsed *now*, as a clinic would.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from ..cohort.synthetic import generate_case
from ..engine.case import case_from_dict
from . import audit
from .audit import Actor
from .cases import import_case
from .core import Store
from .models import Patient, PatientSummary
from .users import create_user, make_hasher

MALE_SHARE = 3450 / (3450 + 2650)  # American Cancer Society, key statistics 2025


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    note: str


DEMO_LOGINS = (
    DemoLogin("clinician", "clinician-demo", "clinician", "reads and edits every record"),
    DemoLogin("registrar", "registrar-demo", "registrar", "read-only: coded data and cohort counts"),
    DemoLogin("admin", "admin-demo-pass", "admin", "manages users, reads the audit log"),
    DemoLogin("patient", "patient-demo", "patient", "sees only their own record and report"),
)


def demo_case(rng: random.Random, number: int, today: dt.date, years: float = 3.0) -> dict:
    """One synthetic case diagnosed within ``years`` before ``today``, cut at today."""
    start = today - dt.timedelta(days=rng.randrange(3, int(years * 365.25)))
    data = generate_case(rng, number, start=start, years=years, monitoring=True)
    data["patient"]["sex"] = "male" if rng.random() < MALE_SHARE else "female"
    kept = []
    for finding in data["findings"]:
        if "start" in finding:  # treatment blocks, doses, adverse events
            if dt.date.fromisoformat(finding["start"]) > today:
                continue
            if finding.get("end") and dt.date.fromisoformat(finding["end"]) > today:
                finding = {key: value for key, value in finding.items() if key != "end"}  # still running
        elif dt.date.fromisoformat(finding["date"]) > today:
            continue
        kept.append(finding)
    data["findings"] = kept
    return data


def seed_demo(
    store: Store,
    *,
    patients: int = 240,
    seed: int = 2026,
    years: float = 3.0,
    today: dt.date | None = None,
    with_users: bool = True,
    hasher_args: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[int]:
    """Add ``patients`` synthetic records (and the demo users); returns the new patient ids."""
    today = today or dt.date.today()
    rng = random.Random(seed)
    actor = Actor.cli("demo")
    ids: list[int] = []
    with store.sessions() as session:
        first_number = (session.scalar(select(func.count()).select_from(Patient)) or 0) + 1
    batch = 25  # commit in small batches so progress is real and memory stays flat
    for offset in range(0, patients, batch):
        with store.transaction() as session:
            for number in range(first_number + offset, first_number + min(offset + batch, patients)):
                case = case_from_dict(demo_case(rng, number, today, years))
                ids.append(import_case(session, actor, case).id)
        if progress:
            progress(min(offset + batch, patients), patients)
    if with_users and ids:
        add_demo_users(store, patient_id=_demo_patient(store, ids), hasher_args=hasher_args)
    return ids


def _demo_patient(store: Store, ids: list[int]) -> int:
    """A child with B-ALL who reached remission makes the friendliest patient demo; else the first."""
    with store.sessions() as session:
        for patient_id in ids:
            summary = session.get(PatientSummary, patient_id)
            if summary and summary.lineage == "B" and summary.status == "complete_remission":
                return patient_id
    return ids[0]


def disable_published_demo_logins(store: Store, hasher) -> list[str]:
    """Deactivate the demo logins that still have their published password; returns their names.

    Their passwords are in the README: in a store run without the demo
    (``ALLCARE_DEMO=false``) they would let anyone in. A demo login whose
    password was changed is a real account now and is left alone.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    from .models import User
    from .users import end_all_sessions, revoke_all_tokens

    disabled = []
    with store.transaction() as session:
        for login in DEMO_LOGINS:
            user = session.scalar(select(User).where(User.username == login.username, User.active.is_(True)))
            if user is None:
                continue
            try:
                hasher.verify(user.password_hash, login.password)
            except (VerificationError, InvalidHashError):
                continue
            user.active = False
            end_all_sessions(session, user.id)
            revoke_all_tokens(session, user.id)
            audit.record(session, Actor.cli("startup"), "user.update", object_type="user", object_id=user.id,
                         detail={"changed": ["active"], "reason": "published demo password, ALLCARE_DEMO=false"})
            disabled.append(login.username)
    return disabled


def add_demo_users(store: Store, patient_id: int, hasher_args: dict | None = None) -> None:
    hasher = make_hasher(**(hasher_args or {}))
    with store.transaction() as session:
        for login in DEMO_LOGINS:
            create_user(session, Actor.cli("demo"), hasher, username=login.username, password=login.password,
                        role=login.role, patient_id=patient_id if login.role == "patient" else None,
                        display_name=f"Demo {login.role}")
