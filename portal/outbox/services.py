"""Queueing mail and sending the queue.

Mail is never sent inside a web request: a slow or unreachable mail server must not slow or
fail the request, and a request rolled back must not have mailed anyone. `enqueue` adds a row
to the caller's transaction; `drain`, run by `flask outbox send`, sends what is due.
"""

import datetime as dt
import logging
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from portal.auth.models import utcnow
from portal.extensions import db
from portal.outbox import sinks
from portal.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 10
MAX_BACKOFF = dt.timedelta(hours=6)
# Outside production, addresses at reserved test domains (RFC 2606: demo.invalid, ...) are
# accepted, because the demo data and the test identities use them.
_TEST_DOMAIN = ".invalid"


def enqueue(
    recipient: str,
    subject: str,
    body: str,
    *,
    kind: str,
    lang: str,
    reference: str | None = None,
) -> OutboxMessage:
    """Queue a mail in the caller's transaction (no commit): it is sent only if that commits."""
    message = OutboxMessage(
        kind=kind,
        recipient=_checked_address(recipient),
        subject=_checked_header("subject", subject),
        body=body,
        lang=lang,
        reference=reference,
    )
    db.session.add(message)
    return message


def drain(limit: int = 100, now: dt.datetime | None = None) -> tuple[int, int]:
    """Send up to `limit` due messages, one transaction each; return (sent, failed)."""
    now = now or utcnow()
    max_attempts = max_attempts_setting()
    sinks.check_backend()
    sent = failed = 0
    for _ in range(limit):
        # One row at a time, locked until its commit: parallel workers skip it (PostgreSQL;
        # SQLite ignores the clause and allows one writer anyway).
        message = db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.attempts < max_attempts,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if message is None:
            break
        try:
            sinks.send(message)
        except Exception as error:
            # Any error, not only SMTP ones: one bad message must not stop the others.
            _record_failure(message, error, now, max_attempts)
            failed += 1
        else:
            message.attempts += 1
            message.sent_at = utcnow()
            message.last_error = None
            sent += 1
        # Committed before the next one: a crash later in the batch neither loses this
        # outcome nor sends this message again.
        db.session.commit()
    return sent, failed


def status(now: dt.datetime | None = None) -> dict[str, int]:
    """Counts for the operators: waiting (and of those retrying), given up, sent in 24 hours."""
    now = now or utcnow()
    max_attempts = max_attempts_setting()
    unsent = OutboxMessage.sent_at.is_(None)

    def count(*conditions) -> int:
        return db.session.scalar(select(func.count(OutboxMessage.id)).where(*conditions)) or 0

    return {
        "pending": count(unsent, OutboxMessage.attempts < max_attempts),
        "retrying": count(
            unsent, OutboxMessage.attempts > 0, OutboxMessage.attempts < max_attempts
        ),
        "failed": count(unsent, OutboxMessage.attempts >= max_attempts),
        "sent_24h": count(OutboxMessage.sent_at >= now - dt.timedelta(hours=24)),
    }


def max_attempts_setting() -> int:
    return int(current_app.config.get("MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4 ... minutes, at most six hours."""
    return min(dt.timedelta(minutes=2 ** min(attempts - 1, 20)), MAX_BACKOFF)


def _record_failure(
    message: OutboxMessage, error: Exception, now: dt.datetime, max_attempts: int
) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    message.next_attempt_at = now + backoff(message.attempts)
    if message.attempts >= max_attempts:
        log.error(
            "outbox: giving up on message %s (%s to %s) after %s attempts: %s",
            message.id,
            message.kind,
            message.recipient,
            message.attempts,
            message.last_error,
        )
    else:
        log.warning(
            "outbox: message %s failed (attempt %s), retry at %s: %s",
            message.id,
            message.attempts,
            message.next_attempt_at,
            message.last_error,
        )


def _checked_header(name: str, value: str) -> str:
    # CR/LF in a header would let a value add headers of its own (Bcc: ...): refuse any
    # control or line-separator character rather than strip it silently.
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        raise ValueError(f"{name} contains control characters (header injection?)")
    return value


def _checked_address(recipient: str) -> str:
    _checked_header("recipient", recipient)
    production = current_app.config.get("ENV_NAME") == "production"
    candidate = recipient
    test_domain = not production and recipient.lower().endswith(_TEST_DOMAIN)
    if test_domain:
        # email-validator refuses .invalid whatever the options; .test passes in its
        # test environment mode and is the same kind of reserved name.
        candidate = recipient[: -len(_TEST_DOMAIN)] + ".test"
    try:
        valid = validate_email(
            candidate, check_deliverability=False, test_environment=not production
        )
    except EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {error}") from error
    if test_domain:
        return valid.normalized[: -len(".test")] + _TEST_DOMAIN
    return valid.normalized
