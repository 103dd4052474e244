"""The `ledger` command: click only — parse, call the Python API, format.

Domain errors become `click.ClickException` here at the edge (exit status 1, message on
stderr); usage errors are click's own (exit status 2). Tables go to stdout, progress
bars to stderr, and `--json` output is never mixed with anything else.
"""

from __future__ import annotations

import functools
import gc
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
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
            with starting_up():
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
        with starting_up():
            from projections.queries import Queries

            return Queries(self.url, catch_up=self.catch_up)

    def catch_up(self) -> None:
        """Bring the read models up to the log over the write side, opened only now: a
        question whose read models are up to date never builds it."""
        from projections.catchup import catch_up

        catch_up(self.ledger)

    def protected_files(self) -> list[Path]:
        """The ledger's own files, which `-o` never writes over."""
        from ledger.database import sqlite_file
        from ledger.outputs import ledger_files

        try:
            return ledger_files(sqlite_file(self.url))
        except Exception:  # an unparsable URL names no file; the command says so itself
            return []


#: Whether this process runs one command and exits (the `ledger` program, see `run`).
one_command = False


@contextmanager
def starting_up() -> Iterator[None]:
    """Load the modules a command needs with the garbage collector paused.

    Loading SQLAlchemy, the database driver and the ledger makes some 60,000 objects
    that live as long as the process: the collector's passes over them while they load,
    and again as the process exits, are wasted work (about a fifth of a PostgreSQL
    query's CPU time). So they are loaded with collection paused; in the `ledger`
    program they are then moved out of its sight (`gc.freeze`) before the command does
    any work, with collection running again. Only there: a process that runs many
    commands (the tests, a caller of `main`) would keep any garbage lying about at the
    freeze for good, and the collector could no longer find what refers to a frozen
    object.
    """
    if not gc.isenabled():  # already paused, by a start-up around this one or the caller
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if one_command and gc.get_freeze_count() == 0:
            gc.freeze()
        gc.enable()


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


class Closed(click.Choice):
    """A closed set of values (kinds, statuses, formats): matched in any case; a value
    outside it is bad input (exit 1) named with the closest values, not a usage error."""

    def __init__(self, choices: Iterable[str]) -> None:
        super().__init__(list(choices), case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            from projections.naming import choice_hint

            what = (param.name or "value").replace("_", " ") if param else "value"
            raise click.ClickException(
                printable(f"unknown {what} {value!r}{choice_hint(str(value), self.choices)}")
            ) from None


OUTPUTS = ("table", "json", "csv")


def output_options(func: F) -> F:
    """Every query prints a readable table, exact JSON, or CSV: `--format table|json|csv`
    (`--json` is short for `--format json`). The command receives `output`."""

    @functools.wraps(func)
    def wrapper(*args: Any, output_format: str, as_json: bool, **kwargs: Any) -> Any:
        return func(*args, output="json" if as_json else output_format, **kwargs)

    wrapper = click.option(
        "--json", "as_json", is_flag=True, help="Print exact JSON (same as --format json)."
    )(wrapper)
    return click.option(
        "--format",
        "output_format",
        type=Closed(OUTPUTS),
        default="table",
        show_default=True,
        help="A table sized to the terminal, exact JSON, or CSV.",
    )(wrapper)  # type: ignore[return-value]


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
        help="Record time: only what the ledger had recorded by then (any ISO 8601 form; "
        "a bare day means its end, UTC).",
    )(func)
    return click.option(
        "--as-of", metavar="DATE", help="Valid time: the world on that day (ISO date)."
    )(func)


def when_from(as_of: str | None, known_at: str | None) -> When:
    from projections.queries import When

    kwargs: dict[str, Any] = {}
    if as_of:
        kwargs["as_of"] = _parsed(as_of, "as_of")
    if known_at:
        kwargs["known_at"] = record_time(known_at)
    return When(**kwargs)


def record_time(value: str) -> str:
    """A --known-at/--since/--until value as the ledger's fixed-width record-time stamp."""
    from ledger.dates import format_timestamp, parse_known_at

    try:
        return format_timestamp(parse_known_at(value))
    except ValueError as error:
        raise click.BadParameter(printable(str(error))) from None


def _parsed(value: str, what: str) -> date:
    from ledger.dates import parse_as_of

    try:
        return parse_as_of(value)
    except ValueError as error:
        raise click.BadParameter(printable(str(error)), param_hint=f"--{what}") from None


def emit(
    data: Any,
    output: str,
    table: Callable[[Any], None],
    rows: list[dict[str, Any]] | None = None,
    columns: list[str] | None = None,
) -> None:
    """Print `data` as JSON, or as a table with `table`, or `rows` (default: `data`) as CSV
    with `columns` (default: every key of the first row)."""
    if output == "json":
        # Indented for a person at a terminal; one line for a program (json's C encoder
        # does not indent, and the pure-Python one took ~10 % of a query's time).
        from ledger.display import json_text

        indent = 2 if sys.stdout.isatty() else None
        click.echo(json_text(data, indent=indent))
    elif output == "csv":
        write_csv(data if rows is None else rows, columns)
    else:
        table(data)


def write_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """RFC 4180 CSV through the csv module: a header, then one line per row; lists are
    joined with ", " and mappings written as "key: value" pairs, as in tables."""
    import csv
    import io

    from ledger.display import visible

    columns = columns or (list(rows[0]) if rows else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([visible(_cell(row.get(column)), keep_lines=True) for column in columns])
    click.echo(buffer.getvalue(), nl=False)


# Columns whose values are single words (ids, dates, codes): never wrapped or broken.
WORDS = {
    "id", "actor", "occurrence", "agreement", "source", "on_behalf_of", "holder", "target",
    "organization", "kind", "type", "status", "act", "stance", "method", "reliability",
    "certain", "status_certain", "position", "recorded_by", "hash", "cited_by", "change",
    "date", "signed", "in_force", "start", "end", "published", "recorded_at", "earliest",
    "latest",
}  # fmt: skip
LABELS = {"status_certain": "certain", "on_behalf_of": "for", "overseen_by": "overseen by"}
MIN_TEXT = 20
MIN_TEXT_WORD = 40  # a word up to this long in text (an id, a date) is kept whole if it can be


def terminal_width() -> int:
    """$COLUMNS if set, else the terminal's width, else (piped) a wide page of 160."""
    import os
    import shutil

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return 160


def print_table(
    rows: Iterable[dict[str, Any]],
    columns: list[str],
    title: str | None = None,
    optional: Iterable[str] = (),
) -> None:
    """A table that fits the terminal without breaking an id or a date.

    Word columns (ids, dates, codes) get their full width and never wrap; list columns
    wrap between items; text wraps between words. When that cannot fit, the `optional`
    columns are left out (in that order, said in a caption); when it still cannot, each
    row is printed as lines of "column: value".
    """
    from ledger.display import visible

    rows = list(rows)
    width = terminal_width()
    cells = [{c: visible(_cell(row.get(c))) for c in columns} for row in rows]
    kept = list(columns)
    left_out: list[str] = []
    plan = _widths(cells, kept, rows, width)
    for column in optional:
        if plan is not None:
            break
        if column in kept:
            kept.remove(column)
            left_out.append(column)
            plan = _widths(cells, kept, rows, width)
    if plan is None:
        _print_records(cells, columns, title, width)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    caption = (
        f"not shown at this width: {', '.join(left_out)} (--format csv or json shows all)"
        if left_out
        else None
    )
    # Text objects are never parsed as Rich markup: `Pact [/bold]` or `[link=…]` in record
    # text is shown as typed (cells are shown with `visible`, so no control sequence runs).
    table = Table(title=Text(visible(title)) if title else None, caption=caption)
    for column in kept:
        table.add_column(
            LABELS.get(column, column),
            width=plan[column],
            no_wrap=column in WORDS,
            overflow="fold",
        )
    for row in cells:
        table.add_row(*[Text(row[column]) for column in kept])
    Console(soft_wrap=False, width=width, highlight=False).print(table)


def _widths(
    cells: list[dict[str, str]], columns: list[str], rows: list[dict[str, Any]], width: int
) -> dict[str, int] | None:
    """Each column's width if the table fits in `width` with no id or date broken."""
    natural: dict[str, int] = {}
    least: dict[str, int] = {}
    for column in columns:
        label = LABELS.get(column, column)
        values = [row[column] for row in cells]
        natural[column] = max([len(label), *(len(v) for v in values)])
        header_word = max(len(word) for word in label.split())
        if column in WORDS:
            least[column] = natural[column]
        elif any(isinstance(row.get(column), list) for row in rows):
            items = [len(str(i)) + 1 for row in rows for i in row.get(column) or []]
            least[column] = max([header_word, *items])
        else:
            words = [len(w) for v in values for w in v.split() if len(w) <= MIN_TEXT_WORD]
            least[column] = min(natural[column], max([MIN_TEXT, header_word, *words]))
    overhead = 3 * len(columns) + 1  # borders and one space of padding each side
    room = width - overhead
    if sum(least.values()) > room:
        return None
    if sum(natural.values()) <= room:
        return natural
    plan = dict(least)
    spare = room - sum(least.values())
    growth = {c: natural[c] - least[c] for c in columns if natural[c] > least[c]}
    total = sum(growth.values())
    for column, grow in growth.items():
        plan[column] += min(grow, spare * grow // total)
    return plan


def say(line: str) -> None:
    """A line of prose sized to the terminal: wrapped between words, ids kept whole, and
    control characters from record text shown, not run."""
    import textwrap

    from ledger.display import visible

    width = terminal_width()
    text = visible(line)
    click.echo(
        textwrap.fill(text, width=max(width, 20), break_on_hyphens=False, subsequent_indent="  ")
    )


def _print_records(
    cells: list[dict[str, str]], columns: list[str], title: str | None, width: int
) -> None:
    """Rows as blocks of "column: value" lines, wrapped between words, for narrow screens."""
    import textwrap

    if title:
        say(title)
    for row in cells:
        click.echo("─" * min(width, 40))
        for column in columns:
            if row[column]:
                click.echo(
                    textwrap.fill(
                        f"{LABELS.get(column, column)}: {row[column]}",
                        width=max(width, 20),
                        subsequent_indent="    ",
                        break_on_hyphens=False,
                    )
                )


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


def run() -> None:
    """The `ledger` program: one command in a process of its own, which then exits."""
    global one_command
    one_command = True
    main()


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


def _override(name: str) -> Callable[[click.Context, click.Parameter, str | None], None]:
    def set_on_context(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None and isinstance(ctx.obj, Context):
            setattr(ctx.obj, name, value)

    return set_on_context


def accept_group_options_after_commands(group: click.Group) -> None:
    """Give every command `--db` and `--user` too, so `ledger agreements --db URL` works
    as `ledger --db URL agreements` does; given after the command, they win.

    The group's callback has made the Context before a command's options are parsed, so
    these only replace its fields (and nothing has opened the ledger yet).
    """
    for command in group.commands.values():
        command.params += [
            click.Option(
                ["--db"],
                metavar="URL",
                expose_value=False,
                callback=_override("url"),
                help="Database URL, as before the command.",
            ),
            click.Option(
                ["--user"],
                metavar="NAME",
                expose_value=False,
                callback=_override("user"),
                help="Who is recording, as before the command.",
            ),
        ]


@main.command()
@click.option(
    "--origin",
    envvar="LEDGER_ORIGIN",
    help="Name the log in its signed checkpoints (or $LEDGER_ORIGIN); only while it is empty.",
)
@pass_context
@at_the_edge
def init(context: Context, origin: str | None) -> None:
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
    if origin is not None and context.ledger.name_origin(origin):
        click.echo(f"origin: {origin}", err=True)


# -- writing ------------------------------------------------------------------------------


@main.command(name="import")
@click.argument("files", nargs=-1, required=True)
@pass_context
@at_the_edge
def import_(context: Context, files: tuple[str, ...]) -> None:
    """Import FILES (.yaml, .json, .jsonl; - for stdin) in one transaction: all or nothing."""
    from ledger.reading import iter_records

    items = iter_records(files, sys.stdin, slim=True)
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
    query (exit 130). If the catch-up fails for any other reason (a cut connection, a
    full disk, tampered read models) the import still stands and the message says so,
    with the reason, but the command exits 1: something needs the user's attention, and
    running the same import again is harmless (it adds nothing).
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
        raise click.ClickException(
            printable(f"{_records(result.added)}; {CATCH_UP_LATER} (catching up failed: {reason})")
        ) from None
    return result


class RecordCommand(LedgerCommand):
    """`record --help` ends with every kind and its fields, read from the validator's own
    declarations (`ledger.records`) when help is asked for, so the two cannot drift."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ledger.records import field_names, list_field_names, required_field_names
        from ledger.vocabulary import KINDS

        super().format_epilog(ctx, formatter)
        rows = []
        for kind in KINDS:
            required = set(required_field_names(kind))
            lists = set(list_field_names(kind))
            fields = [
                f"--{name}" + ("" if name in required else "?") + ("..." if name in lists else "")
                for name in field_names(kind)
            ]
            rows.append((kind, " ".join(fields)))
        with formatter.section("Kinds and their fields (? optional, ... repeatable)"):
            formatter.write_dl(rows)


@main.command(
    cls=RecordCommand,
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


def _kinds() -> tuple[str, ...]:
    from ledger.vocabulary import KINDS

    return KINDS


@main.command(name="format")
@click.argument("kind", type=Closed(_kinds()), required=False, metavar="[KIND]")
def format_(kind: str | None) -> None:
    """The interchange format's reference: every kind, field, date form and rule, with
    examples; or one KIND's fields and an example.

    Generated from the validator's own declarations, so it always matches what `import`
    and `record` accept.
    """
    from ledger.reference import render

    click.echo(render(kind), nl=False)


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


def _agreement_statuses() -> tuple[str, ...]:
    from ledger.vocabulary import AGREEMENT_STATUSES

    return AGREEMENT_STATUSES


def _occurrence_kinds() -> tuple[str, ...]:
    from ledger.vocabulary import OCCURRENCE_KINDS

    return OCCURRENCE_KINDS


@main.command()
@click.option(
    "--status", type=Closed(_agreement_statuses()), help="Only agreements in this status."
)
@click.option("--party", metavar="ID", help="Only agreements with this participant.")
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
    output: str,
) -> None:
    """List agreements: id, title, status."""
    data = context.queries.agreements(when_from(as_of, known_at), status=status, party=party)
    columns = ["id", "title", "type", "status", "status_certain"]
    emit(
        data,
        output,
        lambda rows: print_table(rows, columns, optional=["type"]),
        columns=[*columns, "parties"],
    )


@main.command()
@click.argument("agreement_id")
@time_options
@output_options
@pass_context
@at_the_edge
def agreement(
    context: Context, agreement_id: str, as_of: str | None, known_at: str | None, output: str
) -> None:
    """One agreement: state, participants, signings, relations (CSV: its participants)."""
    data = context.queries.agreement(agreement_id, when_from(as_of, known_at))
    emit(
        data,
        output,
        show_agreement,
        rows=[participant_row(p) for p in data["participants"]],
        columns=PARTICIPANT_COLUMNS,
    )


PARTICIPANT_COLUMNS = ["actor", "status", "signed", "consent", "in_force", "notes"]


def show_agreement(state: dict[str, Any]) -> None:
    certainty = "" if state["status_certain"] else " (not certain by this date)"
    say(f"{state['title']} [{state['id']}] — {state['type']}")
    say(f"status: {state['status']}{certainty}  (as of {state.get('as_of')})")
    if state["relations"]:
        say("relations: " + ", ".join(f"{r['type']} {r['target']}" for r in state["relations"]))
    if state.get("related_by"):
        say("related by: " + ", ".join(f"{r['source']} ({r['type']})" for r in state["related_by"]))
    print_table(
        [participant_row(p) for p in state["participants"]],
        PARTICIPANT_COLUMNS,
        title="participants",
        optional=["notes", "in_force", "consent"],
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
        optional=["place", "overseen_by"],
    )


def participant_row(participant: dict[str, Any]) -> dict[str, Any]:
    """One participant as a table row: consent as "method date", and its notice,
    suspension or successors in one `notes` cell (the JSON keeps each field apart)."""
    consent = participant.get("consent")
    notes = []
    if withdrawal := participant.get("withdrawal"):
        notes.append(f"withdrawal {withdrawal['date']}, effective {withdrawal['effective']}")
    if suspension := participant.get("suspension"):
        until = f" until {suspension['until']}" if suspension.get("until") else ""
        notes.append(f"suspended {suspension['date']}{until}")
    if successors := participant.get("successors"):
        notes.append("successors " + ", ".join(successors))
    return {
        **participant,
        "consent": f"{consent['method']} {consent['date']}" if consent else None,
        "notes": "; ".join(notes) or None,
    }


ENDORSEMENT_COLUMNS = ["date", "actor", "act", "on_behalf_of", "occurrence", "sources", "certain"]


@main.command()
@click.argument("agreement_id")
@time_options
@output_options
@pass_context
@at_the_edge
def endorsements(
    context: Context, agreement_id: str, as_of: str | None, known_at: str | None, output: str
) -> None:
    """Who endorsed the agreement and when, oldest first."""
    data = context.queries.endorsements(agreement_id, when_from(as_of, known_at))
    emit(
        data,
        output,
        lambda rows: print_table(
            rows,
            ENDORSEMENT_COLUMNS,
            title=f"endorsements of {agreement_id}",
            optional=["sources", "occurrence", "certain"],
        ),
        columns=ENDORSEMENT_COLUMNS,
    )


def _edtf_day(value: str | None, end: bool, what: str) -> date | None:
    """--from takes the first day an EDTF date can denote, --to the last (2023-06: the 30th)."""
    from ledger.dates import parse_date

    if value is None:
        return None
    try:
        span = parse_date(value)
    except ValueError as error:
        raise click.BadParameter(printable(str(error)), param_hint=f"--{what}") from None
    return span.latest if end else span.earliest


@main.command()
@click.option("--actor", metavar="ID", help="Only occurrences this actor takes part in (any role).")
@click.option(
    "--include-parts",
    is_flag=True,
    help="With --actor: also its bodies (part_of) and the people in posts there at the time.",
)
@click.option("--agreement", metavar="ID", help="Only occurrences concerning this agreement.")
@click.option("--kind", type=Closed(_occurrence_kinds()), help="Only occurrences of this kind.")
@click.option("--from", "from_", metavar="EDTF", help="Only occurrences possibly on or after.")
@click.option("--to", metavar="EDTF", help="Only occurrences possibly on or before.")
@time_options
@output_options
@pass_context
@at_the_edge
def timeline(
    context: Context,
    actor: str | None,
    include_parts: bool,
    agreement: str | None,
    kind: str | None,
    from_: str | None,
    to: str | None,
    as_of: str | None,
    known_at: str | None,
    output: str,
) -> None:
    """Occurrences, oldest first."""
    if include_parts and actor is None:
        raise click.UsageError("--include-parts needs --actor")
    data = context.queries.timeline(
        when_from(as_of, known_at),
        actor=actor,
        agreement=agreement,
        kind=kind,
        from_=_edtf_day(from_, False, "from"),
        to=_edtf_day(to, True, "to"),
        include_parts=include_parts,
    )
    emit(data, output, show_timeline, columns=TIMELINE_COLUMNS)


TIMELINE_COLUMNS = ["date", "kind", "id", "stance", "actors", "agreements", "description"]


def show_timeline(rows: list[dict[str, Any]], title: str = "timeline") -> None:
    shown = [
        {
            **row,
            # A statement's summary does not say its stance; a generated line does.
            "description": f"{row['stance']}: {row['description']}"
            if row.get("stance") and row.get("summary")
            else row["description"],
        }
        for row in rows
    ]
    print_table(
        shown,
        ["date", "kind", "id", "actors", "agreements", "description"],
        title=title,
        optional=["agreements", "actors", "kind"],
    )


@main.command()
@click.argument("actor_id")
@time_options
@output_options
@pass_context
@at_the_edge
def actor(
    context: Context, actor_id: str, as_of: str | None, known_at: str | None, output: str
) -> None:
    """An actor, the posts it held and its occurrences (CSV: its occurrences)."""
    data = context.queries.actor(actor_id, when_from(as_of, known_at))

    def show(data: dict[str, Any]) -> None:
        say(f"{data['name']} [{data['id']}] — {data['type']}")
        print_table(data["posts"], ["title", "organization", "start", "end"], title="posts")
        show_timeline(data["occurrences"], title="occurrences")

    emit(data, output, show, rows=data["occurrences"], columns=TIMELINE_COLUMNS)


SOURCE_COLUMNS = ["id", "title", "publisher", "published", "reliability", "cited_by"]


@main.command()
@time_options
@output_options
@pass_context
@at_the_edge
def sources(context: Context, as_of: str | None, known_at: str | None, output: str) -> None:
    """Every source: id, title, publisher, published, reliability, how many records cite it."""
    data = context.queries.source_list(when_from(as_of, known_at))
    emit(
        data,
        output,
        lambda rows: print_table(
            rows, SOURCE_COLUMNS, title="sources", optional=["publisher", "published"]
        ),
        columns=[*SOURCE_COLUMNS, "type", "url"],
    )


CITATION_COLUMNS = ["kind", "id", "date", "attribution", "quote", "description"]


@main.command()
@click.argument("source_id")
@time_options
@output_options
@pass_context
@at_the_edge
def source(
    context: Context, source_id: str, as_of: str | None, known_at: str | None, output: str
) -> None:
    """One source and every record that cites it, with attribution and quote."""
    data = context.queries.source(source_id, when_from(as_of, known_at))

    def show(data: dict[str, Any]) -> None:
        say(f"{data['title']} [{data['id']}]")
        details = [
            f"{key}: {data[key]}"
            for key in ("publisher", "published", "type", "reliability", "url")
            if data.get(key)
        ]
        if details:
            say("; ".join(details))
        print_table(
            data["citations"],
            CITATION_COLUMNS,
            title=f"cited by {len(data['citations'])} records",
            optional=["description", "date", "kind"],
        )

    emit(data, output, show, rows=data["citations"], columns=CITATION_COLUMNS)


@main.command()
@click.argument("text")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@time_options
@output_options
@pass_context
@at_the_edge
def search(
    context: Context,
    text: str,
    limit: int,
    as_of: str | None,
    known_at: str | None,
    output: str,
) -> None:
    """Records whose names, aliases, titles, summaries or quotes hold every word of TEXT
    (or words starting with them), best first."""
    data = context.queries.search(text, when_from(as_of, known_at), limit=limit)
    rows = [{**row, "matched": [m["field"] for m in row["matches"]]} for row in data]
    columns = ["kind", "id", "date", "label", "matched"]
    emit(
        data,
        output,
        lambda _data: print_table(
            rows, columns, title=f"search: {text}", optional=["matched", "date"]
        ),
        rows=rows,
        columns=columns,
    )


CHANGE_COLUMNS = ["change", "recorded_at", "kind", "id", "detail"]


@main.command()
@click.option(
    "--since",
    required=True,
    metavar="TIMESTAMP",
    help="Record time to start after (as --known-at: a bare day means its end, UTC).",
)
@click.option("--until", metavar="TIMESTAMP", help="Record time to end at (default: now).")
@click.option(
    "--as-of", metavar="DATE", help="Agreements' answers as of this day (default: today)."
)
@output_options
@pass_context
@at_the_edge
def changes(
    context: Context, since: str, until: str | None, as_of: str | None, output: str
) -> None:
    """What the ledger learned after --since and by --until: records added, corrected,
    retracted, and each agreement whose status or participants changed."""
    data = context.queries.changes(
        record_time(since),
        record_time(until) if until else None,
        _parsed(as_of, "as_of") if as_of else None,
    )
    rows = change_rows(data)
    emit(
        data,
        output,
        lambda _data: print_table(
            rows,
            CHANGE_COLUMNS,
            title=f"learned after {data['since']} and by {data['until']}",
            optional=["recorded_at", "kind"],
        ),
        rows=rows,
        columns=CHANGE_COLUMNS,
    )


def change_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The changes as one list: what happened to which record, and in a word why."""
    rows = [{**r, "change": "added", "detail": r["description"]} for r in data["added"]]
    for change in ("corrected", "retracted"):
        for r in data[change]:
            fields = f" ({', '.join(r['set'])})" if r.get("set") else ""
            rows.append(
                {
                    "change": change,
                    "recorded_at": r["recorded_at"],
                    "kind": change[:-2] + "ion",
                    "id": r["target"],
                    "detail": f"{r['reason']}{fields} — {r['id']} by {r['recorded_by']}",
                }
            )
    for a in data["agreements"]:
        before = {p["actor"]: p["status"] for p in a["participants"]["before"]}
        after = {p["actor"]: p["status"] for p in a["participants"]["after"]}
        moved = [
            f"{actor} {before.get(actor, '—')} → {after.get(actor, '—')}"
            for actor in [*before, *(x for x in after if x not in before)]
            if before.get(actor) != after.get(actor)
        ]
        status = a["status"]
        rows.append(
            {
                "change": "agreement",
                "kind": "agreement",
                "id": a["id"],
                "detail": "; ".join(
                    [f"status {status['before'] or '—'} → {status['after']}", *moved]
                    if status["before"] != status["after"]
                    else moved
                ),
            }
        )
    return rows


LOG_COLUMNS = ["position", "recorded_at", "recorded_by", "type", "id", "hash"]


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
@click.option(
    "--known-at", metavar="TIMESTAMP", help="Only events recorded by then (as in queries)."
)
@output_options
@pass_context
@at_the_edge
def log(
    context: Context,
    from_position: int,
    limit: int | None,
    known_at: str | None,
    output: str,
) -> None:
    """The raw append-only event log."""
    by = record_time(known_at) if known_at else None
    logged = context.ledger.log(after=max(from_position, 1) - 1, limit=limit, known_at=by)
    entries = [item.to_json() for item in logged]
    rows = [{**r, "id": r["data"].get("id")} for r in entries]
    emit(
        entries,
        output,
        lambda _entries: print_table(
            [{**r, "hash": r["hash"][:16]} for r in rows],
            LOG_COLUMNS,
            title="log",
            optional=["hash", "recorded_by"],
        ),
        rows=rows,
        columns=["position", "recorded_at", "recorded_by", "stream", "type", "id", "hash"],
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


EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "jsonl"}


def export_format(fmt: str | None, output: str | None) -> str:
    """The format asked for, else the one the file's extension names, else YAML; an
    extension that names another format than the one asked for is refused."""
    implied = EXTENSIONS.get(Path(output).suffix.lower()) if output else None
    if fmt and implied and fmt != implied:
        raise click.ClickException(
            printable(f"{output} has the extension of {implied}, but --format {fmt} was asked")
        )
    return fmt or implied or "yaml"


@main.command()
@click.option(
    "--format",
    "fmt",
    type=Closed(("yaml", "json", "jsonl")),
    help="yaml, json or jsonl (default: from the -o file's extension, else yaml).",
)
@output_file_options
@pass_context
@at_the_edge
def export(context: Context, fmt: str | None, output: str | None, force: bool) -> None:
    """The ledger in the interchange format; round-trips through import."""
    from ledger.exporting import write_records

    fmt = export_format(fmt, output)
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
    given = (ctx.find_root().get_parameter_source("db"), ctx.get_parameter_source("db"))
    if any(source not in (click.core.ParameterSource.DEFAULT, None) for source in given):
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


# -- the web ------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--allow-writes",
    is_flag=True,
    help="Accept POST /api/records from holders of a token in --tokens (off by default).",
)
@click.option(
    "--tokens",
    "tokens_file",
    type=click.Path(dir_okay=False),
    help="Tokens file (from `ledger token add`): who may write, and as whom.",
)
@click.option(
    "--cache-entries",
    type=click.IntRange(min=0),
    default=1024,
    show_default=True,
    help="Answers kept until the log grows (0: compute every answer).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes (one per core answers more questions at once).",
)
@pass_context
@at_the_edge
def serve(
    context: Context,
    host: str,
    port: int,
    allow_writes: bool,
    tokens_file: str | None,
    cache_entries: int,
    workers: int,
) -> None:
    """Serve the ledger on the web: a JSON API (same answers as --json) and pages."""
    from web.server import is_loopback
    from web.server import serve as run

    if allow_writes and not tokens_file:
        raise click.UsageError("--allow-writes needs --tokens FILE (see `ledger token add`)")
    if tokens_file and not allow_writes:
        raise click.UsageError("--tokens is only used with --allow-writes")
    _refuse_missing_sqlite(context.url)
    if not is_loopback(host):
        click.echo(
            f"warning: serving on {host}, beyond this machine, over plain HTTP"
            + ("; tokens travel in clear: put a TLS proxy in front" if allow_writes else ""),
            err=True,
        )
    run(
        context.url,
        host,
        port,
        tokens=Path(tokens_file) if allow_writes and tokens_file else None,
        cache_entries=cache_entries,
        workers=workers,
    )


def _refuse_missing_sqlite(url: str) -> None:
    """A server on a mistyped path would answer every question with nothing."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # the ledger's own opening names a bad URL
        return
    database = parsed.database
    if (
        parsed.get_backend_name() == "sqlite"
        and database not in (None, "", ":memory:")
        and not Path(str(database)).exists()
    ):
        raise click.ClickException(f"no ledger at {database}")


@main.group()
def token() -> None:
    """Bearer tokens for `ledger serve --allow-writes` (only their hashes are stored)."""


@token.command(name="add")
@click.argument("name")
@click.option("--tokens", "tokens_file", type=click.Path(dir_okay=False), required=True)
@pass_context
@at_the_edge
def token_add(context: Context, name: str, tokens_file: str) -> None:
    """A new token for NAME, printed once; NAME is what its writes are recorded as."""
    from web.tokens import add_token

    secret = add_token(Path(tokens_file), name, protected=context.protected_files())
    click.echo(secret)
    click.echo(
        f"added a token for '{name}' to {tokens_file} (only its hash is kept: save it now)",
        err=True,
    )


@token.command(name="remove")
@click.argument("name")
@click.option("--tokens", "tokens_file", type=click.Path(dir_okay=False), required=True)
@pass_context
@at_the_edge
def token_remove(context: Context, name: str, tokens_file: str) -> None:
    """Revoke NAME's token (a running server refuses it from its next request)."""
    from web.tokens import remove_token

    remove_token(Path(tokens_file), name, protected=context.protected_files())
    click.echo(f"removed the token of '{name}' from {tokens_file}", err=True)


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


def _read_checkpoint(path: str, pubkey: str | None, origin: str) -> Any:
    """The checkpoint in a file, refused if it is malformed, signed by another key (with
    --pubkey), or made for another log than this ledger (`origin`)."""
    from ledger.checkpoints import CheckpointError, open_checkpoint
    from ledger.origin import check_origin

    text = read_text_file(path, "checkpoint")
    verifier = read_text_file(pubkey, "verifier key").strip() if pubkey else None
    try:
        checkpoint, found = open_checkpoint(text, verifier)
        check_origin(found, origin, "the checkpoint")
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
@click.option(
    "--known-at",
    metavar="TIMESTAMP",
    help="The tree head as it stood then: the last one written by that record time.",
)
@pass_context
@at_the_edge
def checkpoint(
    context: Context,
    output: str | None,
    force: bool,
    keyfile: str | None,
    known_at: str | None,
) -> None:
    """Tree head of the log: size, root hash, time, and the ledger's origin name."""
    from ledger.checkpoints import sign_checkpoint
    from ledger.integrity import checkpoint as tree_head
    from ledger.integrity import checkpoint_json

    head = tree_head(context.ledger, when_from(None, known_at).known_at)
    origin = context.ledger.origin
    if keyfile:
        signer = read_text_file(keyfile, "signer key").strip()
        text = sign_checkpoint(head, origin, signer)
    else:
        text = json.dumps(checkpoint_json(head, origin), indent=2) + "\n"
    _write_or_echo(context, text, output, force)


@main.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also prove this earlier checkpoint is a prefix of today's log.",
)
@click.option(
    "--since",
    "since_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Check only what was appended after this trusted checkpoint (a daily check).",
)
@click.option(
    "--pubkey",
    type=click.Path(exists=True, dir_okay=False),
    help="Verifier key: the checkpoint must be a note signed by it.",
)
@click.option(
    "--log-only",
    is_flag=True,
    help="Skip comparing the read models with a rebuild from the log (it costs a replay).",
)
@click.option("--json", "as_json", is_flag=True, help="Print exact JSON.")
@pass_context
@at_the_edge
def verify(
    context: Context,
    checkpoint_file: str | None,
    since_file: str | None,
    pubkey: str | None,
    log_only: bool,
    as_json: bool,
) -> None:
    """Recompute the log's hashes and rebuild the read models; exit 1 on tampering."""
    from ledger.integrity import verify as recompute
    from ledger.integrity import verify_since

    if pubkey and not (checkpoint_file or since_file):
        raise click.UsageError("--pubkey needs --checkpoint or --since")
    if checkpoint_file and since_file:
        raise click.UsageError("give --checkpoint or --since, not both")
    ledger = context.ledger
    given = checkpoint_file or since_file
    against = _read_checkpoint(given, pubkey, ledger.origin) if given else None
    result = verify_since(ledger, against) if since_file else recompute(ledger, against)
    read_models = None
    # Rebuilt from a log that fails verification, the read models would only be
    # compared with the forgery: they are checked once the log is sound.
    if result.ok and not (log_only or since_file):
        from projections.crosscheck import check_read_models

        read_models = check_read_models(ledger)
    read_model_problems = read_models.messages() if read_models else []
    ok = result.ok and not read_model_problems
    data = {
        "ok": ok,
        "size": result.size,
        "root": result.root.hex(),
        "tree_heads_checked": result.checked_heads,
        "checkpoint": against.to_json() if against else None,
        "since": result.since,
        "first_bad_position": result.first_bad_position,
        "problems": result.problems + read_model_problems,
        "read_models": None if read_models is None else read_models.positions,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif ok:
        click.echo(f"ok: {_verified(result, against, read_models)}")
    if ok:
        return
    for problem in result.problems:
        click.echo(f"tampering: {printable(problem)}", err=True)
    for problem in read_model_problems:
        click.echo(f"read models: {printable(problem)}", err=True)
    if result.first_bad_position is not None:
        raise click.ClickException(
            f"the log fails verification at position {result.first_bad_position}"
        )
    if not result.ok:
        raise click.ClickException(f"the log fails verification: {result.problems[0]}")
    raise click.ClickException(
        "the read models differ from what the log rebuilds: run `ledger replay`"
    )


def _verified(result: Any, against: Any, read_models: Any) -> str:
    """What an `ok` verification vouches for, in one line."""
    if result.since is not None:
        text = (
            f"{result.size - result.since} events appended after the checkpoint of size "
            f"{result.since} verified, root {result.root.hex()}; the log extends it"
        )
    else:
        text = f"{result.size} events, root {result.root.hex()}"
        if against is not None:
            text += f"; checkpoint of size {against.size} is a prefix"
    if read_models is not None:
        text += "; read models equal a rebuild from the log"
    return text


@main.command(name="rebuild-heads")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Also require the log to extend this trusted checkpoint first.",
)
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), help="Verifier key.")
@pass_context
@at_the_edge
def rebuild_heads(context: Context, checkpoint_file: str | None, pubkey: str | None) -> None:
    """Rebuild deleted tree heads, after verifying every leaf against its row."""
    from ledger.integrity import rebuild_heads as rebuild

    ledger = context.ledger
    against = _read_checkpoint(checkpoint_file, pubkey, ledger.origin) if checkpoint_file else None
    added = rebuild(ledger, against)
    if added:
        click.echo(f"rebuilt {added} tree heads from the verified leaves", err=True)
    else:
        click.echo("no tree head is missing; nothing to rebuild", err=True)


@main.command()
@click.argument("position", type=click.IntRange(min=1, max=MAX_POSITION))
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Prove against this checkpoint's tree (default: the whole log now).",
)
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), help="Verifier key.")
@click.option(
    "--known-at",
    metavar="TIMESTAMP",
    help="Prove against the tree head as it stood then (instead of --checkpoint).",
)
@click.option("--json", "as_json", is_flag=True, help="Print exact JSON.")
@pass_context
@at_the_edge
def prove(
    context: Context,
    position: int,
    checkpoint_file: str | None,
    pubkey: str | None,
    known_at: str | None,
    as_json: bool,
) -> None:
    """Inclusion proof of the event at POSITION against a checkpoint."""
    from ledger.integrity import checkpoint as tree_head
    from ledger.integrity import prove as inclusion

    if known_at and checkpoint_file:
        raise click.UsageError("give --checkpoint or --known-at, not both")
    against = (
        _read_checkpoint(checkpoint_file, pubkey, context.ledger.origin)
        if checkpoint_file
        else None
    )
    if known_at:
        against = tree_head(context.ledger, when_from(None, known_at).known_at)
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
    type=Closed(("md", "html", "json")),
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
    from projections.report_rendering import render_pieces
    from projections.reports import open_report

    if output:  # refuse a bad target before the work, not after it
        from ledger.outputs import check_target

        check_target(output, force=force, protected=context.protected_files())
    # Gathered first (a refusal writes nothing), then written as it is produced: a
    # whole-ledger report is never held in memory, and -o replaces its file only when
    # the last piece is written.
    with open_report(context.ledger, agreement_id, when_from(as_of, known_at)) as report:
        pieces = render_pieces(report, fmt)
        if output:
            write_output(context, output, force, lambda stream: stream.writelines(pieces))
        else:
            _echo_pieces(pieces)


def _echo_pieces(pieces: Iterable[str]) -> None:
    """Print text given in pieces, ending with one newline (as `click.echo` would)."""
    last = ""
    for piece in pieces:
        click.echo(piece, nl=False)
        last = piece or last
    if not last.endswith("\n"):
        click.echo()


accept_group_options_after_commands(main)
