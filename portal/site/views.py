"""The root redirect and the site's legal pages."""

from flask import Blueprint, redirect, render_template, url_for

from portal.i18n import negotiated_locale

bp = Blueprint("site", __name__, template_folder="templates")


@bp.get("/")
def root():
    """Send the visitor to the home page in the best language their browser asks for."""
    response = redirect(url_for("catalog.home", lang=negotiated_locale()))
    response.vary.add("Accept-Language")
    return response


@bp.get("/<lang:lang>/privacy")
def privacy():
    return render_template("site/privacy.html")


@bp.get("/<lang:lang>/accessibilita")
def accessibility():
    return render_template("site/accessibility.html")
