"""`flask --app portal demo load`: the demo territory and catalog; `translations ...`: coverage."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.auth import staff
from portal.catalog import demo_data, translations
from portal.extensions import db
from portal.forms import store as forms_store
from portal.forms.reading import SchemaError

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


translations_cli = AppGroup("translations", help="Translations of the catalog and the interface.")


@translations_cli.command("coverage")
def coverage_command():
    """Print, per locale, the share of UI strings and of service sections translated."""
    locales = current_app.config["SUPPORTED_LOCALES"]
    click.echo(
        f"{'locale':<7}{'UI strings':>17}{'sections':>19}"
        f"{'essentials':>12}{'full cards':>12}{'outdated':>10}"
    )
    for row in translations.coverage(locales):
        click.echo(
            f"{row.locale:<7}"
            f"{row.ui_translated:>6}/{row.ui_total:<4} {row.ui_percent:5.1f}%"
            f"{row.sections_filled:>7}/{row.sections_total:<4} {row.sections_percent:5.1f}%"
            f"{row.services_essential:>7}/{row.services_total:<4}"
            f"{row.services_complete:>7}/{row.services_total:<4}"
            f"{row.services_outdated:>10}"
        )


@translations_cli.command("stamp")
@click.argument("locale")
@click.argument("slugs", nargs=-1)
def stamp_command(locale, slugs):
    """Mark translation files of LOCALE (all, or SLUGS) as following today's Italian text."""
    folder = Path(current_app.config["DEMO_DATA_DIR"])
    files = sorted((folder / "translations" / locale / "services").glob("*.yaml"))
    if slugs:
        files = [path for path in files if path.stem in slugs]
    changed = 0
    for path in files:
        source = demo_data.read_yaml(folder / "services" / path.name)
        if source is None:
            raise click.ClickException(f"{path.name}: no such service")
        changed += translations.stamp(path, demo_data.italian_digest(source["text"]["it"]))
    click.echo(f"{len(files)} translation files of {locale}, {changed} stamped anew.")
