"""The append-only audit trail: who did what to which object, when, chained by hashes.

Each record carries the hash of the one before it and its own hash over both, so changing or
deleting any record breaks the chain from there on; `flask --app portal audit verify` walks it
and names the first broken link. Appends are serialised on a one-row head table locked for the
length of the transaction, so concurrent writers never fork the chain. On PostgreSQL a trigger
also refuses UPDATE and DELETE on the records (migration 0006)."""

import datetime as dt
import hashlib
import json

import click
from flask import request
from flask.cli import AppGroup
from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.models import utcnow
from portal.extensions import db

GENESIS = "0" * 64


class AuditRecord(db.Model):
    __tablename__ = "audit_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(db.Model):
    """One row: the last record's hash. Locked while a record is appended."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))


def digest(prev_hash: str, record: AuditRecord) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": record.at.isoformat(),
            "actor": record.actor_id,
            "action": record.action,
            "object": [record.object_type, record.object_id],
            "ip": record.ip,
            "detail": record.detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    action: str, object_type: str, object_id, *, actor_id: int | None = None, detail=None
) -> AuditRecord:
    """Append a record inside the caller's transaction (committed with it, or not at all)."""
    head = db.session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    entry = AuditRecord(
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        ip=request.remote_addr if request else None,
        detail=detail or {},
        prev_hash=head.last_hash,
    )
    entry.hash = digest(head.last_hash, entry)
    head.last_hash = entry.hash
    db.session.add(entry)
    db.session.flush()
    return entry


def verify(batch: int = 5000) -> tuple[int, str | None]:
    """(records checked, description of the first broken link or None)."""
    previous = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = list(
            db.session.scalars(
                select(AuditRecord)
                .where(AuditRecord.id > last_id)
                .order_by(AuditRecord.id)
                .limit(batch)
            )
        )
        if not rows:
            break
        for row in rows:
            if row.prev_hash != previous:
                return checked, f"record {row.id} does not follow the one before it"
            if digest(previous, row) != row.hash:
                return checked, f"record {row.id} has been changed"
            previous = row.hash
            checked += 1
            last_id = row.id
    head = db.session.get(AuditHead, 1)
    if head is not None and head.last_hash != previous:
        return checked, "records after the last one checked have been deleted"
    return checked, None


audit_cli = AppGroup("audit", help="The append-only audit trail.")


@audit_cli.command("verify")
def verify_command():
    """Check the hash chain; exit 1 naming the first record that was changed or removed."""
    checked, problem = verify()
    if problem:
        click.echo(f"Audit trail broken after {checked} good records: {problem}.", err=True)
        raise SystemExit(1)
    click.echo(f"Audit trail intact: {checked} records.")
