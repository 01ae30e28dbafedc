"""`flask --app portal ops ...`: backup, restore and the retention of personal data."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.extensions import db
from portal.ops import backup, restore, retention

ops_cli = AppGroup("ops", help="Operations: backup, restore, retention of personal data.")


@ops_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path):
    """Write the database and the uploaded files to one archive at PATH (mode 0600)."""
    try:
        manifest = backup.write_backup(path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    rows = sum(table["rows"] for table in manifest["tables"])
    click.echo(
        f"Backup written to {path}: {len(manifest['tables'])} tables, {rows} rows, "
        f"{len(manifest['files'])} files (revision {manifest['alembic_revision']})."
    )
    for name in manifest["missing_files"]:
        click.echo(f"Missing from the upload folder: {name}", err=True)


@ops_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path, yes):
    """Restore an archive into an EMPTY database created by `flask db upgrade`."""
    try:
        manifest = restore.verify(path)
        restore.check_target(manifest)
        if not yes:
            target = db.engine.url.render_as_string(hide_password=True)
            click.confirm(
                f"Restore the backup of {manifest['created_at']} into {target} and "
                f"{current_app.config['UPLOAD_DIR']}?",
                abort=True,
            )
        counts = restore.restore(path, manifest)
    except backup.BackupError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    for name, count in counts.items():
        click.echo(f"{name}: {count}")
    click.echo("Restored. Rebuild the search index: flask --app portal search reindex")


@ops_cli.command("retention")
@click.option("--days", type=click.IntRange(min=1), help="Default: RETENTION_DAYS (3650).")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def retention_command(days, dry_run):
    """Anonymise requests finished more than DAYS ago; delete expired drafts."""
    days = days or current_app.config.get("RETENTION_DAYS", 3650)
    report = retention.apply(days, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "would be" if dry_run else "were"
    click.echo(f"Retention of {days} days{' (dry run)' if dry_run else ''}:")
    click.echo(f"  {len(report.requests)} requests {verb} anonymised")
    for reference in report.requests:
        click.echo(f"    {reference}")
    click.echo(f"  {report.files} attachment files {verb} deleted")
    click.echo(f"  {report.drafts} expired drafts {verb} deleted")
    click.echo(
        f"  {report.idle_users} users have no request left that is not anonymised and no login "
        f"for {days} days (left as they are)"
    )
