"""The mail outbox: queued in the caller's transaction, sent once by the worker, retried with
backoff while the mail server is down, given up on (but kept) after too many attempts."""

import datetime as dt
import email
import email.policy
import logging
import smtplib

import pytest
from sqlalchemy import func, select

import portal.outbox.models  # noqa: F401 - the app may not import the outbox package yet
from portal.auth.models import utcnow
from portal.extensions import db
from portal.outbox import services, sinks
from portal.outbox.cli import outbox_cli
from portal.outbox.models import OutboxMessage

SUBJECT = "Richiesta ricevuta: è tutto in ordine"
BODY = "Gentile Niccolò,\nabbiamo ricevuto la sua richiesta PUA-VIA-2026-000123 (costo 120 €).\n"


@pytest.fixture
def outbox(app, monkeypatch):
    """The memory backend; the returned list holds the mails sent during the test."""
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "memory")
    sent = []
    monkeypatch.setitem(app.extensions, "outbox_memory", sent)
    return sent


class FlakySink:
    """A mail server that is down until `up` is set, then delivers to memory."""

    def __init__(self, deliver, error):
        self.deliver = deliver
        self.error = error
        self.up = False
        self.calls = 0

    def __call__(self, message, mail):
        self.calls += 1
        if not self.up:
            raise self.error
        self.deliver(message, mail)


@pytest.fixture(
    params=[smtplib.SMTPServerDisconnected("closed"), ConnectionRefusedError(111, "refused")]
)
def flaky(outbox, monkeypatch, request):
    sink = FlakySink(sinks.SINKS["memory"], request.param)
    monkeypatch.setitem(sinks.SINKS, "memory", sink)
    return sink


def _enqueue(recipient="niccolo.rossi@example.it", subject=SUBJECT):
    return services.enqueue(
        recipient,
        subject,
        BODY,
        kind="request_received",
        lang="it",
        reference="PUA-VIA-2026-000123",
    )


def _count() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id)))


def test_queued_mail_is_sent_once_with_its_headers(outbox):
    message = _enqueue()
    db.session.commit()

    assert services.drain() == (1, 0)
    assert services.drain() == (0, 0)

    [mail] = outbox
    assert mail["From"] == "PUA <noreply@pua.example.invalid>"
    assert mail["To"] == "niccolo.rossi@example.it"
    assert mail["Subject"] == SUBJECT
    assert mail["Content-Language"] == "it"
    assert mail["Date"]
    assert mail["Message-ID"].endswith("@pua.example.invalid>")
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content() == BODY
    assert message.sent_at is not None
    assert message.attempts == 1


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(outbox):
    _enqueue()
    db.session.rollback()

    assert services.drain() == (0, 0)
    assert outbox == []


def test_a_failed_attempt_is_retried_later(flaky):
    message = _enqueue()
    db.session.commit()
    now = utcnow()

    assert services.drain(now=now) == (0, 1)
    assert message.sent_at is None
    assert message.attempts == 1
    assert message.next_attempt_at == now + dt.timedelta(minutes=1)
    assert type(flaky.error).__name__ in message.last_error
    # Not due yet: not tried again.
    assert services.drain(now=now + dt.timedelta(seconds=30)) == (0, 0)
    assert flaky.calls == 1

    flaky.up = True
    assert services.drain(now=now + dt.timedelta(minutes=1)) == (1, 0)
    assert message.sent_at is not None
    assert message.attempts == 2
    assert message.last_error is None


@pytest.mark.parametrize(
    ("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (4, 8), (9, 256), (10, 360), (60, 360)]
)
def test_backoff_doubles_up_to_six_hours(attempts, minutes):
    assert services.backoff(attempts) == dt.timedelta(minutes=minutes)


def test_gives_up_after_max_attempts_and_keeps_the_message(app, flaky, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    message = _enqueue()
    db.session.commit()
    now = utcnow()

    with caplog.at_level(logging.WARNING, logger="portal.outbox.services"):
        for hours in range(6):
            services.drain(now=now + dt.timedelta(hours=7 * hours))

    assert flaky.calls == 3
    assert message.attempts == 3
    assert message.sent_at is None
    assert db.session.get(OutboxMessage, message.id) is not None
    assert "giving up on message" in caplog.text
    assert services.status(now=now)["failed"] == 1


@pytest.mark.parametrize(
    ("recipient", "subject"),
    [
        ("a@b.it\r\nBcc: x@y.it", "Richiesta ricevuta"),
        ("a@b.it\nBcc: x@y.it", "Richiesta ricevuta"),
        ("a@b.it", "Richiesta ricevuta\nBcc: x@y.it"),
        ("a@b.it", "Richiesta ricevuta\r\n"),
        ("a@b.it", "Richiesta\x00ricevuta"),
        ("not an address", "Richiesta ricevuta"),
        ("", "Richiesta ricevuta"),
    ],
)
def test_header_injection_and_bad_addresses_are_refused(outbox, recipient, subject):
    before = _count()

    with pytest.raises(ValueError):
        _enqueue(recipient, subject)

    db.session.commit()
    assert _count() == before


def test_reserved_test_domains_only_outside_production(app, monkeypatch):
    assert _enqueue("pua.suzzara@demo.invalid").recipient == "pua.suzzara@demo.invalid"

    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with pytest.raises(ValueError):
        _enqueue("pua.suzzara@demo.invalid")


def test_file_backend_writes_a_parseable_eml(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_FILE_DIR", str(tmp_path))
    message = _enqueue()
    db.session.commit()

    assert services.drain() == (1, 0)

    parsed = email.message_from_bytes(
        (tmp_path / f"{message.id}.eml").read_bytes(), policy=email.policy.default
    )
    assert parsed["To"] == "niccolo.rossi@example.it"
    assert parsed["Subject"] == SUBJECT
    assert parsed.get_content() == BODY
    assert [path.name for path in tmp_path.iterdir()] == [f"{message.id}.eml"]


def test_unknown_backend_fails_before_touching_messages(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "carrier-pigeon")
    message = _enqueue()
    db.session.commit()

    with pytest.raises(ValueError, match="MAIL_BACKEND"):
        services.drain()
    assert message.attempts == 0


def test_cli_send_exits_0_when_all_were_sent(app, outbox):
    _enqueue()
    db.session.commit()

    result = app.test_cli_runner().invoke(outbox_cli, ["send"])

    assert result.exit_code == 0
    assert result.output == "1 sent, 0 failed\n"
    assert len(outbox) == 1


def test_cli_send_exits_1_when_some_failed(app, flaky):
    _enqueue()
    db.session.commit()

    result = app.test_cli_runner().invoke(outbox_cli, ["send"])

    assert result.exit_code == 1
    assert result.output == "0 sent, 1 failed\n"


def test_cli_send_loop_keeps_going_after_failures(app, flaky, monkeypatch):
    _enqueue()
    db.session.commit()
    naps = []

    def sleep(seconds):
        naps.append(seconds)
        if len(naps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("portal.outbox.cli.time.sleep", sleep)

    result = app.test_cli_runner().invoke(outbox_cli, ["send", "--loop", "--interval", "5"])

    assert naps == [5, 5]
    assert result.output.splitlines()[:2] == ["0 sent, 1 failed", "0 sent, 0 failed"]


def test_cli_status_counts(app, outbox):
    _enqueue()
    db.session.commit()

    result = app.test_cli_runner().invoke(outbox_cli, ["status"])

    assert result.exit_code == 0
    assert "pending: 1 (0 retrying)" in result.output
    assert "failed for good: 0" in result.output


class FakeSMTP:
    """Stands in for smtplib.SMTP and remembers what the sink did with it."""

    log: list = []

    def __init__(self, host, port, timeout):
        self.log.append(("connect", host, port, timeout))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.log.append(("quit",))

    def starttls(self, context):
        self.log.append(("starttls",))

    def login(self, user, password):
        self.log.append(("login", user, password))

    def send_message(self, mail):
        self.log.append(("send", mail["To"]))


def test_smtp_backend_uses_tls_and_login_when_configured(app, monkeypatch):
    for key, value in {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "smtp.example.it",
        "MAIL_PORT": 587,
        "MAIL_USE_TLS": True,
        "MAIL_USERNAME": "pua",
        "MAIL_PASSWORD": "secret",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setattr(FakeSMTP, "log", [])
    monkeypatch.setattr("portal.outbox.sinks.smtplib.SMTP", FakeSMTP)
    _enqueue()
    db.session.commit()

    assert services.drain() == (1, 0)
    assert FakeSMTP.log == [
        ("connect", "smtp.example.it", 587, 10),
        ("starttls",),
        ("login", "pua", "secret"),
        ("send", "niccolo.rossi@example.it"),
        ("quit",),
    ]
