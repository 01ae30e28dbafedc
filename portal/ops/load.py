"""Load without loss: drive the portal under gunicorn with citizens and operators, optionally
restart PostgreSQL half-way, then check that every acknowledged request is stored exactly once.

Everything runs on loopback against a scratch database (`bench*`), never the configured one:
the scratch database is dropped, created, migrated and loaded with the demo data; the portal
runs as a gunicorn subprocess with the development login shortcut; clients are `httpx` clients
in threads. The answers to the request forms are derived from each service's form schema (read
once from the scratch database) and posted for the fields the HTML page actually shows."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
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


# --- HTML -----------------------------------------------------------------------------------


class Page(HTMLParser):
    """The forms (action -> {name: value}), links and text of a page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self.fields: dict[str, set[str]] = defaultdict(set)
        self.links: list[str] = []
        self.text_parts: list[str] = []
        self._form: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = attrs.get("action") or ""
            self.forms.setdefault(self._form, {})
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag in ("input", "select", "textarea") and attrs.get("name"):
            key = self._form if self._form is not None else ""
            self.fields[key].add(attrs["name"])
            if tag == "input" and attrs.get("type") == "hidden":
                self.forms.setdefault(key, {})[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def handle_data(self, data):
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def csrf(self) -> str | None:
        for hidden in self.forms.values():
            if hidden.get("csrf_token"):
                return hidden["csrf_token"]
        return None


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acknowledged: list[dict] = field(default_factory=list)
    abandoned: int = 0
    # Requests and errors per 10-second window since the start (shows the restart's gap).
    started: float = field(default_factory=time.monotonic)
    timeline: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        window = int((time.monotonic() - self.started) // 10)
        with self.lock:
            self.timeline[window][0] += 1
            self.timeline[window][1] += bool(error)
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind] += 1
                self.error_kinds[f"{kind}: {error}"] += 1


class Failed(Exception):
    """One HTTP exchange did not give what was expected (counted, then retried or dropped)."""


class Client:
    """One person's browser: cookies, and every exchange timed and counted by kind."""

    def __init__(self, base: str, stats: Stats, deadline: float):
        self.http = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        self.stats = stats
        self.deadline = deadline

    def call(self, kind, method, url, expect=(200,), **kwargs) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            self.stats.record(kind, time.perf_counter() - started, type(error).__name__)
            raise Failed(type(error).__name__) from error
        elapsed = time.perf_counter() - started
        if response.status_code not in expect:
            self.stats.record(kind, elapsed, f"HTTP {response.status_code}")
            raise Failed(f"HTTP {response.status_code}")
        self.stats.record(kind, elapsed, None)
        return response

    def retrying(self, kind, method, url, expect=(200,), attempts=40, **kwargs):
        """Like a patient person: on an error wait and send the same thing again."""
        for attempt in range(attempts):
            try:
                return self.call(kind, method, url, expect, **kwargs)
            except Failed:
                if attempt == attempts - 1 or time.monotonic() > self.deadline + 30:
                    raise
                time.sleep(min(0.25 * (attempt + 1), 2.0))
        raise AssertionError("unreachable")

    def login(self, fiscal_number: str, next_url: str = "/it/") -> None:
        page = Page(self.retrying("login", "GET", "/it/accedi").text)
        self.retrying(
            "login",
            "POST",
            "/auth/test-login",
            expect=(303,),
            data={"csrf_token": page.csrf(), "fiscal_number": fiscal_number, "next": next_url},
        )

    def running(self) -> bool:
        return time.monotonic() < self.deadline


def citizen(base, stats, deadline, fiscal_number, answers, seed):
    rng = random.Random(seed)
    client = Client(base, stats, deadline)
    slugs = sorted(answers)
    try:
        client.login(fiscal_number)
    except Failed:
        return
    while client.running():
        try:
            client.call("search", "GET", "/it/cerca", params={"q": rng.choice(SEARCHES)})
            client.call("card", "GET", f"/it/servizi/{rng.choice(slugs)}")
            if rng.random() < 0.6:
                file_request(client, rng.choice(slugs), answers)
        except Failed:
            time.sleep(0.2)


def file_request(client: Client, slug: str, answers: dict) -> None:
    """Start, answer every step, send; an acknowledged submission is recorded with what the
    client uploaded. Errors are retried like a patient citizen would."""
    start_url = f"/it/servizi/{slug}/richiesta"
    page = Page(client.retrying("form", "GET", start_url).text)
    response = client.retrying(
        "form", "POST", start_url, expect=(303,), data={"csrf_token": page.csrf()}
    )
    url = response.headers["location"]
    match = re.search(r"/richiesta/([0-9a-f]{32})/", url)
    if match is None:
        raise Failed("no draft in the redirect")
    draft = match.group(1)
    uploaded: dict[str, int] = {}
    for _ in range(30):
        path = httpx.URL(url).path
        if path.endswith("/riepilogo"):
            return send(client, slug, draft, path, len(uploaded))
        page_response = client.retrying("form", "GET", path, expect=(200, 302))
        if page_response.status_code == 302:
            # Sent back to the first step still to fill in.
            url = page_response.headers["location"]
            continue
        page = Page(page_response.text)
        step_id = path.rsplit("/", 1)[1]
        shown = set().union(*page.fields.values()) if page.fields else set()
        data, files = {"csrf_token": page.csrf()}, {}
        for name, value in answers[slug].get(step_id, {}).items():
            if name not in shown:
                continue
            if isinstance(value, tuple):
                files[name] = ("documento.pdf", value[1], "application/pdf")
                uploaded[name] = 1
            else:
                data[name] = value
        # With a file the body is multipart, as a browser sends it; without, the view reads
        # the urlencoded form the same way.
        response = client.retrying(
            "step", "POST", path, expect=(303,), data=data, files=files or None
        )
        url = response.headers["location"]
    raise Failed("too many steps")


def send(client: Client, slug: str, draft: str, path: str, uploads: int) -> None:
    page = Page(client.retrying("form", "GET", path).text)
    response = client.retrying(
        "submit",
        "POST",
        path,
        expect=(303,),
        data={"csrf_token": page.csrf(), "consent": "y"},
    )
    location = httpx.URL(response.headers["location"]).path
    if not location.endswith("/inviata"):
        raise Failed(f"send went to {location}")
    reference = location.rsplit("/", 2)[1]
    confirmation = client.retrying("confirmation", "GET", location)
    shown = REFERENCE.findall(Page(confirmation.text).text)
    if reference not in shown:
        raise Failed("the confirmation does not show the reference")
    with client.stats.lock:
        client.stats.acknowledged.append(
            {"reference": reference, "draft": draft, "service": slug, "uploads": uploads}
        )


def operator(base, stats, deadline, fiscal_number, seed):
    rng = random.Random(seed)
    client = Client(base, stats, deadline)
    try:
        client.login(fiscal_number, "/backoffice/")
    except Failed:
        return
    while client.running():
        try:
            inbox = Page(client.call("inbox", "GET", "/backoffice/").text)
            references = sorted(
                {
                    m.group(1)
                    for href in inbox.links
                    if (m := re.search(r"/richieste/(PUA-[^/?#]+)$", href))
                }
            )
            if not references:
                time.sleep(0.5)
                continue
            reference = rng.choice(references[:20])
            page = Page(
                client.call("staff_request", "GET", f"/backoffice/richieste/{reference}").text
            )
            actions = {
                action.rsplit("/", 1)[1]: hidden
                for action, hidden in page.forms.items()
                if "/azioni/" in action
            }
            chosen = next((a for a in ADVANCE if a in actions), None)
            if chosen is None:
                continue
            hidden = actions[chosen]
            data = dict(hidden)
            if chosen == "assess":
                data[f"{chosen}-uvm_date"] = dt.date.today().isoformat()
                data[f"{chosen}-uvm_team"] = "UVM di prova"
            elif chosen == "define_project":
                data[f"{chosen}-case_manager"] = "Case manager di prova"
                data[f"{chosen}-agreed"] = "y"
            elif chosen == "close":
                data[f"{chosen}-note"] = "Chiusa dalla prova di carico."
            client.call(
                "staff_action",
                "POST",
                f"/backoffice/richieste/{reference}/azioni/{chosen}",
                expect=(303,),
                data=data,
            )
        except Failed:
            time.sleep(0.2)


# --- checks -------------------------------------------------------------------------------


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
    result["ok"] = not any(
        result[name]
        for name in (
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
    )
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
