"""`flask --app portal load run`: load without loss (portal/ops/load.py).

Also runnable before it is registered: `python -m portal.ops.load_cli load run ...`."""

import json

import click
from flask.cli import AppGroup

from portal.ops import load
from portal.ops.load_setup import DEFAULT_SERVER, LoadError

load_cli = AppGroup("load", help="Load the portal under gunicorn and check that nothing is lost.")


@load_cli.command("run")
@click.option("--seconds", default=120, show_default=True, help="How long to drive the load.")
@click.option("--citizens", default=8, show_default=True, help="Citizen threads.")
@click.option("--operators", default=2, show_default=True, help="Operator threads.")
@click.option("--workers", default=3, show_default=True, help="gunicorn worker processes.")
@click.option("--restart", is_flag=True, help="Restart PostgreSQL once, half-way through.")
@click.option(
    "--database",
    default="bench_load",
    show_default=True,
    help="Scratch database (dropped and recreated; must start with 'bench').",
)
@click.option(
    "--server",
    default=DEFAULT_SERVER,
    show_default=True,
    help="PostgreSQL server URL without the database name.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def run_command(seconds, citizens, operators, workers, restart, database, server, as_json):
    """Drive citizens (search, cards, online requests) and operators (inbox, claim, advance)
    against a scratch database, then check every acknowledged request is stored exactly once.
    Exits 1 if anything acknowledged was lost or duplicated."""
    options = load.Options(
        seconds=seconds,
        citizens=citizens,
        operators=operators,
        workers=workers,
        restart=restart,
        database=database,
        server=server,
    )
    try:
        report = load.run(options, echo=lambda text: click.echo(text, err=True))
    except LoadError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        print_report(report)
    if not report["check"]["ok"]:
        raise SystemExit(1)


def print_report(report: dict) -> None:
    click.echo(f"\nLoad for {report['seconds']} s")
    if report["restart"]:
        r = report["restart"]
        click.echo(
            f"PostgreSQL restarted at {r['at']} s, took {r['seconds']:.1f} s"
            + (f" (error: {r['error']})" if r["error"] else "")
        )
    click.echo(f"{'kind':<15}{'count':>8}{'req/s':>9}{'p95 ms':>10}{'errors':>8}{'rate':>8}")
    for kind, row in report["kinds"].items():
        click.echo(
            f"{kind:<15}{row['count']:>8}{row['per_second']:>9.2f}{row['p95_ms']:>10.1f}"
            f"{row['errors']:>8}{row['error_rate']:>8.2%}"
        )
    click.echo(
        "Per 10 s (requests/errors): "
        + ", ".join(
            f"{window} {row['requests']}/{row['errors']}"
            for window, row in report["timeline"].items()
        )
    )
    if report["error_kinds"]:
        click.echo("Errors:")
        for text, n in sorted(report["error_kinds"].items(), key=lambda kv: -kv[1]):
            click.echo(f"  {n} x {text}")
    check = report["check"]
    click.echo(
        f"\nAcknowledged {check['acknowledged']} ({check['services']} services, "
        f"{check['uploaded_files']} files uploaded); requests in the database "
        f"{check['requests_in_database']}; stored but never acknowledged "
        f"{check['stored_not_acknowledged']}"
    )
    for name in load.CHECKS:
        items = check[name]
        click.echo(f"  {name:<28}{len(items):>6}" + (f"  {items[:5]}" if items else ""))
    click.echo("Check: " + ("OK, nothing lost or duplicated" if check["ok"] else "FAILED"))
    click.echo(f"gunicorn log: {report['log']}")
    for line in report["log_exceptions"]:
        click.echo(f"  {line}")


if __name__ == "__main__":
    from flask.cli import FlaskGroup

    from portal import create_app

    cli = FlaskGroup(create_app=create_app, add_default_commands=False)
    cli.add_command(load_cli)
    cli(prog_name="python -m portal.ops.load_cli")
