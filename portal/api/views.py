"""Health endpoints and the machine-readable service descriptions."""

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import text

from portal.catalog import services as catalog
from portal.catalog.jsonld import service_jsonld
from portal.extensions import db
from portal.search import services as search_service
from portal.search.forms import BadSearchParameter, parse_params

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
    """The portal can serve pages: its database answers and its search index is readable."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any driver error means "not ready"; the reason is reported
        db.session.rollback()
        current_app.logger.warning("readiness: database unreachable: %s", error)
        checks["database"] = "unreachable"
    try:
        documents = current_app.extensions["search_index"].doc_count()
        checks["search_index"] = "ok"
        checks["search_documents"] = documents
    except Exception as error:  # a missing or corrupt index: not ready until rebuilt
        current_app.logger.warning("readiness: search index unreadable: %s", error)
        checks["search_index"] = "unreadable"
    ready = checks["database"] == "ok" and checks["search_index"] == "ok"
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


def requested_lang():
    """The `lang` parameter, or None when it names a language the portal does not offer."""
    lang = request.args.get("lang") or "it"
    return lang if lang in current_app.config["SUPPORTED_LOCALES"] else None


def unsupported_lang():
    supported = ", ".join(current_app.config["SUPPORTED_LOCALES"])
    return json_error(400, f"Unsupported lang; use one of: {supported}")


@bp.get("/api/v1/services")
def services():
    """Search the catalog: the same engine as the search page, as JSON."""
    lang = requested_lang()
    if lang is None:
        return unsupported_lang()
    try:
        params = parse_params(request.args, names=("comune", "category", "area"))
    except BadSearchParameter as error:
        return json_error(400, f"Unknown {error.field}: {error.value[:80]!r}")
    found = search_service.search(params.text, lang, page=params.page, **params.filters())
    rows = catalog.services_by_slug([hit.slug for hit in found.hits])
    results = []
    for hit in found.hits:
        text = rows[hit.slug].text(lang)
        url_args = {"comune": params.comune.slug} if params.comune else {}
        results.append(
            {
                "slug": hit.slug,
                "title": text.title,
                "summary": text.summary,
                "url": url_for(
                    "catalog.service", slug=hit.slug, lang=lang, _external=True, **url_args
                ),
                "score": hit.score,
            }
        )
    return jsonify(
        {
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
            "results": results,
            "facets": found.facets,
            "suggestion": found.corrected or found.suggestion,
        }
    )


@bp.get("/api/v1/suggest")
def suggest():
    """Autocomplete: titles of services matching what has been typed so far."""
    lang = requested_lang()
    if lang is None:
        return unsupported_lang()
    slugs = search_service.autocomplete(request.args.get("q", ""), lang)
    rows = catalog.services_by_slug(slugs)
    suggestions = [
        {
            "slug": slug,
            "title": rows[slug].text(lang).title,
            "url": url_for("catalog.service", slug=slug, lang=lang),
        }
        for slug in slugs
        if slug in rows
    ]
    return jsonify({"suggestions": suggestions})


@bp.get("/api/v1/services/<slug>")
def service(slug):
    """One service as schema.org GovernmentService JSON-LD."""
    lang = requested_lang()
    if lang is None:
        return unsupported_lang()
    found = catalog.find_service(slug)
    if found is None:
        return json_error(404, f"No service with slug {slug!r}")
    response = jsonify(service_jsonld(found, lang))
    response.mimetype = "application/ld+json"
    return response
