"""`flask --app portal search ...`: rebuild the index, measure search quality."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from portal.search import indexing
from portal.search.evaluation import evaluate, load_judgements

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
def reindex_command():
    """Rebuild the search index from the database (exits non-zero on failure)."""
    total = sum(1 for _ in indexing.published_services())
    try:
        with click.progressbar(length=total, label="Indexing services") as bar:
            count = indexing.rebuild(current_app, progress=bar.update)
    except Exception as error:  # report any failure as a non-zero exit, not a traceback
        raise click.ClickException(f"reindex failed: {error}") from error
    click.echo(
        f"Indexed {count} services in {len(current_app.config['SUPPORTED_LOCALES'])} locales."
    )


@search_cli.command("evaluate")
@click.option(
    "--judgements",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="YAML file of judged queries (default: tests/search/judged_queries.yaml).",
)
@with_appcontext
def evaluate_command(judgements):
    """Print MRR and nDCG@5 of the judged queries, per query language."""
    report = evaluate(load_judgements(judgements))
    click.echo(f"{'language':<10}{'queries':>8}{'MRR':>8}{'nDCG@5':>9}")
    for row in report.rows:
        click.echo(f"{row.group:<10}{row.count:>8}{row.mrr:>8.3f}{row.ndcg:>9.3f}")
    click.echo(
        f"{'all':<10}{report.overall.count:>8}{report.overall.mrr:>8.3f}{report.overall.ndcg:>9.3f}"
    )
    for miss in report.misses:
        click.echo(
            f"  miss: [{miss.query.group}] {miss.query.q!r} -> first relevant at "
            f"{miss.rank or 'none'}; got {miss.top[:3]}",
            file=sys.stderr,
        )


@search_cli.command("bench")
@click.option("--services", default=50_000, show_default=True)
@click.option("--comuni", default=1_500, show_default=True)
@click.option("--queries", default=450, show_default=True)
@with_appcontext
def bench_command(services, comuni, queries):
    """Benchmark Whoosh against SQLite FTS5 on a synthetic catalog (prints figures)."""
    from portal.search import bench  # imported here: only benchmarks need it

    bench.run(
        current_app,
        Path(current_app.config["DEMO_DATA_DIR"]),
        services,
        comuni,
        queries,
        click.echo,
    )
