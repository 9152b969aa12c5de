"""Fixtures for the record-store and API tests, run against SQLite and PostgreSQL.

Every test that takes ``database_url`` (directly or through ``store``, ``app``,
``client`` or ``world``) runs twice: on a fresh SQLite file and on a fresh
PostgreSQL schema. The PostgreSQL variant needs ``ALLCARE_TEST_PG_URL`` (for
example from ``eval "$(scripts/pg-test-cluster start)"``) and is skipped without it.
Each PostgreSQL test gets its own schema (``search_path``), dropped afterwards,
so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from allcare.settings import Settings, normalise_database_url
from allcare.store import Actor, Store

# The test command must give the same verdict on every machine: property tests draw the same
# examples each run ("repeatable"). HYPOTHESIS_PROFILE=explore draws new ones, to hunt for bugs.
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

PG_URL = os.environ.get("ALLCARE_TEST_PG_URL")
DATABASES = ["sqlite", "postgresql"]
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "argon2_parallelism": 1}
PASSWORD = "correct-horse-battery"


def pg_schema_url(base: str, schema: str) -> str:
    url = make_url(normalise_database_url(base))
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL schema (skips when no test cluster is configured)."""
    if not PG_URL:
        pytest.skip("PostgreSQL: set ALLCARE_TEST_PG_URL (eval \"$(scripts/pg-test-cluster start)\")")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(normalise_database_url(PG_URL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield pg_schema_url(PG_URL, schema)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url):
    store = Store(database_url, pool_size=5)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(_env_file=None, database_url=database_url, secret_key="test-secret-" + "k" * 40, demo=False,
                    login_max_failures=3, **FAST_HASH)


@pytest.fixture
def app(settings, store):
    from allcare.web.app import create_app

    return create_app(settings, store=store)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client


@pytest.fixture
def cli_actor() -> Actor:
    return Actor.cli("test")


def case_dict(identifier: str = "P-1", **patient) -> dict:
    """A small valid case: a child with B-ALL at diagnosis (counts in reported units)."""
    return {
        "schema": "allcare.case/1",
        "patient": {"id": identifier, "birth_date": "2019-05-14", "sex": "female", **patient},
        "diagnosis_date": "2024-01-08",
        "findings": [
            {"type": "cbc", "date": "2024-01-08", "wbc": {"value": 12400, "unit": "/uL"}, "hemoglobin": 8.1,
             "platelets": {"value": 42, "unit": "K/uL", "lower_limit": 150, "upper_limit": 450}, "anc": 0.9,
             "blasts_pct": 35},
            {"type": "marrow", "date": "2024-01-09", "blasts_pct": 88, "timepoint": "diagnosis"},
            {"type": "immunophenotype", "date": "2024-01-09", "sample": "marrow",
             "markers": {"CD19": "positive", "CD10": "positive", "cyCD79a": "positive", "cCD3": "negative",
                         "MPO": "negative", "TdT": "positive"}},
            {"type": "treatment", "phase": "induction", "start": "2024-01-10", "agents": ["vincristine"]},
        ],
    }


@dataclass
class World:
    """A store with two patients and one user of every role, each with an API token."""

    store: Store
    patient_a: int
    patient_b: int
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world(store, app) -> World:
    from allcare.engine.case import case_from_dict
    from allcare.store.cases import import_case
    from allcare.store.users import create_token, create_user, make_hasher

    actor = Actor.cli("test")
    hasher = make_hasher(1, 64, 1)
    with store.transaction() as session:
        a = import_case(session, actor, case_from_dict(case_dict("P-A"))).id
        b = import_case(session, actor, case_from_dict(case_dict("P-B", sex="male"))).id
    result = World(store=store, patient_a=a, patient_b=b)
    with store.transaction() as session:
        for name, role, patient in [("clinician", "clinician", None), ("registrar", "registrar", None),
                                    ("admin", "admin", None), ("patient_a", "patient", a), ("patient_b", "patient", b)]:
            user = create_user(session, actor, hasher, username=name, password=PASSWORD, role=role, patient_id=patient)
            result.user_ids[name] = user.id
            token = create_token(session, actor, user, "tests", 1)
            result.tokens[name], result.token_ids[name] = token.token, token.row.id
    return result
