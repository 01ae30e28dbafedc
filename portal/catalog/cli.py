"""`flask --app portal demo load`: the demo territory and catalog."""

import click
from flask import current_app
from flask.cli import AppGroup

from portal.catalog import demo_data

demo_cli = AppGroup("demo", help="Demo data drawn from the agencies' planning documents.")


@demo_cli.command("load")
def load_command():
    """Create or update the demo territory and catalog (safe to run again)."""
    try:
        counts = demo_data.load(current_app.config["DEMO_DATA_DIR"])
    except demo_data.DemoDataError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        "Demo data loaded: {services} services, {comuni} comuni, {desks} PUA desks, "
        "{queues} queues.".format(**counts)
    )
