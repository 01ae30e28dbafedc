"""Health endpoints and the machine-readable service descriptions."""

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text

from portal.catalog import services as catalog
from portal.catalog.jsonld import service_jsonld
from portal.extensions import db

bp = Blueprint("api", __name__)


def json_error(status: int, message: str):
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response


@bp.get("/healthz")
def healthz():
    """The process is up and answering."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """The portal can serve pages: its database answers."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any driver error means "not ready"; the reason is reported
        db.session.rollback()
        current_app.logger.warning("readiness: database unreachable: %s", error)
        checks["database"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


@bp.get("/api/v1/services/<slug>")
def service(slug):
    """One service as schema.org GovernmentService JSON-LD."""
    lang = request.args.get("lang", "it")
    if lang not in current_app.config["SUPPORTED_LOCALES"]:
        supported = ", ".join(current_app.config["SUPPORTED_LOCALES"])
        return json_error(400, f"Unsupported lang {lang!r}; use one of: {supported}")
    found = catalog.find_service(slug)
    if found is None:
        return json_error(404, f"No service with slug {slug!r}")
    response = jsonify(service_jsonld(found, lang))
    response.mimetype = "application/ld+json"
    return response
