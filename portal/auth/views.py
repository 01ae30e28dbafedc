"""Login with SPID or CIE, logout, the profile page, and our federation endpoints."""

from functools import wraps

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from portal.auth import entity, federation, services, sessions
from portal.auth.forms import ContactEmailForm, LoginForm
from portal.auth.oidc import LoginError, acr_rank
from portal.catalog.services import find_service
from portal.extensions import db

bp = Blueprint("auth", __name__, template_folder="templates")

# What the person is told for each kind of failure; the precise reason stays in the audit.
PROVIDER_PROBLEMS = ("provider_unreachable", "token_refused", "userinfo_refused")


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def failure_message(reason: str) -> str:
    if reason.startswith("untrusted_provider") or reason == "federation_not_configured":
        return _(
            "This identity provider is not part of the SPID/CIE federation the portal trusts. "
            "Choose another one from the login page."
        )
    if reason == "provider_error":
        return _(
            "The identity provider did not complete the login (you may have cancelled it). "
            "You can try again."
        )
    if reason in PROVIDER_PROBLEMS:
        return _(
            "The identity provider cannot be reached or refused the request. Try again in a "
            "few minutes."
        )
    if reason in {"expired_state", "unknown_state", "missing_state", "replayed_state"}:
        return _(
            "This login link has expired or was already used. Start the login again from the "
            "portal."
        )
    if reason == "state_from_another_browser":
        return _(
            "This login was started in another browser or window. Start it again here, from "
            "the portal."
        )
    if reason == "low_acr":
        return _(
            "This service needs a higher SPID security level than the one you used. Log in "
            "again with the level the login page asks for."
        )
    if reason == "no_valid_fiscal_number":
        return _("The identity provider did not send a valid fiscal code, so we cannot log you in.")
    return _(
        "The answer of the identity provider could not be verified, so you have not been logged "
        "in. Nothing has been saved. Try again; if it happens again, contact your PUA desk."
    )


@bp.before_app_request
def load_user():
    if request.endpoint == "static":
        return
    sessions.load_current_user()


@bp.app_context_processor
def user_context():
    return {"current_user": g.get("user")}


# -- federation endpoints -------------------------------------------------------------------


@bp.get("/.well-known/openid-federation")
def entity_configuration():
    return Response(
        entity.entity_configuration_jwt(),
        mimetype="application/entity-statement+jwt",
        headers={"Cache-Control": "no-store"},
    )


@bp.get("/resolve")
def resolve():
    subject = request.args.get("sub", "")
    anchor = request.args.get("anchor") or request.args.get("trust_anchor", "")
    try:
        token = entity.resolve_response(subject, anchor)
    except federation.FederationError as error:
        return {"error": "invalid_request", "error_description": error.reason}, 404
    return Response(token, mimetype="application/resolve-response+jwt")


# -- logging in and out ---------------------------------------------------------------------


def login_target(service_slug: str | None, next_url: str) -> tuple[str, str, object]:
    """Where to return after login, the level to ask for, and the service (if any)."""
    service = find_service(service_slug) if service_slug else None
    if service is not None:
        # Login from a service card lands in that service's request form.
        if service.online:
            next_url = url_for("forms.start", slug=service.slug)
        else:
            next_url = url_for("catalog.service", slug=service.slug) + "#access"
        return next_url, service.login_level, service
    return services.safe_next(next_url), current_app.config["AUTH_DEFAULT_ACR"], None


@bp.route("/<lang:lang>/accedi", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url, acr, service = login_target(
        request.values.get("servizio"), request.values.get("next", "")
    )
    session_record = g.get("login_session")
    if (
        session_record is not None
        and request.method == "GET"
        and acr_rank(session_record.acr) >= acr_rank(acr)
    ):
        return redirect(next_url or url_for("auth.profile"))
    providers = services.providers()
    form.provider.choices = [(p.entity_id, p.organization_name) for p in providers]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                target = services.begin_login(
                    form.provider.data, acr=acr, next_url=next_url, lang=g.lang
                )
            except LoginError as error:
                flash(failure_message(error.reason), "danger")
                status = 502
            else:
                return redirect(target, code=303)
        else:
            status = 400
            services.audit(
                "login_refused",
                "refused",
                reason="unknown_provider" if form.provider.errors else "invalid_form",
                provider=str(form.provider.data or "")[:255] or None,
            )
            db.session.commit()
    return render_template(
        "auth/login.html",
        form=form,
        spid=[p for p in providers if p.profile == "spid"],
        cie=[p for p in providers if p.profile == "cie"],
        next_url=next_url,
        service=service,
        acr=acr,
    ), status


@bp.get("/auth/callback")
def callback():
    try:
        user, attempt = services.complete_login(request.args)
    except LoginError as error:
        g.lang = session.get("lang") or g.get("lang")
        return render_template(
            "auth/login_failed.html", message=failure_message(error.reason)
        ), 403 if error.reason not in PROVIDER_PROBLEMS else 502
    g.lang = attempt.lang
    session["lang"] = attempt.lang
    flash(_("Welcome, %(name)s: you are logged in.", name=user.given_name), "success")
    return redirect(attempt.next_url or url_for("auth.profile", lang=attempt.lang), code=303)


@bp.post("/<lang:lang>/esci")
def logout():
    if g.get("user") is None:
        return redirect(url_for("catalog.home"))
    sessions.logout()
    flash(_("You have logged out. To finish, close the browser if the computer is shared."), "info")
    return redirect(url_for("catalog.home"), code=303)


@bp.route("/<lang:lang>/profilo", methods=["GET", "POST"])
@login_required
def profile():
    user = g.user
    form = ContactEmailForm(obj=user)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            user.contact_email = form.contact_email.data or None
            services.audit("contact_email_changed", "ok", user_id=user.id)
            db.session.commit()
            flash(_("Your contact email has been saved."), "success")
            return redirect(url_for("auth.profile"), code=303)
        status = 400
    return render_template(
        "auth/profile.html",
        user=user,
        form=form,
        session_record=g.login_session,
        grants=user.grants(),
        role_labels={
            "operator": _("PUA operator"),
            "supervisor": _("PUA supervisor"),
            "editor": _("Content editor"),
            "admin": _("Administrator"),
        },
    ), status


@bp.before_app_request
def remember_language():
    """Keep the reader's language so that the callback, which has none in its URL, knows it."""
    lang = g.get("lang")
    if lang and session.get("lang") != lang and request.endpoint != "static":
        session["lang"] = lang
