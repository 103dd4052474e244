"""eventsourcing's own recorder conformance suites, run against the ledger's schema.

The ledger writes through two recorders, so those are what must conform:

* ``LedgerRecorder`` as the application recorder (``ApplicationRecorderTestCase``, its
  concurrency tests included, and ``NonInterleavingNotificationIDsBaseCase``);
* eventsourcing-sqlalchemy's ``SQLAlchemyTrackingRecorder`` for the projections'
  tracking records (``TrackingRecorderTestCase``);
* ``LedgerFactory``, which builds both (``InfrastructureFactoryTestCase``).

The ledger has no aggregate (snapshot) recorder and no process recorder, so
``AggregateRecorderTestCase`` and ``ProcessRecorderTestCase`` do not apply, and the
factory tests that build those recorders are skipped saying so.

Every test gets a database of its own (conftest's ``sqlite_url``: a new SQLite file;
``postgres_url``: a new PostgreSQL database, skipped with the reason when no server
answers) whose tables are made by the ledger's Alembic migrations, never by the
library's ``create_table``: the ledger's schema is what has to pass. Recorders are
built the way ``Ledger`` builds them: ``LedgerFactory`` from an environment named
``ledger`` with ``CREATE_TABLE=n``.
"""

from __future__ import annotations

from typing import Any

import pytest

# The library's suites import its AES cipher at module level, which needs pycryptodome
# (eventsourcing's "crypto" extra); the recorder tests themselves never encrypt.
pytest.importorskip(
    "Crypto.Cipher.AES",
    reason="eventsourcing.tests.persistence needs pycryptodome (eventsourcing[crypto])",
)

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.tests import persistence as conformance
from eventsourcing.utils import Environment, get_topic
from eventsourcing_sqlalchemy.recorders import SQLAlchemyTrackingRecorder

from ledger.database import dispose_engines, engine_for
from ledger.schema import current_revision, head_revision, upgrade
from ledger.store import LedgerFactory, LedgerRecorder

SUBSCRIBE_ON_SQLITE = (
    "eventsourcing-sqlalchemy implements subscribe() with PostgreSQL LISTEN/NOTIFY only; "
    "on SQLite it raises NotImplementedError (the ledger's projections catch up by "
    "reading pages instead)"
)
NO_AGGREGATE_RECORDER = (
    "the ledger has no aggregate (snapshot) recorder; the factory's one would also "
    "clash with LedgerRecorder over the ledger_events table"
)
NO_PROCESS_RECORDER = "the ledger has no process recorder (projections use catch-up + tracking)"


def ledger_environment(url: str) -> Environment:
    """The environment ``Ledger`` gives eventsourcing (application name ``ledger``)."""
    return Environment(
        "ledger",
        {
            "PERSISTENCE_MODULE": get_topic(LedgerFactory),
            "SQLALCHEMY_URL": url,
            "CREATE_TABLE": "n",
        },
    )


def ledger_factory(url: str) -> LedgerFactory:
    factory = InfrastructureFactory.construct(ledger_environment(url))
    assert isinstance(factory, LedgerFactory)
    return factory


class FreshSQLiteDatabase:
    """A SQLite file of its own for each test (conftest's ``sqlite_url``), migrated here."""

    __test__ = True
    url: str

    @pytest.fixture(autouse=True)
    def _database(self, sqlite_url: str) -> None:
        # pytest sets fixtures up before unittest's setUp, and tears them down after.
        self.url = sqlite_url
        migrate(self.url)


class FreshPostgreSQLDatabase:
    """A PostgreSQL database of its own for each test (conftest's ``postgres_url``: a
    clone of a template that Alembic migrated; skipped, saying why, with no server)."""

    __test__ = True
    url: str

    @pytest.fixture(autouse=True)
    def _database(self, postgres_url: str) -> None:
        self.url = postgres_url
        migrate(self.url)


def migrate(url: str) -> None:
    """Make the ledger's tables the way ``ledger init`` does: Alembic, up to head."""
    engine = engine_for(url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    dispose_engines()  # each test's recorders start from a new engine


# -- application recorder --------------------------------------------------------------


class LedgerRecorderConformance(conformance.ApplicationRecorderTestCase[LedgerRecorder]):
    __test__ = False  # a suite without a database; the classes below give it one
    url: str

    def create_recorder(self) -> LedgerRecorder:
        recorder = ledger_factory(self.url).application_recorder()
        assert type(recorder) is LedgerRecorder
        assert recorder.events_table_name == "ledger_events"
        return recorder

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestLedgerRecorderOnSQLite(FreshSQLiteDatabase, LedgerRecorderConformance):
    def test_insert_subscribe(self) -> None:
        self.skipTest(SUBSCRIBE_ON_SQLITE)

    def test_subscribe_is_refused_on_sqlite_rather_than_silently_missing(self) -> None:
        with pytest.raises(NotImplementedError):
            self.create_recorder().subscribe(gt=None)


class TestLedgerRecorderOnPostgreSQL(FreshPostgreSQLDatabase, LedgerRecorderConformance):
    pass


class LedgerNonInterleaving(conformance.NonInterleavingNotificationIDsBaseCase):
    __test__ = False  # a suite without a database; the classes below give it one
    url: str

    def create_recorder(self) -> LedgerRecorder:
        return ledger_factory(self.url).application_recorder()


class TestNonInterleavingNotificationIdsOnSQLite(FreshSQLiteDatabase, LedgerNonInterleaving):
    pass


class TestNonInterleavingNotificationIdsOnPostgreSQL(
    FreshPostgreSQLDatabase, LedgerNonInterleaving
):
    pass


# -- tracking recorder -----------------------------------------------------------------


class TrackingRecorderConformance(conformance.TrackingRecorderTestCase):
    __test__ = False  # a suite without a database; the classes below give it one
    url: str

    def create_recorder(self) -> TrackingRecorder:
        recorder = ledger_factory(self.url).tracking_recorder()
        assert type(recorder) is SQLAlchemyTrackingRecorder
        assert recorder.tracking_table_name == "ledger_tracking"
        return recorder


class TestTrackingRecorderOnSQLite(FreshSQLiteDatabase, TrackingRecorderConformance):
    pass


class TestTrackingRecorderOnPostgreSQL(FreshPostgreSQLDatabase, TrackingRecorderConformance):
    pass


# -- infrastructure factory ------------------------------------------------------------


class TrackingRecorderSubclass(SQLAlchemyTrackingRecorder):
    pass


class LedgerFactoryConformance(conformance.InfrastructureFactoryTestCase[LedgerFactory]):
    __test__ = False  # a suite without a database; the classes below give it one
    url: str

    def setUp(self) -> None:
        self.env = ledger_environment(self.url)
        super().setUp()

    def expected_factory_class(self) -> type[LedgerFactory]:
        return LedgerFactory

    def expected_aggregate_recorder_class(self) -> Any:
        raise AssertionError(NO_AGGREGATE_RECORDER)

    def expected_application_recorder_class(self) -> type[LedgerRecorder]:
        return LedgerRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return SQLAlchemyTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return TrackingRecorderSubclass

    def expected_process_recorder_class(self) -> Any:
        raise AssertionError(NO_PROCESS_RECORDER)

    def test_create_aggregate_recorder(self) -> None:
        self.skipTest(NO_AGGREGATE_RECORDER)

    def test_create_process_recorder(self) -> None:
        self.skipTest(NO_PROCESS_RECORDER)


class TestLedgerFactoryOnSQLite(FreshSQLiteDatabase, LedgerFactoryConformance):
    pass


class TestLedgerFactoryOnPostgreSQL(FreshPostgreSQLDatabase, LedgerFactoryConformance):
    pass
