"""Backup and restore: everything comes back, row by row and byte by byte, or nothing does."""

import datetime as dt
import io
import json
import os
import re
import tarfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from portal import audit, create_app
from portal.config import normalise_database_url
from portal.extensions import db
from portal.ops.cli import ops_cli
from tests.ops import filed_request

# On PostgreSQL runs the backup is also restored on SQLite: the archive is portable.
TARGETS = ["same"] + (["sqlite"] if os.environ.get("DATABASE_URL") else [])


def _fresh_database(tmp_path, worker_id, target) -> tuple[str, str | None]:
    """An empty database: a SQLite file, or a new schema in DATABASE_URL's database."""
    raw = os.environ.get("DATABASE_URL")
    if not raw or target == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}", None
    url = make_url(normalise_database_url(raw))
    schema = "pytest_restore_" + re.sub(r"\W", "_", worker_id)
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = url.set(query=dict(url.query, options=f"-csearch_path={schema}"))
    return url.render_as_string(hide_password=False), schema


@pytest.fixture(params=["same"])
def fresh(app, tmp_path, worker_id, request):
    """A second portal on an empty database migrated to the same revision."""
    database_url, schema = _fresh_database(tmp_path, worker_id, request.param)
    other = create_app(
        {
            "ENV_NAME": "testing",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "AUTH_KEYS_FILE": str(tmp_path / "keys.json"),
            "UPLOAD_DIR": str(tmp_path / "restored-uploads"),
        }
    )
    with other.app_context():
        upgrade()
    yield other
    with other.app_context():
        db.engine.dispose()
    if schema:
        admin = sa.create_engine(make_url(normalise_database_url(os.environ["DATABASE_URL"])))
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@contextmanager
def running(other):
    """Work in the other portal. The tests' db.session is bound to the first database's
    connection, so the other portal gets a session of its own meanwhile."""
    original = db.session
    with other.app_context():
        db.session = scoped_session(sessionmaker(bind=db.engine))
        try:
            yield
        finally:
            db.session.remove()
            db.session = original


def _invoke(app, *args):
    return app.test_cli_runner().invoke(ops_cli, [str(arg) for arg in args])


def _utc(value):
    # SQLite gives timezone-aware columns back naive (in UTC), PostgreSQL aware.
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _table_rows() -> dict[str, list[tuple]]:
    rows = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        query = sa.select(table).order_by(*order)
        rows[table.name] = [tuple(map(_utc, row)) for row in db.session.execute(query)]
    return rows


def _manifest_hashes(path: Path) -> dict[str, str]:
    with tarfile.open(path, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    return {t["name"]: t["sha256"] for t in manifest["tables"]}


@pytest.mark.parametrize("fresh", TARGETS, indirect=True)
def test_backup_restores_into_an_empty_database_row_by_row(app, fresh, tmp_path):
    request = filed_request(app)
    audit.record("request.read", "request", request.reference, actor_id=request.applicant_id)
    db.session.commit()
    archive = tmp_path / "portal.tar.gz"

    result = _invoke(app, "backup", archive)

    assert result.exit_code == 0, result.output
    assert "1 files" in result.output
    assert archive.stat().st_mode & 0o777 == 0o600
    source_rows = _table_rows()
    assert any(r[1] == request.reference for r in source_rows["request"])
    stored = [a.stored_name for a in request.attachments]
    with running(fresh):
        result = _invoke(fresh, "restore", archive, "--yes")
        assert result.exit_code == 0, result.output
        assert re.search(r"request: \d+", result.output)
        restored_rows = _table_rows()
        audit_checked, audit_problem = audit.verify()
        # New rows after the restore get fresh ids (PostgreSQL sequences moved past the data).
        db.session.execute(
            sa.insert(db.metadata.tables["app_user"]).values(
                fiscal_number="NEWUSR80A01E897X", created_at=sa.func.now()
            )
        )
        db.session.rollback()
        second = tmp_path / "again.tar.gz"
        assert _invoke(fresh, "backup", second).exit_code == 0
    assert restored_rows == source_rows
    # The audit chain's hashes survive the trip (and the change of dialect).
    assert audit_problem is None and audit_checked >= 1
    for name in stored:
        original = Path(app.config["UPLOAD_DIR"]) / name
        copy = Path(fresh.config["UPLOAD_DIR"]) / name
        assert copy.read_bytes() == original.read_bytes()
        assert copy.stat().st_mode & 0o777 == 0o600
    # A backup of the restored database holds the same bytes, whatever dialect wrote them.
    assert _manifest_hashes(second) == _manifest_hashes(archive)


def test_restore_refuses_a_database_that_holds_data(app, tmp_path):
    filed_request(app)
    archive = tmp_path / "portal.tar.gz"
    assert _invoke(app, "backup", archive).exit_code == 0
    before = db.session.scalar(
        sa.select(sa.func.count()).select_from(db.metadata.tables["request"])
    )

    result = _invoke(app, "restore", archive, "--yes")

    assert result.exit_code == 1
    assert "not empty" in result.output
    after = db.session.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables["request"]))
    assert after == before


def _rewrite(source: Path, target: Path, member: str, change) -> None:
    """Copy an archive, changing one member's bytes and keeping its manifest as it was."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for info in old:
            data = old.extractfile(info).read()
            if info.name == member:
                data = change(data)
                info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def _is_empty() -> bool:
    return not any(
        db.session.scalar(sa.select(sa.literal(1)).select_from(table).limit(1))
        for table in db.metadata.sorted_tables
    )


@pytest.mark.parametrize("damage", ["tampered", "truncated"])
def test_restore_refuses_a_damaged_archive_and_writes_nothing(app, fresh, tmp_path, damage):
    filed_request(app)
    archive = tmp_path / "portal.tar.gz"
    assert _invoke(app, "backup", archive).exit_code == 0
    damaged = tmp_path / "damaged.tar.gz"
    if damage == "tampered":
        _rewrite(
            archive, damaged, "tables/request.jsonl", lambda data: data.replace(b"Verdi", b"Rossi")
        )
    else:
        damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    with running(fresh):
        result = _invoke(fresh, "restore", damaged, "--yes")
        empty = _is_empty()

    assert result.exit_code == 1
    assert ("altered" if damage == "tampered" else "truncated") in result.output
    assert empty
    assert not list(Path(fresh.config["UPLOAD_DIR"]).glob("*"))
