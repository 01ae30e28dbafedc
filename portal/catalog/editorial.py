"""The editors' pages: how far each service is translated, per locale (content editors and
administrators only; for anyone else the pages do not exist)."""

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from portal.catalog import translations

bp = Blueprint("editorial", __name__, template_folder="templates")


@bp.before_request
def editors_only():
    if g.get("user") is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not g.user.has_role("editor", "admin"):
        abort(404)
    return None


@bp.get("/<lang:lang>/redazione/traduzioni")
def translation_status():
    locales = [code for code in current_app.config["SUPPORTED_LOCALES"] if code != "it"]
    return render_template(
        "editorial/translations.html",
        locales=locales,
        coverage=translations.coverage(locales),
        matrix=translations.service_matrix(locales),
    )
