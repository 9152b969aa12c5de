"""Reading one comma-separated abnormality token (`+8`, `t(9;22)(q34;q11.2)`, ...).

Each reader recognises one shape of token and returns None when the token is
not of its shape, so that the readers can simply be tried in turn. A token
that has the right shape but wrong content comes back as a `TokenError`
carrying a message for the lab, never as an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from msgspec import structs

from .grammar import parse_arm_form, parse_band_groups, parse_chromosome, parse_chromosome_list
from .models import Abnormality, AbnormalityKind, Sign

KIND_BY_SYMBOL: dict[str, AbnormalityKind] = {
    "t": "t",
    "der": "der",
    "dic": "dic",
    "del": "del",
    "dup": "dup",
    "add": "add",
    "i": "i",
    "idic": "idic",
    "inv": "inv",
    "ins": "ins",
    "trp": "trp",
    "r": "r",
    "hsr": "hsr",
    "iamp": "other",
    "qdp": "other",
    "rob": "other",
    "tas": "other",
    "fis": "other",
    "fra": "other",
    "trc": "other",
    "rec": "other",
}
"""ISCN operators understood in a `symbol(chromosomes)(bands)` token."""

_NUMERICAL = re.compile(r"([+-])(\?)?([0-9]{1,2}|x|y)(c)?(?:x([0-9]{1,3}))?", re.ASCII)
_MARKER = re.compile(
    r"([+-])(\?)?(?:([0-9]{1,3})(?:~[0-9]{1,3})?)?mar([0-9]{1,3})?(c)?(?:x([0-9]{1,3}))?", re.ASCII
)
_UNKNOWN_RING = re.compile(r"([+-])([0-9]{1,3})?r([0-9]{1,3})?(?:x([0-9]{1,3}))?", re.ASCII)
_DOUBLE_MINUTES = re.compile(r"([+-]?)(?:([0-9]{1,3})(?:~[0-9]{1,3})?)?dmin", re.ASCII)
_SEGMENT_HEAD = re.compile(r"([a-z]+)\(", re.ASCII)
_SUFFIX = re.compile(r"(c)?(?:x([0-9]{1,3}))?", re.ASCII)


@dataclass(frozen=True)
class TokenError:
    """Why a token could not be read; the caller turns it into a Problem."""

    message: str


@dataclass(frozen=True)
class _Segment:
    """One `symbol(chromosomes)(bands)` piece; a derivative has several."""

    symbol: str
    chromosome_text: str
    band_text: str | None
    text: str


TokenResult = Abnormality | TokenError


def parse_abnormality(token: str) -> TokenResult:
    """Read one abnormality token; never raises."""
    written = token.strip()
    body = "".join(written.split()).lower()
    if not body:
        return TokenError("empty abnormality")
    for reader in _READERS:
        result = reader(written, body)
        if result is not None:
            return result
    return TokenError("not a recognised ISCN abnormality")


def _copies(*numbers: str | None) -> int:
    """Multiply the written copy numbers (`+2mar`, `x2`); absent numbers count as 1."""
    total = 1
    for number in numbers:
        if number is not None:
            total *= int(number)
    return total


def _read_numerical(written: str, body: str) -> TokenResult | None:
    """`+8`, `-7`, `+X`, `+21c`, `+21x2`: whole-chromosome gains and losses."""
    match = _NUMERICAL.fullmatch(body)
    if not match:
        return None
    sign, question, raw_chromosome, constitutional, times = match.groups()
    chromosome = parse_chromosome(raw_chromosome)
    if chromosome is None:
        return TokenError(f"unknown chromosome '{raw_chromosome}'")
    count = _copies(times)
    if count < 1:
        return TokenError("copy number must be at least 1")
    return Abnormality(
        text=written,
        kind="gain" if sign == "+" else "loss",
        sign=_sign(sign),
        chromosomes=[chromosome],
        constitutional=bool(constitutional),
        uncertain=bool(question),
        count=count,
    )


def _read_marker(written: str, body: str) -> TokenResult | None:
    """`+mar`, `+2mar`, `+mar1`, `+1~3mar`: marker chromosomes of unknown origin.

    For a range of markers the lower number is the count, as the lab only
    vouches for that many.
    """
    match = _MARKER.fullmatch(body)
    if not match:
        return None
    sign, question, prefix, _label, constitutional, times = match.groups()
    count = _copies(prefix, times)
    if count < 1:
        return TokenError("copy number must be at least 1")
    return Abnormality(
        text=written,
        kind="mar",
        symbol="mar",
        sign=_sign(sign),
        constitutional=bool(constitutional),
        uncertain=bool(question),
        count=count,
    )


def _read_unknown_ring(written: str, body: str) -> TokenResult | None:
    """`+r`, `+2r`, `+r1`: ring chromosomes whose origin is unknown."""
    match = _UNKNOWN_RING.fullmatch(body)
    if not match:
        return None
    sign, prefix, _label, times = match.groups()
    count = _copies(prefix, times)
    if count < 1:
        return TokenError("copy number must be at least 1")
    return Abnormality(text=written, kind="r", symbol="r", sign=_sign(sign), count=count)


def _read_double_minutes(written: str, body: str) -> TokenResult | None:
    """`dmin`, `+dmin`, `2~5dmin`: double minutes, which are not chromosomes."""
    match = _DOUBLE_MINUTES.fullmatch(body)
    if not match:
        return None
    sign, prefix = match.groups()
    count = _copies(prefix)
    if count < 1:
        return TokenError("copy number must be at least 1")
    return Abnormality(text=written, kind="other", symbol="dmin", sign=_sign(sign), count=count)


def _read_structural(written: str, body: str) -> TokenResult | None:
    """`t(9;22)(q34;q11.2)`, `+der(22)t(9;22)(q34;q11)x2`, `del(6)(q21q25)c` ..."""
    sign = _leading_sign(body)
    rest = body[len(sign) :]
    uncertain_prefix = rest.startswith("?")
    rest = rest[1:] if uncertain_prefix else rest
    segments, remainder = _split_segments(rest)
    if not segments:
        return TokenError(_leftover_message(rest)) if _SEGMENT_HEAD.match(rest) else None
    suffix = _SUFFIX.fullmatch(remainder)
    if suffix is None:
        return TokenError(_leftover_message(remainder))
    constitutional, times = suffix.groups()
    count = _copies(times)
    if count < 1:
        return TokenError("copy number must be at least 1")
    return _build_structural(written, sign, segments, bool(constitutional), count, "?" in body)


def _sign(written: str) -> Sign:
    """The sign group of a token's pattern ("+", "-" or nothing) as a :data:`Sign`."""
    return "+" if written == "+" else "-" if written == "-" else ""


def _leading_sign(body: str) -> Sign:
    """The `+` (gained) or `-` (lost) written before a token, if any."""
    if body.startswith("+"):
        return "+"
    if body.startswith("-"):
        return "-"
    return ""


def _leftover_message(remainder: str) -> str:
    """Explain unreadable trailing text; unbalanced brackets are the usual typo."""
    if remainder.count("(") != remainder.count(")"):
        return f"unbalanced parentheses near '{remainder}'"
    return f"cannot read '{remainder}'"


def _split_segments(text: str) -> tuple[list[_Segment], str]:
    """Cut `der(22)t(9;22)(q34;q11)` into segments; return what could not be cut."""
    segments: list[_Segment] = []
    position = 0
    while True:
        segment, end = _next_segment(text, position)
        if segment is None:
            return segments, text[position:]
        segments.append(segment)
        position = end


def _next_segment(text: str, start: int) -> tuple[_Segment | None, int]:
    """Read one `symbol(...)` with optional `(...)` bands at `start`."""
    head = _SEGMENT_HEAD.match(text, start)
    if not head:
        return None, start
    close = text.find(")", head.end())
    if close < 0:
        return None, start
    end = close + 1
    band_text = None
    if text.startswith("(", end):
        band_close = text.find(")", end + 1)
        if band_close < 0:
            return None, start
        band_text = text[end + 1 : band_close]
        end = band_close + 1
    segment = _Segment(head.group(1), text[head.end() : close], band_text, text[start:end])
    return segment, end


def _build_structural(
    written: str, sign: Sign, segments: list[_Segment], constitutional: bool, count: int, uncertain: bool
) -> TokenResult:
    """Turn segments into an Abnormality; only a derivative may have several."""
    first, rest = segments[0], segments[1:]
    if first.symbol not in KIND_BY_SYMBOL:
        return TokenError(f"unknown abnormality '{first.symbol}'")
    if rest and first.symbol != "der":
        return TokenError(f"unexpected '{rest[0].text}' after '{first.text}'")
    head = _read_segment(first)
    if isinstance(head, TokenError):
        return head
    parts: list[Abnormality] = []
    for segment in rest:
        part = _read_segment(segment)
        if isinstance(part, TokenError):
            return part
        parts.append(part)
    return _combine(written, sign, head, parts, constitutional, count, uncertain)


def _combine(
    written: str,
    sign: Sign,
    head: Abnormality,
    parts: list[Abnormality],
    constitutional: bool,
    count: int,
    uncertain: bool,
) -> Abnormality:
    """Merge a segment and its derivative parts into the abnormality as written."""
    update: dict[str, object] = {
        "text": written,
        "sign": sign,
        "constitutional": constitutional,
        "count": count,
        "uncertain": uncertain,
    }
    if head.kind == "der":
        update["derivative"] = ";".join(head.chromosomes)
    if parts:
        update["parts"] = parts
        update["chromosomes"] = _ordered_union([*(c for p in parts for c in p.chromosomes), *head.chromosomes])
        update["breakpoints"] = [*head.breakpoints, *(b for p in parts for b in p.breakpoints)]
        update["breakpoint_groups"] = []
    return structs.replace(head, **update)


def _ordered_union(items: list[str]) -> list[str]:
    """Distinct items in first-seen order."""
    return list(dict.fromkeys(items))


def _read_segment(segment: _Segment) -> Abnormality | TokenError:
    """Read the chromosomes and bands of one segment into an aligned Abnormality."""
    if segment.symbol not in KIND_BY_SYMBOL:
        return TokenError(f"unknown abnormality '{segment.symbol}'")
    located = _locate(segment)
    if isinstance(located, TokenError):
        return located
    chromosomes, groups = located
    if segment.symbol == "t" and len(chromosomes) < 2:
        return TokenError(f"a translocation needs at least two chromosomes in '{segment.text}'")
    return Abnormality(
        text=segment.text,
        kind=KIND_BY_SYMBOL[segment.symbol],
        symbol=segment.symbol,
        chromosomes=chromosomes,
        breakpoints=[band for group in groups for band in group],
        breakpoint_groups=groups,
        uncertain="?" in segment.text,
    )


def _locate(segment: _Segment) -> tuple[list[str], list[list[str]]] | TokenError:
    """Chromosomes and one band group per chromosome, checked against each other."""
    chromosomes = parse_chromosome_list(segment.chromosome_text)
    if chromosomes is None:
        return _arm_form(segment)
    if segment.band_text is None:
        return chromosomes, []
    groups = parse_band_groups(segment.band_text)
    if groups is None:
        return TokenError(f"cannot read breakpoints '{segment.band_text}'")
    if len(groups) != len(chromosomes):
        return TokenError(
            f"{len(groups)} breakpoint group(s) for {len(chromosomes)} chromosome(s) in '{segment.text}'"
        )
    return chromosomes, groups


def _arm_form(segment: _Segment) -> tuple[list[str], list[list[str]]] | TokenError:
    """Accept the common informal `i(17q)` as `i(17)(q10)`; reject anything else."""
    arm = parse_arm_form(segment.chromosome_text)
    if arm is None or segment.symbol not in ("i", "idic") or segment.band_text is not None:
        return TokenError(f"cannot read chromosomes '{segment.chromosome_text}'")
    chromosome, arm_letter = arm
    return [chromosome], [[f"{arm_letter}10"]]


_READERS: tuple[Callable[[str, str], TokenResult | None], ...] = (
    _read_numerical,
    _read_marker,
    _read_unknown_ring,
    _read_double_minutes,
    _read_structural,
)
