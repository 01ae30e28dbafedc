"""`flask --app portal demo load`: the demo territory and catalog."""

import click
from flask import current_app
from flask.cli import AppGroup

from portal.auth import staff
from portal.catalog import demo_data
from portal.extensions import db
from portal.forms import store as forms_store
from portal.forms.schema import SchemaError

demo_cli = AppGroup("demo", help="Demo data drawn from the agencies' planning documents.")


@demo_cli.command("load")
def load_command():
    """Create or update the demo territory and catalog (safe to run again)."""
    try:
        counts = demo_data.load(current_app.config["DEMO_DATA_DIR"])
        counts["staff"] = staff.load(current_app.config["DEMO_STAFF_FILE"])
        counts["forms"] = forms_store.load(current_app.config["DEMO_FORMS_DIR"])
        db.session.commit()
    except (demo_data.DemoDataError, staff.StaffFileError, SchemaError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(
        "Demo data loaded: {services} services, {comuni} comuni, {desks} PUA desks, "
        "{queues} queues, {staff} staff roles, {forms} request forms.".format(**counts)
    )
