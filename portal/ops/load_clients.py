"""The load run's actors: citizens who search, read cards and file requests, and operators who
work their queues, each an httpx client in a thread, timing every request by kind."""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx

from portal.ops.load_setup import ADVANCE, REFERENCE, SEARCHES

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
        # A service card always carries a form (the page rating), hence a CSRF token; the login
        # page has one only when the identity providers answer.
        page = Page(self.retrying("login", "GET", "/it/servizi/punto-unico-di-accesso").text)
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
