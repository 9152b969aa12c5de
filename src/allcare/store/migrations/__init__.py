"""Alembic migrations of the record store (run by :func:`allcare.store.migrate.upgrade`)."""
