"""Hardening every response: a strict Content-Security-Policy with a nonce per response,
security headers, private pages kept out of caches, and rate limits on what outsiders can
hammer (login, search, API, submissions).

Rate limits use Flask-Limiter: Redis (``RATELIMIT_STORAGE_URI``) in production, which refuses
to start without it, memory in development and tests."""

import secrets

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

# Limits by endpoint: what a person does by hand fits easily; a script does not.
LIMITS = {
    "auth.login": "20 per minute",
    "auth.callback": "30 per minute",
    "search.results": "60 per minute",
    "api.services": "120 per minute",
    "api.suggest": "300 per minute",
    "forms.start": "20 per minute",
    "forms.step": "60 per minute",
    "forms.summary": "20 per minute",
    "requests.reply": "20 per minute",
}


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        )
    )


def secure_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    )
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure or current_app.config["ENV_NAME"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages shown to a logged-in person carry their data: never in a shared cache.
    if g.get("user") is not None and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app):
    """Call after the blueprints are registered: the limits wrap their views."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # One limiter per application: limits declared on a shared one would pile up.
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    # The limits refer to it weakly: the application holds it.
    app.extensions["portal_limiter"] = limiter
    for endpoint, limit in LIMITS.items():
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(limit)(view)
    app.after_request(secure_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.errorhandler(RateLimitExceeded)
    def too_many(error):
        from portal.api.views import json_error
        from portal.site.errors import render_error

        message = _(
            "Too many requests from your connection in a short time. Wait a minute and try again."
        )
        if request.path.startswith("/api/"):
            response = json_error(429, message)
        else:
            response = render_error(429, message)
        response = current_app.make_response(response)
        response.headers["Retry-After"] = "60"
        return response
