"""The supervisor's dashboard: the seeds' indicators on a known set of requests, the workload
of the supervisor's own PUA only, the overdue list, the CSV export and who may see any of it."""

import csv
import datetime as dt
import io
import itertools

import pytest
from sqlalchemy import select

from portal.auth.models import User, utcnow
from portal.backoffice import dashboard
from portal.backoffice.permissions import Scope
from portal.catalog.models import Comune, Desk, Queue, Service
from portal.extensions import db
from portal.forms.models import ServiceForm
from portal.requests.models import Request
from tests.auth.flows import login
from tests.pages import find_all, find_one, parse, text_of

SARA = ("TINIT-CLMSRA66R61L826M", "sara", "Sara", "Colombo")  # supervisor, PUA viadana
MARCO = ("TINIT-CRVMRC71S12D959K", "marco", "Marco", "Cervi")  # operator, PUA viadana
ELENA = ("TINIT-NRELNE77C55F205V", "elena", "Elena", "Neri")  # administrator
CITIZEN = ("TINIT-RSSMRA80A01E897X", "subject-of-mario", "Mario", "Rossi")
# Far in the past, so that no other request of the database falls in the period.
START = dt.date(2020, 3, 1)
END = dt.date(2020, 3, 31)
_numbers = itertools.count(1)


def as_person(client, federation, person):
    """Log in as ``person``, in English: the back office speaks the session's language."""
    fiscal, subject, given, family = person
    federation.person.update(fiscal_number=fiscal, given_name=given, family_name=family)
    federation.subject = subject
    login(client, federation, lang="en")


def queue(slug: str) -> Queue:
    return db.session.scalar(select(Queue).where(Queue.slug == slug))


def desk(slug: str) -> Desk:
    return db.session.scalar(select(Desk).where(Desk.slug == slug))


def supervisor_of(slug: str) -> Scope:
    return Scope(False, frozenset({desk(slug).id}), frozenset())


@pytest.fixture
def make_request(app):
    """Build a submitted request of the given queue; keyword arguments set any other column."""
    service = db.session.scalar(select(Service).where(Service.slug == "misura-b2"))
    form = db.session.scalar(select(ServiceForm).where(ServiceForm.service_id == service.id))
    comune = db.session.scalar(select(Comune).where(Comune.slug == "viadana"))
    applicant = User(fiscal_number="BNCLRA75M41L020S", given_name="Laura", family_name="Bianchi")
    db.session.add(applicant)
    db.session.flush()

    def build(queue_slug: str, submitted: dt.datetime, **columns) -> Request:
        number = next(_numbers)
        values = {
            "reference": f"PUA-TEST-{number:06d}",
            "idempotency_key": f"dashboard-test-{number}",
            "service_id": service.id,
            "service_form_id": form.id,
            "applicant_id": applicant.id,
            "comune_id": comune.id,
            "answers": {},
            "lang": "it",
            "state": "submitted",
            "queue_id": queue(queue_slug).id,
            "routing_rule": "test",
            "consent_version": "x",
            "consent_at": submitted,
            "submitted_at": submitted,
            "deadline": submitted.date() + dt.timedelta(days=30),
        }
        values.update(columns)
        row = Request(**values)
        db.session.add(row)
        db.session.flush()
        return row

    return build


def project(make_request, days: int, agreed: bool = True, queue_slug="viadana-anziani", **more):
    sent = dt.datetime(2020, 3, 10, 9, 30)
    defined = sent + dt.timedelta(days=days, hours=3)
    return make_request(
        queue_slug,
        sent,
        state="project_defined",
        in_charge_at=sent + dt.timedelta(hours=1),
        assessed_at=sent + dt.timedelta(days=1),
        project_defined_at=defined,
        project_agreed=agreed,
        **more,
    )


@pytest.fixture
def known_set(make_request):
    """Ten projects (days 5..40, one not agreed), two assessed without a project yet, one
    withdrawn, one not yet assessed; plus requests the period or the scope must leave out."""
    days = [5, 12, 18, 25, 28, 31, 40, 9, 15, 22]
    for number, day in enumerate(days):
        project(make_request, day, agreed=number != 3, satisfaction=(5, 4, 3, None)[number % 4])
    sent = dt.datetime(2020, 3, 20, 11, 0)
    for _ in range(2):
        make_request("viadana-generale", sent, state="assessment", assessed_at=sent)
    make_request("viadana-generale", sent, state="withdrawn")
    make_request("viadana-disabilita", sent)
    # Suzzara's PUA, and a request of viadana sent the day after the period.
    project(make_request, 90, agreed=False, queue_slug="suzzara-anziani", satisfaction=1)
    make_request("viadana-anziani", dt.datetime(2020, 4, 1, 0, 0), satisfaction=1)


def test_indicators_on_a_known_set(known_set):
    numbers = dashboard.indicators(supervisor_of("viadana"), START, END)
    assert numbers["submitted"] == 14
    # Twelve of the thirteen requests not withdrawn were assessed: short of the 100% target.
    assert (numbers["assessed"], numbers["considered"]) == (12, 13)
    assert numbers["targets"]["assessed"] is False
    # Sorted days 5 9 12 15 18 22 25 28 31 40: median (18 + 22) / 2, nearest-rank p90 the 9th.
    assert numbers["projects"] == 10
    assert numbers["days_median"] == 20
    assert numbers["days_p90"] == 31
    assert numbers["within_target_share"] == pytest.approx(0.8)
    assert numbers["targets"]["within_target"] is False
    assert [count for _low, _high, count in numbers["day_buckets"]] == [2, 3, 3, 2]
    # Nine of ten projects agreed: exactly the 90% target.
    assert numbers["adherence"] == pytest.approx(0.9)
    assert numbers["targets"]["adherence"] is True
    # Ratings 5 4 3 - 5 4 3 - 5 4: eight answers.
    assert numbers["satisfaction_count"] == 8
    assert numbers["satisfaction_mean"] == pytest.approx(33 / 8)


def test_an_administrator_counts_every_pua(known_set):
    numbers = dashboard.indicators(Scope(True, frozenset(), frozenset()), START, END)
    assert numbers["submitted"] == 15 and numbers["projects"] == 11
    assert numbers["days_p90"] == 40


def test_an_empty_period_has_no_verdicts(app):
    numbers = dashboard.indicators(supervisor_of("viadana"), START, END)
    assert numbers["submitted"] == 0 and numbers["days_median"] is None
    assert set(numbers["targets"].values()) == {None}


def test_nearest_rank_percentile():
    assert dashboard.nearest_rank([], 90) is None
    assert dashboard.nearest_rank([7], 90) == 7
    assert dashboard.nearest_rank(list(range(1, 21)), 90) == 18
    assert dashboard.nearest_rank(list(range(1, 21)), 100) == 20


def test_workload_counts_only_the_supervisors_pua(make_request):
    now = utcnow()
    today = now.date()
    late = today - dt.timedelta(days=3)
    make_request("viadana-anziani", now)
    make_request("viadana-anziani", now, deadline=late)
    make_request(
        "viadana-anziani",
        now,
        state="waiting_citizen",
        deadline=late,
        paused_since=now - dt.timedelta(days=5),
    )
    make_request("viadana-anziani", now, state="closed", closed_at=now)
    make_request("suzzara-anziani", now, deadline=late)
    loads = {row.slug: row for row in dashboard.workload(supervisor_of("viadana"))}
    viadana = {
        q.slug for q in db.session.scalars(select(Queue).where(Queue.desk == desk("viadana")))
    }
    assert set(loads) == viadana
    anziani = loads["viadana-anziani"]
    # The paused request is waiting, not late; the closed one is not open.
    assert (anziani.open, anziani.unassigned, anziani.overdue, anziani.waiting) == (3, 3, 1, 1)
    everywhere = {row.slug for row in dashboard.workload(Scope(True, frozenset(), frozenset()))}
    assert "suzzara-anziani" in everywhere


def test_workload_per_operator(make_request):
    marco = User(fiscal_number="CRVMRC71S12D959K", given_name="Marco", family_name="Cervi")
    db.session.add(marco)
    db.session.flush()
    now = utcnow()
    for state in ("in_charge", "assessment", "closed"):
        make_request("viadana-anziani", now, state=state, assigned_to_id=marco.id)
    make_request("suzzara-anziani", now, state="in_charge", assigned_to_id=marco.id)
    people = {p.name: p.open for p in dashboard.operator_workload(supervisor_of("viadana"))}
    assert people["Marco Cervi"] == 2


def test_overdue_oldest_deadline_first_without_paused_or_closed(make_request):
    now = utcnow()
    today = now.date()
    marco = User(fiscal_number="CRVMRC71S12D959K", given_name="Marco", family_name="Cervi")
    db.session.add(marco)
    db.session.flush()
    recent = make_request("viadana-anziani", now, deadline=today - dt.timedelta(days=2))
    oldest = make_request(
        "viadana-generale",
        now,
        state="in_charge",
        assigned_to_id=marco.id,
        deadline=today - dt.timedelta(days=9),
    )
    make_request("viadana-generale", now, deadline=today)  # due today: not late yet
    make_request(
        "viadana-anziani",
        now,
        state="waiting_citizen",
        paused_since=now,
        deadline=today - dt.timedelta(days=20),
    )
    make_request("viadana-anziani", now, state="closed", deadline=today - dt.timedelta(days=30))
    make_request("suzzara-anziani", now, deadline=today - dt.timedelta(days=40))
    rows = dashboard.overdue(supervisor_of("viadana"))
    assert [row.reference for row in rows] == [oldest.reference, recent.reference]
    first = rows[0]
    assert (first.queue_slug, first.assignee, first.days_overdue) == (
        "viadana-generale",
        "Marco Cervi",
        9,
    )
    assert first.service_title and rows[1].assignee is None
    assert len(dashboard.overdue(supervisor_of("viadana"), limit=1)) == 1


def test_the_supervisor_reads_the_indicators_in_text_and_tables(client, federation, known_set):
    as_person(client, federation, SARA)
    page = client.get(
        "/backoffice/cruscotto", query_string={"dal": "2020-03-01", "al": "2020-03-31"}
    )
    assert page.status_code == 200
    tree = parse(page)
    main = find_one(tree, ".//main")
    body = text_of(main)
    assert "median 20 days, 90th percentile 31 days, over 10 projects" in body
    assert "target ≥ 90%: met" in body
    assert "target 100%: not met" in body
    assert "target: every project within 30 days: not met" in body
    assert "from 8 answers" in body
    # Each chart is one image with a spoken summary, and its numbers are also in a table.
    charts = find_all(main, ".//{http://www.w3.org/2000/svg}svg[@role='img']")
    assert len(charts) == 2 and all(c.get("aria-label") for c in charts)
    days_chart = next(c for c in charts if c.get("id") == "days-chart")
    assert "more than 30 days: 2" in days_chart.get("aria-label")
    captions = [text_of(c) for c in find_all(main, ".//table/caption")]
    assert "Individual projects by days from the request to the project" in captions
    assert "Requests per queue" in captions
    days_table = [
        t for t in find_all(main, ".//table") if "days from" in text_of(t.find("caption"))
    ]
    cells = [[text_of(cell) for cell in row] for row in find_all(days_table[0], ".//tbody/tr")]
    assert cells[-1] == ["more than 30 days", "2"]
    assert find_all(main, ".//th[@scope='row']") and find_all(main, ".//th[@scope='col']")
    assert 'style="' not in page.get_data(as_text=True)
    assert "<script" not in text_of(main)
    link = find_one(main, ".//a[@download]")
    assert link.get("href").startswith("/backoffice/cruscotto.csv?")


def test_the_supervisor_page_shows_only_their_pua(client, federation, make_request):
    now = utcnow()
    theirs = make_request("suzzara-anziani", now, deadline=now.date() - dt.timedelta(days=4))
    ours = make_request("viadana-anziani", now, deadline=now.date() - dt.timedelta(days=4))
    as_person(client, federation, SARA)
    main = parse(client.get("/backoffice/cruscotto")).find(".//main")
    row_heads = [text_of(th) for th in find_all(main, ".//table//tbody/tr/th")]
    assert "viadana-anziani" in row_heads
    assert not [slug for slug in row_heads if slug.startswith("suzzara")]
    # The late request of their PUA is listed, linked to its page; Suzzara's is not.
    assert ours.reference in row_heads and theirs.reference not in row_heads
    link = find_one(main, f".//a[.='{ours.reference}']")
    assert link.get("href") == f"/backoffice/richieste/{ours.reference}"
    assert "suzzara" not in text_of(main)


@pytest.mark.parametrize("person", [MARCO, CITIZEN], ids=["operator", "citizen"])
@pytest.mark.parametrize("path", ["/backoffice/cruscotto", "/backoffice/cruscotto.csv"])
def test_only_supervisors_and_administrators_see_it(client, federation, person, path):
    as_person(client, federation, person)
    assert client.get(path).status_code == 404


def test_an_administrator_sees_it(client, federation):
    as_person(client, federation, ELENA)
    assert client.get("/backoffice/cruscotto").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/backoffice/cruscotto").status_code == 302


def test_the_csv_downloads_with_indicators_and_workload(client, federation, known_set):
    as_person(client, federation, SARA)
    response = client.get("/backoffice/cruscotto.csv?dal=2020-03-01&al=2020-03-31")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "cruscotto-2020-03-01-2020-03-31.csv" in disposition
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["section", "subject", "measure", "value"]
    assert ["indicators", "", "days_median", "20"] in rows
    assert ["indicators", "", "adherence", "0.9"] in rows
    assert ["targets", "adherence", "met", "yes"] in rows
    queues = {row[1] for row in rows if row[0] == "workload"}
    assert "viadana-anziani" in queues and not any(q.startswith("suzzara") for q in queues)


@pytest.mark.parametrize(
    "query", [{"dal": "2026-13-01"}, {"al": "yesterday"}, {"dal": "2026-02-01", "al": "2026-01-01"}]
)
def test_a_bad_period_is_explained_and_the_default_used(client, federation, query):
    as_person(client, federation, SARA)
    page = client.get("/backoffice/cruscotto", query_string=query)
    assert page.status_code == 400
    main = parse(page).find(".//main")
    alert = find_one(main, ".//*[@id='period-error']")
    assert "last 90 days are shown instead" in text_of(alert)
    today = utcnow().date()
    start = find_one(main, ".//input[@name='dal']").get("value")
    assert start == (today - dt.timedelta(days=90)).isoformat()
    assert client.get("/backoffice/cruscotto.csv", query_string=query).status_code == 400
