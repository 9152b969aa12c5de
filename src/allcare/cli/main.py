"""The ``allcare`` command line.

Exit codes are a contract for scripts: 0 assessed, 2 invalid input (every
problem printed at once), 1 internal error (one line and a hint to report it,
never a traceback).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import Enum
from pathlib import Path

import msgspec
import typer

from .. import DISCLAIMER
from ..clock import assessment_date
from ..engine import DEFAULT_RULES, RuleSet, assess, assessment_to_json
from ..engine.case.models import EARLIEST_DATE, LATEST_DATE
from ..engine.karyotype import describe, parse_under_rules
from ..interop.casefile import CaseFileError, load_case
from ..rules_file import RulesFileError, read_rules_file
from . import render
from .app_commands import app_commands
from .console import SafeConsole as Console

EXIT_OK, EXIT_INTERNAL, EXIT_INVALID = 0, 1, 2

app = typer.Typer(
    name="allcare",
    help="Explainable decision support for acute lymphoblastic leukaemia. " + DISCLAIMER,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class InvalidInput(Exception):
    """Input the user can fix: printed as a list of problems, exit status 2."""

    def __init__(self, title: str, problems: list[str]):
        self.title = title
        self.problems = problems
        super().__init__(title)


def parse_as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    if value == "today":
        return dt.date.today()
    try:
        when = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("--as-of", [f"--as-of: {value!r} is not a date; use YYYY-MM-DD or 'today'"]) from None
    if not EARLIEST_DATE <= when <= LATEST_DATE:
        raise InvalidInput("--as-of", [f"--as-of: {value} is outside {EARLIEST_DATE} .. {LATEST_DATE}"])
    return when


def _load_rules(path: Path | None) -> RuleSet:
    if path is None:
        return DEFAULT_RULES
    try:
        return read_rules_file(path)
    except RulesFileError as error:
        raise InvalidInput(str(path), [f"{path}: {problem}" for problem in error.problems]) from None


def _load(case_path: Path):
    try:
        return load_case(case_path)
    except CaseFileError as error:
        raise InvalidInput(str(case_path), [str(p) for p in error.problems]) from None


@app.command("assess")
def assess_command(
    case: Path = typer.Argument(..., help="case file (JSON or YAML, schema allcare.case/1)"),
    as_of: str | None = typer.Option(None, "--as-of", help="assessment date (YYYY-MM-DD or 'today'); default: latest finding"),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f", help="text summary or allcare.assessment/3 JSON"),
    rules: Path | None = typer.Option(None, "--rules", help="rule-set overrides (JSON or YAML)"),
) -> None:
    """Assess one case: diagnosis, codes, counts, CNS, risk, response, alerts."""
    loaded = _load(case)
    result = assess(loaded, as_of=assessment_date(loaded, parse_as_of(as_of)), rules=_load_rules(rules))
    if fmt is OutputFormat.json:
        sys.stdout.write(msgspec.json.format(assessment_to_json(result), indent=2).decode() + "\n")
    else:
        out.print(render.summary(result))


@app.command("explain")
def explain_command(
    case: Path = typer.Argument(..., help="case file (JSON or YAML)"),
    as_of: str | None = typer.Option(None, "--as-of", help="assessment date (YYYY-MM-DD or 'today')"),
    rules: Path | None = typer.Option(None, "--rules", help="rule-set overrides (JSON or YAML)"),
) -> None:
    """Print the derivation trail: every conclusion with its rule, source, evidence and what is missing."""
    loaded = _load(case)
    result = assess(loaded, as_of=assessment_date(loaded, parse_as_of(as_of)), rules=_load_rules(rules))
    out.print(render.trail(result))


@app.command("karyotype")
def karyotype_command(
    text: str = typer.Argument(..., help='ISCN karyotype, e.g. "46,XY,t(9;22)(q34;q11.2)[20]"'),
    fmt: OutputFormat = typer.Option(OutputFormat.text, "--format", "-f"),
    rules: Path | None = typer.Option(None, "--rules", help="rule-set overrides (JSON or YAML)"),
) -> None:
    """Parse an ISCN 2020 karyotype and print what it says (complex and iAMP21 lines from the rule set)."""
    parsed = parse_under_rules(text, _load_rules(rules))
    if fmt is OutputFormat.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(parsed), indent=2).decode() + "\n")
        return
    for line in describe(parsed):
        out.print(line, markup=False)


@app.command("validate")
def validate_command(cases: list[Path] = typer.Argument(..., help="case files to check")) -> None:
    """Check case files against allcare.case/1 without assessing them."""
    problems: list[str] = []
    for path in cases:
        try:
            load_case(path)
            out.print(f"{path}: valid", markup=False)
        except CaseFileError as error:
            problems += [f"{path}: {p}" for p in error.problems]
    if problems:
        raise InvalidInput("invalid case files", problems)


@app.command("schema")
def schema_command(
    which: str = typer.Argument("case", help="'case', 'assessment' or 'rules'"),
) -> None:
    """Print the JSON Schema of the case file, the assessment output or the rule set."""
    from ..engine.schemas import json_schema

    try:
        schema = json_schema(which)
    except KeyError:
        raise InvalidInput("schema", [f"unknown schema {which!r}; choose case, assessment or rules"]) from None
    sys.stdout.write(json.dumps(schema, indent=2) + "\n")


@app.command("rule-catalogue")
def rule_catalogue_command(
    write: Path | None = typer.Option(None, "--write", help="rewrite the catalogue section of this file (docs/rules.md)"),
) -> None:
    """Print the rule catalogue (every rule id, its parameters and source) generated from the rule registry."""
    from ..rule_catalogue import CatalogueMarkersMissing, render_catalogue, with_catalogue

    if write is None:
        sys.stdout.write(render_catalogue() + "\n")
        return
    try:
        write.write_text(with_catalogue(write.read_text(encoding="utf-8")), encoding="utf-8")
    except (OSError, CatalogueMarkersMissing) as error:
        raise InvalidInput("--write", [f"{write}: {error}"]) from None


# serve, demo, backup, restore, users, import ..., export ...
app.add_typer(app_commands)


def run() -> None:
    """Console-script entry point: map every failure onto the documented exit codes."""
    try:
        status = app(standalone_mode=False)  # a command's typer.Exit(code) comes back as its code
    except InvalidInput as error:
        err.print(f"[bold red]Invalid input[/] ({len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}):")
        for problem in error.problems:
            err.print(f"  - {problem}", markup=False)
        sys.exit(EXIT_INVALID)
    except SystemExit:
        raise
    except Exception as error:  # noqa: BLE001 - the last line of defence for users
        if _is_usage_error(error):
            error.show()  # type: ignore[attr-defined]
            sys.exit(EXIT_INVALID)
        if _is_abort(error):
            err.print("Aborted.")
            sys.exit(EXIT_INTERNAL)
        if isinstance(error, RecursionError):  # input nested deeper than any reader follows
            err.print("[bold red]Invalid input[/] (1 problem):\n  - the input is nested too deeply")
            sys.exit(EXIT_INVALID)
        err.print(f"allcare: internal error ({_error_kind(error)}). This is a bug; please report it with the "
                  "command you ran (no patient data).", markup=False)
        sys.exit(EXIT_INTERNAL)
    sys.exit(status if isinstance(status, int) else EXIT_OK)


def _error_kind(error: BaseException) -> str:
    """The kind of an internal error, never its message: a database error's message holds the SQL
    parameters (patient data), and a validation error's message quotes the input."""
    original = getattr(error, "orig", None)  # SQLAlchemy wraps the driver's error
    kind = type(error).__name__
    if original is not None:
        kind += f" from {type(original).__module__.split('.')[0]}.{type(original).__name__}"
    if type(error).__name__ == "OperationalError":
        kind += "; is the database reachable (DATABASE_URL)?"
    return kind


def _is_usage_error(error: Exception) -> bool:
    """Click/Typer usage errors (bad option, missing argument): they know how to show themselves.

    Checked by shape rather than class because Typer may ship its own copy of Click.
    """
    return getattr(error, "exit_code", None) == 2 and callable(getattr(error, "show", None))


def _is_abort(error: Exception) -> bool:
    return isinstance(error, KeyboardInterrupt) or type(error).__name__ == "Abort"
