"""Programmatic Alembic: the app and the CLI bring the schema to ``head`` on start.

A person installing allcare never runs a migration tool by hand; upgrading the
package and restarting is enough.

SQLite cannot alter most things in place, so some migrations rebuild a table;
foreign keys are switched off for the migration (a rebuilt parent table would
otherwise cascade its DROP to the children) and checked before it commits.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(engine: Engine, connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


class MigrationError(RuntimeError):
    """A migration that would leave the store inconsistent (it was rolled back)."""


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it is already there)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            command.upgrade(_config(engine, connection), "head")
        return
    with engine.connect() as connection:
        if current_revision_of(connection) == head_revision():
            return
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: first
        connection.commit()
        try:
            with connection.begin():
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # every DDL statement in one transaction
                command.upgrade(_config(engine, connection), "head")
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(f"the migration would leave {len(broken)} broken reference(s); rolled back")
        finally:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def current_revision_of(connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return current_revision_of(connection)


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic head revision in {MIGRATIONS}")
    return head
