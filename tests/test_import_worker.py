"""The server's import worker process is started, with the importer loaded, when the app is built.

A spawned interpreter takes seconds to import the FHIR reader, the engine and the
store; paying that on the first import after a restart made that request wait
(and, on a loaded machine, time out). The app starts the worker and loads the
importer in the background as it is built.
"""

from __future__ import annotations

import sys

from allcare.web import workers


def _modules_loaded_in_worker() -> set[str]:
    return {name for name in ("allcare.interop.fhir", "allcare.store") if name in sys.modules}


def test_the_import_worker_has_the_importer_loaded_before_the_first_import(app):
    loaded = workers.pool().submit(_modules_loaded_in_worker).result(timeout=120)
    assert loaded == {"allcare.interop.fhir", "allcare.store"}
