"""A checked resource as every import step reads it: its Struct, where it came from, its type, kind and own id."""

from __future__ import annotations

from typing import Any

from . import codes as C
from .classify import kind_of
from .read_helpers import identifier_value


class Item:
    """A checked resource (a :mod:`.shapes` Struct), where it came from, and the resource containing it, if any.

    ``ref`` names it in messages and keys it in the index: ``Type/id``, ``Type/id#contained-id``,
    or its position when it has no id. What every later step asks of a resource is read here once:
    its type, allcare's own finding identifier and the kind of finding it feeds (:func:`.classify.kind_of`).
    """

    __slots__ = ("where", "resource", "full_url", "container", "ref", "rtype", "own_id", "kind")

    def __init__(self, where: str, resource: Any, full_url: str | None = None, container: Item | None = None):
        # Any of the :mod:`.shapes` Structs: what is read of it depends on ``rtype``, which the readers check.
        self.resource: Any = resource
        self.where, self.full_url, self.container = where, full_url, container
        rid = resource.id
        self.rtype: str = resource.resource_type
        self.ref: str
        if container is not None:
            self.ref = f"{container.ref}#{rid}" if rid else where
        else:
            self.ref = f"{self.rtype}/{rid}" if rid else f"{where} ({self.rtype})"
        self.own_id: str | None = identifier_value(resource, C.ALLCARE_FINDING_ID) if resource.identifier else None
        self.kind: str | None = kind_of(resource)


def server_base(item: Item) -> str | None:
    """The base URL of the server a resource comes from: its fullUrl without ``Type/id`` (and ``_history``)."""
    url, suffix = item.full_url or "", f"/{item.rtype}/{item.resource.id}"
    if not url.startswith(("http://", "https://")) or not item.resource.id:
        return None
    if "/_history/" in url:
        url = url[: url.index("/_history/")]
    return url[: -len(suffix)] if url.endswith(suffix) else None
