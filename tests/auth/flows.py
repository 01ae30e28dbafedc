"""Logging in through the whole flow against the in-process federation, for any test."""

from tests.auth.fakes import SPID_OP
from tests.pages import find_all, parse


def start_login(client, provider=SPID_OP, lang="it", **fields):
    page = client.get(f"/{lang}/accedi", query_string=fields)
    assert page.status_code == 200
    token = find_all(parse(page), ".//input[@name='csrf_token']")[0].get("value")
    response = client.post(
        f"/{lang}/accedi", data={"csrf_token": token, "provider": provider, **fields}
    )
    return response


def login(client, federation, provider=SPID_OP, lang="it", **fields):
    """Log in through the whole flow; returns the callback's response."""
    response = start_login(client, provider, lang, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    code, state = federation.authorize(response.location)
    return client.get("/auth/callback", query_string={"code": code, "state": state})
