"""Turning pydantic's validation errors into messages a person can act on.

Every problem names the finding (its index, type and date) and the field, and all
problems are reported at once, so a user fixes a file in one pass rather than
one error per run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .models import FINDING_TYPES, Case, date_problem
from .quantity import BARE_NUMBER, WRITTEN_QUANTITY


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case: where (a readable path) and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class CaseValidationError(ValueError):
    """A case that cannot be assessed, with every problem found in it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def case_from_dict(data: object) -> Case:
    """Validate a case-file dictionary; raise :class:`CaseValidationError` listing every problem."""
    if not isinstance(data, dict):
        raise CaseValidationError([Problem("", "a case must be an object with 'schema', 'patient' and 'findings'")])
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        problems = _dedupe(describe_errors(error, data) + _dates_before_birth(data))
        raise CaseValidationError(sorted(problems, key=_reading_order)) from None


def case_from_json(text: str | bytes) -> Case:
    """Validate case-file JSON: pydantic parses and validates it in one pass, without Python dicts in between.

    Only valid input takes that path. Anything pydantic refuses is read again as
    :func:`case_from_dict` reads it (``json.loads`` first, so text that is not
    JSON raises ``json.JSONDecodeError`` with its line and column), so every
    problem is reported with the same words either way.
    """
    try:
        return Case.model_validate_json(text)
    except ValidationError:
        return case_from_dict(json.loads(text))


def _reading_order(problem: Problem) -> tuple[int, int]:
    """Case-level problems first, then findings in file order (stable within a finding)."""
    match = re.match(r"findings\[(\d+)\]", problem.location)
    return (1, int(match.group(1))) if match else (0, 0)


def _dates_before_birth(data: dict[str, object]) -> list[Problem]:
    """Check dates against birth even when other fields failed (pydantic skips it then)."""
    import datetime as dt

    def as_date(value: object) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None

    patient = data.get("patient")
    birth = as_date(patient.get("birth_date")) if isinstance(patient, dict) else None
    findings = data.get("findings")
    if birth is None or not isinstance(findings, list):
        return []
    problems = []
    for index, raw in enumerate(findings):
        if not isinstance(raw, dict):
            continue
        when = as_date(raw.get("date", raw.get("start")))
        if when is not None and when < birth:
            problems.append(
                Problem(f"findings[{index}] ({raw.get('type', '?')}, {when})", f"dated before birth_date {birth}")
            )
    return problems


def user_errors(items: Iterable[ErrorDetails]) -> list[ErrorDetails]:
    """pydantic's errors as a user should see them: without the duplicates of a quantity field's fast branch.

    A quantity field tries a bare number first and the parser second (see
    :class:`~.quantity.QuantityField`); when both fail, the parser's message says
    what is wrong and the first branch's would only repeat it in pydantic's words.
    """
    errors: list[ErrorDetails] = []
    for item in items:
        if BARE_NUMBER in item["loc"]:
            continue
        errors.append({**item, "loc": tuple(part for part in item["loc"] if part != WRITTEN_QUANTITY)})
    return errors


def describe_errors(error: ValidationError, data: dict[str, object]) -> list[Problem]:
    problems = []
    for item in user_errors(error.errors(include_url=False)):
        if not item["loc"]:
            problems.extend(_case_level(_message(item)))
            continue
        location, field_path = _split_location(item["loc"], data)
        problems.append(Problem(_join(location, field_path), _message(item)))
    return _dedupe(problems)


def _case_level(message: str) -> list[Problem]:
    """Case-wide checks join their findings with '; ' as 'findings[i] (type, date): text'."""
    problems = []
    for part in message.split("; "):
        if part.startswith("findings[") and "): " in part:
            location, text = part.split("): ", 1)
            problems.append(Problem(location + ")", text))
        else:
            problems.append(Problem("case", part))
    return problems


def _split_location(loc: tuple[int | str, ...], data: dict[str, object]) -> tuple[str, str]:
    """Name a finding by index, type and date; the rest of the path is the field."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "findings" and isinstance(parts[1], int):
        index = parts[1]
        raw = _finding(data, index)
        kind = raw.get("type", "?") if isinstance(raw, dict) else "?"
        date = raw.get("date", raw.get("start", "no date")) if isinstance(raw, dict) else "no date"
        rest = parts[2:]
        if rest and rest[0] in FINDING_TYPES:
            rest = rest[1:]  # the discriminator tag pydantic inserts
        return f"findings[{index}] ({kind}, {date})", _path(rest)
    return "", _path(parts)


def _finding(data: dict[str, object], index: int) -> object:
    findings = data.get("findings")
    if isinstance(findings, list) and 0 <= index < len(findings):
        return findings[index]
    return None


def dotted_path(parts: Iterable[int | str]) -> str:
    """A pydantic error location as one would write it: ``findings[3].wbc.value``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def _path(parts: list[int | str]) -> str:
    """:func:`dotted_path` without the validator wrappers pydantic adds for the case model's unions."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("function-before[parse()]", "function-after", "json-or-python[json=float,python=float]") or (str(part).startswith(("function-", "literal[", "float", "int", "str")) and text):
            continue
        else:
            text += ("." if text else "") + str(part)
    return text


def _join(location: str, field_path: str) -> str:
    if location and field_path:
        return f"{location}: {field_path}"
    return location or field_path or "case"


def _message(item: ErrorDetails) -> str:
    kind = item["type"]
    if kind == "union_tag_invalid":
        tag = item.get("ctx", {}).get("tag")
        return f"unknown finding type {tag!r}; expected one of: {', '.join(FINDING_TYPES)}"
    if kind == "union_tag_not_found":
        return f"finding has no 'type'; expected one of: {', '.join(FINDING_TYPES)}"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against docs/case-format.md)"
    if kind == "literal_error" and item["loc"] == ("schema",):
        return f"unsupported schema {item.get('input')!r}; this version of allcare reads 'allcare.case/1'"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_unicode":  # e.g. a lone surrogate escape (\\ud800) in JSON: not text any store or page can keep
        return "text is not valid Unicode (it holds a lone surrogate); re-export the file as UTF-8"
    if kind.startswith("date_") and kind not in ("date_future", "date_past"):
        return date_problem(item.get("input"))
    message = item["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Union members each report the same bad value; keep one line per location and message."""
    seen, unique = set(), []
    for problem in problems:
        key = (problem.location, problem.message)
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique
