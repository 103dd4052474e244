"""The `ledger` command: click only — parse, call the Python API, format.

Domain errors become `click.ClickException` here at the edge (exit status 1, message on
stderr); usage errors are click's own (exit status 2). Tables go to stdout, progress
bars to stderr, and `--json` output is never mixed with anything else.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ledger.application import ImportResult, Ledger
    from projections.queries import Queries, When

F = TypeVar("F", bound=Callable[..., Any])
EXAMPLE = Path(__file__).parent / "ledger" / "examples" / "iraq-iran-2025.yaml"


# -- context and error edge ------------------------------------------------------------


class Context:
    """Opens the ledger only when a command needs it, so `--help` stays instant.

    `ledger` never creates a ledger (a typo in a path must not yield empty answers);
    `writer`, for init, import and record, creates one on first use.
    """

    def __init__(self, url: str, user: str | None) -> None:
        self.url = url
        self.user = user
        self._ledger: Ledger | None = None

    def _open(self, *, create: bool) -> Ledger:
        if self._ledger is None:
            from ledger.application import Ledger

            self._ledger = Ledger(self.url, create=create)
        return self._ledger

    @property
    def ledger(self) -> Ledger:
        return self._open(create=False)

    @property
    def writer(self) -> Ledger:
        return self._open(create=True)

    @property
    def queries(self) -> Queries:
        from projections.queries import Queries

        return Queries(self.url)

    def protected_files(self) -> list[Path]:
        """The ledger's own files, which `-o` never writes over."""
        from ledger.database import sqlite_file
        from ledger.outputs import ledger_files

        try:
            return ledger_files(sqlite_file(self.url))
        except Exception:  # an unparsable URL names no file; the command says so itself
            return []


def printable(message: str) -> str:
    """A message that any terminal shows as one line: long values cut, control characters
    and lone surrogates from hostile input escaped rather than printed raw."""
    from ledger.display import message as one_line

    return one_line(message)


#: Exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def at_the_edge(func: F) -> F:
    """Turn the ledger's own errors, and a database that cannot be opened, into clean
    exit-1 messages; Ctrl-C into exit 130 saying what was written. Never a traceback:
    anything else is a bug and is left to show itself."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.ClickException as error:  # a bad option value, echoed: cut it short
            from ledger.display import message

            error.message = message(error.message, keep_lines=True)
            raise
        except Exception as error:
            reason = _reason(error)
            if reason is None:
                raise  # a bug: let it show itself
            raise click.ClickException(printable(reason)) from None
        except KeyboardInterrupt:
            click.echo("\ninterrupted: nothing was written", err=True)
            sys.exit(INTERRUPTED)

    return wrapper  # type: ignore[return-value]


def _reason(error: BaseException) -> str | None:
    """What the user is told about one of the ledger's errors or a database's; None for
    anything else (a bug)."""
    from sqlalchemy.exc import SQLAlchemyError

    from ledger.database import explain
    from ledger.errors import LedgerError

    if isinstance(error, LedgerError):
        return str(error)
    if isinstance(error, UnicodeEncodeError) and isinstance(error.object, str):
        # Bytes that are not UTF-8 on the command line arrive as lone surrogates.
        around = error.object[max(0, error.start - 20) : error.end + 20]
        return f"a value given is not UTF-8 text ({around!r}); give it as UTF-8"
    # eventsourcing wraps the database's errors in its own; it is loaded only by writers.
    persistence = sys.modules.get("eventsourcing.persistence")
    wrapped = persistence is not None and isinstance(error, persistence.PersistenceError)
    if wrapped or isinstance(error, SQLAlchemyError):
        context = click.get_current_context(silent=True)
        found = context.find_object(Context) if context else None
        return str(explain(error, found.url if found else ""))
    return None


def output_options(func: F) -> F:
    """Every query prints a readable table, or exact JSON with --json."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print exact JSON instead of a table."
    )(func)


def output_file_options(func: F) -> F:
    """`-o FILE` and `--force`, the same for every command that writes a file."""
    func = click.option(
        "--force", is_flag=True, help="Replace FILE if it exists (never the ledger itself)."
    )(func)
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False), help="Write to this file."
    )(func)


def time_options(func: F) -> F:
    """The two time axes every projection query takes."""
    func = click.option(
        "--known-at",
        metavar="TIMESTAMP",
        help="Record time: only what the ledger had recorded by then (ISO date or datetime).",
    )(func)
    return click.option(
        "--as-of", metavar="DATE", help="Valid time: the world on that day (ISO date)."
    )(func)


def when_from(as_of: str | None, known_at: str | None) -> When:
    from ledger.dates import format_timestamp, parse_as_of, parse_known_at
    from projections.queries import When

    try:
        kwargs: dict[str, Any] = {}
        if as_of:
            kwargs["as_of"] = parse_as_of(as_of)
        if known_at:
            kwargs["known_at"] = format_timestamp(parse_known_at(known_at))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return When(**kwargs)


def emit(data: Any, as_json: bool, table: Callable[[Any], None]) -> None:
    if as_json:
        from ledger.display import json_text

        # Indented for a person at a terminal; one line for a program (json's C encoder
        # does not indent, and the pure-Python one took ~10 % of a query's time).
        indent = 2 if sys.stdout.isatty() else None
        click.echo(json_text(data, indent=indent))
    else:
        table(data)


def say(line: str) -> None:
    """Echo a line built from record text: its control characters shown, not run."""
    from ledger.display import visible

    click.echo(visible(line))


def print_table(
    rows: Iterable[dict[str, Any]], columns: list[str], title: str | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ledger.display import visible

    # Text objects are never parsed as Rich markup: `Pact [/bold]` or `[link=…]` in record
    # text is shown as typed, and control characters in it are shown escaped.
    table = Table(title=Text(visible(title)) if title else None, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[Text(visible(_cell(row.get(column)))) for column in columns])
    # Piped output gets a wide page rather than rich's 80 columns, so ids stay whole.
    width = None if sys.stdout.isatty() else 160
    Console(soft_wrap=False, width=width).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items() if v is not None)
    return str(value)


# -- the group --------------------------------------------------------------------------


class _ShortUsageErrors:
    """Usage errors echo what was typed; a 5,000-digit value is cut, control characters
    shown, before click prints the message."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        from ledger.display import message

        try:
            return super().make_context(*args, **kwargs)  # type: ignore[misc]
        except click.ClickException as error:
            error.message = message(error.message, keep_lines=True)
            raise


class LedgerCommand(_ShortUsageErrors, click.Command):
    pass


class LedgerGroup(_ShortUsageErrors, click.Group):
    command_class = LedgerCommand


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="LEDGER_DB",
    default="sqlite:///ledger.db",
    show_default=True,
    help="Database URL (or $LEDGER_DB); postgresql+psycopg://… for PostgreSQL.",
)
@click.option("--user", envvar="LEDGER_USER", help="Who is recording (or $LEDGER_USER).")
@click.pass_context
def main(ctx: click.Context, db: str, user: str | None) -> None:
    """An event-sourced, tamper-evident ledger of diplomatic events."""
    ctx.obj = Context(db, user)
    ctx.call_on_close(_close_connections)


def _close_connections() -> None:
    """Close pooled connections as a command ends, rather than leave them to exit.

    On SQLite the last connection to close checkpoints the write-ahead log and deletes
    it. Left open at exit, a replay of 100k events left its log behind, and each query
    process after it re-read that whole log on opening: ~0.4 s of CPU each.
    """
    database = sys.modules.get("ledger.database")
    if database is not None:
        database.close_connections()


pass_context = click.make_pass_decorator(Context)


@main.command()
@pass_context
@at_the_edge
def init(context: Context) -> None:
    """Create or upgrade the schema (Alembic); safe to repeat."""
    from ledger.database import engine_for, require_ledger
    from ledger.schema import current_revision, upgrade

    require_ledger(context.url, create=True)
    engine = engine_for(context.url)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    if before == after:
        click.echo(f"schema is up to date ({after})", err=True)
    else:
        click.echo(f"schema upgraded from {before or 'nothing'} to {after}", err=True)


# -- writing ------------------------------------------------------------------------------


@main.command(name="import")
@click.argument("files", nargs=-1, required=True)
@pass_context
@at_the_edge
def import_(context: Context, files: tuple[str, ...]) -> None:
    """Import FILES (.yaml, .json, .jsonl; - for stdin) in one transaction: all or nothing."""
    from ledger.reading import iter_records

    items = iter_records(files, sys.stdin)
    result = write_then_catch_up(context, lambda ledger: ledger.import_records(items, context.user))
    click.echo(
        f"{result.added} added, {result.unchanged} already in the ledger"
        + (f" (positions {result.first_position}–{result.last_position})" if result.added else ""),
        err=True,
    )


CATCH_UP_LATER = "the read models will catch up at the next query"


def _records(count: int) -> str:
    return f"{count} record{'' if count == 1 else 's'} imported"


def write_then_catch_up(context: Context, write: Callable[[Ledger], ImportResult]) -> ImportResult:
    """Write, then bring the read models up to date, saying what happened if stopped.

    Ctrl-C before the commit: nothing written (exit 130, at the edge). After the commit
    (during catch-up): what was imported, and that the read models catch up at the next
    query (exit 130). If the catch-up fails for any other reason the import still
    stands, so the same message is printed and the command exits 0: running it again
    adds nothing, and the next query catches up or says why it cannot.
    """
    from ledger.application import ImportInterrupted
    from projections.catchup import catch_up

    ledger = context.writer
    try:
        result = write(ledger)
    except ImportInterrupted as stop:
        if stop.certain:
            click.echo(f"\ninterrupted: {_records(stop.result.added)}; {CATCH_UP_LATER}", err=True)
        else:
            click.echo(
                f"\ninterrupted while the import of {stop.result.added} records was committing; "
                "whether it went through is unknown: run the same import again (it adds "
                "nothing twice)",
                err=True,
            )
        sys.exit(INTERRUPTED)
    try:
        catch_up(ledger)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: {_records(result.added)}; {CATCH_UP_LATER}", err=True)
        sys.exit(INTERRUPTED)
    except Exception as error:  # the import stands whatever stopped the catch-up
        reason = _reason(error) or f"{type(error).__name__}: {error}"
        click.echo(
            printable(f"{_records(result.added)}; {CATCH_UP_LATER} (catching up failed: {reason})"),
            err=True,
        )
    return result


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("kind")
@click.pass_context
@at_the_edge
def record(ctx: click.Context, kind: str) -> None:
    """Enter one record of KIND from --FIELD VALUE options, with the same checks as import.

    Repeat an option for a list (--about IRQ --about IRN); give structures as JSON
    (--signatories '[{"actor": "IRQ"}]'). Dashes in field names may stand for
    underscores (--on-behalf-of).
    """
    from ledger.display import visible
    from ledger.errors import RecordError
    from ledger.records import validate_record

    context: Context = ctx.obj
    try:
        raw = parse_fields(kind, ctx.args)
        item = validate_record(raw)
        result = write_then_catch_up(
            context, lambda ledger: ledger.import_records([(None, item)], context.user)
        )
    except RecordError as error:
        raise error.located(file="command line") from None
    click.echo(
        visible(
            f"recorded {item.kind} '{item.id}'"
            if result.added
            else f"'{item.id}' is already recorded"
        ),
        err=True,
    )


def parse_fields(kind: str, args: list[str]) -> dict[str, Any]:
    """`--name value` pairs into a record; repeated names make lists."""
    raw: dict[str, Any] = {"kind": kind}
    repeated: set[str] = set()
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or len(arg) == 2:
            raise click.UsageError(f"expected --FIELD VALUE, got {arg!r}")
        name, eq, value = arg[2:].partition("=")
        name = name.replace("-", "_")
        if not eq:
            if i + 1 >= len(args):
                raise click.UsageError(f"--{name} needs a value")
            value = args[i + 1]
            i += 1
        i += 1
        parsed = _field_value(name, value)
        if name in raw:
            if name not in repeated:
                raw[name] = [raw[name]]
                repeated.add(name)
            raw[name].append(parsed)
        else:
            raw[name] = parsed
    return raw


def _field_value(name: str, value: str) -> Any:
    from ledger.errors import RecordError
    from ledger.reading import json_value

    if value[:1] in "[{":
        try:
            return json_value(value)
        except json.JSONDecodeError:
            return value  # text that happens to start with a bracket
        except ValueError as error:
            raise RecordError(f"refused JSON: {error}", field=name) from None
    return value


# -- queries ----------------------------------------------------------------------------


@main.command()
@click.option("--status", help="Only agreements in this status.")
@click.option("--party", help="Only agreements with this participant.")
@time_options
@output_options
@pass_context
@at_the_edge
def agreements(
    context: Context,
    status: str | None,
    party: str | None,
    as_of: str | None,
    known_at: str | None,
    as_json: bool,
) -> None:
    """List agreements: id, title, status."""
    data = context.queries.agreements(when_from(as_of, known_at), status=status, party=party)
    emit(
        data,
        as_json,
        lambda rows: print_table(rows, ["id", "title", "type", "status", "status_certain"]),
    )


@main.command()
@click.argument("agreement_id")
@time_options
@output_options
@pass_context
@at_the_edge
def agreement(
    context: Context, agreement_id: str, as_of: str | None, known_at: str | None, as_json: bool
) -> None:
    """One agreement: state, participants, signings, relations."""
    data = context.queries.agreement(agreement_id, when_from(as_of, known_at))
    emit(data, as_json, show_agreement)


def show_agreement(state: dict[str, Any]) -> None:
    certainty = "" if state["status_certain"] else " (not certain by this date)"
    say(f"{state['title']} [{state['id']}] — {state['type']}")
    say(f"status: {state['status']}{certainty}  (as of {state.get('as_of')})")
    if state["relations"]:
        say("relations: " + ", ".join(f"{r['type']} {r['target']}" for r in state["relations"]))
    print_table(
        state["participants"],
        ["actor", "status", "signed", "consent", "in_force", "withdrawal"],
        title="participants",
    )
    print_table(
        [
            {
                **s,
                "signatories": [
                    f"{x['actor']} for {x['on_behalf_of']}" if x.get("on_behalf_of") else x["actor"]
                    for x in s["signatories"]
                ],
            }
            for s in state["signings"]
        ],
        ["occurrence", "date", "place", "signatories", "overseen_by"],
        title="signings",
    )


@main.command()
@click.argument("agreement_id")
@time_options
@output_options
@pass_context
@at_the_edge
def endorsements(
    context: Context, agreement_id: str, as_of: str | None, known_at: str | None, as_json: bool
) -> None:
    """Who endorsed the agreement and when, oldest first."""
    data = context.queries.endorsements(agreement_id, when_from(as_of, known_at))
    emit(
        data,
        as_json,
        lambda rows: print_table(
            rows,
            ["date", "actor", "act", "on_behalf_of", "occurrence", "sources", "certain"],
            title=f"endorsements of {agreement_id}",
        ),
    )


def _day_option(value: str | None) -> date | None:
    from ledger.dates import parse_as_of

    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@main.command()
@click.option("--actor", help="Only occurrences this actor takes part in (any role).")
@click.option("--agreement", help="Only occurrences concerning this agreement.")
@click.option("--kind", help="Only occurrences of this kind.")
@click.option("--from", "from_", metavar="DATE", help="Only occurrences possibly on or after.")
@click.option("--to", metavar="DATE", help="Only occurrences possibly on or before.")
@time_options
@output_options
@pass_context
@at_the_edge
def timeline(
    context: Context,
    actor: str | None,
    agreement: str | None,
    kind: str | None,
    from_: str | None,
    to: str | None,
    as_of: str | None,
    known_at: str | None,
    as_json: bool,
) -> None:
    """Occurrences, oldest first."""
    data = context.queries.timeline(
        when_from(as_of, known_at),
        actor=actor,
        agreement=agreement,
        kind=kind,
        from_=_day_option(from_),
        to=_day_option(to),
    )
    emit(data, as_json, show_timeline)


def show_timeline(rows: list[dict[str, Any]]) -> None:
    print_table(
        rows, ["date", "kind", "id", "actors", "agreements", "description"], title="timeline"
    )


@main.command()
@click.argument("actor_id")
@time_options
@output_options
@pass_context
@at_the_edge
def actor(
    context: Context, actor_id: str, as_of: str | None, known_at: str | None, as_json: bool
) -> None:
    """An actor, the posts it held and its occurrences."""
    data = context.queries.actor(actor_id, when_from(as_of, known_at))

    def show(data: dict[str, Any]) -> None:
        say(f"{data['name']} [{data['id']}] — {data['type']}")
        print_table(data["posts"], ["title", "organization", "start", "end"], title="posts")
        show_timeline(data["occurrences"])

    emit(data, as_json, show)


#: The largest log position either engine can store (a signed 64-bit integer).
MAX_POSITION = 2**63 - 1


@main.command()
@click.option(
    "--from-position",
    type=click.IntRange(max=MAX_POSITION),
    default=1,
    show_default=True,
    help="First position.",
)
@click.option(
    "--limit", type=click.IntRange(min=0, max=MAX_POSITION), help="At most this many events."
)
@output_options
@pass_context
@at_the_edge
def log(context: Context, from_position: int, limit: int | None, as_json: bool) -> None:
    """The raw append-only event log."""
    entries = [
        {
            "position": item.entry.position,
            "recorded_at": item.entry.recorded_at,
            "recorded_by": item.event.recorded_by,
            "stream": str(item.entry.stream),
            "version": item.entry.version,
            "type": item.type,
            "data": item.record,
            "hash": item.entry.leaf_hash.hex(),
        }
        for item in context.ledger.log(after=max(from_position, 1) - 1, limit=limit)
    ]
    emit(
        entries,
        as_json,
        lambda rows: print_table(
            [{**r, "id": r["data"].get("id"), "hash": r["hash"][:16]} for r in rows],
            ["position", "recorded_at", "recorded_by", "type", "id", "hash"],
            title="log",
        ),
    )


@main.command()
@click.option("--projection", "names", multiple=True, help="Only this projection (repeatable).")
@click.option(
    "--to-position",
    type=click.IntRange(min=0, max=MAX_POSITION),
    help="Stop at this log position.",
)
@pass_context
@at_the_edge
def replay(context: Context, names: tuple[str, ...], to_position: int | None) -> None:
    """Rebuild read models from the log, with progress on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from projections.catchup import positions
    from projections.catchup import replay as rebuild

    ledger = context.ledger
    positions(ledger, names or None)  # an unknown name is refused before the bar is drawn
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: list[Any] = []

    def advance(done: int, total: int) -> None:
        # The bar appears once the rebuild is under way, so a refusal stays one line.
        if not tasks:
            progress.start()
            tasks.append(progress.add_task("replaying", total=total))
        progress.update(tasks[0], completed=done, total=total)

    try:
        reached = rebuild(ledger, names or None, upto=to_position, progress=advance)
    except KeyboardInterrupt:
        progress.stop()
        click.echo(f"\ninterrupted: the rebuild stopped part way; {CATCH_UP_LATER}", err=True)
        sys.exit(INTERRUPTED)
    finally:
        progress.stop()
    for name, position in reached.items():
        click.echo(f"{name}: at position {position}", err=True)


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "jsonl"]),
    default="yaml",
    show_default=True,
)
@output_file_options
@pass_context
@at_the_edge
def export(context: Context, fmt: str, output: str | None, force: bool) -> None:
    """The ledger in the interchange format; round-trips through import."""
    from ledger.exporting import write_records

    records = context.ledger.export()
    if output:
        write_output(context, output, force, lambda stream: write_records(records, fmt, stream))
    else:
        write_records(records, fmt, sys.stdout)


@main.command()
@click.option(
    "--db-file",
    type=click.Path(dir_okay=False),
    help="A new SQLite file to build the demo ledger in (refused if it exists); "
    "default: demo-ledger.db in a new temporary folder.",
)
@click.pass_context
@at_the_edge
def demo(ctx: click.Context, db_file: str | None) -> None:
    """A fresh ledger from the example: the memorandum's state, endorsements, and a timeline.

    It always builds a new ledger of its own and never touches --db or $LEDGER_DB, which
    may be a real, append-only ledger the demo's events must not enter.
    """
    from ledger.reading import read_records
    from projections.catchup import catch_up

    parent: Context = ctx.obj
    if ctx.find_root().get_parameter_source("db") not in (click.core.ParameterSource.DEFAULT, None):
        click.echo("the demo builds a ledger of its own; it leaves --db/$LEDGER_DB alone", err=True)
    context = Context(f"sqlite:///{new_demo_file(db_file)}", parent.user)
    result = context.writer.import_records(read_records(str(EXAMPLE)), context.user or "demo")
    catch_up(context.writer)
    click.echo(f"imported {EXAMPLE.name}: {result.added} events into {context.url}\n")
    queries = context.queries
    show_agreement(queries.agreement("iq-ir-security-mou-2025"))
    click.echo()
    print_table(
        queries.endorsements("iq-ir-security-mou-2025"),
        ["date", "actor", "act", "on_behalf_of", "occurrence", "certain"],
        title="endorsements of iq-ir-security-mou-2025",
    )
    click.echo()
    rows = queries.timeline(actor="ali-larijani")
    print_table(rows, ["date", "kind", "id", "description"], title="timeline of Ali Larijani")
    click.echo(f"\nexplore it: ledger --db {context.url} timeline", err=True)


def new_demo_file(db_file: str | None) -> Path:
    """A database file made for the demo: new, never one that exists (nor its -wal/-shm)."""
    import tempfile

    from ledger.outputs import OutputRefused, create_new, ledger_files

    if db_file is None:
        return Path(tempfile.mkdtemp(prefix="ledger-demo-")) / "demo-ledger.db"
    path = Path(db_file)
    if any(f.exists() or f.is_symlink() for f in ledger_files(path)):
        raise OutputRefused(f"{db_file} exists; the demo builds a new ledger: name a new file")
    if not path.parent.is_dir():
        raise OutputRefused(f"cannot create {db_file}: the folder {path.parent} does not exist")
    create_new(path, "")  # an empty file is an empty SQLite database, and now it is ours
    return path


# -- audit grade -----------------------------------------------------------------------


def write_output(context: Context, output: str, force: bool, write: Callable[[Any], None]) -> None:
    """Write an output file safely (see `ledger.outputs`) and say so on stderr."""
    from ledger.outputs import write_file

    write_file(output, write, force=force, protected=context.protected_files())
    click.echo(f"wrote {output}", err=True)


def _write_or_echo(context: Context, text: str, output: str | None, force: bool) -> None:
    if output:
        write_output(context, output, force, lambda stream: stream.write(text))
    else:
        click.echo(text, nl=not text.endswith("\n"))


def read_text_file(path: str, what: str) -> str:
    """A small text file given on the command line (a checkpoint, a key), or why not."""
    from ledger.errors import LedgerError

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise LedgerError(f"{path}: cannot read the {what}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LedgerError(
            f"{path}: the {what} is not UTF-8 text (byte 0x{data[error.start]:02x} "
            f"at offset {error.start})"
        ) from None


def _read_checkpoint(path: str, pubkey: str | None) -> Any:
    from ledger.checkpoints import CheckpointError, open_checkpoint

    text = read_text_file(path, "checkpoint")
    verifier = read_text_file(pubkey, "verifier key").strip() if pubkey else None
    try:
        checkpoint, _origin = open_checkpoint(text, verifier)
    except CheckpointError as error:
        raise click.ClickException(printable(f"{path}: {error}")) from None
    return checkpoint


@main.command()
@output_file_options
@click.option(
    "--sign",
    "keyfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Sign with this Ed25519 signer key (from `ledger keygen`): a C2SP checkpoint note.",
)
@click.option("--origin", default="diplomacy-ledger", show_default=True, help="Log origin line.")
@pass_context
@at_the_edge
def checkpoint(
    context: Context, output: str | None, force: bool, keyfile: str | None, origin: str
) -> None:
    """Tree head of the log: size, root hash, time."""
    from ledger.checkpoints import sign_checkpoint
    from ledger.integrity import checkpoint as tree_head

    head = tree_head(context.ledger)
    if keyfile:
        signer = read_text_file(keyfile, "signer key").strip()
        text = sign_checkpoint(head, origin, signer)
    else:
        text = json.dumps(head.to_json(), indent=2) + "\n"
    _write_or_echo(context, text, output, force)


@main.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also prove this earlier checkpoint is a prefix of today's log.",
)
@click.option(
    "--pubkey",
    type=click.Path(exists=True, dir_okay=False),
    help="Verifier key: the checkpoint must be a note signed by it.",
)
@output_options
@pass_context
@at_the_edge
def verify(
    context: Context, checkpoint_file: str | None, pubkey: str | None, as_json: bool
) -> None:
    """Recompute the log's hashes; exit 1 on tampering, naming the position."""
    from ledger.integrity import verify as recompute

    if pubkey and not checkpoint_file:
        raise click.UsageError("--pubkey needs --checkpoint")
    against = _read_checkpoint(checkpoint_file, pubkey) if checkpoint_file else None
    result = recompute(context.ledger, against)
    data = {
        "ok": result.ok,
        "size": result.size,
        "root": result.root.hex(),
        "tree_heads_checked": result.checked_heads,
        "checkpoint": against.to_json() if against else None,
        "first_bad_position": result.first_bad_position,
        "problems": result.problems,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif result.ok:
        suffix = f"; checkpoint of size {against.size} is a prefix" if against else ""
        click.echo(f"ok: {result.size} events, root {result.root.hex()}{suffix}")
    if not result.ok:
        for problem in result.problems:
            click.echo(printable(f"tampering: {problem}"), err=True)
        raise click.ClickException(
            f"the log fails verification at position {result.first_bad_position}"
        )


@main.command()
@click.argument("position", type=click.IntRange(min=1, max=MAX_POSITION))
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Prove against this checkpoint's tree (default: the whole log now).",
)
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), help="Verifier key.")
@output_options
@pass_context
@at_the_edge
def prove(
    context: Context,
    position: int,
    checkpoint_file: str | None,
    pubkey: str | None,
    as_json: bool,
) -> None:
    """Inclusion proof of the event at POSITION against a checkpoint."""
    from ledger.integrity import prove as inclusion

    against = _read_checkpoint(checkpoint_file, pubkey) if checkpoint_file else None
    proof = inclusion(context.ledger, position, against).to_json()
    if as_json:
        click.echo(json.dumps(proof, indent=2))
    else:
        click.echo(f"event {position} is leaf {proof['index']} of a tree of {proof['tree_size']}")
        click.echo(f"leaf hash: {proof['leaf_hash']}")
        for step, node in enumerate(proof["proof"]):
            click.echo(f"proof[{step}]: {node}")
        click.echo(f"root: {proof['root']}")


@main.command()
@click.argument("name")
@click.option(
    "--out",
    "prefix",
    type=click.Path(dir_okay=False),
    help="File prefix (default: NAME): writes PREFIX.key (secret) and PREFIX.pub.",
)
@at_the_edge
def keygen(name: str, prefix: str | None) -> None:
    """Make an Ed25519 key pair for signing checkpoints (C2SP note key formats).

    Neither file is ever replaced: a lost signer key cannot be made again.
    """
    from ledger.checkpoints import generate_key
    from ledger.outputs import OutputRefused, create_new

    base = Path(prefix or name)
    secret = base.with_name(base.name + ".key")
    public = base.with_name(base.name + ".pub")
    for path in (secret, public):
        if path.exists() or path.is_symlink():
            raise OutputRefused(f"{path} exists; not overwriting a key")
    signer, verifier = generate_key(name)
    create_new(secret, signer + "\n", mode=0o600)
    try:
        create_new(public, verifier + "\n")
    except OutputRefused:
        secret.unlink()  # half a pair is no use; leave the folder as it was
        raise
    click.echo(f"wrote {secret} (keep it secret) and {public}", err=True)


@main.command()
@click.argument("agreement_id", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json"]),
    default="md",
    show_default=True,
)
@output_file_options
@time_options
@pass_context
@at_the_edge
def audit(
    context: Context,
    agreement_id: str | None,
    fmt: str,
    output: str | None,
    force: bool,
    as_of: str | None,
    known_at: str | None,
) -> None:
    """Audit report of one agreement, or of the whole ledger without ID."""
    from projections.reports import build_report, render

    if output:  # refuse a bad target before the work, not after it
        from ledger.outputs import check_target

        check_target(output, force=force, protected=context.protected_files())
    report = build_report(context.ledger, agreement_id, when_from(as_of, known_at))
    _write_or_echo(context, render(report, fmt), output, force)
