"""What can go wrong in the record store, in terms a caller can act on.

The web layer maps each to one HTTP status (404, 409, 422, 403); the CLI prints
them. They never carry patient data in their message beyond what the caller
already sent, because messages may end up in logs.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of record-store errors."""


class NotFound(StoreError):
    def __init__(self, what: str, key: object):
        self.what = what
        self.key = key
        super().__init__(f"{what} {key} not found")


class Conflict(StoreError):
    """A stale version, or a record that already exists."""

    def __init__(self, message: str, current_version: int | None = None, **extra: object):
        self.current_version = current_version
        self.extra = extra
        super().__init__(message)


class InvalidRecord(StoreError):
    """The change would leave a record that is not a valid case (e.g. a finding before birth).

    ``problems`` are (location, message) pairs, like the case model's validation.
    """

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" if where else what for where, what in problems))


class StoreNotEmpty(StoreError):
    """A restore would overwrite existing data and --force was not given."""
