"""Browser tests (a package, so their conftest does not shadow tests/conftest.py as module ``conftest``)."""
