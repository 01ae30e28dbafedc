"""`flask --app portal auth ...`: the relying party's keys and the upkeep of login sessions."""

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal.auth import keys, services, sessions

auth_cli = AppGroup("auth", help="SPID/CIE login: keys, federation, sessions.")


@auth_cli.command("keys-generate")
@click.option("--path", type=click.Path(path_type=Path), help="Default: AUTH_KEYS_FILE")
def keys_generate(path):
    """Create a new key file (federation, signing and encryption keys). Refuses to overwrite."""
    path = path or Path(current_app.config["AUTH_KEYS_FILE"])
    if path.exists():
        raise click.ClickException(f"{path} exists: use keys-rotate to add a newer key")
    keys.generate_file(path)
    click.echo(f"Keys written to {path} (readable by its owner only).")


@auth_cli.command("keys-rotate")
@click.argument("purpose", type=click.Choice(sorted(keys.PURPOSES)))
def keys_rotate(purpose):
    """Put a new key first for PURPOSE; the older ones stay published until removed."""
    path = Path(current_app.config["AUTH_KEYS_FILE"])
    keys.rotate_file(path, purpose)
    click.echo(f"New {purpose} key in use; restart the portal to publish it.")


@auth_cli.command("federation-jwks")
def federation_jwks():
    """Print the public federation keys, for onboarding the portal at a Trust Anchor."""
    click.echo(json.dumps(services.runtime().keys.federation_public(), indent=2))


@auth_cli.command("entity-id")
def entity_id():
    """Print the portal's entity id in the federation."""
    click.echo(current_app.config["FEDERATION_ENTITY_ID"])


@auth_cli.command("expire")
def expire():
    """End expired sessions, revoke their tokens at the providers, forget old login attempts.
    Run it periodically (every few minutes); exits 1 while some revocation is still pending."""
    revoked, pending = sessions.expire()
    click.echo(f"{revoked} tokens revoked, {pending} still pending.")
    if pending:
        raise SystemExit(1)
