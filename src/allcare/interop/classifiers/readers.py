"""Readers for the output files of the RNA-seq subtype classifiers.

Each reader turns one tool's table into :class:`ClassifierCall` s: the sample,
the label as the tool wrote it, a confidence in 0-1 when the tool gives one,
and whether the tool itself calls the result confident. The formats, from the
tools' own code:

- **ALLSorts** ``predictions.csv``: first column the sample, ``Prediction`` a
  subtype, several joined with ``,``, or ``Unclassified``; ``probabilities.csv``:
  one column per subtype (0-1) and ``Pred``. The sibling probabilities file is
  read when present for the called subtype's probability.
- **ALLCatchR** ``predictions.tsv`` (R ``write.table``, quoted): ``sample``,
  ``Score``, ``Prediction``, ``Confidence`` (``high-confidence`` | ``candidate``
  | ``unclassified``).
- **TALLSorts** ``predictions.csv`` (``Sample``, ``Predictions``) and
  ``probabilities.csv`` (``Sample`` and one column per group).
- **MD-ALL** summary table (tab or comma separated): ``sample_id`` (or ``id``),
  ``phenoGraph_pred``, ``phenoGraph_predScore``, ``svm_pred``, ``svm_predScore``;
  the two methods agreeing is a confident call, disagreeing is not.
"""

from __future__ import annotations

import csv
import io
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


MAX_TABLE_BYTES = 64 * 1024 * 1024


def read_table(path: Path, delimiter: str | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV/TSV (delimiter sniffed from the header line when not given).

    A byte-order mark and Windows line ends are read as a spreadsheet writes them.
    """
    if not path.is_file():
        raise ClassifierFileError([f"{path}: no such file"])
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise ClassifierFileError([f"{path}: larger than {MAX_TABLE_BYTES // (1024 * 1024)} MB; not a classifier result table"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ClassifierFileError([f"{path}: not UTF-8 text"]) from None
    first = text.split("\n", 1)[0]
    # Tab, comma, or the semicolon spreadsheets write in comma-decimal locales: the one the header uses most.
    delimiter = delimiter or max(("\t", ",", ";"), key=first.count)
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]
    if not rows:
        raise ClassifierFileError([f"{path}: empty file"])
    return [h.strip() for h in rows[0]], [[c.strip() for c in row] for row in rows[1:]]


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


def _probability(text: str, path: Path, row: int, column: str) -> float | None:
    if text in ("", "NA", "NaN", "nan"):
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


def read_allsorts(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    pred = _column(header, path, "Prediction", "Pred")
    if fold(header[pred]) == "pred":  # probabilities.csv given: it holds the calls too
        probabilities = _probability_rows(path, header, rows)
    else:
        probabilities = _probabilities(path.with_name("probabilities.csv"))
    calls = []
    for row in rows:
        sample, label = row[0], row[pred] if pred < len(row) else ""
        labels = [part.strip() for part in label.split(",") if part.strip()] or ["Unclassified"]
        probs = probabilities.get(sample, {})
        if len(labels) > 1:
            values = [v for v in (_lookup(probs, x) for x in labels) if v is not None]
            calls.append(ClassifierCall("allsorts", sample, " / ".join(labels), min(values) if values else None, False,
                                        "several subtypes called"))
        elif fold(labels[0]) == "unclassified":
            calls.append(ClassifierCall("allsorts", sample, "Unclassified", max(probs.values()) if probs else None, False,
                                        "no subtype above its threshold"))
        else:
            calls.append(ClassifierCall("allsorts", sample, labels[0], _lookup(probs, labels[0]), True))
    return calls


def read_allcatchr(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    sample, score, pred, tier = (_column(header, path, "sample"), _column(header, path, "Score"),
                                 _column(header, path, "Prediction"), _column(header, path, "Confidence"))
    calls = []
    for n, row in enumerate(rows, 2):
        level = row[tier].strip().lower()
        confidence = _probability(row[score], path, n, "Score")
        label = row[pred] or "Unclassified"
        calls.append(ClassifierCall("allcatchr", row[sample], label, confidence, level == "high-confidence", f"tier {level}"))
    return calls


def read_tallsorts(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    sample, pred = _column(header, path, "Sample", ""), _column(header, path, "Predictions", "Prediction")
    probabilities = _probabilities(path.with_name("probabilities.csv"))
    calls = []
    for row in rows:
        label = row[pred] or "Unclassified"
        probs = probabilities.get(row[sample], {})
        if fold(label) == "unclassified":
            calls.append(ClassifierCall("tallsorts", row[sample], "Unclassified", max(probs.values()) if probs else None, False,
                                        "no group above its threshold"))
        else:
            calls.append(ClassifierCall("tallsorts", row[sample], label, _lookup(probs, label), True))
    return calls


def read_mdall(path: Path) -> list[ClassifierCall]:
    header, rows = read_table(path)
    sample = _column(header, path, "sample_id", "id", "sample")
    pg, pg_score = _column(header, path, "phenoGraph_pred", required=False), _column(header, path, "phenoGraph_predScore", required=False)
    svm, svm_score = _column(header, path, "svm_pred", required=False), _column(header, path, "svm_predScore", required=False)
    if pg is None and svm is None:
        raise ClassifierFileError([f"{path}: neither phenoGraph_pred nor svm_pred column (columns: {', '.join(header)})"])
    calls = []
    for n, row in enumerate(rows, 2):
        votes = []
        for name, label_col, score_col in (("PhenoGraph", pg, pg_score), ("SVM", svm, svm_score)):
            if label_col is None or not row[label_col]:
                continue
            score = _probability(row[score_col], path, n, header[score_col]) if score_col is not None else None
            votes.append((name, row[label_col], score))
        if not votes:
            calls.append(ClassifierCall("mdall", row[sample], "Unclassified", None, False, "no prediction"))
            continue
        labels = {fold(label) for _, label, _ in votes}
        scores = [s for _, _, s in votes if s is not None]
        if len(labels) == 1:
            detail = "PhenoGraph and SVM agree" if len(votes) == 2 else f"{votes[0][0]} only"
            calls.append(ClassifierCall("mdall", row[sample], votes[0][1], min(scores) if scores else None, len(votes) == 2, detail))
        else:
            detail = " vs ".join(f"{name} {label}" + (f" ({score:g})" if score is not None else "") for name, label, score in votes)
            calls.append(ClassifierCall("mdall", row[sample], votes[0][1], min(scores) if scores else None, False, f"methods disagree: {detail}"))
    return calls


READERS = {"allsorts": read_allsorts, "allcatchr": read_allcatchr, "tallsorts": read_tallsorts, "mdall": read_mdall}


def read_calls(tool: str, path: str | Path) -> list[ClassifierCall]:
    """Every call in one output file of ``tool``."""
    if tool not in READERS:
        raise ClassifierFileError([f"unknown tool {tool!r}; choose one of: {', '.join(READERS)}"])
    calls = READERS[tool](Path(path))
    if not calls:
        raise ClassifierFileError([f"{path}: no samples in this {TOOL_NAMES[tool]} file"])
    return calls
