"""The OpenAPI description of the public JSON API, served as JSON at /api/v1/openapi.json.

The source is openapi.yaml beside this module, read once on first use. Importing this module
adds the route to the API blueprint, so it must be imported before the blueprint is registered
(that is, before create_app)."""

import functools
from pathlib import Path

import yaml
from flask import jsonify

from portal.api.views import bp

SCHEMA_FILE = Path(__file__).resolve().parent / "openapi.yaml"


@functools.cache
def openapi_document() -> dict:
    """The parsed openapi.yaml (a fresh copy is not needed: callers must not change it)."""
    with SCHEMA_FILE.open(encoding="utf-8") as source:
        return yaml.safe_load(source)


@bp.get("/api/v1/openapi.json")
def openapi_json():
    """The API description, for clients and for the schema-driven tests."""
    return jsonify(openapi_document())
