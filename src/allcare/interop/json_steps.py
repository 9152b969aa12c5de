"""JSON parsed in small steps, so a large document never holds the interpreter for long.

A server parses request bodies in a worker thread, but a C parser holds Python's
global interpreter lock for the whole document: a 30 MB FHIR Bundle took about
a second on a busy machine, during which the event loop could not answer even a
health check. Here the outer levels (a Bundle, its ``entry`` list, a CDS Hooks
prefetch) are walked in Python and each value below them (a resource, a few
kilobytes) is parsed by the standard library's C decoder, so other threads run
between values. The result is exactly what ``json.loads`` returns, and nesting
too deep for the decoder is a :class:`json.JSONDecodeError`, not a crash.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # CPython's, not declared in typeshed
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
BUNDLE_DEPTH = 2  # a Bundle's entries, one C call each
CDS_REQUEST_DEPTH = 4  # the entries of a CDS Hooks request's prefetch Bundles


def loads_in_steps(data: str | bytes | bytearray, depth: int = BUNDLE_DEPTH) -> Any:
    """``json.loads`` with the outer ``depth`` levels walked value by value (UnicodeDecodeError for non-UTF-8).

    Each level walked in Python costs time; the default walks just far enough for
    a Bundle's entries to be parsed one by one.
    """
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    value, end = _value(text, _skip(text, 0), depth)
    end = _skip(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def _skip(text: str, index: int) -> int:
    return _SPACE.match(text, index).end()  # type: ignore[union-attr]


def _value(text: str, index: int, depth: int) -> tuple[Any, int]:
    char = text[index:index + 1]
    if depth > 0 and char == "{":
        return _object(text, _skip(text, index + 1), depth - 1)
    if depth > 0 and char == "[":
        return _array(text, _skip(text, index + 1), depth - 1)
    try:
        return _DECODER.raw_decode(text, index)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, index) from None
    except json.JSONDecodeError:
        raise
    except StopIteration:  # pragma: no cover - raw_decode reports this as JSONDecodeError
        raise json.JSONDecodeError("Expecting value", text, index) from None


def _object(text: str, index: int, depth: int) -> tuple[dict, int]:
    out: dict[str, Any] = {}
    if text[index:index + 1] == "}":
        return out, index + 1
    while True:
        if text[index:index + 1] != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, index)
        key, index = scanstring(text, index + 1)
        index = _skip(text, index)
        if text[index:index + 1] != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, index)
        out[key], index = _value(text, _skip(text, index + 1), depth)
        index = _skip(text, index)
        char = text[index:index + 1]
        if char == "}":
            return out, index + 1
        if char != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
        index = _skip(text, index + 1)


def _array(text: str, index: int, depth: int) -> tuple[list, int]:
    out: list[Any] = []
    if text[index:index + 1] == "]":
        return out, index + 1
    while True:
        item, index = _value(text, index, depth)
        out.append(item)
        index = _skip(text, index)
        char = text[index:index + 1]
        if char == "]":
            return out, index + 1
        if char != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", text, index)
        index = _skip(text, index + 1)
