from sqlalchemy.exc import OperationalError

from portal.extensions import db


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unreachable"


def test_service_api_returns_json_ld(client):
    response = client.get("/api/v1/services/assistenza-domiciliare-sad?lang=en")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    data = response.get_json(force=True)
    assert (
        data["@type"] == "GovernmentService" and data["identifier"] == "assistenza-domiciliare-sad"
    )
    assert data["url"] == "http://portal.test/en/servizi/assistenza-domiciliare-sad"


def test_service_api_unknown_slug_and_lang_are_json_errors(client):
    response = client.get("/api/v1/services/nope")
    assert response.status_code == 404 and "nope" in response.get_json()["error"]["message"]
    response = client.get("/api/v1/services/misura-b2?lang=klingon")
    assert response.status_code == 400 and "lang" in response.get_json()["error"]["message"]


def test_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["status"] == 404
