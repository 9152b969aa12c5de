"""Every setting of the allcare application in one place.

Values come from (highest first) arguments to :class:`Settings`, environment
variables prefixed ``ALLCARE_`` (``DATABASE_URL`` is also read on its own, as
hosting platforms set it), and a ``.env`` file in the working directory. The
defaults give a single-user laptop install: an SQLite file under the user's data
directory and the demo cohort; a team sets ``DATABASE_URL`` to PostgreSQL and
``ALLCARE_DEMO=false``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "allcare"


def data_dir() -> Path:
    """The per-user data directory (``~/.local/share/allcare`` on Linux)."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'allcare.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """Point bare PostgreSQL URLs at psycopg 3, the driver allcare ships with.

    ``postgres://`` (Heroku style) and ``postgresql://`` would otherwise make
    SQLAlchemy look for psycopg2, which is not installed.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _persistent_secret_key() -> str:
    """A random key kept in the data directory, so sessions survive a restart.

    Generated on first use with owner-only permissions; a deployment may instead
    set ``ALLCARE_SECRET_KEY`` (e.g. from a secret store) and no file is written.
    """
    path = data_dir() / "secret_key"
    try:
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 32:
            return text
    except OSError:
        pass
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


class CdsAuthSettings(BaseSettings):
    """Who may call the CDS Hooks service (also read alone by the standalone CDS Hooks app)."""

    model_config = SettingsConfigDict(env_prefix="ALLCARE_", env_file=".env", extra="ignore", frozen=True)

    cds_trusted_issuers: dict[str, str] = Field(
        default_factory=dict,
        description="CDS clients (EHRs) trusted to call the CDS Hooks service: their JWT 'iss' -> their JWK Set, "
                    "a file path (no network) or an https URL (fetched and kept for an hour); "
                    'JSON, e.g. \'{"https://ehr.example.org": "/etc/allcare/ehr-jwks.json"}\'',
    )
    cds_allow_anonymous: bool = Field(
        default=False, description="accept CDS Hooks calls without a signed JWT: for a demo on loopback only"
    )


class Settings(CdsAuthSettings):
    """Configuration of the web app, the record store and the CLI around them."""

    model_config = SettingsConfigDict(env_prefix="ALLCARE_", env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(
        default_factory=default_database_url,
        validation_alias=AliasChoices("ALLCARE_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; SQLite file by default, postgresql://... for a team",
    )
    database_owner_url: str | None = Field(
        default=None,
        description="PostgreSQL: the role that owns the schema and runs migrations; DATABASE_URL's role then gets "
                    "only what serving needs (INSERT/SELECT on the audit log)",
    )
    secret_key: str = Field(
        default_factory=_persistent_secret_key,
        min_length=32,
        description="signs CSRF tokens; keep it secret and stable across restarts",
    )
    demo: bool = Field(default=True, description="seed the synthetic demo cohort and demo users into an empty store")
    demo_patients: int = Field(default=240, ge=1, le=100_000, description="size of the demo cohort")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    session_cookie: str = "allcare_session"
    csrf_cookie: str = "allcare_csrf"
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60, description="a clinical shift")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="'auto': Secure flag when the request arrived over TLS (directly or via a proxy)"
    )
    cookie_samesite: Literal["lax", "strict"] = "lax"
    trust_proxy_headers: bool = Field(
        default=False, description="believe X-Forwarded-For/-Proto (only behind a reverse proxy you control)"
    )
    trusted_proxies: int = Field(
        default=1, ge=1, le=10,
        description="how many reverse proxies you control stand in front of allcare; the client address is the "
                    "one the outermost of them added to X-Forwarded-For (counted from the right)",
    )

    login_max_failures: int = Field(default=5, ge=1, description="failures before a login is throttled")
    login_window_seconds: int = Field(default=900, ge=1)
    login_lockout_seconds: int = Field(default=300, ge=1)

    password_min_length: int = Field(default=10, ge=8)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8, description="argon2 memory; lowered only in tests")
    argon2_parallelism: int = Field(default=4, ge=1)

    api_token_days: int = Field(default=90, ge=1, description="default lifetime of an API token")
    assessment_cache_size: int = Field(default=2048, ge=0, description="assessments kept in memory per process")
    public_url: str | None = Field(
        default=None, description="the address users open allcare at (links in CDS Hooks cards); default http://HOST:PORT"
    )
    cds_fhir_servers: list[str] = Field(
        default_factory=list,
        description="FHIR servers the CDS Hooks service may fetch missing prefetch data from (exact base URLs); "
                    "empty: it fetches from none and asks for prefetch, so a request cannot make it call any address",
    )

    rules: Annotated[Any, NoDecode] = Field(
        default=None,
        validation_alias=AliasChoices("ALLCARE_RULES", "rules"),
        description="the rule set the store, the pages, the patient report and CDS Hooks assess with: a rules file "
                    "(JSON or YAML overrides of the named thresholds, like the CLI's --rules); default: allcare's "
                    "defaults (docs/rules.md). Read once at start: an invalid file stops the server with its problems; "
                    "None here means the defaults (the engine is imported only when a rules file is given)",
    )

    @field_validator("rules", mode="before")
    @classmethod
    def _read_rules(cls, value: Any) -> Any:
        """A path (the environment gives one) is read here, once, into a RuleSet; a RuleSet is taken as it is."""
        if value is None:
            return None
        from .engine.rules import RuleSet
        from .rules_file import read_rules_file

        if isinstance(value, (str, os.PathLike)):
            return read_rules_file(value)  # a RulesFileError (a ValueError) names every problem
        if not isinstance(value, RuleSet):
            raise ValueError("must be the path of a rules file")
        return value

    def rule_set(self) -> Any:
        """The rule set to assess with: ``ALLCARE_RULES``'s, else allcare's defaults."""
        from .engine.rules import DEFAULT_RULES

        return self.rules or DEFAULT_RULES

    @field_validator("database_url", "database_owner_url")
    @classmethod
    def _driver(cls, value: str | None) -> str | None:
        return None if value is None else normalise_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The database file of an SQLite URL (None for in-memory or other databases)."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[-1].split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(path)


def get_settings() -> Settings:
    return Settings()
