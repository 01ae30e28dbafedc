"""Restore a backup (portal/ops/backup.py): check the whole archive first, then the target
(same schema revision, no data), then write every table, the sequences and the files in one
unit: on any error nothing stays written."""

import hashlib
import json
import os
import tarfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from portal.extensions import db
from portal.ops.backup import (
    _UNREADABLE,
    BATCH,
    CHUNK,
    FORMAT,
    MANIFEST,
    STORED_NAME,
    BackupError,
    alembic_revision,
    column_kind,
    decode,
)


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


# Columns the database maintains itself: queue.inbox_version is bumped by a trigger as each
# request arrives (migration 0007). They are set back to the archived values at the end.
KEPT_BY_TRIGGERS = {"queue": ("inbox_version",)}


def settle_trigger_columns(tar: tarfile.TarFile, by_name: dict) -> None:
    """Give the trigger-kept columns the archive's values, once every trigger has fired."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))  # the deferred ones, now
    for name, columns in KEPT_BY_TRIGGERS.items():
        described = by_name[name]
        table = db.metadata.tables[name]
        (key,) = table.primary_key.columns
        kinds = described["columns"]
        for line in _Checked(tar, described["member"], described["sha256"]).lines():
            record = json.loads(line)
            db.session.execute(
                table.update()
                .where(key == decode(kinds[key.name], record[key.name]))
                .values({column: decode(kinds[column], record[column]) for column in columns})
            )


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
            settle_trigger_columns(tar, by_name)
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
