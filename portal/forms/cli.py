"""`flask --app portal drafts purge`: forget drafts nobody finished in time."""

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
