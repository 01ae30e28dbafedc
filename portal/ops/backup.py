"""Backup and restore: every table as JSON Lines, the uploaded files and a manifest, in one
tar.gz that restores on SQLite or PostgreSQL alike.

Values are written by the kind of their column (dates and times as ISO 8601, decimals as
strings, bytes as base64), and read back by the same kind, so nothing depends on the dialect
that wrote them. The archive holds health and social data: it is created readable by its
owner only, and should be kept encrypted wherever it is copied."""

import base64
import datetime as dt
import decimal
import hashlib
import importlib.metadata
import io
import json
import os
import re
import tarfile
import tempfile
import time
import zlib
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import Connection

from portal.auth.models import utcnow
from portal.extensions import db
from portal.requests.models import Attachment

FORMAT = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
BATCH = 1000
# Stored names are random tokens (uploads.store); anything else could escape UPLOAD_DIR.
STORED_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


# What a damaged archive raises while it is read: gzip, tar, JSON, the files themselves.
_UNREADABLE = (OSError, tarfile.TarError, EOFError, zlib.error, ValueError)


class BackupError(RuntimeError):
    """The archive cannot be written or restored; the message says why and what to do."""


def column_kind(column: sa.Column) -> str:
    """How values of the column are written to JSON and read back."""
    kinds = (
        (sa.JSON, "json"),
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.Time, "time"),
        (sa.Float, "float"),
        (sa.Numeric, "decimal"),
        (sa.LargeBinary, "bytes"),
        (sa.Interval, "unsupported"),
    )
    kind = next((kind for type_, kind in kinds if isinstance(column.type, type_)), "plain")
    if kind == "datetime" and column.type.timezone:
        return "datetime_tz"
    return kind


def encode(kind: str, value):
    if value is None or kind in ("json", "plain", "float"):
        return value
    if kind == "datetime_tz":
        # SQLite hands these back naive (it stores UTC); PostgreSQL in the session's zone.
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat()
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    raise BackupError(f"Columns of kind {kind!r} cannot be backed up")


def decode(kind: str, value):
    if value is None or kind in ("json", "plain", "float"):
        return value
    parse = {
        "datetime": dt.datetime.fromisoformat,
        "datetime_tz": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "decimal": decimal.Decimal,
        "bytes": base64.b64decode,
    }
    return parse[kind](value)


def portal_version() -> str:
    try:
        return importlib.metadata.version("portal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def alembic_revision() -> str | None:
    """The schema revision of the database, or None when it has no schema at all."""
    connection = db.session.connection()
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    versions = db.session.scalars(sa.text("SELECT version_num FROM alembic_version"))
    return ",".join(sorted(versions)) or None


class _Hashing(io.RawIOBase):
    """A reader that hashes what passes through it (tarfile reads the file once)."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def read(self, size=-1):
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, handle, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, handle)


def _begin_snapshot() -> bool:
    """Start the read transaction; True when it is ours to end.

    On PostgreSQL REPEATABLE READ gives every table the same snapshot; SQLite's read
    transaction does the same. A session bound to a connection (the tests' rolled-back
    transaction) is read as it stands: its transaction is the caller's."""
    if isinstance(db.session.get_bind(), Connection) or db.session().in_transaction():
        return False
    options = {}
    if db.session.get_bind().dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    db.session.connection(execution_options=options)
    return True


def _dump_table(table: sa.Table, scratch: Path, tar: tarfile.TarFile, stored: list) -> dict:
    kinds = {column.name: column_kind(column) for column in table.columns}
    order = list(table.primary_key.columns) or list(table.columns)
    query = sa.select(table).order_by(*order).execution_options(yield_per=BATCH)
    staged = scratch / "table.jsonl"
    digest, count = hashlib.sha256(), 0
    with staged.open("wb") as out:
        for row in db.session.execute(query).mappings():
            record = {name: encode(kind, row[name]) for name, kind in kinds.items()}
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
            digest.update(line)
            out.write(line)
            count += 1
            if table is Attachment.__table__:
                stored.append(row["stored_name"])
    member = f"tables/{table.name}.jsonl"
    with staged.open("rb") as handle:
        _add(tar, member, handle, staged.stat().st_size)
    staged.unlink()
    return {
        "name": table.name,
        "member": member,
        "rows": count,
        "sha256": digest.hexdigest(),
        "columns": kinds,
    }


def _add_files(tar: tarfile.TarFile, stored: list[str]) -> tuple[list[dict], list[str]]:
    folder = Path(current_app.config["UPLOAD_DIR"])
    files, missing = [], []
    for name in sorted(set(stored)):
        if not STORED_NAME.fullmatch(name):
            missing.append(name)
            continue
        try:
            handle = (folder / name).open("rb")
        except FileNotFoundError:
            missing.append(name)
            continue
        with handle:
            size = os.fstat(handle.fileno()).st_size
            hashing = _Hashing(handle)
            _add(tar, f"uploads/{name}", hashing, size)
        files.append(
            {
                "name": name,
                "member": f"uploads/{name}",
                "size": size,
                "sha256": hashing.digest.hexdigest(),
            }
        )
    return files, missing


def write_backup(path: Path) -> dict:
    """Write the archive at PATH (never over an existing file); return its manifest."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} exists: choose a new name")
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw:
            with (
                tarfile.open(fileobj=raw, mode="w:gz") as tar,
                tempfile.TemporaryDirectory() as scratch,
            ):
                manifest = _write_members(tar, Path(scratch))
                body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                _add(tar, MANIFEST, io.BytesIO(body), len(body))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def _write_members(tar: tarfile.TarFile, scratch: Path) -> dict:
    ours = _begin_snapshot()
    try:
        revision = alembic_revision()
        dialect = db.session.get_bind().dialect.name
        stored: list[str] = []
        tables = [_dump_table(table, scratch, tar, stored) for table in db.metadata.sorted_tables]
    finally:
        if ours:
            db.session.rollback()
    # Uploaded files are written once and never changed, so reading them after the
    # transaction still matches it; one deleted meanwhile is reported as missing.
    files, missing = _add_files(tar, stored)
    return {
        "format": FORMAT,
        "created_at": utcnow().isoformat(),
        "portal_version": portal_version(),
        "alembic_revision": revision,
        "source_dialect": dialect,
        "tables": tables,
        "files": files,
        "missing_files": missing,
    }


# Restore ---------------------------------------------------------------------------------
