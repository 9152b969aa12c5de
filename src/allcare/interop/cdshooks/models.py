"""CDS Hooks 2.0 request and response shapes.

The request is read permissively (a CDS client may send extensions); the
response models forbid unknown keys and enforce the 2.0 rules (summary at most
140 characters, indicator info/warning/critical, source.label required), so a
card that would be invalid fails here, in allcare, not in the EHR.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")

    access_token: str = Field(min_length=1)
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


class HookContext(BaseModel):
    model_config = ConfigDict(extra="allow")

    userId: str = Field(min_length=1)
    patientId: str = Field(min_length=1)
    encounterId: str | None = None


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    hook: str
    hookInstance: str = Field(min_length=1)
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: HookContext
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _authorization_needs_server(self):
        # cds-r-1: if fhirAuthorization details are provided, a fhirServer SHALL be specified.
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirAuthorization is given without fhirServer (CDS Hooks 2.0 requires both)")
        if self.fhirServer and not self.fhirServer.startswith(("http://", "https://")):
            raise ValueError("fhirServer must be an http(s) URL")
        return self


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coding(_Strict):
    system: str | None = None
    code: str
    display: str | None = None


class Source(_Strict):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Link(_Strict):
    label: str = Field(min_length=1)
    url: str = Field(min_length=1)
    type: Literal["absolute", "smart"]
    appContext: str | None = None


class Card(_Strict):
    uuid: str | None = None
    summary: str = Field(min_length=1, max_length=139, description="under 140 characters (CDS Hooks 2.0)")
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[dict] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None


class CdsResponse(_Strict):
    cards: list[Card]
    systemActions: list[dict] | None = None


class ServiceDescription(_Strict):
    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usageRequirements: str | None = None


class Discovery(_Strict):
    services: list[ServiceDescription]


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    card: str = Field(min_length=1, description="the uuid of the card")
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: str = Field(min_length=1)
    acceptedSuggestions: list[dict] | None = None
    overrideReason: dict | None = None


class Feedback(BaseModel):
    """CDS Hooks 2.0 feedback: the outcome of one or more cards."""

    model_config = ConfigDict(extra="allow")

    feedback: list[FeedbackItem] = Field(min_length=1)
