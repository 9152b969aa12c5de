"""Fetching what the prefetch did not carry from the FHIR server named in the request.

Templates are filled with the hook context, read with the request's bearer
token, and searchset pages are followed (up to a bound) so a long history is
complete. Whatever keeps the service from the data (a server that cannot be
reached, that fails, refuses the token or sends something else than FHIR JSON)
is one answer, 412 Precondition Failed: CDS Hooks 2.0 says a service that
cannot obtain required data because it cannot access the FHIR server SHALL
answer so (https://cds-hooks.hl7.org/2.0/#providing-fhir-resources-to-a-cds-service).
The message says which it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx


class FetchError(Exception):
    """The data could not be fetched (answered 412 Precondition Failed), and why."""


@dataclass(frozen=True)
class FetchSettings:
    timeout_seconds: float = 10.0
    max_pages: int = 100


def fill(template: str, context: dict) -> str:
    out = template
    for key, value in context.items():
        out = out.replace(f"{{{{context.{key}}}}}", str(value))
    if "{{" in out:
        raise FetchError(f"prefetch template {template!r} needs context this hook did not send")
    return out


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit: what "the same server" means."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


async def fetch_one(client: httpx.AsyncClient, server: str, query: str, token: str | None, settings: FetchSettings) -> dict:
    """One read or search; for a search, every page merged into one searchset Bundle."""
    url = f"{server.rstrip('/')}/{query.lstrip('/')}"
    body = await _get(client, server, url, query, token, settings)
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        return body
    return await fetch_rest(client, server, body, token, settings, query)


async def fetch_rest(client: httpx.AsyncClient, server: str, first: dict, token: str | None, settings: FetchSettings,
                     query: str = "the prefetch") -> dict:
    """A searchset completed by following its ``next`` links, only on ``server``'s origin.

    The access token was issued for ``server``: a ``next`` link to another scheme, host or
    port is never followed (the token would go there), and the search then counts as
    incomplete (an error), never as complete.
    """
    merged = {**first, "entry": list(first.get("entry") or [])}
    home = origin(server)
    for _ in range(settings.max_pages):
        url = next((link.get("url") for link in merged.get("link") or [] if isinstance(link, dict) and link.get("relation") == "next"), None)
        if not url:
            merged.pop("link", None)
            return merged
        url = urljoin(server.rstrip("/") + "/", url)
        if origin(url) != home:
            raise FetchError(f"the search for {query} continues on another server ({origin(url)[1]}); allcare follows "
                                  f"pages only on {home[1]} (the server the access token is for), so the data is incomplete")
        page = await _get(client, server, url, query, token, settings)
        if not isinstance(page, dict) or page.get("resourceType") != "Bundle":
            raise FetchError(f"a page of the search for {query} is not a Bundle")
        merged["entry"] += list(page.get("entry") or [])
        merged["link"] = page.get("link") or []
    raise FetchError(f"more than {settings.max_pages} pages for {query}; the data would be incomplete, ask the FHIR server for larger pages")


async def _get(client: httpx.AsyncClient, server: str, url: str, query: str, token: str | None, settings: FetchSettings):
    headers = {"Accept": "application/fhir+json"}
    if token and origin(url) == origin(server):
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = await client.get(url, headers=headers, timeout=settings.timeout_seconds, follow_redirects=False)
    except httpx.HTTPError as error:
        raise FetchError(f"FHIR server {server} could not be reached for {query}: {type(error).__name__}") from None
    if response.status_code >= 500 or 300 <= response.status_code < 400:
        raise FetchError(f"FHIR server answered {response.status_code} for {query}")
    if response.status_code >= 400:
        raise FetchError(f"FHIR server answered {response.status_code} for {query}: the data this service needs "
                              "could not be read with the authorization given")
    try:
        return response.json()
    except ValueError:
        raise FetchError(f"FHIR server sent something that is not JSON for {query}") from None
