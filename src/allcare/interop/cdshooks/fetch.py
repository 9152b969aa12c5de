"""Fetching what the prefetch did not carry from the FHIR server named in the request.

Templates are filled with the hook context, read with the request's bearer
token, and searchset pages are followed (up to a bound) so a long history is
complete. A FHIR server that cannot be reached is a gateway error (502); one
that refuses or lacks the data means the service cannot run on this request
(412 Precondition Failed, as CDS Hooks 2.0 prescribes for missing prefetch).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


class FetchError(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class FetchSettings:
    timeout_seconds: float = 10.0
    max_pages: int = 100


def fill(template: str, context: dict) -> str:
    out = template
    for key, value in context.items():
        out = out.replace("{{context.%s}}" % key, str(value))
    if "{{" in out:
        raise FetchError(412, f"prefetch template {template!r} needs context this hook did not send")
    return out


async def fetch_one(client: httpx.AsyncClient, server: str, query: str, token: str | None, settings: FetchSettings) -> dict:
    """One read or search; for a search, every page merged into one searchset Bundle."""
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{server.rstrip('/')}/{query.lstrip('/')}"
    merged: dict | None = None
    for _ in range(settings.max_pages):
        try:
            response = await client.get(url, headers=headers, timeout=settings.timeout_seconds)
        except httpx.HTTPError as error:
            raise FetchError(502, f"FHIR server {server} could not be reached for {query}: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise FetchError(502, f"FHIR server answered {response.status_code} for {query}")
        if response.status_code >= 400:
            raise FetchError(412, f"FHIR server answered {response.status_code} for {query}: the data this service needs "
                                  "could not be read with the authorization given")
        try:
            body = response.json()
        except ValueError:
            raise FetchError(502, f"FHIR server sent something that is not JSON for {query}") from None
        if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
            return body
        if merged is None:
            merged = {**body, "entry": list(body.get("entry") or [])}
        else:
            merged["entry"] += list(body.get("entry") or [])
        url = next((link.get("url") for link in body.get("link") or [] if link.get("relation") == "next"), None)
        if not url:
            merged.pop("link", None)
            return merged
    raise FetchError(502, f"more than {settings.max_pages} pages for {query}; ask the FHIR server for larger pages")
