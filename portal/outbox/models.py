"""The outbox: one row per mail to send, kept after sending as a record of what was sent."""

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.models import utcnow
from portal.extensions import db


class OutboxMessage(db.Model):
    """A plain-text mail waiting to be sent, or sent, or given up on after too many attempts.
    Written in the same transaction as the change it tells about, so neither exists alone."""

    __tablename__ = "outbox_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    # What the mail is about, for counting and debugging: "request_received", ...
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(10))
    # The request's reference number when the mail is about one.
    reference: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
