"""Readers for the output files of the RNA-seq subtype classifiers.

Each reader turns one tool's table into :class:`ClassifierCall` s: the sample,
the label as the tool wrote it, a confidence in 0-1 when the tool gives one,
and whether the tool itself calls the result confident. The formats, from the
tools' own code:

- **ALLSorts** ``predictions.csv``: first column the sample, ``Prediction`` a
  subtype, several joined with ``,``, or ``Unclassified``; ``probabilities.csv``:
  one column per subtype (0-1), ``Pred`` and, with ``-ball True``, ``B-ALL``
  (``True``/``False``: ``False`` when the sample's expression is not typical of
  B-ALL, which makes the call unconfident). The sibling probabilities file is
  read when present for the called subtype's probability and that flag.
- **ALLCatchR** ``predictions.tsv`` (R ``write.table``, quoted): ``sample``,
  ``Score``, ``Prediction``, ``Confidence`` (``high-confidence`` | ``candidate``
  | ``unclassified``).
- **TALLSorts** one directory per hierarchy level (``Level_1_Level0``,
  ``Level_2_TAL_LMO``), each with ``predictions.csv`` (``Sample``,
  ``Predictions``: the top group only), ``probabilities.csv`` (``Sample`` and one
  column per group) and ``multi_calls.csv`` (samples with several groups above
  threshold: not a confident call). A sub-group call of a level below the first
  refines the level-1 call (same finding id) when level 1's files beside it show
  one group for the sample; its 'Unclassified' and its other calls get their own
  finding id, so they never replace the call of the level above.
- **MD-ALL** summary tables (tab or comma separated): ``sample_id`` (or ``id``);
  the integrated call ``subtype_final_possible`` (or ``subtype_final``) with
  ``confidence`` (``High`` is a confident call) when the table has it; else the
  expression calls ``phenoGraph_pred``/``subtype_phenograph`` and
  ``svm_pred``/``subtype_svm`` with their scores (``*_predScore``/``score_*``, or
  the share in the ``*_predLabel``/``*_label`` column ``DUX4,10(0.91)|...``):
  the two methods agreeing is a confident call, disagreeing is not, and the
  groups ``Ph``, ``KMT2A``, ``ZNF384``, ``ETV6::RUNX1`` are read as groups
  (fusion or -like), never as the fusion.

An empty or ``NA`` label is no call (``Unclassified``). A sample listed twice
with different calls is an error.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

from .labels import TOOL_NAMES, fold


class ClassifierFileError(ValueError):
    """A classifier file that cannot be read, with every problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ClassifierCall:
    tool: str
    sample: str
    label: str
    confidence: float | None
    confident: bool
    detail: str = ""
    scheme: str = ""  # another label table of the tool (MD-ALL "gep": expression-only calls)
    scope: str = ""  # part of the finding id besides tool and sample (TALLSorts level below the first)


MAX_TABLE_BYTES = 64 * 1024 * 1024


def read_table(path: Path, delimiter: str | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV/TSV (delimiter sniffed from the header line when not given).

    A byte-order mark and Windows line ends are read as a spreadsheet writes them.
    """
    if not path.is_file():
        raise ClassifierFileError([f"{path}: no such file"])
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise ClassifierFileError([f"{path}: larger than {MAX_TABLE_BYTES // (1024 * 1024)} MB; not a classifier result table"])
    raw = path.read_bytes()
    # A spreadsheet's "Unicode text" is UTF-16 with its byte-order mark; everything else is read as UTF-8.
    encoding = "utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise ClassifierFileError([f"{path}: not UTF-8 text"]) from None
    first = text.split("\n", 1)[0]
    # Tab, comma, or the semicolon spreadsheets write in comma-decimal locales: the one the header uses most.
    delimiter = delimiter or max(("\t", ",", ";"), key=first.count)
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]
    if not rows:
        raise ClassifierFileError([f"{path}: empty file"])
    header = [h.strip() for h in rows[0]]
    # A row cut short (a file truncated, trailing empty cells dropped by an editor) reads as empty cells, never as a
    # traceback in the reader that looks for its column.
    width = len(header)
    return header, [[c.strip() for c in row] + [""] * (width - len(row)) for row in rows[1:]]


@overload
def _column(header: list[str], path: Path, *names: str, required: Literal[True] = True) -> int: ...
@overload
def _column(header: list[str], path: Path, *names: str, required: bool) -> int | None: ...
def _column(header: list[str], path: Path, *names: str, required: bool = True) -> int | None:
    folded = [fold(h) for h in header]
    for name in names:
        if fold(name) in folded:
            return folded.index(fold(name))
    if required:
        raise ClassifierFileError([f"{path}: no column {names[0]!r} (columns: {', '.join(h for h in header if h) or 'none'})"])
    return None


MISSING = {"", "na", "nan", "<na>", "null", "none"}


def _label(text: str) -> str:
    """A call as written, or "" for no call (an empty cell, R's NA)."""
    return "" if text.strip().lower() in MISSING else text.strip()


def _probability(text: str, path: Path, row: int, column: str) -> float | None:
    if text.strip().lower() in MISSING:
        return None
    try:  # a decimal comma (0,874) as comma-decimal locales write it; a delimiter comma never reaches a cell
        value = float(text.replace(",", ".", 1) if "." not in text else text)
    except ValueError:
        raise ClassifierFileError([f"{path} row {row}: {column} {text!r} is not a number"]) from None
    if not 0 <= value <= 1:
        raise ClassifierFileError([f"{path} row {row}: {column} {value:g} is outside 0-1"])
    return value


NOT_SUBTYPES = {"pred", "true", "predictions", "prediction", "ball", "sample"}


def _probability_rows(path: Path, header: list[str], rows: list[list[str]]) -> dict[str, dict[str, float]]:
    """sample (first column) -> {label: probability} for every subtype column."""
    out = {}
    for n, row in enumerate(rows, 2):
        values = {}
        for i, name in enumerate(header[1:], 1):
            if fold(name) in NOT_SUBTYPES or i >= len(row):
                continue
            value = _probability(row[i], path, n, name)
            if value is not None:
                values[name] = value
        out[row[0]] = values
    return out


def _probabilities(path: Path) -> dict[str, dict[str, float]]:
    """The sibling probabilities table, when the tool wrote one (empty when absent)."""
    if not path.is_file():
        return {}
    header, rows = read_table(path)
    return _probability_rows(path, header, rows)


def _lookup(probabilities: dict[str, float], label: str) -> float | None:
    by_fold = {fold(k): v for k, v in probabilities.items()}
    return by_fold.get(fold(label))


def _allsorts_flags(header: list[str], rows: list[list[str]]) -> dict[str, str]:
    """sample -> the B-ALL flag (``True``/``False``) of ALLSorts ``-ball True``, when the table has it."""
    column = next((i for i, name in enumerate(header) if fold(name) == "ball"), None)
    return {} if column is None else {row[0]: row[column].strip() for row in rows if column < len(row)}


def read_allsorts(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    pred = _column(header, path, "Prediction", "Pred")
    if fold(header[pred]) == "pred":  # probabilities.csv given: it holds the calls too
        probabilities, flags = _probability_rows(path, header, rows), _allsorts_flags(header, rows)
    else:
        sibling = path.with_name("probabilities.csv")
        probabilities, flags = _probabilities(sibling), {}
        if sibling.is_file():
            flags = _allsorts_flags(*read_table(sibling))
    calls = []
    for row in rows:
        sample, label = row[0], _label(row[pred]) if pred < len(row) else ""
        labels = [part.strip() for part in label.split(",") if part.strip()] or ["Unclassified"]
        probs = probabilities.get(sample, {})
        if len(labels) > 1:
            values = [v for v in (_lookup(probs, x) for x in labels) if v is not None]
            calls.append(ClassifierCall("allsorts", sample, " / ".join(labels), min(values) if values else None, False,
                                        "several subtypes called"))
        elif fold(labels[0]) == "unclassified":
            calls.append(ClassifierCall("allsorts", sample, "Unclassified", max(probs.values()) if probs else None, False,
                                        "no subtype above its threshold"))
        elif fold(flags.get(sample, "")) == "false":
            calls.append(ClassifierCall("allsorts", sample, labels[0], _lookup(probs, labels[0]), False,
                                        "B-ALL flag False: the expression is not typical of B-ALL"))
        else:
            calls.append(ClassifierCall("allsorts", sample, labels[0], _lookup(probs, labels[0]), True))
    return calls


def read_allcatchr(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    sample, score, pred, tier = (_column(header, path, "sample"), _column(header, path, "Score"),
                                 _column(header, path, "Prediction"), _column(header, path, "Confidence"))
    calls = []
    for n, row in enumerate(rows, 2):
        level = _label(row[tier]).lower()
        confidence = _probability(row[score], path, n, "Score")
        label = _label(row[pred]) or "Unclassified"
        calls.append(ClassifierCall("allcatchr", row[sample], label, confidence, level == "high-confidence",
                                    f"tier {level}" if level else "no tier"))
    return calls


_TALLSORTS_LEVEL = re.compile(r"^Level_(\d+)_(.+)$")


def _multi_calls(path: Path) -> dict[str, list[tuple[str, float | None]]]:
    """TALLSorts ``multi_calls.csv``: sample -> [(group, probability), ...] (empty when absent)."""
    if not path.is_file():
        return {}
    _, rows = read_table(path)
    out = {}
    for n, row in enumerate(rows, 2):
        pairs = [(row[i], _probability(row[i + 1] if i + 1 < len(row) else "", path, n, "proba"))
                 for i in range(1, len(row), 2) if _label(row[i])]
        if pairs:
            out[row[0]] = pairs
    return out


def read_tallsorts(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    sample, pred = _column(header, path, "Sample", ""), _column(header, path, "Predictions", "Prediction")
    probabilities = _probabilities(path.with_name("probabilities.csv"))
    multi = _multi_calls(path.with_name("multi_calls.csv"))
    level = _TALLSORTS_LEVEL.match(path.parent.name)
    # Below the first level a file answers only for the samples of one group (Level_2_TAL_LMO: is it TAL2?). Its
    # 'Unclassified' means "no finer group", not "no group", and gets its own finding id so it never replaces the
    # level-1 call. A sub-group call refines the level-1 call (same finding id: TAL/LMO becomes TAL2) only when
    # level 1's own files, beside this directory, show one group for the sample; TALLSorts also sends the samples
    # of a level-1 multi-call down, and a refinement must not hide that ambiguity.
    scope = path.parent.name if level and int(level.group(1)) > 1 else ""
    first = path.parent.parent / "Level_1_Level0"
    first_multi = _multi_calls(first / "multi_calls.csv") if scope else {}
    calls = []
    for row in rows:
        label = _label(row[pred]) or "Unclassified"
        probs = probabilities.get(row[sample], {})
        if row[sample] in multi:
            groups = multi[row[sample]]
            values = [v for _, v in groups if v is not None]
            calls.append(ClassifierCall("tallsorts", row[sample], " / ".join(g for g, _ in groups), min(values) if values else None,
                                        False, "several groups called", scope=scope))
        elif fold(label) == "unclassified":
            detail = f"no sub-group of {level.group(2)} above its threshold" if scope and level else "no group above its threshold"
            calls.append(ClassifierCall("tallsorts", row[sample], "Unclassified", max(probs.values()) if probs else None, False,
                                        detail, scope=scope))
        elif scope and not (first / "predictions.csv").is_file():
            calls.append(ClassifierCall("tallsorts", row[sample], label, _lookup(probs, label), False,
                                        "level-1 results not found beside it (Level_1_Level0)", scope=scope))
        elif scope and row[sample] in first_multi:
            calls.append(ClassifierCall("tallsorts", row[sample], label, _lookup(probs, label), False,
                                        "level 1 called several groups", scope=scope))
        else:
            calls.append(ClassifierCall("tallsorts", row[sample], label, _lookup(probs, label), True,
                                        f"sub-group of {level.group(2)}" if scope and level else ""))
    return calls


_SHARE = re.compile(r"^(?P<label>.+?),\s*\d+\s*\((?P<share>[0-9.]+)\)$")


def _share(text: str, label: str) -> str:
    """A method's share for ``label`` from MD-ALL's label column (``DUX4,10(0.91)|ZNF384,1(0.09)``), or ""."""
    for part in text.split("|"):
        match = _SHARE.match(part.strip())
        if match and fold(match["label"]) == fold(label):
            return match["share"]
    return ""


def _mdall_final(path: Path, header: list[str], rows: list[list[str]], sample: int, final: int) -> list[ClassifierCall]:
    """MD-ALL's integrated call (expression, fusions, mutations, copy number): confident when it says ``High``."""
    confidence, stage = _column(header, path, "confidence", required=False), _column(header, path, "stage", required=False)
    calls = []
    for row in rows:
        cell = _cells(row)
        label = _label(cell(final)) or "Unclassified"
        level = _label(cell(confidence)) if confidence is not None else ""
        detail = f"integrated call, confidence {level or 'not given'}" + (f", {cell(stage)}" if stage is not None and _label(cell(stage)) else "")
        calls.append(ClassifierCall("mdall", row[sample], label, None, level.lower() == "high", detail))
    return calls


def _cells(row: list[str]) -> Callable[[int | None], str]:
    """The cell of a column in a row ("" for no column, or a row cut short)."""
    return lambda i: row[i] if i is not None and i < len(row) else ""


def read_mdall(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    sample = _column(header, path, "sample_id", "id", "sample")
    final = _column(header, path, "subtype_final_possible", "subtype_final", required=False)
    if final is not None:
        return _mdall_final(path, header, rows, sample, final)

    def columns(*names: str) -> int | None:
        return _column(header, path, *names, required=False)

    methods = (("PhenoGraph", columns("phenoGraph_pred", "subtype_phenograph"), columns("phenoGraph_predScore", "score_phenograph"),
                columns("phenoGraph_predLabel", "subtype_phenograph_label")),
               ("SVM", columns("svm_pred", "subtype_svm"), columns("svm_predScore", "score_svm"),
                columns("svm_predLabel", "subtype_svm_label")))
    if all(label_col is None for _, label_col, _, _ in methods):
        raise ClassifierFileError([f"{path}: no MD-ALL call column: subtype_final_possible, phenoGraph_pred/subtype_phenograph or "
                                   f"svm_pred/subtype_svm (columns: {', '.join(header)})"])
    calls = []
    for n, row in enumerate(rows, 2):
        cell = _cells(row)
        votes = []
        for name, label_col, score_col, share_col in methods:
            label = _label(cell(label_col))
            if not label:
                continue
            text = cell(score_col) if score_col is not None else _share(cell(share_col), label)
            votes.append((name, label, _probability(text, path, n, header[score_col] if score_col is not None else f"{name} share")))
        if not votes:
            calls.append(ClassifierCall("mdall", row[sample], "Unclassified", None, False, "no prediction", scheme="gep"))
            continue
        labels = {fold(label) for _, label, _ in votes}
        scores = [s for _, _, s in votes if s is not None]
        if len(labels) == 1:
            detail = "PhenoGraph and SVM agree" if len(votes) == 2 else f"{votes[0][0]} only"
            calls.append(ClassifierCall("mdall", row[sample], votes[0][1], min(scores) if scores else None, len(votes) == 2, detail,
                                        scheme="gep"))
        else:
            detail = " vs ".join(f"{name} {label}" + (f" ({score:g})" if score is not None else "") for name, label, score in votes)
            calls.append(ClassifierCall("mdall", row[sample], votes[0][1], min(scores) if scores else None, False,
                                        f"methods disagree: {detail}", scheme="gep"))
    return calls


READERS = {"allsorts": read_allsorts, "allcatchr": read_allcatchr, "tallsorts": read_tallsorts, "mdall": read_mdall}


# Columns only one tool writes: a file given with the wrong --tool is refused, not read with another tool's
# meaning (an ALLCatchR table read as ALLSorts' would lose its Confidence tier: a 'candidate' call made confident).
_SIGNATURES = (
    ("mdall", ("phenographpred", "svmpred", "subtypephenograph", "subtypesvm", "subtypefinalpossible")),
    ("allcatchr", ("blastcounts", "scoreimmuno", "scoresex")),
    ("allcatchr", ("confidence",)),
    ("tallsorts", ("predictions",)),
    ("allsorts", ("prediction", "pred")),
)


def written_by(header: list[str]) -> str | None:
    """The tool whose output has these columns (None when none is recognised)."""
    folded = {fold(name) for name in header}
    return next((tool for tool, columns in _SIGNATURES if folded & set(columns)), None)


def read_calls(tool: str, path: str | Path) -> list[ClassifierCall]:
    """Every call in one output file of ``tool``."""
    if tool not in READERS:
        raise ClassifierFileError([f"unknown tool {tool!r}; choose one of: {', '.join(READERS)}"])
    other = written_by(read_table(Path(path))[0])
    if other is not None and other != tool:
        raise ClassifierFileError([f"{path}: the columns are those of {TOOL_NAMES[other]}, not {TOOL_NAMES[tool]}: "
                                   f"give --tool {other} if it is that tool's output"])
    calls = READERS[tool](Path(path))
    if not calls:
        raise ClassifierFileError([f"{path}: no samples in this {TOOL_NAMES[tool]} file"])
    # One finding per sample: the same sample twice with different calls cannot be told apart, never the last one kept.
    first: dict[str, ClassifierCall] = {}
    problems = []
    for call in calls:
        if not call.sample.strip():
            problems.append(f"{path}: a row without a sample id")
        elif call.sample in first and first[call.sample] != call:
            problems.append(f"{path}: sample {call.sample!r} is listed twice with different calls "
                            f"({first[call.sample].label!r} and {call.label!r})")
        first.setdefault(call.sample, call)
    if problems:
        raise ClassifierFileError(list(dict.fromkeys(problems)))
    return list(first.values())
