"""Where queued mail goes: an SMTP server in production, files, the log or memory elsewhere.

`MAIL_BACKEND` chooses: "smtp", "file" (one .eml per message in MAIL_FILE_DIR), "console"
(the log) or "memory" (a list in app.extensions["outbox_memory"], for tests).
"""

import datetime as dt
import email.policy
import email.utils
import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

from portal.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

DEFAULT_FROM = "PUA <noreply@pua.example.invalid>"
SMTP_TIMEOUT = 10  # seconds


def build_email(message: OutboxMessage) -> EmailMessage:
    """The mail as sent: plain text in UTF-8, with the headers a mail client needs."""
    sender = current_app.config.get("MAIL_FROM", DEFAULT_FROM)
    # smtplib sends with CRLF line ends whatever the policy; files and logs keep plain ones.
    mail = EmailMessage(policy=email.policy.default)
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    # When it was written, not when a retry finally got through.
    mail["Date"] = email.utils.format_datetime(message.created_at.replace(tzinfo=dt.UTC))
    mail["Message-ID"] = _message_id(message, sender)
    mail.set_content(message.body, charset="utf-8")
    # After set_content, which replaces every Content-* header.
    mail["Content-Language"] = message.lang
    return mail


def check_backend() -> str:
    """The configured backend; a typo in the setting fails here, before any message is tried."""
    backend = current_app.config.get("MAIL_BACKEND", "console")
    if backend not in SINKS:
        raise ValueError(f"MAIL_BACKEND must be one of {sorted(SINKS)}, not {backend!r}")
    return backend


def send(message: OutboxMessage) -> None:
    """Deliver one message through the configured backend; raises when it could not."""
    SINKS[check_backend()](message, build_email(message))


def _message_id(message: OutboxMessage, sender: str) -> str:
    # Stable across retries: a mail sent twice (a crash between sending and recording it)
    # is recognised as one by mail clients.
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<outbox.{message.id}.{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def _smtp(message: OutboxMessage, mail: EmailMessage) -> None:
    config = current_app.config
    server = config.get("MAIL_SERVER", "localhost")
    port = int(config.get("MAIL_PORT", 25))
    with smtplib.SMTP(server, port, timeout=SMTP_TIMEOUT) as smtp:
        if config.get("MAIL_USE_TLS", False):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(mail)


def _file(message: OutboxMessage, mail: EmailMessage) -> None:
    default = Path(current_app.instance_path) / "mail"
    directory = Path(current_app.config.get("MAIL_FILE_DIR") or default)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{message.id}.eml"
    # Written aside and renamed, so a reader never sees half a message.
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(mail.as_bytes())
    partial.replace(path)


def _console(message: OutboxMessage, mail: EmailMessage) -> None:
    text = mail.as_bytes().decode("utf-8", "replace")
    log.info("outbox: message %s (%s)\n%s", message.id, message.kind, text)


def _memory(message: OutboxMessage, mail: EmailMessage) -> None:
    current_app.extensions.setdefault("outbox_memory", []).append(mail)


SINKS = {"smtp": _smtp, "file": _file, "console": _console, "memory": _memory}
