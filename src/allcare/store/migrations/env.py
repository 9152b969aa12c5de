"""Alembic environment: migrations run on the connection allcare hands in.

The app and the CLI call :func:`allcare.store.migrate.upgrade` with an open
connection, so there is no alembic.ini and no URL to keep in sync.
"""

from alembic import context

from allcare.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from allcare.store.db import make_engine

        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic: no sqlalchemy.url and no connection given")
        engine = make_engine(url)
        with engine.begin() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("allcare migrations run online only (allcare serve / allcare.store.migrate.upgrade)")
run_migrations_online()
