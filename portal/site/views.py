"""The root redirect and the site's legal pages."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.i18n import negotiated_locale, supported_locales

bp = Blueprint("site", __name__, template_folder="templates")


@bp.get("/")
def root():
    """Send the visitor to the home page in the best language their browser asks for; when it
    asks only for languages the portal does not have, Italian, saying so."""
    lang = negotiated_locale()
    asked = [code for code, _quality in request.accept_languages]
    if asked and request.accept_languages.best_match(supported_locales()) is None:
        with force_locale("it"):
            flash(
                _(
                    "The portal is not available in your browser's language: it is shown in "
                    "Italian. You can choose another language at the top of every page."
                ),
                "info",
            )
    response = redirect(url_for("catalog.home", lang=lang))
    response.vary.add("Accept-Language")
    return response


@bp.get("/<lang:lang>/privacy")
def privacy():
    return render_template("site/privacy.html")


@bp.get("/<lang:lang>/accessibilita")
def accessibility():
    return render_template("site/accessibility.html")
