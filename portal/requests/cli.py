"""`flask --app portal routing explain|check`: where requests go, as DESIGN.md's contract says."""

import datetime as dt
import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.catalog.models import Comune, Service
from portal.extensions import db
from portal.requests import routing

routing_cli = AppGroup("routing", help="Routing of requests to PUA queues.")


@routing_cli.command("explain")
@click.option("--service", "service_slug", required=True, help="Service slug")
@click.option("--comune", "comune_slug", required=True, help="Comune slug")
@click.option("--birth-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Beneficiary's")
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
def explain(service_slug, comune_slug, birth_date, as_json):
    """Which queue a request for SERVICE from a resident of COMUNE goes to, and why."""
    service = db.session.scalar(select(Service).filter_by(slug=service_slug))
    comune = db.session.scalar(select(Comune).filter_by(slug=comune_slug))
    if service is None:
        raise click.ClickException(f"unknown service {service_slug!r}")
    if comune is None:
        raise click.ClickException(f"unknown comune {comune_slug!r}")
    born = birth_date.date() if isinstance(birth_date, dt.datetime) else None
    try:
        decision = routing.route(service, comune, birth_date=born)
    except routing.RoutingError as error:
        raise click.ClickException(str(error)) from error
    result = {"queue": decision.queue.slug, "pua": decision.queue.desk.slug, "rule": decision.rule}
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(f"{result['queue']} (PUA {result['pua']}): {result['rule']}")


@routing_cli.command("check")
def check():
    """Fail (exit 1) if any online service, in any comune where it is offered, has no queue."""
    problems = routing.check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("Every online service has a queue in every comune where it is offered.")
