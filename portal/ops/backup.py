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


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:gz")
    except _UNREADABLE as error:
        raise BackupError(f"{path} is not a readable backup: {error}") from error


def _expected_members(manifest: dict) -> dict[str, str]:
    try:
        members = {t["member"]: t["sha256"] for t in manifest["tables"]}
        members.update({f["member"]: f["sha256"] for f in manifest["files"]})
        names = [f["name"] for f in manifest["files"]]
    except (KeyError, TypeError) as error:
        raise BackupError("The manifest is incomplete: not a backup of this portal") from error
    if any(not STORED_NAME.fullmatch(name) for name in names):
        raise BackupError("The manifest names an uploaded file outside the upload folder")
    return members


def verify(path: Path) -> dict:
    """Read the whole archive and check every member against the manifest; return it.

    Nothing is written: a truncated, damaged or altered archive is refused here."""
    seen: dict[str, str] = {}
    manifest = None
    try:
        with _open(path) as tar:
            for info in tar:
                if (
                    not info.isreg()
                    or info.name in seen
                    or (info.name == MANIFEST and manifest is not None)
                ):
                    raise BackupError(f"Unexpected member {info.name!r} in the archive")
                handle = tar.extractfile(info)
                if info.name == MANIFEST:
                    manifest = json.loads(handle.read())
                    continue
                digest = hashlib.sha256()
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                seen[info.name] = digest.hexdigest()
    except _UNREADABLE as error:
        raise BackupError(f"The archive is damaged or truncated: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("The archive has no manifest this portal can read")
    expected = _expected_members(manifest)
    if seen.keys() != expected.keys():
        difference = sorted(seen.keys() ^ expected.keys())
        raise BackupError(f"The archive does not match its manifest: {difference[:5]}")
    altered = sorted(name for name, digest in expected.items() if seen[name] != digest)
    if altered:
        raise BackupError(f"Checksum mismatch, the archive was altered: {altered[:5]}")
    return manifest


def check_target(manifest: dict) -> None:
    """Refuse a database that is not empty, or not at the backup's schema revision."""
    revision = alembic_revision()
    if revision is None:
        raise BackupError("The database has no schema: run `flask --app portal db upgrade`")
    if revision != manifest["alembic_revision"]:
        raise BackupError(
            f"The database is at revision {revision}, the backup at "
            f"{manifest['alembic_revision']}: upgrade both to the same revision first"
        )
    tables = db.metadata.tables
    described = {t["name"]: t["columns"] for t in manifest["tables"]}
    if described.keys() != tables.keys():
        raise BackupError(f"Tables differ: {sorted(described.keys() ^ tables.keys())}")
    for name, columns in described.items():
        if columns != {c.name: column_kind(c) for c in tables[name].columns}:
            raise BackupError(f"The columns of table {name} differ from the backup's")
    filled = [
        table.name
        for table in db.metadata.sorted_tables
        if db.session.scalar(sa.select(sa.literal(1)).select_from(table).limit(1))
    ]
    if filled:
        raise BackupError(f"The database is not empty (rows in {', '.join(filled)})")
    folder = Path(current_app.config["UPLOAD_DIR"])
    clashing = [f["name"] for f in manifest["files"] if (folder / f["name"]).exists()]
    if clashing:
        raise BackupError(f"The upload folder already holds {len(clashing)} of the files")


class _Checked:
    """A member read from the archive again, refused at the end if it changed since verify."""

    def __init__(self, tar: tarfile.TarFile, member: str, sha256: str):
        self.handle = tar.extractfile(tar.getmember(member))
        self.member, self.sha256 = member, sha256
        self.digest = hashlib.sha256()

    def chunks(self):
        while chunk := self.handle.read(CHUNK):
            self.digest.update(chunk)
            yield chunk
        if self.digest.hexdigest() != self.sha256:
            raise BackupError(f"{self.member} changed while it was being restored")

    def lines(self):
        rest = b""
        for chunk in self.chunks():
            *complete, rest = (rest + chunk).split(b"\n")
            yield from complete
        if rest:
            raise BackupError(f"{self.member} ends in the middle of a row")


def _insert_table(tar: tarfile.TarFile, described: dict) -> int:
    table = db.metadata.tables[described["name"]]
    kinds = described["columns"]
    batch, count = [], 0
    for line in _Checked(tar, described["member"], described["sha256"]).lines():
        record = json.loads(line)
        batch.append({name: decode(kinds[name], record[name]) for name in kinds})
        if len(batch) == BATCH:
            db.session.execute(table.insert(), batch)
            count, batch = count + len(batch), []
    if batch:
        db.session.execute(table.insert(), batch)
        count += len(batch)
    if count != described["rows"]:
        raise BackupError(f"{table.name}: {count} rows in the archive, {described['rows']} listed")
    return count


def reset_sequences() -> None:
    """PostgreSQL: move each id sequence past the restored rows, so new rows do not collide."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite gives max(rowid) + 1 by itself
    quote = db.session.get_bind().dialect.identifier_preparer.quote
    for table in db.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, sa.Integer) or not key[0].autoincrement:
            continue
        highest = sa.func.max(key[0])
        sequence = sa.func.pg_get_serial_sequence(quote(table.name), key[0].name)
        db.session.execute(
            sa.select(
                sa.func.setval(sequence, sa.func.coalesce(highest, 1), highest.is_not(None))
            ).select_from(table)
        )


def _write_file(tar: tarfile.TarFile, described: dict, folder: Path, written: list) -> None:
    target = folder / described["name"]
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written.append(target)
    with os.fdopen(fd, "wb") as out:
        for chunk in _Checked(tar, described["member"], described["sha256"]).chunks():
            out.write(chunk)


def restore(path: Path, manifest: dict) -> dict[str, int]:
    """Load a verified archive into the empty database and the upload folder, all or nothing;
    return the rows per table and the number of files."""
    check_target(manifest)
    folder = Path(current_app.config["UPLOAD_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    counts: dict[str, int] = {}
    try:
        with _open(path) as tar:
            by_name = {t["name"]: t for t in manifest["tables"]}
            for table in db.metadata.sorted_tables:
                counts[table.name] = _insert_table(tar, by_name[table.name])
            reset_sequences()
            for described in manifest["files"]:
                _write_file(tar, described, folder, written)
        db.session.commit()
    except BaseException as error:
        db.session.rollback()
        for target in written:
            target.unlink(missing_ok=True)
        if isinstance(error, (*_UNREADABLE, KeyError, sa.exc.SQLAlchemyError)):
            raise BackupError(f"Restore failed, nothing was kept: {error}") from error
        raise
    counts["files"] = len(written)
    return counts
