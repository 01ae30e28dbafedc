"""The load run's stage: the scratch database, the gunicorn process, a PostgreSQL restart, and
the answers to every form derived from its schema."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

from portal.config import PROJECT_ROOT

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
REFERENCE = re.compile(r"PUA-[A-Z]{3}-\d{4}-\d{6}")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CITIZENS = [
    "RSSMRA80A01E897X",
    "BNCLRA75M41L020S",
    "KHNAMR90C15Z236W",
    "VRDGPP40H10I225K",
    "GLLNNA82D52G417E",
    "SNGHPR88L20Z222I",
]
# Operator of Viadana's elderly queue, then Viadana's supervisor (every Viadana queue).
STAFF = ["CRVMRC71S12D959K", "CLMSRA66R61L826M"]
SEARCHES = [
    "anziani",
    "assistenza domiciliare",
    "affitto",
    "asilo nido",
    "trasporto",
    "disabilità",
    "badante",
    "contributo economico",
    "dimissioni ospedale",
    "corso di italiano",
    "affido",
    "fragilità",
]
VALUES = {
    "text": "Testo di prova",
    "longtext": "Una risposta più lunga, scritta per la prova di carico.",
    "fiscal_code": "VRDGPP40H10I225K",
    "phone": "0375 123456",
    "email": "prova@esempio.it",
    "iban": "IT60X0542811101000000123456",
}
# Staff actions that move a request forward, in the order they are tried.
ADVANCE = ("claim", "assess", "define_project", "close")


class LoadError(RuntimeError):
    """The load run could not be set up."""


# --- scratch database and portal process -------------------------------------------------


def check_name(name: str) -> str:
    if not re.fullmatch(r"bench[a-z0-9_]*", name):
        raise LoadError(f"Refusing database {name!r}: scratch databases start with 'bench'")
    return name


def create_database(server: str, name: str) -> str:
    """Drop and create the scratch database; returns its URL."""
    check_name(name)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def portal_env(database_url: str, workdir: Path) -> dict:
    """The environment of every portal process of the run (commands and gunicorn)."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        PORTAL_ENV="development",
        AUTH_TEST_LOGIN="1",
        RATELIMIT_ENABLED="false",
        SEARCH_INDEX_DIR=str(workdir / "search-index"),
        UPLOAD_DIR=str(workdir / "uploads"),
        MAIL_FILE_DIR=str(workdir / "mail"),
        MAIL_BACKEND="file",
    )
    return env


def flask_command(env: dict, *args: str) -> None:
    command = [sys.executable, "-m", "flask", "--app", "portal", *args]
    done = subprocess.run(
        command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise LoadError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, workers: int, port: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        raise LoadError(f"gunicorn is not installed in this environment ({gunicorn})")
    out = log.open("ab")
    return subprocess.Popen(
        [
            str(gunicorn),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            "portal:create_app()",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_healthy(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LoadError(f"gunicorn exited with {process.returncode} before answering")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise LoadError(f"{base}/healthz did not answer within {timeout:.0f} s")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def restart_postgresql() -> tuple[float, str]:
    """Restart the local PostgreSQL cluster once; returns (seconds, error or '')."""
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        return 0.0, "no cluster under /etc/postgresql"
    command = [
        "pg_ctlcluster",
        "--skip-systemctl-redirect",
        versions[-1],
        "main",
        "restart",
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    return elapsed, "" if done.returncode == 0 else (done.stderr or done.stdout).strip()


# --- form answers, from the schema ----------------------------------------------------------


def form_answers(database_url: str, workdir: Path) -> dict[str, dict[str, dict]]:
    """For each online service: step id -> {posted field name: value or ('file', bytes)}.

    Read from the scratch database through a second application object, so the answers follow
    the forms the portal under load really serves."""
    from portal import create_app
    from portal.catalog.models import Service
    from portal.extensions import db
    from portal.forms import drafts
    from portal.forms.models import Draft

    env = portal_env(database_url, workdir)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"].replace(
                "postgresql://", "postgresql+psycopg://", 1
            ),
            "SEARCH_INDEX_DIR": env["SEARCH_INDEX_DIR"],
            "UPLOAD_DIR": env["UPLOAD_DIR"],
        }
    )
    today = dt.date.today()
    result = {}
    with app.app_context():
        services = db.session.scalars(db.select(Service).where(Service.online.is_(True)))
        for service in services:
            form = drafts.latest_form(service)
            if form is None or not service.is_active:
                continue
            draft = Draft(service_form=form, answers={})
            steps = {}
            for step in drafts.all_steps(draft):
                answers = {}
                for spec in step.fields:
                    answers |= answer(spec, today)
                    if spec.id == "residence_comune":
                        answers[spec.id] = "viadana"
                    if spec.id == "for_whom":
                        answers[spec.id] = "self"
                steps[step.id] = answers
            result[service.slug] = steps
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    return result


def answer(spec, today: dt.date) -> dict:
    """A valid answer to one question, as a browser posts it (mirrors the filing tests)."""
    if spec.type in VALUES:
        return {spec.id: VALUES[spec.type]}
    if spec.type == "number":
        return {spec.id: str(spec.min if spec.min is not None else 0)}
    if spec.type == "date":
        low, high = spec.date_bounds(today)
        day = low or (high - dt.timedelta(days=1) if high else today)
        return {spec.id: day.isoformat()}
    if spec.type == "choice":
        return {spec.id: spec.choices[0].value}
    if spec.type == "multichoice":
        return {spec.id: [spec.choices[0].value]}
    if spec.type == "yesno":
        return {spec.id: "no"}
    if spec.type == "address":
        return {
            f"{spec.id}-street": "Via Roma 1",
            f"{spec.id}-postcode": "46019",
            f"{spec.id}-municipality": "Viadana",
        }
    if spec.type == "file":
        # Every file question shown whatever the answers (required or not) gets a PDF, so the
        # check can count attachments; conditional ones are left out (hidden, never stored).
        wanted = spec.required or spec.visible_if is None
        return {spec.id: ("file", PDF)} if wanted and "pdf" in spec.accept else {}
    return {}
