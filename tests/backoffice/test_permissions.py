"""Permissions: every back-office route is checked, and every role meets every kind of object.

The walk fails when a route is added without a check; the matrix lists what each role may do
with requests of its own queue, of another queue of its PUA, and of another PUA."""

import io

import pytest

from portal.extensions import db
from tests.backoffice.factory import make_request, staff_client
from tests.pages import find_all, parse

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fill_url(rule: str, reference: str, public_id: str) -> str:
    return (
        rule.replace("<reference>", reference)
        .replace("<public_id>", public_id)
        .replace("<action>", "claim")
        .replace("<int:rule_id>", "1")
    )


@pytest.fixture
def objects(app):
    """A request of viadana-anziani with a document, and the ids the routes need."""
    req = make_request()
    from werkzeug.datastructures import FileStorage

    from portal.forms import uploads

    with app.test_request_context("/it/"):
        attachment = uploads.store(
            FileStorage(io.BytesIO(PDF), filename="verbale.pdf"),
            allowed={"application/pdf": "pdf"},
            max_bytes=1024 * 1024,
            owner_id=req.applicant_id,
        )
    attachment.request_id = req.id
    db.session.add(attachment)
    db.session.commit()
    return req, attachment


def backoffice_routes(app):
    return sorted(
        (rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("backoffice.")
    )


def test_every_backoffice_route_refuses_people_without_a_staff_role(app, federation, objects):
    req, attachment = objects
    routes = backoffice_routes(app)
    assert len(routes) >= 9
    anonymous = app.test_client()
    citizen = staff_client(app, federation, "mario")
    editor = staff_client(app, federation, "giovanni")
    for rule, methods in routes:
        url = fill_url(rule, req.reference, attachment.public_id)
        for method in methods:
            response = anonymous.open(url, method=method)
            assert response.status_code in (302, 400), (rule, method, "anonymous")
            if response.status_code == 302:
                assert "/accedi" in response.location
            for who, client in (("citizen", citizen), ("editor", editor)):
                response = client.open(url, method=method)
                assert response.status_code in (400, 404), (rule, method, who)
                response.close()


def test_every_request_route_hides_requests_outside_the_persons_queues(app, federation, objects):
    req, attachment = objects
    lucia = staff_client(app, federation, "lucia")  # operator of another PUA
    chiara = staff_client(app, federation, "chiara")  # same PUA, other queues
    for rule, methods in backoffice_routes(app):
        if "<reference>" not in rule and "<public_id>" not in rule:
            continue
        url = fill_url(rule, req.reference, attachment.public_id)
        for method in methods:
            for who, client in (("lucia", lucia), ("chiara", chiara)):
                response = client.open(url, method=method)
                assert response.status_code in (400, 404), (rule, method, who)
                response.close()


# who -> expected status for: view, document, claim, assign, note, dashboard, rules
MATRIX = {
    "mario": (404, 404, 404, 404, 404, 404, 404),  # citizen
    "giovanni": (404, 404, 404, 404, 404, 404, 404),  # editor
    "lucia": (404, 404, 404, 404, 404, 404, 404),  # operator, other PUA
    "chiara": (404, 404, 404, 404, 404, 404, 404),  # operator, other queues of the PUA
    "marco": (200, 200, 303, 403, 303, 404, 404),  # operator of the request's queue
    "sara": (200, 200, 303, 400, 303, 200, 404),  # supervisor of the PUA (assign needs a colleague)
    "elena": (200, 200, 303, 400, 303, 200, 200),  # administrator
}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_permission_matrix(app, federation, objects, who):
    req, attachment = objects
    client = staff_client(app, federation, who)
    token = csrf_from_any_page(client)
    base = f"/backoffice/richieste/{req.reference}"
    version = str(req.version)
    results = []
    view = client.get(base)
    results.append(view.status_code)
    document = client.get(f"/backoffice/allegati/{attachment.public_id}")
    results.append(document.status_code)
    document.close()
    results.append(
        client.post(
            f"{base}/azioni/claim", data={"claim-csrf_token": token, "claim-version": version}
        ).status_code
    )
    db.session.refresh(req)
    results.append(
        client.post(
            f"{base}/azioni/assign",
            data={
                "assign-csrf_token": token,
                "assign-version": str(req.version),
                "assign-assignee": "999999",
            },
        ).status_code
    )
    note = client.post(f"{base}/note", data={"csrf_token": token, "body": "nota"})
    results.append(note.status_code)
    results.append(client.get("/backoffice/cruscotto").status_code)
    results.append(client.get("/backoffice/instradamento").status_code)
    assert tuple(results) == MATRIX[who]


def csrf_from_any_page(client) -> str:
    """The session's CSRF token, read from the profile page every logged-in person has."""
    tree = parse(client.get("/it/profilo"))
    return find_all(tree, ".//main//input[@name='csrf_token']")[0].get("value")


def test_the_matrix_covers_every_role():
    roles = {
        "mario": "citizen",
        "giovanni": "editor",
        "lucia": "operator",
        "chiara": "operator",
        "marco": "operator",
        "sara": "supervisor",
        "elena": "admin",
    }
    assert set(roles) == set(MATRIX)
    assert set(roles.values()) == {"citizen", "editor", "operator", "supervisor", "admin"}
