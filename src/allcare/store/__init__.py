"""The record store: patients, findings, users and the audit log in SQLite or PostgreSQL.

Data-access functions live here, apart from the web layer, so the API, the web
pages and the CLI share one implementation of every rule (versions, audit,
validation against the engine's case model). Functions that touch patient data
take an :class:`Actor` and write an audit event in the same transaction.
"""

from .audit import Actor
from .core import Store
from .errors import Conflict, InvalidRecord, NotFound, StoreError, StoreNotEmpty

__all__ = ["Actor", "Conflict", "InvalidRecord", "NotFound", "Store", "StoreError", "StoreNotEmpty"]
