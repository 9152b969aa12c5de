"""Case files on disk: JSON or YAML, read into a validated :class:`Case`.

This is the edge where bytes become a case, so every way a file can be wrong
(missing, unreadable, not JSON/YAML, invalid content) becomes one
:class:`CaseFileError` with a message a person can act on, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ..engine.case import Case, CaseValidationError, case_from_dict, case_from_json
from ..engine.case.errors import Problem

MAX_CASE_FILE_BYTES = 50 * 1024 * 1024


class _CaseYamlLoader(yaml.SafeLoader):
    """YAML's safe loader, but dates stay text.

    PyYAML turns an unquoted ``2023-02-30`` into a ``datetime.date`` while parsing, so a day
    that does not exist raised a bare ``ValueError`` before the case model could name the field.
    Left as text, every date is read by the case model, which reports it like a JSON date.
    """


_CaseYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class CaseFileError(ValueError):
    """A case file that cannot be used, with every problem in it."""

    def __init__(self, path: str, problems: list[Problem]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(str(p) for p in problems))


def parse_case_text(text: str, name: str = "<case>") -> Any:
    """Parse JSON or YAML text (YAML is a superset of JSON, but JSON errors read better)."""
    try:
        return _parse(text, name)
    except RecursionError:
        raise CaseFileError(name, [Problem("", "nested too deeply to be a case file")]) from None


# Python refuses to read a whole number of more digits than this from text (a ValueError, not a syntax error).
_LONG_NUMBER = "holds a number of thousands of digits (Python reads at most 4300); no measurement has so many"


def _parse(text: str, name: str) -> Any:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise CaseFileError(name, [Problem("", f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}")]) from None
        except ValueError:  # int_max_str_digits
            raise CaseFileError(name, [Problem("", _LONG_NUMBER)]) from None
    try:
        return yaml.load(text, Loader=_CaseYamlLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        raise CaseFileError(name, [Problem("", f"not valid YAML: {reason}{where}")]) from None
    except ValueError:  # int_max_str_digits, raised by the int constructor
        raise CaseFileError(name, [Problem("", _LONG_NUMBER)]) from None


def case_from_text(text: str, name: str = "<case>") -> Case:
    try:
        if text.lstrip().startswith("{"):  # JSON: parsed and validated in one pass when it is valid
            try:
                return case_from_json(text)
            except CaseValidationError:
                raise
            except ValueError:
                pass  # parse_case_text words the syntax error (or the number too long to read)
        return case_from_dict(parse_case_text(text, name))
    except CaseValidationError as error:
        raise CaseFileError(name, error.problems) from None


def load_case(path: str | Path) -> Case:
    """Read and validate one case file."""
    file = Path(path)
    name = str(path)
    if not file.exists():
        raise CaseFileError(name, [Problem("", "no such file")])
    if file.is_dir():
        raise CaseFileError(name, [Problem("", "is a directory, not a case file")])
    if file.stat().st_size > MAX_CASE_FILE_BYTES:
        raise CaseFileError(name, [Problem("", f"larger than {MAX_CASE_FILE_BYTES // (1024 * 1024)} MB; a case file holds one person")])
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CaseFileError(name, [Problem("", "not UTF-8 text")]) from None
    except OSError as error:
        raise CaseFileError(name, [Problem("", f"cannot be read: {error.strerror}")]) from None
    return case_from_text(text, name)


def dump_case(case: Case, fmt: str = "json") -> str:
    """A case as case-file text (reported units kept, so the round trip is lossless)."""
    data = case.to_json_dict()
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
