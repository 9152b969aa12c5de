"""The schema comes from Alembic migrations, matches the models, and protects the audit log."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from allcare.store import Store, migrate
from allcare.store.models import Base

TABLES = {"patients", "findings", "users", "api_tokens", "user_sessions", "audit_events", "patient_summaries",
          "store_state"}


def test_upgrade_creates_every_table_and_is_repeatable(database_url):
    store = Store(database_url)
    store.migrate()
    store.migrate()  # a restart migrates again: nothing to do
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    store.dispose()


def test_models_and_migrations_describe_the_same_schema(store):
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       Base.metadata)
    assert differences == []


def test_a_store_of_the_first_schema_is_upgraded_keeping_its_rows_and_chaining_its_audit_log(database_url):
    """0001 -> head: records, links and audit events survive; the old events are hash-chained."""
    from alembic import command

    from allcare.engine.case import case_from_dict
    from allcare.store import Actor
    from allcare.store.audit import verify
    from allcare.store.cases import case_of
    from allcare.store.models import Patient, User
    from conftest import case_dict

    store = Store(database_url)
    with store.engine.begin() as connection:
        command.upgrade(migrate._config(store.engine, connection), "0001")
        connection.execute(text(
            "INSERT INTO patients (id, identifier, sex, conditions, version, revision, finding_seq, created_at, "
            "updated_at) VALUES (7, 'OLD-1', 'female', '[]', 1, 3, 1, '2024-01-01 10:00:00', '2024-01-01 10:00:00')"))
        connection.execute(text(
            "INSERT INTO findings (id, patient_id, position, type, date, reported, canonical, version, created_at, "
            "updated_at) VALUES (5, 7, 1, 'marrow', '2024-01-09', '{\"type\": \"marrow\", \"date\": "
            "\"2024-01-09\", \"blasts_pct\": 88}', '{}', 1, '2024-01-01 10:00:00', '2024-01-01 10:00:00')"))
        connection.execute(text(
            "INSERT INTO users (id, username, password_hash, role, patient_id, active, created_at, updated_at) "
            "VALUES (4, 'p', 'x', 'patient', 7, true, '2024-01-01 10:00:00', '2024-01-01 10:00:00')"))
        for event_id in (3, 9):  # ids with a gap, as a sequence leaves them
            connection.execute(text("INSERT INTO audit_events (id, at, action, outcome, detail) VALUES "
                                    f"({event_id}, '2024-01-01 10:00:0{event_id}', 'patient.read', 'ok', "
                                    "'{\"n\": 1}')"))
    store.migrate()
    with store.sessions() as session:
        patient = session.get(Patient, 7)
        assert [f.blasts_pct.value for f in case_of(session, patient).findings] == [88]
        assert session.get(User, 4).patient_id == 7
        report = verify(session)
        assert report.intact and report.events == 2
    with store.transaction() as session:  # the new audit events chain on
        from allcare.store.cases import import_case
        assert import_case(session, Actor.cli(), case_from_dict(case_dict("NEW"))).id == 8
    with store.sessions() as session:
        assert verify(session).events == 3
    store.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'rewritten'", "DELETE FROM audit_events"])
def test_the_audit_log_is_append_only_in_the_database(store, statement):
    with store.engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_events (at, action, outcome) VALUES (CURRENT_TIMESTAMP, 'x', 'ok')"))
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as connection:
        connection.execute(text(statement))
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_events")).scalars().all() == ["x"]


def test_a_store_of_schema_0004_gets_the_findings_by_date_index_keeping_its_findings(database_url):
    """0004 -> head: the index the patient page's newest-findings list walks is created; the rows stay."""
    from alembic import command

    store = Store(database_url)
    with store.engine.begin() as connection:
        command.upgrade(migrate._config(store.engine, connection), "0004")
        connection.execute(text(
            "INSERT INTO patients (id, identifier, sex, conditions, version, revision, finding_seq, created_at, "
            "updated_at) VALUES (7, 'OLD-1', 'female', '[]', 1, 3, 2, '2024-01-01 10:00:00', '2024-01-01 10:00:00')"))
        for position, day in ((1, "2024-01-09"), (2, "2024-01-03")):
            connection.execute(text(
                "INSERT INTO findings (patient_id, position, type, date, reported, canonical, version, created_at, "
                f"updated_at) VALUES (7, {position}, 'cbc', '{day}', '{{}}', '{{}}', 1, '2024-01-01 10:00:00', "
                "'2024-01-01 10:00:00')"))
    assert "ix_findings_patient_date_position" not in {i["name"] for i in inspect(store.engine).get_indexes("findings")}
    store.migrate()
    index = next(i for i in inspect(store.engine).get_indexes("findings") if i["name"] == "ix_findings_patient_date_position")
    assert index["column_names"] == ["patient_id", "date", "position"]
    with store.engine.connect() as connection:
        newest = "SELECT position FROM findings WHERE patient_id = 7 ORDER BY date DESC, position DESC LIMIT 20"
        assert connection.execute(text(newest)).scalars().all() == [1, 2]
        if store.engine.dialect.name == "sqlite":  # read off the index, not sorted afterwards
            plan = " ".join(str(row[-1]) for row in connection.execute(text("EXPLAIN QUERY PLAN " + newest)))
            assert "ix_findings_patient_date_position" in plan and "TEMP B-TREE" not in plan
    store.dispose()


def test_a_store_of_schema_0005_recomputes_its_summaries_for_the_icd_o_3_topography(database_url):
    """0005 -> head: the summaries gain the ICD-O-3 topography. A summary stored before has none, even one of this
    very engine, rule set, revision and epoch: it must not be served as current with an empty primary site. It is
    stale after the upgrade (the registry says so), and once recomputed the coded view gives the site."""
    import json

    from alembic import command

    from allcare.engine.rules import DEFAULT_RULES
    from allcare.store import Actor
    from allcare.store.assessments import engine_version, stale_patient_ids
    from allcare.store.coded import coded_view
    from allcare.store.summaries import refresh_stale
    from conftest import case_dict

    store = Store(database_url)
    with store.engine.begin() as connection:
        command.upgrade(migrate._config(store.engine, connection), "0005")
        epoch = connection.execute(text("SELECT epoch FROM store_state WHERE id = 1")).scalar_one()
        connection.execute(text(
            "INSERT INTO patients (id, identifier, sex, birth_date, conditions, diagnosis_date, version, revision, "
            "finding_seq, created_at, updated_at) VALUES (7, 'OLD-1', 'female', '2019-05-14', '[]', '2024-01-08', 1, "
            "3, 4, '2024-01-01 10:00:00', '2024-01-01 10:00:00')"))
        for position, finding in enumerate(case_dict("OLD-1")["findings"], start=1):
            connection.execute(text(
                "INSERT INTO findings (patient_id, position, type, date, reported, canonical, version, created_at, "
                "updated_at) VALUES (7, :position, :type, :date, :reported, '{}', 1, '2024-01-01 10:00:00', "
                "'2024-01-01 10:00:00')"),
                {"position": position, "type": finding["type"], "date": finding.get("date") or finding["start"],
                 "reported": json.dumps(finding)})
        connection.execute(text(
            "INSERT INTO patient_summaries (patient_id, revision, epoch, engine_version, rules_version, computed_at, "
            "disease, lineage, icd_o_3, icd_10_cm, snomed_ct, alerts, alert_codes, critical_alerts, warning_alerts) "
            "VALUES (7, 3, :epoch, :engine, :rules, '2024-01-02 10:00:00', 'ALL', 'B', '9811/3', 'C91.00', "
            "'277571004', '[]', '', 0, 0)"),
            {"epoch": epoch, "engine": engine_version(), "rules": DEFAULT_RULES.version})
    store.migrate()
    actor = Actor.cli("test")
    with store.transaction() as session:
        assert stale_patient_ids(session) == [7]
        before = coded_view(session, actor, 7)
        assert before["assessment_current"] is False and before["codes"]["icd_o_3"] == "9811/3"
    assert refresh_stale(store) == 1
    with store.transaction() as session:
        after = coded_view(session, actor, 7)
    assert after["assessment_current"] is True
    assert after["codes"]["icd_o_3_topography"] == "C42.1" and after["codes"]["icd_o_3"].startswith("98")
    store.dispose()
