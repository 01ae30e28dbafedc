"""Back-office benchmark: N synthetic requests in a scratch PostgreSQL database, then the
latency of the inbox (first page and 10,000 rows deep), the request page and the dashboard,
one client at a time, and the inbox's throughput under concurrency against a bare Flask page
of the same size. Figures, not assertions: run it with `make bench-backoffice`.

The rows are made by PostgreSQL itself (INSERT ... SELECT over generate_series, applicants by
COPY), so a million requests take seconds, not the hours the ORM would."""

import secrets
import statistics
import threading
import time
from dataclasses import dataclass

import httpx
from flask import Flask, render_template_string
from sqlalchemy import event, func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from portal.auth.models import LoginSession, User
from portal.auth.services import SESSION_KEY
from portal.backoffice import permissions
from portal.backoffice.bench_fill import (
    ADMIN,
    DEPTH,
    SUPERVISOR,
    TARGETS_MS,
    THROUGHPUT_TARGET,
    BenchError,
    ensure_staff_users,
    fill,
    require_scratch_postgresql,
)
from portal.backoffice.inbox import PAGE_SIZE, encode_cursor
from portal.caching import LruCache
from portal.extensions import db
from portal.requests.models import OPEN_STATES, Request

# -- measuring --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def logged_in(app, user: User):
    """A test client logged in as ``user``, without the identity provider; and its cookie."""
    record = LoginSession(
        key=secrets.token_urlsafe(32),
        user_id=user.id,
        provider="bench",
        profile="spid",
        acr=app.config["AUTH_DEFAULT_ACR"],
    )
    db.session.add(record)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session[SESSION_KEY] = record.key
        session["lang"] = "it"
        session.permanent = True
    return client, client.get_cookie("session").value


def get(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}, not 200")
    return response


def latencies(client, urls: list[str], warmup: int = 5) -> tuple[list[float], int]:
    """Milliseconds of each GET (after ``warmup`` unmeasured ones) and the last page's bytes."""
    for url in urls[:warmup] or urls:
        get(client, url)
    timings, size = [], 0
    for url in urls:
        started = time.perf_counter()
        response = get(client, url)
        timings.append((time.perf_counter() - started) * 1000)
        size = len(response.data)
    return timings, size


def open_in_scope(queues):
    return Request.queue_id.in_(sorted(queues)), Request.state.in_(OPEN_STATES)


def deep_cursor(queues) -> tuple[str | None, int]:
    """The cursor of the DEPTH-th open request of these queues (or of the last one)."""
    conditions = open_in_scope(queues)
    total = db.session.scalar(select(func.count()).select_from(Request).where(*conditions))
    depth = min(DEPTH, total)
    row = db.session.execute(
        select(Request.deadline, Request.id)
        .where(*conditions)
        .order_by(Request.deadline, Request.id)
        .offset(max(0, depth - 1))
        .limit(1)
    ).first()
    return (encode_cursor("deadline", row) if row else None), depth


def sample_references(queues, count: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Request.reference)
            .where(*open_in_scope(queues))
            .order_by(func.random())
            .limit(count)
        )
    )


def explain(client, url: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the inbox query that GET ``url`` runs."""
    captured = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM request JOIN comune" in statement and "LIMIT" in statement:
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        get(client, url)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    if not captured:
        return ["(the inbox query was not seen)"]
    statement, parameters = captured[-1]
    with db.engine.connect() as conn:
        lines = [
            row[0]
            for row in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        ]
    return lines


def plan_summary(lines: list[str]) -> str:
    scans = []
    for line in lines:
        text = line.strip().lstrip("-> ").strip()
        if " Scan" in text and " on " in text:
            scans.append(text.split("  (")[0])
    execution = next((line for line in lines if line.startswith("Execution Time")), "")
    buffers = next((line.strip() for line in lines if line.strip().startswith("Buffers")), "")
    return f"{execution}; {buffers}; " + "; ".join(scans)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def serve(wsgi_app):
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def hammer(url: str, cookie: str | None, concurrency: int, seconds: float) -> tuple[int, float]:
    """(requests answered, seconds taken) for ``concurrency`` clients asking ``url`` for
    ``seconds``."""
    counts = [0] * concurrency
    errors: list[str] = []
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    start = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def worker(slot: int) -> None:
        with httpx.Client(timeout=60) as client:
            client.get(url, headers=headers)  # connect and warm up
            start.wait()
            while time.perf_counter() < stop_at[0]:
                response = client.get(url, headers=headers)
                client.cookies.clear()  # the session cookie is ours: keep sending only it
                if response.status_code != 200:
                    errors.append(f"GET {url} answered {response.status_code}")
                    return
                counts[slot] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise BenchError(errors[0])
    return sum(counts), elapsed


BARE_TEMPLATE = (
    '<!doctype html><html lang="it"><head><meta charset="utf-8"><title>{{ title }}</title>'
    '</head><body><main><h1>{{ title }}</h1><table class="table">'
    "{% for row in rows %}<tr><td>{{ row.reference }}</td><td>{{ row.state }}</td>"
    "<td>{{ row.deadline }}</td></tr>{% endfor %}</table><!-- {{ pad }} --></main></body></html>"
)


def bare_app(size: int) -> tuple[Flask, int]:
    """A throwaway Flask app whose one page renders a template to exactly ``size`` bytes."""
    app = Flask("bench_bare")
    rows = [
        {"reference": f"PUA-VIA-2026-{i:06d}", "state": "submitted", "deadline": "2026-01-31"}
        for i in range(PAGE_SIZE)
    ]
    with app.app_context():
        empty = len(render_template_string(BARE_TEMPLATE, title="Richieste", rows=rows, pad=""))
    pad = "x" * max(0, size - empty)

    @app.get("/")
    def page():
        return render_template_string(BARE_TEMPLATE, title="Richieste", rows=rows, pad=pad)

    with app.test_client() as client:
        actual = len(client.get("/").data)
    return app, actual


ROUNDS = 5


def keep_pages(app, keep: bool) -> None:
    """Keep rendered inbox pages as the portal does, or render them at every request."""
    ttl = app.config["BACKOFFICE_INBOX_KEEP_SECONDS"] if keep else 0
    app.extensions["inbox_pages"] = LruCache(ttl=ttl)


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Measure:
    label: str
    who: str
    timings: list[float]
    target: str | None = None

    @property
    def p50(self) -> float:
        return statistics.median(self.timings)

    @property
    def p95(self) -> float:
        return percentile(self.timings, 0.95)


def run(app, *, requests, repeat, concurrency, seconds, reuse, plans, echo) -> None:
    database = require_scratch_postgresql()
    staff = ensure_staff_users(app.config["DEMO_STAFF_FILE"])
    if SUPERVISOR not in staff or ADMIN not in staff:
        raise BenchError("The demo staff are missing: run `flask demo load` first.")
    if reuse:
        echo(f"Reusing the requests already in {database}.")
    else:
        echo(f"Filling {database} with {requests:,} requests ...")
        result = fill(requests, max(1_000, min(50_000, requests // 20)), echo)
        secs = result.seconds
        echo(
            f"  {result.rows:,} requests and {result.users:,} new applicants in "
            f"{secs['total']:.1f} s (applicants {secs['applicants']:.1f} s, shaping "
            f"{secs['shape']:.1f} s, requests {secs['requests']:.1f} s, events "
            f"{secs['events']:.1f} s, VACUUM ANALYZE {secs['analyze']:.1f} s)"
        )
    sizes = db.session.execute(
        select(
            func.count(Request.id),
            func.count(Request.id).filter(Request.state.in_(OPEN_STATES)),
            func.pg_total_relation_size("request"),
            func.pg_total_relation_size("request_event"),
        )
    ).one()
    echo(
        f"  request: {sizes[0]:,} rows ({sizes[1]:,} open), {sizes[2] / 2**20:,.0f} MB with "
        f"indexes; request_event: {sizes[3] / 2**20:,.0f} MB"
    )

    supervisor, admin = staff[SUPERVISOR], staff[ADMIN]
    scopes = {"supervisor": permissions.scope(supervisor), "admin": permissions.scope(admin)}
    clients = {"supervisor": logged_in(app, supervisor), "admin": logged_in(app, admin)}
    measures: list[Measure] = []
    explains: list[tuple[str, list[str]]] = []
    inbox_bytes = 0
    for who in ("supervisor", "admin"):
        client = clients[who][0]
        queues = scopes[who].queues
        open_here = db.session.scalar(
            select(func.count()).select_from(Request).where(*open_in_scope(queues))
        )
        echo(f"  {who}: {len(queues)} queues, {open_here:,} open requests in scope")
        keep_pages(app, False)  # latencies of the work itself: the page rendered each time
        timings, size = latencies(client, ["/backoffice/"] * repeat)
        inbox_bytes = inbox_bytes or size
        measures.append(Measure("inbox, first page", who, timings, "inbox"))
        cursor, depth = deep_cursor(queues)
        if cursor:
            url = f"/backoffice/?dopo={cursor}"
            timings, _ = latencies(client, [url] * repeat)
            label = "inbox, 10,000 rows deep" if depth == DEPTH else f"inbox, {depth:,} deep"
            measures.append(Measure(label, who, timings, "inbox_deep"))
            explains.append((f"{who} inbox first page", explain(client, "/backoffice/")))
            explains.append((f"{who} {label.split(', ')[1]}", explain(client, url)))
        references = sample_references(queues, repeat + 5)
        if references:
            urls = [f"/backoffice/richieste/{ref}" for ref in references]
            timings, _ = latencies(client, urls)
            measures.append(Measure("request page (random open)", who, timings[5:], "request"))
        timings, _ = latencies(client, ["/backoffice/cruscotto"] * repeat, warmup=2)
        measures.append(Measure("dashboard (last 90 days)", who, timings, "dashboard"))
        keep_pages(app, True)
        timings, _ = latencies(client, ["/backoffice/"] * repeat)
        measures.append(Measure("inbox, first page, kept", who, timings, "inbox"))
        db.session.rollback()

    echo(
        f"Throughput: {concurrency} clients, {seconds:g} s on each page in {ROUNDS} alternating "
        "rounds (so that a slower moment of the machine weighs on both), werkzeug threaded server"
    )
    bare, bare_bytes = bare_app(inbox_bytes)
    inbox_server, inbox_thread = serve(app)
    bare_server, bare_thread = serve(bare)
    inbox_url = f"http://127.0.0.1:{inbox_server.server_port}/backoffice/"
    cookie = clients["supervisor"][1]
    pages = {  # label: (url, cookie, keep the inbox pages)
        "kept": (inbox_url, cookie, True),
        "rendered": (inbox_url, cookie, False),
        "bare": (f"http://127.0.0.1:{bare_server.server_port}/", None, True),
    }
    totals = {label: [0, 0.0] for label in pages}
    try:
        for _round in range(ROUNDS):
            for label, (url, page_cookie, keep) in pages.items():
                keep_pages(app, keep)
                count, elapsed = hammer(url, page_cookie, concurrency, seconds / ROUNDS)
                totals[label][0] += count
                totals[label][1] += elapsed
    finally:
        keep_pages(app, True)
        for server, thread in ((inbox_server, inbox_thread), (bare_server, bare_thread)):
            server.shutdown()
            thread.join()
    rps = {label: count / elapsed for label, (count, elapsed) in totals.items()}
    ratio = rps["kept"] / rps["bare"]

    echo("")
    echo(f"{'page':<30}{'as':<12}{'p50 ms':>8}{'p95 ms':>8}{'target p95':>12}  verdict")
    for m in measures:
        limit = TARGETS_MS[m.target]
        verdict = "met" if m.p95 < limit else "not met"
        echo(f"{m.label:<30}{m.who:<12}{m.p50:>8.1f}{m.p95:>8.1f}{f'< {limit:g}':>12}  {verdict}")
    echo("")
    echo(f"{'throughput':<50}{'requests':>10}{'req/s':>9}")
    names = {
        "kept": f"inbox first page, supervisor ({inbox_bytes:,} B)",
        "rendered": "  the same, rendered every time",
        "bare": f"bare Flask page ({bare_bytes:,} B)",
    }
    for label, name in names.items():
        echo(f"{name:<50}{totals[label][0]:>10}{rps[label]:>9.1f}")
    verdict = "met" if ratio >= THROUGHPUT_TARGET else "not met"
    echo(f"inbox / bare = {ratio:.2f} (target >= {THROUGHPUT_TARGET:g})  {verdict}")
    echo(f"  rendered every time / bare = {rps['rendered'] / rps['bare']:.2f}")
    echo("")
    echo("EXPLAIN (ANALYZE, BUFFERS) of the inbox query:")
    for label, lines in explains:
        echo(f"  {label}: {plan_summary(lines)}")
        if plans:
            for line in lines:
                echo(f"      {line}")
