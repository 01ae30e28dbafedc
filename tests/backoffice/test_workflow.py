"""PUA staff at work: a request from submission to project, and every refusal."""

import datetime as dt
import re

from sqlalchemy import select

from portal.extensions import db
from portal.outbox.models import OutboxMessage
from portal.requests.models import Request
from tests.backoffice.factory import make_request, staff_client
from tests.pages import find_all, parse, text_of
from tests.requests.test_filing import fill_in, send


def form_of(page, action):
    """The csrf token and version of one action's form on the request page."""
    tree = parse(page)
    form = next(
        f
        for f in find_all(tree, ".//form")
        if (f.get("action") or "").endswith(f"/azioni/{action}")
    )
    values = {i.get("name"): i.get("value") for i in form.iter("input") if i.get("name")}
    return {k: v for k, v in values.items() if k.endswith(("csrf_token", "version"))}


def act(client, req, action, **fields):
    url = f"/backoffice/richieste/{req.reference}"
    data = form_of(client.get(url), action)
    data |= {f"{action}-{name}": value for name, value in fields.items()}
    return client.post(f"{url}/azioni/{action}", data=data)


def main_text(response):
    return text_of(parse(response).find(".//main"))


def mails(reference):
    return [
        m.kind for m in db.session.scalars(select(OutboxMessage).filter_by(reference=reference))
    ]


def test_a_request_from_submission_to_project_with_pause(app, client, federation):
    fill_and_send = fill_in(client_logged_in(client, federation), "assistenza-domiciliare-sad")
    send(client, fill_and_send)
    req = db.session.scalar(select(Request))
    assert req.queue.slug == "viadana-anziani"
    marco = staff_client(app, federation, "marco")
    inbox = main_text(marco.get("/backoffice/"))
    assert (req.reference in inbox and "30 giorni" in inbox) or "days left" in inbox

    assert act(marco, req, "claim").status_code == 303
    assert (
        act(marco, req, "assess", uvm_date="2026-12-02", uvm_team="UVM ASST Mantova").status_code
        == 303
    )
    assert act(marco, req, "ask_citizen", note="Mandi il verbale di invalidità.").status_code == 303
    db.session.refresh(req)
    assert req.state == "waiting_citizen" and req.paused_since is not None
    # Four days later the citizen answers: the deadline moves by the days spent waiting.
    req.paused_since -= dt.timedelta(days=4)
    db.session.commit()
    deadline = req.deadline
    detail = f"/it/area-personale/richieste/{req.reference}"
    page = client.get(detail)
    assert "Mandi il verbale di invalidità." in main_text(page)
    token = find_all(parse(page), ".//main//input[@name='csrf_token']")[0].get("value")
    client.post(f"{detail}/messaggi", data={"csrf_token": token, "body": "Ecco il verbale."})
    db.session.refresh(req)
    assert req.state == "assessment"
    assert req.deadline == deadline + dt.timedelta(days=4) and req.paused_days == 4

    response = act(marco, req, "define_project", case_manager="Dott.ssa Rossi", agreed="y")
    assert response.status_code == 303
    db.session.refresh(req)
    assert req.state == "project_defined" and req.project_agreed is True
    assert act(marco, req, "close", note="Progetto avviato.").status_code == 303
    db.session.refresh(req)
    assert req.state == "closed"
    kinds = [e.kind for e in req.events]
    assert kinds[:4] == ["submitted", "claim", "assess", "ask_citizen"]
    assert kinds[-2:] == ["define_project", "close"]
    claim = req.events[1]
    assert claim.detail["before"]["state"] == "submitted"
    assert claim.detail["after"]["state"] == "in_charge"
    assert {"request_claim", "request_ask_citizen", "request_close"} <= set(mails(req.reference))
    history = main_text(client.get(detail))
    assert "Progetto individuale definito" in history or "Individual project" in history


def client_logged_in(client, federation):
    from tests.auth.flows import login

    login(client, federation)
    return client


def test_an_illegal_transition_is_refused_and_changes_nothing(app, federation):
    req = make_request()
    marco = staff_client(app, federation, "marco")
    url = f"/backoffice/richieste/{req.reference}"
    data = form_of(marco.get(url), "claim")
    data = {k.replace("claim-", "define_project-"): v for k, v in data.items()}
    data["define_project-case_manager"] = "X"
    response = marco.post(f"{url}/azioni/define_project", data=data)
    assert response.status_code == 303
    assert "non è possibile" in main_text(marco.get(url))
    db.session.refresh(req)
    assert req.state == "submitted" and [e.kind for e in req.events] == ["submitted"]


def test_two_operators_claiming_at_once_one_wins_the_other_is_told_who(app, federation):
    req = make_request()
    marco = staff_client(app, federation, "marco")
    sara = staff_client(app, federation, "sara")
    url = f"/backoffice/richieste/{req.reference}"
    marco_form = form_of(marco.get(url), "claim")
    sara_form = form_of(sara.get(url), "claim")
    assert marco.post(f"{url}/azioni/claim", data=marco_form).status_code == 303
    assert sara.post(f"{url}/azioni/claim", data=sara_form).status_code == 303
    page = main_text(sara.get(url))
    assert "Marco" in page
    db.session.refresh(req)
    assert req.assigned_to.given_name == "Marco"
    assert [e.kind for e in req.events].count("claim") == 1


def test_a_reroute_to_a_queue_that_does_not_exist_is_refused(app, federation):
    req = make_request()
    marco = staff_client(app, federation, "marco")
    response = act(marco, req, "reroute", queue="viadana-inesistente", note="Prova")
    assert response.status_code == 400
    assert "coda non esiste" in main_text(response) or "queue does not exist" in main_text(response)
    db.session.refresh(req)
    assert req.queue.slug == "viadana-anziani" and req.state == "submitted"


def test_a_reroute_or_an_assignment_never_starts_with_an_answer_chosen(app, federation):
    """A reason written and the list left alone must not send the request to the first queue
    in the alphabet (another PUA's) or to the first colleague."""
    req = make_request()
    staff_client(app, federation, "marco")  # a colleague who has logged in once
    sara = staff_client(app, federation, "sara")
    page = parse(sara.get(f"/backoffice/richieste/{req.reference}"))
    for name in ("reroute-queue", "assign-assignee"):
        first = find_all(page, f".//select[@name='{name}']/option")[0]
        assert first.get("value") == "" and text_of(first) == "Scegli…", name
    response = act(sara, req, "reroute", queue="", note="Situazione abitativa")
    assert response.status_code == 400 and "Scegli una coda." in main_text(response)
    response = act(sara, req, "assign", assignee="")
    assert response.status_code == 400 and "Scegli un collega." in main_text(response)
    db.session.refresh(req)
    assert req.queue.slug == "viadana-anziani" and req.assigned_to_id is None
    assert [e.kind for e in req.events] == ["submitted"]


def test_assigning_is_offered_once_a_colleague_can_receive_it(app, federation):
    """Staff become people of the portal at their first login: before anyone of the queue has
    logged in there is nobody to choose, and no empty list is shown."""
    req = make_request(queue="viadana-minori-famiglia")
    elena = staff_client(app, federation, "elena")  # an administrator may assign
    url = f"/backoffice/richieste/{req.reference}"
    assert not find_all(parse(elena.get(url)), ".//select[@name='assign-assignee']")
    staff_client(app, federation, "sara")  # the supervisor of Viadana logs in
    options = find_all(parse(elena.get(url)), ".//select[@name='assign-assignee']/option")
    assert [text_of(o) for o in options] == ["Scegli…", "Sara Colombo"]


def test_a_reroute_moves_the_request_out_of_the_operators_sight(app, federation):
    req = make_request()
    marco = staff_client(app, federation, "marco")
    response = act(marco, req, "reroute", queue="viadana-inclusione", note="Situazione abitativa")
    assert response.status_code == 303 and response.location.endswith("/backoffice/")
    assert marco.get(f"/backoffice/richieste/{req.reference}").status_code == 404
    chiara = staff_client(app, federation, "chiara")
    page = main_text(chiara.get(f"/backoffice/richieste/{req.reference}"))
    assert "Reinstradata da Marco Cervi: Situazione abitativa" in page  # in the staff's language
    db.session.refresh(req)
    assert req.state == "rerouted" and req.assigned_to_id is None


def test_an_internal_note_is_escaped_and_never_reaches_the_citizen(app, client, federation):
    client_logged_in(client, federation)
    send(client, fill_in(client, "assistenza-domiciliare-sad"))
    req = db.session.scalar(select(Request))
    marco = staff_client(app, federation, "marco")
    url = f"/backoffice/richieste/{req.reference}"
    token = find_all(parse(marco.get(url)), ".//form[@action='" + url + "/note']//input")[0].get(
        "value"
    )
    body = "<script>alert('x')</script> visita il 3"
    assert marco.post(f"{url}/note", data={"csrf_token": token, "body": body}).status_code == 303
    html = marco.get(url).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    citizen_page = client.get(f"/it/area-personale/richieste/{req.reference}")
    assert "visita il 3" not in citizen_page.get_data(as_text=True)
    assert "visita il 3" not in client.get("/it/area-personale/i-miei-dati.json").get_data(
        as_text=True
    )


def test_only_a_supervisor_assigns(app, federation):
    req = make_request()
    marco = staff_client(app, federation, "marco")
    assert "assign" not in " ".join(
        f.get("action") or ""
        for f in find_all(parse(marco.get(f"/backoffice/richieste/{req.reference}")), ".//form")
    )
    claim = form_of(marco.get(f"/backoffice/richieste/{req.reference}"), "claim")
    forged = marco.post(
        f"/backoffice/richieste/{req.reference}/azioni/assign",
        data={k.replace("claim-", "assign-"): v for k, v in claim.items()},
    )
    assert forged.status_code == 403
    sara = staff_client(app, federation, "sara")
    page = sara.get(f"/backoffice/richieste/{req.reference}")
    options = find_all(parse(page), ".//select[@name='assign-assignee']/option")
    marco_id = next(o.get("value") for o in options if "Cervi" in text_of(o))
    assert act(sara, req, "assign", assignee=marco_id).status_code == 303
    db.session.refresh(req)
    assert req.assigned_to.family_name == "Cervi"


def test_inbox_filters_search_and_keyset_pages(app, federation):
    base = dt.datetime(2026, 11, 1, 9, 0)
    made = [make_request(submitted=base + dt.timedelta(hours=i)) for i in range(55)]
    late = make_request(submitted=base - dt.timedelta(days=40))
    marco = staff_client(app, federation, "marco")
    first = marco.get("/backoffice/?coda=viadana-anziani")
    rows = find_all(parse(first), ".//tbody/tr")
    assert len(rows) == 50
    assert late.reference in text_of(rows[0])  # the oldest deadline first
    assert "scaduta da" in text_of(rows[0]) or "overdue by" in text_of(rows[0])
    next_link = next(a.get("href") for a in find_all(parse(first), ".//a[@rel='next']"))
    second = parse(marco.get(next_link))
    references = [text_of(r.find("th")) for r in find_all(second, ".//tbody/tr")]
    assert len(references) == 6 and made[-1].reference in references
    found = parse(marco.get(f"/backoffice/?q={made[3].reference}"))
    assert [text_of(r.find("th")) for r in find_all(found, ".//tbody/tr")] == [made[3].reference]
    by_code = parse(marco.get("/backoffice/?q=VRDGPP40H10I225K&coda=viadana-anziani"))
    assert len(find_all(by_code, ".//tbody/tr")) == 50
    overdue = parse(marco.get("/backoffice/?scadute=1"))
    assert [text_of(r.find("th")) for r in find_all(overdue, ".//tbody/tr")] == [late.reference]
    bad = marco.get("/backoffice/?dopo=nonsense")
    assert bad.status_code == 302


def test_routing_cli_explains_and_checks(app, runner):
    import json

    result = runner.invoke(
        args=[
            "routing",
            "explain",
            "--service",
            "dimissioni-protette",
            "--comune",
            "gussola",
            "--json",
        ]
    )
    assert json.loads(result.output) == {
        "queue": "casalmaggiore-anziani",
        "pua": "casalmaggiore",
        "rule": "default: the PUA serving gussola (casalmaggiore), area anziani",
    }
    assert runner.invoke(args=["routing", "check"]).exit_code == 0
    unknown = runner.invoke(args=["routing", "explain", "--service", "x", "--comune", "gussola"])
    assert unknown.exit_code != 0


def test_an_admin_previews_and_saves_a_rule_that_then_decides(app, federation, runner):
    import json

    elena = staff_client(app, federation, "elena")
    page = elena.get("/backoffice/instradamento")
    token = find_all(
        parse(page), ".//form[@action='/backoffice/instradamento']//input[@name='csrf_token']"
    )[0].get("value")
    rule = {
        "csrf_token": token,
        "priority": "10",
        "service": "corsi-italiano-l2",
        "desk": "viadana",
        "queue": "viadana-generale",
        "description": "L2 courses start at the general desk",
    }
    preview = elena.post("/backoffice/instradamento", data=rule)
    assert preview.status_code == 200
    text = main_text(preview)
    assert "viadana-inclusione" in text and "viadana-generale" in text
    assert elena.post("/backoffice/instradamento", data=rule | {"conferma": "1"}).status_code == 303
    result = runner.invoke(
        args=[
            "routing",
            "explain",
            "--service",
            "corsi-italiano-l2",
            "--comune",
            "dosolo",
            "--json",
        ]
    )
    decision = json.loads(result.output)
    assert decision["queue"] == "viadana-generale"
    assert re.search(r"rule #\d+ priority 10", decision["rule"])
    marco = staff_client(app, federation, "marco")
    assert marco.get("/backoffice/instradamento").status_code == 404
