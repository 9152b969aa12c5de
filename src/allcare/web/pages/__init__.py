"""Server-rendered pages of the allcare web app (Jinja2 templates, a little JavaScript).

``router`` is included by :func:`allcare.web.app.create_app`; the stylesheets and
scripts in ``allcare/web/static`` are mounted at ``/static``. Route modules are
thin: they check who asks (with the API's own dependencies), call the record
store, and render a template. Every page carries :data:`allcare.DISCLAIMER`.
"""

from fastapi import APIRouter

from . import admin, assets, auth, findings, patients, records, registry, report, upload

router = APIRouter(include_in_schema=False)
# upload and records first: "/patients/import" and "/patients/new" must win over "/patients/{patient_id}".
for module in (assets, auth, admin, registry, upload, records, patients, findings, report):
    router.include_router(module.router)

__all__ = ["router"]
