"""Load without loss: drive the portal under gunicorn with citizens and operators, optionally
restart PostgreSQL half-way, then check that every acknowledged request is stored exactly once.

Everything runs on loopback against a scratch database (`bench*`), never the configured one:
the scratch database is dropped, created, migrated and loaded with the demo data; the portal
runs as a gunicorn subprocess with the development login shortcut; clients are `httpx` clients
in threads. The answers to the request forms are derived from each service's form schema (read
once from the scratch database) and posted for the fields the HTML page actually shows."""

from __future__ import annotations

import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg

from portal.ops.load_clients import Stats, citizen, operator
from portal.ops.load_setup import (
    CITIZENS,
    DEFAULT_SERVER,
    STAFF,
    check_name,
    create_database,
    flask_command,
    form_answers,
    free_port,
    portal_env,
    restart_postgresql,
    start_gunicorn,
    stop_process,
    wait_healthy,
)

# --- checks -------------------------------------------------------------------------------


# What the database check looks for after a run: each must come back empty.
CHECKS = (
    "lost",
    "duplicated",
    "missing_event",
    "attachments_mismatch",
    "draft_mismatch",
    "without_first_event",
    "duplicate_idempotency_keys",
    "duplicate_references",
    "drafts_with_two_requests",
)


def connect_retrying(url: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(url)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def check_database(database_url: str, acknowledged: list[dict]) -> dict:
    """Every acknowledged reference once, with its `submitted` event and its attachments; no
    request without its first event; no idempotency key twice."""
    result = {
        "acknowledged": len(acknowledged),
        "uploaded_files": sum(ack["uploads"] for ack in acknowledged),
        "services": len({ack["service"] for ack in acknowledged}),
        "lost": [],
        "duplicated": [],
        "missing_event": [],
        "attachments_mismatch": [],
        "draft_mismatch": [],
    }
    by_reference = defaultdict(set)
    for ack in acknowledged:
        by_reference[ack["reference"]].add(ack["draft"])
    # One reference acknowledged for two different drafts: two submissions merged into one.
    result["duplicated"] += [ref for ref, found in by_reference.items() if len(found) > 1]
    with connect_retrying(database_url) as conn:
        for ack in acknowledged:
            rows = conn.execute(
                "SELECT r.id, r.idempotency_key, d.idempotency_key, d.request_id,"
                " (SELECT count(*) FROM request_event e WHERE e.request_id = r.id"
                "   AND e.kind = 'submitted'),"
                " (SELECT count(*) FROM attachment a WHERE a.request_id = r.id)"
                " FROM request r LEFT JOIN draft d ON d.public_id = %s"
                " WHERE r.reference = %s",
                (ack["draft"], ack["reference"]),
            ).fetchall()
            if not rows:
                result["lost"].append(ack["reference"])
                continue
            if len(rows) > 1:
                result["duplicated"].append(ack["reference"])
            request_id, key, draft_key, draft_request, submitted, attachments = rows[0]
            if submitted != 1:
                result["missing_event"].append(ack["reference"])
            if attachments != ack["uploads"]:
                result["attachments_mismatch"].append(
                    f"{ack['reference']}: {attachments} stored, {ack['uploads']} uploaded"
                )
            if draft_key != key or draft_request != request_id:
                result["draft_mismatch"].append(ack["reference"])
        result["requests_in_database"] = conn.execute("SELECT count(*) FROM request").fetchone()[0]
        result["without_first_event"] = [
            row[0]
            for row in conn.execute(
                "SELECT r.reference FROM request r WHERE NOT EXISTS ("
                " SELECT 1 FROM request_event e WHERE e.request_id = r.id AND e.kind = 'submitted'"
                " AND e.id = (SELECT min(f.id) FROM request_event f WHERE f.request_id = r.id))"
            )
        ]
        result["duplicate_idempotency_keys"] = [
            row[0]
            for row in conn.execute(
                "SELECT idempotency_key FROM request GROUP BY idempotency_key HAVING count(*) > 1"
            )
        ]
        result["duplicate_references"] = [
            row[0]
            for row in conn.execute(
                "SELECT reference FROM request GROUP BY reference HAVING count(*) > 1"
            )
        ]
        result["drafts_with_two_requests"] = [
            row[0]
            for row in conn.execute(
                "SELECT idempotency_key FROM request r WHERE idempotency_key IN ("
                " SELECT idempotency_key FROM draft) GROUP BY idempotency_key"
                " HAVING count(*) > 1"
            )
        ]
        # Submitted from the demo loader or by the portal, but never acknowledged to a client
        # (a response lost while the database was down): not a loss, reported for the record.
        acked = {ack["reference"] for ack in acknowledged}
        stored_by_load = [
            row[0]
            for row in conn.execute(
                "SELECT r.reference FROM request r JOIN draft d ON d.request_id = r.id"
            )
        ]
        result["stored_not_acknowledged"] = len([r for r in stored_by_load if r not in acked])
    result["ok"] = not any(result[name] for name in CHECKS)
    return result


def summarise_log(log: Path) -> list[str]:
    """The exceptions of the portal's log: last line of each traceback, counted."""
    counts: dict[str, int] = defaultdict(int)
    lines = log.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith(" ") or lines[j].startswith("\t")):
                j += 1
            if j < len(lines):
                counts[lines[j][:200]] += 1
    return [f"{n} x {text}" for text, n in sorted(counts.items(), key=lambda kv: -kv[1])]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- the run ------------------------------------------------------------------------------


@dataclass
class Options:
    seconds: int = 120
    citizens: int = 8
    operators: int = 2
    workers: int = 3
    restart: bool = False
    database: str = "bench_load"
    server: str = DEFAULT_SERVER


def run(options: Options, echo=print) -> dict:
    check_name(options.database)
    workdir = Path(tempfile.mkdtemp(prefix="pua-load-"))
    database_url = create_database(options.server, options.database)
    env = portal_env(database_url, workdir)
    echo(f"Scratch database {options.database}; files under {workdir}")
    for args in (("db", "upgrade"), ("demo", "load"), ("search", "reindex")):
        flask_command(env, *args)
    echo("Schema, demo data and search index ready.")
    answers = form_answers(database_url, workdir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / "gunicorn.log"
    process = start_gunicorn(env, options.workers, port, log)
    stats = Stats()
    restart = {"seconds": None, "error": None, "at": None}
    try:
        wait_healthy(base, process)
        echo(f"gunicorn -w {options.workers} on {base}; driving for {options.seconds} s")
        started = stats.started = time.monotonic()
        deadline = started + options.seconds
        threads = []
        for i in range(options.citizens):
            threads.append(
                threading.Thread(
                    target=citizen,
                    args=(base, stats, deadline, CITIZENS[i % len(CITIZENS)], answers, i),
                    daemon=True,
                )
            )
        for i in range(options.operators):
            threads.append(
                threading.Thread(
                    target=operator,
                    args=(base, stats, deadline, STAFF[i % len(STAFF)], 1000 + i),
                    daemon=True,
                )
            )
        for thread in threads:
            thread.start()
        if options.restart:
            time.sleep(max(0.0, started + options.seconds / 2 - time.monotonic()))
            echo("Restarting PostgreSQL...")
            restart["at"] = round(time.monotonic() - started, 1)
            restart["seconds"], restart["error"] = restart_postgresql()
            echo(f"PostgreSQL restarted in {restart['seconds']:.1f} s {restart['error'] or ''}")
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic() + 90))
        elapsed = time.monotonic() - started
    finally:
        stop_process(process)
    check = check_database(database_url, stats.acknowledged)
    kinds = sorted(stats.latencies)
    report = {
        "seconds": round(elapsed, 1),
        "restart": restart if options.restart else None,
        "kinds": {
            kind: {
                "count": len(stats.latencies[kind]),
                "per_second": round(len(stats.latencies[kind]) / elapsed, 2),
                "p95_ms": round(percentile(stats.latencies[kind], 0.95) * 1000, 1),
                "errors": stats.errors.get(kind, 0),
                "error_rate": round(stats.errors.get(kind, 0) / len(stats.latencies[kind]), 4),
            }
            for kind in kinds
        },
        "error_kinds": dict(stats.error_kinds),
        "timeline": {
            f"{w * 10}-{w * 10 + 10}s": {"requests": n, "errors": e}
            for w, (n, e) in sorted(stats.timeline.items())
        },
        "check": check,
        "log": str(log),
        "log_exceptions": summarise_log(log),
    }
    return report
