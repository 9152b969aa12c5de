"""Programmatic Alembic: the app and the CLI bring the schema to ``head`` on start.

A person installing allcare never runs a migration tool by hand; upgrading the
package and restarting is enough. ``downgrade_to_base`` exists for
``allcare restore --force``, which replaces the whole store.
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


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it is already there)."""
    with engine.begin() as connection:
        command.upgrade(_config(engine, connection), "head")


def downgrade_to_base(engine: Engine) -> None:
    """Drop every allcare table (used only to replace a store wholesale)."""
    with engine.begin() as connection:
        command.downgrade(_config(engine, connection), "base")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
