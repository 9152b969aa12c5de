"""PostgreSQL: allcare's own role gets only what serving needs; the owner role keeps the rest.

With ``ALLCARE_DATABASE_OWNER_URL`` set, the schema belongs to that owner role
(migrations run as it) and the role in ``DATABASE_URL`` is granted:

- reading and writing the record tables;
- on ``audit_events`` only ``SELECT`` and ``INSERT``: it cannot update, delete
  or truncate the audit log, nor drop the triggers that refuse those (only a
  table's owner may);
- the sequences (new ids; a restore moves them past the restored ids).

So a bug in allcare, or someone who has its credentials, cannot rewrite history;
the hash chain (``allcare audit verify``) shows what the owner role changed.
"""

from __future__ import annotations

from sqlalchemy import Engine, text

from .models import Base

APPEND_ONLY = {"audit_events"}
READ_ONLY = {"alembic_version"}


def grant_app_role(owner: Engine, app_role: str | None) -> None:
    """Grant ``app_role`` its privileges in the owner's current schema (idempotent)."""
    if owner.dialect.name != "postgresql" or not app_role or app_role == owner.url.username:
        return
    role = owner.dialect.identifier_preparer.quote(app_role)
    tables = [table.name for table in Base.metadata.sorted_tables] + sorted(READ_ONLY)
    with owner.begin() as connection:
        schema = owner.dialect.identifier_preparer.quote(connection.scalar(text("SELECT current_schema()")))
        connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {role}"))
        for name in tables:
            table = f"{schema}.{owner.dialect.identifier_preparer.quote(name)}"
            connection.execute(text(f"REVOKE ALL ON {table} FROM {role}"))
            if name in APPEND_ONLY:
                privileges = "SELECT, INSERT"
            elif name in READ_ONLY:
                privileges = "SELECT"
            else:
                privileges = "SELECT, INSERT, UPDATE, DELETE"
            connection.execute(text(f"GRANT {privileges} ON {table} TO {role}"))
        connection.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"))
