"""`flask --app portal outbox ...`: the worker that sends queued mail, and its state."""

import time

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.outbox import services

outbox_cli = AppGroup("outbox", help="Queued mail: send it, see what is waiting.")


@outbox_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending every --interval seconds.")
@click.option("--interval", default=30, show_default=True, type=click.IntRange(min=1))
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
def send(loop, interval, limit):
    """Send the mail that is due. A single run exits 1 when some message failed (it will be
    retried later); with --loop it runs until stopped, as the mail worker."""
    while True:
        sent, failed = services.drain(limit=limit)
        click.echo(f"{sent} sent, {failed} failed")
        if not loop:
            if failed:
                raise SystemExit(1)
            return
        # Straight on while a full batch suggests more is waiting.
        if sent + failed < limit:
            db.session.remove()
            time.sleep(interval)


@outbox_cli.command("status")
def status():
    """Count the mail waiting, retrying, given up on and sent in the last 24 hours."""
    counts = services.status()
    click.echo(f"pending: {counts['pending']} ({counts['retrying']} retrying)")
    click.echo(f"failed for good: {counts['failed']}")
    click.echo(f"sent in the last 24 h: {counts['sent_24h']}")
