"""`flask --app portal backoffice ...`: the back office's benchmark."""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

backoffice_cli = AppGroup("backoffice", help="The back office.")


@backoffice_cli.command("bench")
@click.option("--requests", "count", default=1_000_000, show_default=True, type=int)
@click.option("--repeat", default=50, show_default=True, type=int)
@click.option("--concurrency", default=8, show_default=True, type=int)
@click.option("--seconds", default=10.0, show_default=True, type=float)
@click.option(
    "--reuse",
    is_flag=True,
    help="Measure the requests already in the database instead of adding --requests more.",
)
@click.option("--plans", is_flag=True, help="Print the whole EXPLAIN plans, not only a summary.")
@with_appcontext
def bench_command(count, repeat, concurrency, seconds, reuse, plans):
    """Fill a scratch PostgreSQL database with synthetic requests and time the back office
    (prints figures; point DATABASE_URL at a scratch database, never a real one)."""
    from portal.backoffice import bench  # imported here: only benchmarks need it

    try:
        bench.run(
            current_app._get_current_object(),  # the server thread needs the app
            requests=count,
            repeat=repeat,
            concurrency=concurrency,
            seconds=seconds,
            reuse=reuse,
            plans=plans,
            echo=click.echo,
        )
    except bench.BenchError as error:
        raise click.ClickException(str(error)) from error
