"""The allcare web application: ``create_app(settings)`` builds it, migrated and ready.

The REST API lives under ``/api/v1`` (OpenAPI at ``/api/docs`` and
``/api/openapi.json``). Server-rendered pages, when the ``allcare.web.pages``
package is installed, are mounted at the root by including its ``router``, and
its ``static`` directory (if any) at ``/static``, so the UI plugs in without
changes here.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from .. import __version__
from ..caches import Caches
from ..interop.cdshooks.cors import CorsForCdsHooks
from ..serving import prepare_server_process
from ..settings import Settings
from ..store import Store
from ..store.summaries import SummaryRefresher
from ..store.users import make_hasher
from . import docs, errors, workers
from .api import router as api_router
from .api.assessment import ASSESSMENT_COMPONENTS
from .api.cases import case_schemas
from .deps import refuse_unstorable_query
from .fhir_errors import OperationOutcomeErrors
from .security import (
    AccessLogMiddleware,
    BodyLimitMiddleware,
    CsrfCookieMiddleware,
    LoginThrottle,
    OptionsMiddleware,
    SecurityHeadersMiddleware,
    csrf_protect,
)


def create_app(settings: Settings | None = None, *, store: Store | None = None, migrate: bool = True) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment); migrates the store to head."""
    prepare_server_process()
    settings = settings or Settings()
    store = store or Store.from_settings(settings)
    store.use_rules(settings.rules)  # the store, the pages, the report and CDS Hooks assess with ALLCARE_RULES
    if migrate:
        store.migrate()
    workers.start()
    app = FastAPI(
        title="allcare",
        version=__version__,
        summary="Patient records and explainable ALL decision support",
        docs_url=None,  # served by web/docs.py from local files
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(refuse_unstorable_query), Depends(csrf_protect)],
        lifespan=_refresh_summaries_while_serving,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.caches = Caches.sized(settings.assessment_cache_size)  # every cache of this app, in one place
    app.state.hasher = make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    app.state.login_throttle = LoginThrottle(
        settings.login_max_failures, settings.login_window_seconds, settings.login_lockout_seconds
    )
    if not settings.demo:
        _disable_demo_logins(app)
    errors.install(app)
    # Pages first: routes are matched in order, and a page request (the patient page above all)
    # would otherwise be tried against the ~100 API routes before its own. No page path starts
    # with /api, /cds-services or /docs, so the order changes no answer.
    _include_pages(app)
    app.include_router(api_router, prefix="/api/v1")
    _add_schemas(app, ASSESSMENT_COMPONENTS, case_schemas())
    app.include_router(docs.router)
    _include_cds_hooks(app, settings)
    # Added innermost first. Outermost: the access log (sees the final status), then the security
    # headers (on every response, a 500 included), then the catch-all for bugs.
    app.add_middleware(OptionsMiddleware)
    app.add_middleware(BodyLimitMiddleware, session_cookie=settings.session_cookie)
    app.add_middleware(CsrfCookieMiddleware, settings=settings)
    app.add_middleware(errors.InternalErrorMiddleware)
    app.add_middleware(OperationOutcomeErrors)  # outside the catch-all: a 500 on a FHIR route is an OperationOutcome too
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(CorsForCdsHooks)  # answers CDS Hooks preflights before anything else reads them
    app.add_middleware(AccessLogMiddleware)
    return app


@asynccontextmanager
async def _refresh_summaries_while_serving(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves, a background thread recomputes stale patient summaries (lists never do)."""
    store: Store = app.state.store
    refresher = SummaryRefresher(store)
    store.on_stale_summary(refresher.wake)
    refresher.start()
    try:
        yield
    finally:
        store.on_stale_summary(None)
        refresher.stop()


def _add_schemas(app: FastAPI, components: dict, shared: dict) -> None:
    """Add schemas no route signature gives to the OpenAPI document: ``components`` (the engine's
    assessment, msgspec structs) must be new names; ``shared`` (the case file a route reads as bytes)
    may name models other routes already put there, which are then kept as they are."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schemas = generate().setdefault("components", {}).setdefault("schemas", {})
            clashes = sorted(set(schemas) & set(components))
            if clashes:
                raise RuntimeError(f"OpenAPI schema names used twice: {', '.join(clashes)}")
            schemas.update(components)
            for name, schema in shared.items():
                schemas.setdefault(name, schema)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _disable_demo_logins(app: FastAPI) -> None:
    """Without the demo, logins whose passwords the README publishes must not work."""
    from ..store.demo import disable_published_demo_logins

    disabled = disable_published_demo_logins(app.state.store, app.state.hasher)
    if disabled:
        logging.getLogger("allcare.web").warning(
            "ALLCARE_DEMO=false: deactivated the demo logins with published passwords: %s", ", ".join(disabled))


def _include_cds_hooks(app: FastAPI, settings: Settings) -> None:
    """The CDS Hooks service at ``/cds-services``: it assesses only what the EHR sends
    (or what it may fetch from an allowlisted FHIR server) and reads nothing stored."""
    from ..interop.cdshooks import SERVICE_ID, CdsSettings, router
    from ..interop.cdshooks.auth import CdsAuth

    caches: Caches = app.state.caches
    app.state.cds_settings = CdsSettings(
        allcare_url=settings.public_url or f"http://{settings.host}:{settings.port}",
        allowed_fhir_servers=tuple(settings.cds_fhir_servers),
        assessed=caches.cds_assessments,
        rules=settings.rule_set(),
    )
    app.state.cds_auth = CdsAuth.from_settings(
        settings, f"{app.state.cds_settings.allcare_url.rstrip('/')}/cds-services/{SERVICE_ID}")
    app.include_router(router, tags=["CDS Hooks"])


def _include_pages(app: FastAPI) -> None:
    """Mount the UI package when it is there; the API works without it."""
    try:
        pages = importlib.import_module("allcare.web.pages")
    except ModuleNotFoundError as error:
        if error.name != "allcare.web.pages":
            raise  # the pages exist but something they import is missing: say so
        return
    router = getattr(pages, "router", None)
    if router is not None:
        app.include_router(router)
    static = Path(__file__).parent / "static"
    if static.is_dir() and not any(getattr(r, "path", None) == "/static" for r in app.routes):
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=static), name="static")
