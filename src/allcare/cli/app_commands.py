"""CLI commands around the application: serve, demo, backup/restore, users, case import/export.

Registered on ``app_commands`` (a ``typer.Typer``) that the main CLI adds to
itself. Every command reads the same :class:`~allcare.settings.Settings` as
the server (``DATABASE_URL`` / ``ALLCARE_*``), migrates the store first, and
reports problems a user can fix as "invalid input" (exit status 2).
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .console import SafeConsole as Console
from .interop_commands import export_app, import_app

app_commands = typer.Typer(no_args_is_help=True)
users_commands = typer.Typer(help="Manage the people who may log in.", no_args_is_help=True)
audit_commands = typer.Typer(help="The audit log: who read or changed which record.", no_args_is_help=True)
# One ``import`` and one ``export`` group for the whole CLI: the FHIR and classifier
# commands live in interop_commands; the store's case-file commands join them here.
import_commands = import_app
export_commands = export_app
app_commands.add_typer(users_commands, name="users")
app_commands.add_typer(audit_commands, name="audit")
app_commands.add_typer(import_commands, name="import")
app_commands.add_typer(export_commands, name="export")

EXIT_TAMPERED = 3  # ``allcare audit verify``: the chain is broken
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def _invalid(title: str, problems: list[str]) -> Exception:
    from .main import InvalidInput  # imported late: main imports this module

    return InvalidInput(title, problems)


def _settings(**overrides):
    """The settings from the environment; a bad value is the user's to fix (exit 2), not a bug."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from ..settings import Settings

    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        raise _invalid("settings", [
            f"{_variable(item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors(include_url=False)
        ]) from None
    except SettingsError as error:  # a value that is not even parseable (e.g. a list that is not JSON)
        cause = f" ({error.__cause__})" if error.__cause__ else ""
        raise _invalid("settings", [f"{error}{cause}; lists are written as JSON, e.g. '[\"https://fhir.example.org\"]'"]) from None


def _variable(loc: tuple) -> str:
    """The environment variable a settings error is about (the loc is the field name or its alias)."""
    name = "_".join(str(part) for part in loc).upper()
    return name if name.startswith("ALLCARE_") else f"ALLCARE_{name}"


def _store(settings=None):
    """The configured store, migrated to the newest schema."""
    from ..store import Store

    settings = settings or _settings()
    store = Store.from_settings(settings)
    store.migrate()
    return store


def _actor():
    from ..store import Actor

    return Actor.cli(f"cli:{getpass.getuser()}"[:80])


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


# --- serve and demo ---------------------------------------------------------------------------------


@app_commands.command("serve")
def serve(
    host: str | None = typer.Option(None, help="address to listen on (default 127.0.0.1)"),
    port: int | None = typer.Option(None, help="port (default 8000)"),
    demo: bool | None = typer.Option(None, "--demo/--no-demo", help="seed the demo cohort into an empty store"),
    workers: int = typer.Option(
        1, min=1, max=64,
        help="server processes (use PostgreSQL for more than 1; with more than 1, uvloop keeps keep-alive "
             "requests from waiting ~40 ms for a delayed ACK on Linux, uvicorn issue #3149)",
    ),
) -> None:
    """Start the web app: migrate the store, seed the demo cohort if it is empty, serve."""
    import uvicorn

    settings = _settings(host=host, port=port, demo=demo)
    store = _store(settings)
    if settings.demo and store.is_empty():
        err.print("The store is empty: adding the synthetic demo cohort (never real patients).")
        _seed(store, patients=settings.demo_patients, seed=2026, years=3.0)
    _refresh_summaries(store)
    if not settings.demo:
        _disable_demo_logins(store, settings)
    store.dispose()
    address = f"http://{settings.host}:{settings.port}"
    out.print(f"allcare is running at [bold]{address}[/]  (API docs: {address}/api/docs)")
    if settings.demo:
        _print_demo_logins(settings)
    _configure_logging()
    # The app factory runs in the server process(es) and reads its settings from the environment:
    # the options given here must reach it (card links, for one, are built from host and port).
    os.environ["ALLCARE_HOST"], os.environ["ALLCARE_PORT"] = settings.host, str(settings.port)
    uvicorn.run(
        "allcare.web.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        access_log=False,  # allcare.access logs route templates, never URLs with identifiers or queries
        proxy_headers=settings.trust_proxy_headers,
        log_level="info",
    )


def _disable_demo_logins(store, settings) -> None:
    from ..store.demo import disable_published_demo_logins
    from ..store.users import make_hasher

    hasher = make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    disabled = disable_published_demo_logins(store, hasher)
    if disabled:
        err.print(f"[yellow]ALLCARE_DEMO=false: the demo logins {', '.join(disabled)} still had their published "
                  "passwords and are now deactivated[/] (an admin may reactivate them with a new password).")


def _print_demo_logins(settings) -> None:
    from ..store.demo import DEMO_LOGINS

    store = _store(settings)
    from ..store.users import list_users

    with store.sessions() as session:
        existing = {user.username for user in list_users(session)}
    store.dispose()
    table = Table(title="Demo logins (synthetic data only)", show_lines=False)
    for column in ("username", "password", "role", "may"):
        table.add_column(column)
    shown = 0
    for login in DEMO_LOGINS:
        if login.username in existing:
            table.add_row(login.username, login.password, login.role, login.note)
            shown += 1
    if shown:
        out.print(table)


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "will assume transactional DDL" on every start


def _seed(store, *, patients: int, seed: int, years: float, with_users: bool = True) -> list[int]:
    from ..store.demo import seed_demo

    with _progress() as progress:
        task = progress.add_task("synthetic patients", total=patients)
        ids = seed_demo(store, patients=patients, seed=seed, years=years, with_users=with_users,
                        progress=lambda done, _total: progress.update(task, completed=done))
    return ids


def _refresh_summaries(store) -> None:
    """Run the engine now for records it has not assessed yet (first start, or an engine upgrade)."""
    from ..store.assessments import engine_available, refresh_summaries, stale_patient_ids

    if not engine_available():
        err.print("[yellow]The assessment engine is not available; patient lists will show no status.[/]")
        return
    with store.sessions() as session:
        stale = stale_patient_ids(session)
    if not stale:
        return
    with _progress() as progress:
        task = progress.add_task("assessing records", total=len(stale))
        for offset in range(0, len(stale), 50):
            with store.transaction() as session:
                refresh_summaries(session, stale[offset:offset + 50])
            progress.update(task, completed=min(offset + 50, len(stale)))


@app_commands.command("demo")
def demo_command(
    patients: int = typer.Option(240, min=1, max=100_000, help="how many synthetic patients to add"),
    seed: int = typer.Option(2026, help="random seed (the same seed gives the same cohort)"),
    years: float = typer.Option(3.0, min=0.1, max=20, help="diagnoses spread over this many years before today"),
    users: bool = typer.Option(True, "--users/--no-users", help="also add the demo logins (if missing)"),
) -> None:
    """Add a realistic synthetic cohort (never real patient data) to the store."""
    store = _store()
    from ..store.users import count_users

    with store.sessions() as session:
        has_users = count_users(session) > 0
    ids = _seed(store, patients=patients, seed=seed, years=years, with_users=users and not has_users)
    out.print(f"added {len(ids)} synthetic patients")
    if users and not has_users:
        _print_demo_logins(_settings())


# --- backup and restore ---------------------------------------------------------------------------


@app_commands.command("backup")
def backup_command(file: Path = typer.Argument(..., help="where to write the backup (JSON lines)")) -> None:
    """Write the whole store (patients, findings, users, tokens, audit log) to one file.

    The store is read as of one moment, the file is written beside FILE, read
    back and checked, and only then moved onto FILE (readable by you only).
    """
    from ..store.backup import BackupError, backup_to_file

    if file.exists() and file.is_dir():
        raise _invalid(str(file), [f"{file}: is a directory"])
    if not file.parent.is_dir():
        raise _invalid(str(file), [f"{file.parent}: no such directory"])
    store = _store()
    try:
        counts = backup_to_file(store, file)
    except BackupError as error:
        raise _invalid(str(file), [f"{file}: no backup written ({error}); an existing file there is unchanged"]) from None
    out.print(f"wrote {file}: " + ", ".join(f"{count} {table}" for table, count in counts.items()))


@app_commands.command("restore")
def restore_command(
    file: Path = typer.Argument(..., help="a backup written by 'allcare backup'"),
    force: bool = typer.Option(False, "--force", help="replace a store that already holds data"),
) -> None:
    """Restore the whole store from a backup file (into an empty store unless --force).

    The file is checked whole before anything changes; the store is then replaced
    in one transaction (all or nothing). The audit log keeps its history and
    records the restore.
    """
    from ..store.backup import BackupError, restore_from_file
    from ..store.errors import StoreNotEmpty

    if not file.is_file():
        raise _invalid(str(file), [f"{file}: no such file"])
    store = _store()
    try:
        counts = restore_from_file(store, file, force=force, actor=_actor())
    except (BackupError, StoreNotEmpty) as error:
        raise _invalid(str(file), [f"{file}: {error}"]) from None
    out.print(f"restored {file}: " + ", ".join(f"{count} {table}" for table, count in counts.items()))


@audit_commands.command("verify")
def audit_verify_command() -> None:
    """Check that no audit event was changed, removed or inserted since it was written (the hash chain)."""
    from ..store.audit import verify

    store = _store()
    with store.sessions() as session:
        report = verify(session)
    if not report.intact:
        err.print(f"[bold red]The audit log is NOT intact[/]: {report.events} events verify, then event "
                  f"{report.broken_at} does not ({report.reason}).")
        raise typer.Exit(EXIT_TAMPERED)
    out.print(f"The audit log is intact: {report.events} events, head {report.head}")


# --- users -------------------------------------------------------------------------------------------


@users_commands.command("add")
def users_add(
    username: str = typer.Argument(..., help="login name (letters, digits, . _ @ -)"),
    role: str = typer.Option(..., "--role", help="clinician, registrar, patient or admin"),
    patient: str | None = typer.Option(None, "--patient", help="for a patient user: their record (store number, id:N, or identifier)"),
    display_name: str | None = typer.Option(None, "--name", help="the name shown in the app"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="prompted for when not given"),
) -> None:
    """Add a user who can log in."""
    from ..store.errors import Conflict, InvalidRecord
    from ..store.users import create_user, make_hasher

    settings = _settings()
    store = _store(settings)
    hasher = make_hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    try:
        with store.transaction() as session:
            patient_id = _patient_id(session, patient) if patient else None
            user = create_user(session, _actor(), hasher, username=username, password=password, role=role,
                               patient_id=patient_id, display_name=display_name,
                               min_password_length=settings.password_min_length)
    except InvalidRecord as error:
        raise _invalid("users add", [f"{where}: {what}" for where, what in error.problems]) from None
    except Conflict as error:
        raise _invalid("users add", [str(error)]) from None
    out.print(f"added user {user.username} ({user.role})")


@users_commands.command("list")
def users_list() -> None:
    """List the users and their roles."""
    from ..store.users import list_users

    store = _store()
    table = Table()
    for column in ("id", "username", "role", "patient", "active", "name"):
        table.add_column(column)
    with store.sessions() as session:
        for user in list_users(session):
            table.add_row(str(user.id), user.username, user.role, str(user.patient_id or ""),
                          "yes" if user.active else "no", user.display_name or "")
    out.print(table)


def _patient_id(session, reference: str) -> int:
    """A patient by store number or by case-file identifier (:func:`..store.patients.patient_by_reference`)."""
    from ..store.errors import InvalidRecord
    from ..store.patients import patient_by_reference

    try:
        return patient_by_reference(session, reference)
    except InvalidRecord as error:
        raise _invalid(reference, [what for _, what in error.problems]) from None


# --- case files -----------------------------------------------------------------------------------


@import_commands.command("case")
def import_case_command(files: list[Path] = typer.Argument(..., help="case files (JSON or YAML)")) -> None:
    """Add each case file as a new patient (all files are checked before any is stored)."""
    from ..interop.casefile import CaseFileError, load_case
    from ..store.cases import import_case
    from ..store.errors import Conflict, InvalidRecord
    from ..store.patients import find_by_identifier

    cases, problems = [], []
    for path in files:
        try:
            cases.append((path, load_case(path)))
        except CaseFileError as error:
            problems += [f"{path}: {problem}" for problem in error.problems]
    if problems:
        raise _invalid("invalid case files", problems)
    store = _store()
    with store.transaction() as session:
        for path, case in cases:
            if find_by_identifier(session, case.patient.id) is not None:
                problems.append(f"{path}: a patient with identifier {case.patient.id!r} is already stored")
        if problems:
            raise _invalid("case files already imported", problems)
        stored = []
        for path, case in cases:
            try:
                stored.append((path, import_case(session, _actor(), case)))
            except Conflict as error:  # two files with the same identifier
                raise _invalid("duplicate case files", [f"{path}: {error}"]) from None
            except InvalidRecord as error:
                raise _invalid("invalid case files", [f"{path}: {where}: {what}" for where, what in error.problems]) from None
    for path, row in stored:
        out.print(f"{path}: stored as patient {row.id} ({row.identifier})", markup=False)


@export_commands.command("case")
def export_case_command(
    patient: str = typer.Argument(..., help="the patient's store number (id:N) or case-file identifier"),
    output: Path | None = typer.Option(None, "-o", "--output", help="file to write (default: standard output)"),
    fmt: str = typer.Option("json", "--format", "-f", help="json or yaml"),
) -> None:
    """Write one patient's whole record as an allcare.case/1 file (units as reported)."""
    from ..interop.casefile import dump_case
    from ..store.cases import export_case

    if fmt not in ("json", "yaml"):
        raise _invalid("--format", [f"--format: {fmt!r}; choose json or yaml"])
    store = _store()
    with store.transaction() as session:
        case = export_case(session, _actor(), _patient_id(session, patient))
    text = dump_case(case, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        from .interop_commands import write_atomic

        try:
            write_atomic(output, text)  # never half a record on disk, whatever stops the write
        except OSError as error:
            raise _invalid(str(output), [f"{output}: cannot be written ({error.strerror or error})"]) from None
        out.print(f"wrote {output}", markup=False)
