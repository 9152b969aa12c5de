"""``allcare import ...`` and ``allcare export ...``: FHIR and classifier files without the store.

Errors follow the rest of the CLI: anything the user can fix raises the main
module's ``InvalidInput`` (every problem listed, exit status 2). Output files
are written atomically (a temporary file in the same directory, then renamed),
so an interrupted or failed import never leaves a half-written case file.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from ..interop.casefile import CaseFileError, dump_case, load_case
from .console import SafeConsole as Console

if TYPE_CHECKING:
    from ..interop.fhir import MappingReport
    from ..interop.fhir.assemble import PatientImport

import_app = typer.Typer(name="import", help="Import case files, FHIR R4 or classifier results.", no_args_is_help=True)
export_app = typer.Typer(name="export", help="Export a stored patient as a case file, or a case file as FHIR R4 (mCODE-aligned).", no_args_is_help=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

MB = 1024 * 1024


def invalid(title: str, problems: list[str]) -> Exception:
    """The CLI's InvalidInput (imported late: cli.main imports this module)."""
    from .main import InvalidInput

    return InvalidInput(title, problems)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_case(path: Path):
    try:
        return load_case(path)
    except CaseFileError as error:
        raise invalid(str(path), [f"{path}: {p}" for p in error.problems]) from None


def _format_of(path: Path) -> str:
    return "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"


# export -------------------------------------------------------------------------------
@export_app.command("fhir")
def export_fhir(
    case: list[Path] | None = typer.Option(None, "--case", help="case file (JSON or YAML); repeat for several with --ndjson"),
    output: Path | None = typer.Option(None, "-o", "--output", help="Bundle file to write (default: standard output)"),
    ndjson: Path | None = typer.Option(None, "--ndjson", help="write bulk NDJSON (<Type>.ndjson) into DIR: the --case "
                                                                "files, or without --case every patient in the store"),
    as_of: str | None = typer.Option(None, "--as-of", help="assessment date (YYYY-MM-DD); default: latest finding"),
    with_assessment: bool = typer.Option(True, "--assessment/--no-assessment", help="include allcare's conclusions"),
    base_url: str | None = typer.Option(None, "--base-url", help="absolute base for Bundle.entry.fullUrl"),
) -> None:
    """Write a case (and its assessment) as an mCODE-aligned FHIR R4 Bundle, or cases / the store as bulk NDJSON."""
    from ..clock import assessment_date
    from ..engine import assess
    from ..interop.fhir import bundle_json
    from .main import parse_as_of

    when = parse_as_of(as_of)
    if ndjson is not None:
        _export_ndjson(ndjson, case or [], when, with_assessment)
        return
    if not case or len(case) != 1:
        raise invalid("options", ["give one --case CASE for a Bundle (or --ndjson DIR for several)"])
    loaded = _load_case(case[0])
    assessment = assess(loaded, as_of=assessment_date(loaded, when)) if with_assessment else None
    text = json.dumps(bundle_json(loaded, assessment, base_url=base_url), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    write_atomic(output, text)
    count = text.count('"resourceType"') - 1
    err.print(f"wrote {output} ({count} resources)", markup=False)


def _export_ndjson(directory: Path, cases: list[Path], when, with_assessment: bool) -> None:
    """Bulk NDJSON of case files, or of every stored patient (one read, assessed and written at a time)."""
    from ..interop.fhir.bulk_export import write_ndjson
    from ..store.assessments import run_engine

    def from_files():
        for path in cases:
            loaded = _load_case(path)
            yield loaded, run_engine(loaded, when) if with_assessment else None, ()

    def from_store():
        from ..store.cases import export_every_case
        from .app_commands import _actor, _store

        store = _store()
        try:
            for loaded, identifiers in export_every_case(store, _actor()):
                yield loaded, run_engine(loaded, when) if with_assessment else None, identifiers
        finally:
            store.dispose()

    counts = write_ndjson(directory, from_files() if cases else from_store())
    summary = ", ".join(f"{rtype} {n}" for rtype, n in sorted(counts.items())) or "no resources"
    err.print(f"wrote {directory}: {summary}", markup=False)


# import fhir -----------------------------------------------------------------------------
@import_app.command("fhir")
def import_fhir(
    files: list[Path] = typer.Argument(..., help="FHIR R4 Bundle JSON files, or bulk-export NDJSON files (*.ndjson, *.ndjson.gz)"),
    to_case: Path | None = typer.Option(None, "--to-case", help="instead of the store: a case file (one patient), merged if it exists"),
    to_case_dir: Path | None = typer.Option(None, "--to-case-dir", help="instead of the store: one <patient>.json per patient in DIR"),
    max_size_mb: float = typer.Option(256, "--max-size", help="largest Bundle file accepted, MB (NDJSON: per file, x32)"),
    fhir_version: str | None = typer.Option(None, "--fhir-version", help="declared FHIR version of the files (must be R4/R4B)"),
    report: Path | None = typer.Option(None, "--report", help="write the per-resource mapping report (JSON)"),
    strict: bool = typer.Option(False, "--strict", help="also validate every element of every resource with the R4B models (slower)"),
) -> None:
    """Import FHIR resources into the store (default) or into case files; every unmapped resource is reported.

    Each patient is stored whole or not at all; importing the same resources
    again changes nothing (findings are matched by resource id).
    """
    from ..interop.fhir import FhirInputError

    if to_case is not None and to_case_dir is not None:
        raise invalid("options", ["give at most one of --to-case CASE or --to-case-dir DIR (neither: into the store)"])
    ndjson = [f for f in files if f.name.lower().endswith((".ndjson", ".ndjson.gz"))]
    if ndjson and len(ndjson) != len(files):
        raise invalid("files", ["give either Bundle JSON files or NDJSON files, not both in one import"])
    limit = int(max_size_mb * MB)
    writer = CaseWriter(to_case, to_case_dir, report) if to_case or to_case_dir else StoreWriter(report)
    try:
        if ndjson:
            _import_ndjson(files, limit * 32, fhir_version, writer, strict)
        else:
            _import_bundles(files, limit, fhir_version, writer, strict)
    except FhirInputError as error:
        raise invalid("FHIR input", [str(p) for p in error.problems]) from None
    writer.finish()


def _import_bundles(files: list[Path], limit: int, fhir_version: str | None, writer: CaseWriter, strict: bool) -> None:
    from ..interop.fhir import FhirInputError, FhirProblem, PatientOutcome, import_resources
    from ..interop.fhir.reader import bundle_entries, parse_json

    entries, problems = [], []
    for path in files:
        if not path.is_file():
            problems.append(FhirProblem(str(path), "", "no such file"))
            continue
        if path.stat().st_size > limit:
            problems.append(FhirProblem(str(path), "", f"{path.stat().st_size:,} bytes is over the limit of {limit:,} bytes "
                                                      "(--max-size); large exports should be bulk NDJSON"))
            continue
        try:
            parsed = parse_json(path.read_bytes(), str(path), limit)
            entries += [(f"{path.name} {where}", raw, url) for where, raw, url in bundle_entries(parsed, str(path))]
        except FhirInputError as error:
            problems += error.problems
    if problems:
        raise FhirInputError(problems)
    result = import_resources(entries, fhir_version=fhir_version, strict=strict)
    outcomes = [PatientOutcome(p.case.patient.id, imported=p) for p in result.patients]
    outcomes += [PatientOutcome(ref, problems=problems) for ref, problems in result.failed.items()]
    writer.expect(len(outcomes))
    for outcome in outcomes:
        writer.accept(outcome)
    writer.bundle_report = result.report


def _import_ndjson(files: list[Path], limit: int, fhir_version: str | None, writer: CaseWriter, strict: bool) -> None:
    """Stream a bulk import: each patient's case is written as soon as it is ready, then forgotten."""
    import time

    from ..interop.fhir import NdjsonImport

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[resources]:,} resources"), TextColumn("{task.fields[rate]} resources/s"),
               TimeRemainingColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("scanning", total=None, resources=0, rate="-")
        started = time.monotonic()

        def show(p) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            done = p.bytes_done + (p.bytes_total if p.stage == "import" else 0)
            bar.update(task, description="scanning" if p.stage == "scan" else "importing", total=2 * max(p.bytes_total, 1),
                       completed=done, resources=p.resources, rate=f"{p.resources / elapsed:,.0f}")

        job = NdjsonImport(files, progress=show, max_bytes=limit, fhir_version=fhir_version, strict=strict,
                           workers=os.cpu_count() or 1)
        for outcome in job.patients():
            writer.accept(outcome)
    writer.bundle_report = job.report


class CaseWriter:
    """Writes each imported patient's case file atomically (merged into an existing one) and collects problems."""

    def __init__(self, to_case: Path | None, to_case_dir: Path | None, report_path: Path | None):
        self.to_case, self.to_case_dir, self.report_path = to_case, to_case_dir, report_path
        self.pending: list[PatientImport] = []
        self.problems: list[str] = []
        self.reports: dict[str, dict] = {}
        self.failed: dict[str, list[str]] = {}
        self.written = 0
        self.bundle_report: MappingReport | None = None

    def expect(self, count: int) -> None:
        if self.to_case is not None and count != 1:
            raise invalid("--to-case", [f"--to-case takes one patient; the input has {count}; use --to-case-dir"])

    def accept(self, outcome) -> None:
        if outcome.imported is None:
            self.failed[outcome.patient_ref] = [str(p) for p in outcome.problems]
            self.problems += self.failed[outcome.patient_ref]
        elif self.to_case is not None:
            self.pending.append(outcome.imported)  # one patient: written when the input is known to hold only it
            self.expect(len(self.pending) + len(self.failed))
        elif self.to_case_dir is not None:
            self._write(_case_path(self.to_case_dir, outcome.imported.case.patient.id), outcome.imported, detail=False)
        else:
            raise RuntimeError("CaseWriter writes to --to-case or --to-case-dir; neither was given")

    def _write(self, target: Path, imported, detail: bool) -> None:
        from ..interop.fhir import MergeError, merge_cases

        existing = _load_case(target) if target.exists() else None
        try:
            merged = merge_cases(existing, imported.case)
        except MergeError as error:
            self.problems.append(f"{target}: {error}")
            return
        write_atomic(target, dump_case(merged, _format_of(target)))
        self.written += 1
        r = imported.report
        err.print(f"{target}: {len(imported.case.findings)} findings; {r.summary()}", markup=False)
        if detail:
            for entry in r.not_mapped()[:30]:
                err.print(f"  - {entry.status}: {entry.resource}: {entry.reason}", markup=False)
            if len(r.not_mapped()) > 30:
                err.print(f"  ... {len(r.not_mapped()) - 30} more (see --report)", markup=False)
            for line in r.source_conclusions:
                err.print(f"  for comparison: {line}", markup=False)
        if self.report_path is not None:
            self.reports[str(target)] = r.to_json()

    def finish(self) -> None:
        if self.to_case is not None:
            self.expect(len(self.pending) + len(self.failed))
            if not self.problems:
                for imported in self.pending:
                    self._write(self.to_case, imported, detail=True)
        if self.bundle_report is not None and self.bundle_report.total:
            err.print(f"not about a patient: {self.bundle_report.summary()}", markup=False)
        if self.report_path is not None:
            data = {"patients": self.reports, "failed": self.failed,
                    "not_about_a_patient": self.bundle_report.to_json() if self.bundle_report else None}
            write_atomic(self.report_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        if self.problems:
            raise invalid("FHIR input", self.problems)


class StoreWriter(CaseWriter):
    """Stores each imported patient in the record store, one transaction per patient."""

    def __init__(self, report_path: Path | None):
        super().__init__(None, None, report_path)
        from .app_commands import _actor, _store

        self.store, self.actor = _store(), _actor()
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}

    def accept(self, outcome) -> None:
        from ..store.cases import merge_case
        from ..store.errors import Conflict, InvalidRecord

        if outcome.imported is None:
            super().accept(outcome)
            return
        case, report = outcome.imported.case, outcome.imported.report
        try:
            with self.store.transaction() as session:
                result = merge_case(session, self.actor, case, outcome.imported.identifiers)
        except InvalidRecord as error:
            self.failed[case.patient.id] = [f"{case.patient.id}: {where}: {what}" for where, what in error.problems]
            self.problems += self.failed[case.patient.id]
            return
        except Conflict as error:
            self.failed[case.patient.id] = [f"{case.patient.id}: {error}"]
            self.problems += self.failed[case.patient.id]
            return
        self.counts[result.action] += 1
        self.written += 1
        change = f"+{result.added} findings, {result.replaced} replaced" if result.action == "updated" else (
            f"{result.added} findings" if result.action == "created" else "nothing new")
        err.print(f"patient {result.patient.id} ({case.patient.id}): {result.action}, {change}; {report.summary()}",
                  markup=False)
        if self.report_path is not None:
            self.reports[case.patient.id] = report.to_json()

    def finish(self) -> None:
        err.print(", ".join(f"{n} {action}" for action, n in self.counts.items()) + " patient(s)", markup=False)
        self.store.dispose()
        super().finish()


def _case_path(directory: Path, patient_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", patient_id)
    for suffix in (".json", ".yaml", ".yml"):
        if (directory / f"{safe}{suffix}").exists():
            return directory / f"{safe}{suffix}"
    return directory / f"{safe}.json"


# import classifier -----------------------------------------------------------------------
@import_app.command("classifier")
def import_classifier(
    file: Path = typer.Argument(..., help="the tool's output (ALLSorts predictions.csv, ALLCatchR predictions.tsv, ...)"),
    tool: str = typer.Option(..., "--tool", help="allsorts | allcatchr | tallsorts | mdall"),
    patient_map: Path = typer.Option(..., "--patient-map", help="CSV with columns sample, patient, date"),
    to_case_dir: Path = typer.Option(..., "--to-case-dir", help="directory of case files (<patient>.json|yaml), created or updated"),
    tool_version: str = typer.Option("", "--tool-version", help="the tool's version (e.g. 0.4.0), kept in each finding's source"),
) -> None:
    """Add each sample's subtype call (genetics.expression_subtype + confidence) to its patient's case file."""
    from ..engine.case import CASE_SCHEMA, CaseValidationError, case_from_dict
    from ..interop.classifiers import TOOLS, ClassifierFileError, findings_by_patient, read_calls, read_patient_map
    from ..interop.fhir import merge_cases

    tool = tool.lower().replace("-", "")
    if tool not in TOOLS:
        raise invalid("--tool", [f"--tool: unknown tool {tool!r}; choose one of: {', '.join(TOOLS)}"])
    tool_version = tool_version.strip()
    if len(tool_version) > 40 or not tool_version.isprintable():
        raise invalid("--tool-version", ["--tool-version: at most 40 printable characters (e.g. 0.4.0)"])
    try:
        calls = read_calls(tool, file)
        samples = read_patient_map(patient_map)
        by_patient = findings_by_patient(calls, samples, file.name, tool_version)
    except ClassifierFileError as error:
        raise invalid("classifier input", error.problems) from None
    updates, problems = [], []
    # Two patient ids that differ only in characters a file name cannot hold (A/1, A_1) would share one case file.
    owners: dict[Path, list[str]] = {}
    for patient in by_patient:
        owners.setdefault(_case_path(to_case_dir, patient), []).append(patient)
    problems += [f"patients {', '.join(map(repr, names))} would share the case file {target}; give them distinct ids in the "
                 "patient map" for target, names in owners.items() if len(names) > 1]
    for patient, findings in by_patient.items():
        target = _case_path(to_case_dir, patient)
        existing = _load_case(target) if target.exists() else None
        try:
            incoming = case_from_dict({"schema": CASE_SCHEMA, "patient": {"id": patient}, "findings": findings})
            updates.append((target, merge_cases(existing, incoming), len(findings)))
        except CaseValidationError as error:
            problems += [f"{patient}: {p}" for p in error.problems]
        except ValueError as error:
            problems.append(f"{target}: {error}")
    if problems:
        raise invalid("classifier input", problems)
    for target, case, count in updates:
        write_atomic(target, dump_case(case, _format_of(target)))
        err.print(f"{target}: {count} classifier result(s) written", markup=False)
