"""`flask drafts purge` forgets drafts nobody finished; `flask attachments rotate-key`."""

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.forms import drafts

drafts_cli = AppGroup("drafts", help="Unfinished online requests.")


@drafts_cli.command("purge")
def purge():
    """Delete expired drafts and their uploaded files (run it daily)."""
    count = drafts.purge_expired()
    db.session.commit()
    click.echo(f"{count} expired drafts deleted.")


attachments_cli = AppGroup("attachments", help="Uploaded documents, encrypted at rest.")


@attachments_cli.command("rotate-key")
def rotate_key():
    """Re-encrypt every document with the first key of ATTACHMENT_KEYS.

    To rotate: put a new key first in ATTACHMENT_KEYS (keep the old ones after it), restart,
    run this command, then remove the old keys."""
    from sqlalchemy import select

    from portal.forms import uploads
    from portal.requests.models import Attachment

    count = uploads.rotate_all(db.session.scalars(select(Attachment)))
    click.echo(f"{count} documents re-encrypted with the current key.")
