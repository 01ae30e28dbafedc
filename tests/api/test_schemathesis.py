"""Schema-driven fuzzing of the public JSON API: Schemathesis reads portal/api/openapi.yaml (the
document served at /api/v1/openapi.json) and throws generated requests at every operation, valid
and invalid. Every response must be documented: no 5xx, a documented status, a body and content
type that match the schema; invalid input must be refused with a 4xx.

Seeded and derandomized, so a CI run repeats exactly; few examples, so the module stays fast.

The schema is built at collection time from the same document the route serves (one pytest item
per operation); `test_schemathesis_loads_the_served_schema` checks that the two agree.
(`schemathesis.pytest.from_fixture` would load it through the app at run time, but its lazy
tests rename pytest nodes through an attribute, `Node._nodeid`, that pytest 9.2 removed.)"""

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from portal.api import openapi  # adds /api/v1/openapi.json to the API blueprint

SEED = 20240611
MAX_EXAMPLES = 100

schema = schemathesis.openapi.from_dict(
    openapi.openapi_document(), config=schemathesis.Config.from_dict({"seed": SEED})
)

# A filter is a slug of the catalog, which the schema cannot list: any string is schema-valid,
# and one the catalog lacks is a documented 400. `positive_data_acceptance` stays on for all else.
UNKNOWN_FILTER = re.compile(r"Unknown (comune|category|area): ")


def valid_data_accepted(ctx, response, case):
    """`positive_data_acceptance`, except for the 400 that names an unknown filter slug."""
    if response.status_code == 400 and case.operation.path == "/api/v1/services":
        message = response.json()["error"]["message"]
        if UNKNOWN_FILTER.match(message):
            return None
    return positive_data_acceptance(ctx, response, case)


EXCLUDED_CHECKS = [positive_data_acceptance]
ADDITIONAL_CHECKS = [valid_data_accepted]


@pytest.fixture
def api(app, monkeypatch):
    """The portal, its rate limits off: the fuzzer sends hundreds of requests from one address."""
    for limiter in app.extensions.get("limiter", ()):
        monkeypatch.setattr(limiter, "enabled", False)
    return app


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # `api` is function-scoped but holds nothing an example could change: every call is a GET.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_api_conforms_to_its_schema(case, api):
    case.call_and_validate(
        app=api, excluded_checks=EXCLUDED_CHECKS, additional_checks=ADDITIONAL_CHECKS
    )


def test_served_schema_is_the_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == openapi.openapi_document()


def labels(loaded) -> set[str]:
    return {result.ok().label for result in loaded.get_all_operations()}


def test_schemathesis_loads_the_served_schema(api):
    served = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api)
    # Schemathesis leaves out the operation that served the document it loaded.
    assert labels(served) | {"GET /api/v1/openapi.json"} == labels(schema)
    assert labels(schema) == {
        "GET /api/v1/services",
        "GET /api/v1/services/{slug}",
        "GET /api/v1/suggest",
        "GET /api/v1/openapi.json",
        "GET /healthz",
        "GET /readyz",
    }
