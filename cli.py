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
    from ledger.application import Ledger
    from projections.queries import Queries, When

F = TypeVar("F", bound=Callable[..., Any])
EXAMPLE = Path(__file__).parent / "ledger" / "examples" / "iraq-iran-2025.yaml"


# -- context and error edge ------------------------------------------------------------


class Context:
    """Opens the ledger only when a command needs it, so `--help` stays instant."""

    def __init__(self, url: str, user: str | None) -> None:
        self.url = url
        self.user = user
        self._ledger: Ledger | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from ledger.application import Ledger

            self._ledger = Ledger(self.url)
        return self._ledger

    @property
    def queries(self) -> Queries:
        from projections.queries import Queries

        return Queries(self.url)


def printable(message: str) -> str:
    """A message that any terminal can show: a lone surrogate from hostile input is escaped
    rather than left to raise UnicodeEncodeError while the error itself is printed."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def at_the_edge(func: F) -> F:
    """Turn the ledger's own errors into clean exit-1 messages, never tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ledger.errors import LedgerError

        try:
            return func(*args, **kwargs)
        except LedgerError as error:
            raise click.ClickException(printable(str(error))) from None
        except KeyError as error:  # unknown projection names and the like
            raise click.ClickException(str(error.args[0] if error.args else error)) from None

    return wrapper  # type: ignore[return-value]


def output_options(func: F) -> F:
    """Every query prints a readable table, or exact JSON with --json."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print exact JSON instead of a table."
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
    from projections.queries import When

    try:
        return When.parse(as_of, known_at)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def emit(data: Any, as_json: bool, table: Callable[[Any], None]) -> None:
    if as_json:
        # Indented for a person at a terminal; one line for a program (json's C encoder
        # does not indent, and the pure-Python one took ~10 % of a query's time).
        indent = 2 if sys.stdout.isatty() else None
        click.echo(json.dumps(data, indent=indent, ensure_ascii=False, default=str))
    else:
        table(data)


def print_table(
    rows: Iterable[dict[str, Any]], columns: list[str], title: str | None = None
) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(row.get(column)) for column in columns])
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    from ledger.database import engine_for
    from ledger.schema import current_revision, upgrade

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
    from projections.catchup import catch_up

    items = iter_records(files, sys.stdin)
    result = context.ledger.import_records(items, context.user)
    catch_up(context.ledger)
    click.echo(
        f"{result.added} added, {result.unchanged} already in the ledger"
        + (f" (positions {result.first_position}–{result.last_position})" if result.added else ""),
        err=True,
    )


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
    from ledger.errors import RecordError
    from ledger.records import validate_record
    from projections.catchup import catch_up

    context: Context = ctx.obj
    raw = parse_fields(kind, ctx.args)
    try:
        item = validate_record(raw)
    except RecordError as error:
        raise error.located(file="command line") from None
    try:
        result = context.ledger.import_records([(None, item)], context.user)
    except RecordError as error:
        raise error.located(file="command line") from None
    catch_up(context.ledger)
    click.echo(
        f"recorded {item.kind} '{item.id}'" if result.added else f"'{item.id}' is already recorded",
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
        parsed = _field_value(value)
        if name in raw:
            if name not in repeated:
                raw[name] = [raw[name]]
                repeated.add(name)
            raw[name].append(parsed)
        else:
            raw[name] = parsed
    return raw


def _field_value(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
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
    click.echo(f"{state['title']} [{state['id']}] — {state['type']}")
    click.echo(f"status: {state['status']}{certainty}  (as of {state.get('as_of')})")
    if state["relations"]:
        click.echo(
            "relations: " + ", ".join(f"{r['type']} {r['target']}" for r in state["relations"])
        )
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
        click.echo(f"{data['name']} [{data['id']}] — {data['type']}")
        print_table(data["posts"], ["title", "organization", "start", "end"], title="posts")
        show_timeline(data["occurrences"])

    emit(data, as_json, show)


@main.command()
@click.option("--from-position", type=int, default=1, show_default=True, help="First position.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many events.")
@output_options
@pass_context
@at_the_edge
def log(context: Context, from_position: int, limit: int | None, as_json: bool) -> None:
    """The raw append-only event log."""
    entries = [
        item.to_json() for item in context.ledger.log(after=max(from_position, 1) - 1, limit=limit)
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
@click.option("--to-position", type=click.IntRange(min=0), help="Stop at this log position.")
@pass_context
@at_the_edge
def replay(context: Context, names: tuple[str, ...], to_position: int | None) -> None:
    """Rebuild read models from the log, with progress on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from projections.catchup import replay as rebuild

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task("replaying", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        reached = rebuild(context.ledger, names or None, upto=to_position, progress=advance)
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
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File.")
@pass_context
@at_the_edge
def export(context: Context, fmt: str, output: str | None) -> None:
    """The ledger in the interchange format; round-trips through import."""
    from ledger.exporting import write_records

    stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        write_records(context.ledger.export(), fmt, stream)
    finally:
        if output:
            stream.close()


@main.command()
@click.option(
    "--db-file",
    type=click.Path(dir_okay=False),
    default="demo-ledger.db",
    show_default=True,
    help="The fresh SQLite file to build (replaced if it exists), unless --db is given.",
)
@click.pass_context
@at_the_edge
def demo(ctx: click.Context, db_file: str) -> None:
    """A fresh ledger from the example: the memorandum's state, endorsements, and a timeline."""
    from ledger.reading import read_records
    from projections.catchup import catch_up

    context: Context = ctx.obj
    source = ctx.find_root().get_parameter_source("db")
    if source in (click.core.ParameterSource.DEFAULT, None):
        from ledger.database import dispose_engines

        dispose_engines()  # a cached connection would keep the old file alive
        for suffix in ("", "-wal", "-shm"):
            Path(db_file + suffix).unlink(missing_ok=True)
        context = Context(f"sqlite:///{db_file}", context.user)
    result = context.ledger.import_records(read_records(str(EXAMPLE)), context.user or "demo")
    catch_up(context.ledger)
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
@at_the_edge
def token_add(name: str, tokens_file: str) -> None:
    """A new token for NAME, printed once; NAME is what its writes are recorded as."""
    from web.tokens import add_token

    secret = add_token(Path(tokens_file), name)
    click.echo(secret)
    click.echo(
        f"added a token for '{name}' to {tokens_file} (only its hash is kept: save it now)",
        err=True,
    )


@token.command(name="remove")
@click.argument("name")
@click.option("--tokens", "tokens_file", type=click.Path(dir_okay=False), required=True)
@at_the_edge
def token_remove(name: str, tokens_file: str) -> None:
    """Revoke NAME's token (a running server refuses it from its next request)."""
    from web.tokens import remove_token

    remove_token(Path(tokens_file), name)
    click.echo(f"removed the token of '{name}' from {tokens_file}", err=True)


# -- audit grade -----------------------------------------------------------------------


def _write_or_echo(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=not text.endswith("\n"))


def _read_checkpoint(path: str, pubkey: str | None) -> Any:
    from ledger.checkpoints import CheckpointError, open_checkpoint

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"{path}: {error.strerror}") from None
    verifier = Path(pubkey).read_text(encoding="utf-8").strip() if pubkey else None
    try:
        checkpoint, _origin = open_checkpoint(text, verifier)
    except CheckpointError as error:
        raise click.ClickException(f"{path}: {error}") from None
    return checkpoint


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option(
    "--sign",
    "keyfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Sign with this Ed25519 signer key (from `ledger keygen`): a C2SP checkpoint note.",
)
@click.option("--origin", default="diplomacy-ledger", show_default=True, help="Log origin line.")
@click.option(
    "--known-at",
    metavar="TIMESTAMP",
    help="The tree head as it stood then: the last one written by that record time.",
)
@pass_context
@at_the_edge
def checkpoint(
    context: Context, output: str | None, keyfile: str | None, origin: str, known_at: str | None
) -> None:
    """Tree head of the log: size, root hash, time."""
    from ledger.checkpoints import sign_checkpoint
    from ledger.integrity import checkpoint as tree_head

    head = tree_head(context.ledger, when_from(None, known_at).known_at)
    if keyfile:
        signer = Path(keyfile).read_text(encoding="utf-8").strip()
        text = sign_checkpoint(head, origin, signer)
    else:
        text = json.dumps(head.to_json(), indent=2) + "\n"
    _write_or_echo(text, output)


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
            click.echo(f"tampering: {problem}", err=True)
        raise click.ClickException(
            f"the log fails verification at position {result.first_bad_position}"
        )


@main.command()
@click.argument("position", type=click.IntRange(min=1))
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
@output_options
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
    against = _read_checkpoint(checkpoint_file, pubkey) if checkpoint_file else None
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
    """Make an Ed25519 key pair for signing checkpoints (C2SP note key formats)."""
    import os

    from ledger.checkpoints import generate_key

    signer, verifier = generate_key(name)
    base = Path(prefix or name)
    secret = base.with_name(base.name + ".key")
    public = base.with_name(base.name + ".pub")
    if secret.exists():
        raise click.ClickException(f"{secret} exists; not overwriting a key")
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(signer + "\n")
    public.write_text(verifier + "\n", encoding="utf-8")
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
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@time_options
@pass_context
@at_the_edge
def audit(
    context: Context,
    agreement_id: str | None,
    fmt: str,
    output: str | None,
    as_of: str | None,
    known_at: str | None,
) -> None:
    """Audit report of one agreement, or of the whole ledger without ID."""
    from projections.reports import build_report, render

    report = build_report(context.ledger, agreement_id, when_from(as_of, known_at))
    _write_or_echo(render(report, fmt), output)
