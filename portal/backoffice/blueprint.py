"""The back office blueprint and its guard: staff only, on every route, before anything else."""

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for

from portal.backoffice import permissions

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice", template_folder="templates")


@bp.before_request
def staff_only():
    """Anonymous visitors are sent to log in; logged-in people without a staff role get 404
    (the back office does not exist for them)."""
    if g.get("user") is None:
        return redirect(
            url_for(
                "auth.login", lang=session.get("lang", "it"), next=request.full_path.rstrip("?")
            )
        )
    g.scope = permissions.scope(g.user)
    if not g.scope.is_staff:
        abort(404)
    # The back office has no language in its URLs: staff read it in their session's language.
    lang = session.get("lang")
    g.lang = lang if lang in current_app.config["SUPPORTED_LOCALES"] else "it"
    return None
