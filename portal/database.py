"""Engine settings that make SQLite behave like PostgreSQL where the portal relies on it."""

from sqlalchemy import event
from sqlalchemy.engine import Engine

from portal.extensions import db


def _sqlite_transactions(engine: Engine) -> None:
    """Real transactions and SAVEPOINTs, and enforced foreign keys, on SQLite.

    The sqlite3 module opens transactions lazily and breaks SAVEPOINT; SQLAlchemy's documented
    remedy is to disable its handling and emit BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def init_app(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_transactions(db.engine)
