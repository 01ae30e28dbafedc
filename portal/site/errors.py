"""Error pages in the visitor's language; an unsupported language falls back to Italian."""

import contextlib

from flask import flash, g, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.api.views import json_error
from portal.extensions import db
from portal.i18n import UnsupportedLocale, path_in_language
from portal.search.index import SearchUnavailable

# Machine endpoints: their errors are JSON, whatever went wrong.
JSON_PATHS = ("/api/", "/healthz", "/readyz")


def error_messages():
    """Title and explanation per status code, translated at request time."""
    return {
        400: (_("The request could not be understood"), _("Check what you sent and try again.")),
        403: (_("Access not allowed"), _("You do not have permission to see this page.")),
        404: (
            _("Page not found"),
            _(
                "The page you asked for does not exist or has moved. Start again from the home "
                "page or look for a service."
            ),
        ),
        405: (_("Action not allowed"), _("This page cannot be used this way.")),
        413: (_("What you sent is too large"), _("Send a smaller file or less text.")),
        429: (
            _("Too many requests"),
            _(
                "Too many requests from your connection in a short time. Wait a minute and try "
                "again."
            ),
        ),
        503: (
            _("The service is temporarily unavailable"),
            _(
                "We cannot reach our data right now. Nothing you sent has been lost: try again "
                "in a few minutes."
            ),
        ),
        500: (
            _("Something went wrong on our side"),
            _(
                "The error has been recorded. Try again in a few minutes; if you were sending a "
                "request, check in your personal area whether it arrived before sending it again."
            ),
        ),
    }


class Refused(HTTPException):
    """A request refused with a message for the person, in their language (``refuse``)."""

    def __init__(self, code: int, message: str):
        super().__init__(description=message)
        self.code = code
        self.user_message = message


def refuse(code: int, message: str):
    raise Refused(code, message)


def render_error(code: int, detail: str | None = None):
    title, message = error_messages().get(code, error_messages()[500])
    return render_template(
        "site/error.html", code=code, title=title, message=detail or message
    ), code


def forget_database_state() -> None:
    """Roll back, and let the error page show no one as logged in: reading the person again
    would need the database that just failed (found by the load run with a restart)."""
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    g.user = None


def init_app(app):
    @app.errorhandler(UnsupportedLocale)
    def unsupported_locale(error):
        if not error.is_known_language:
            return render_error(404)
        flash(
            _("This page is not available in the language you asked for: it is shown in Italian."),
            "info",
        )
        query = request.query_string.decode()
        target = path_in_language(request.path, "it") + (f"?{query}" if query else "")
        return redirect(target)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _(
                "The form has expired or was not sent from this site. Go back, reload the "
                "page and try again: nothing has been saved."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        if request.path.startswith(JSON_PATHS):
            body = json_error(error.code or 500, error.description or error.name)
        else:
            body = render_error(error.code or 500, getattr(error, "user_message", None))
        response = app.make_response(body)
        # Keep what the error says about itself, such as the Allow header of a 405.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DataError)
    def unstorable_value(error):
        """A value the database cannot even compare (a NUL byte, on PostgreSQL): the request is
        refused, not answered with a 500."""
        forget_database_state()
        message = _("The request contains characters that cannot be accepted.")
        if request.path.startswith(JSON_PATHS):
            return json_error(400, message)
        return render_error(400, message)

    @app.errorhandler(SearchUnavailable)
    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        """The database is down or restarting: say so plainly and let the client retry.
        The pool pings connections before use, so service resumes by itself when it is back."""
        app.logger.error("database unavailable: %s", error)
        forget_database_state()
        if request.path.startswith(JSON_PATHS):
            response = json_error(503, "The database is temporarily unavailable")
        else:
            response = render_error(503)
        response = app.make_response(response)
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(InternalServerError)
    def server_error(error):
        if request.path.startswith("/api/"):
            return json_error(500, "Internal error; it has been logged")
        return render_error(500)
