"""Public catalog pages: home, services, categories, life events, comuni and PUA desks."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.catalog import services as catalog
from portal.catalog.forms import PageRatingForm
from portal.catalog.jsonld import service_jsonld
from portal.catalog.labels import CHANNEL_LABELS, COST_LABELS, SECTION_LABELS
from portal.catalog.models import SECTION_FIELDS, Category, Comune, Desk, LifeEvent
from portal.i18n import get_locale

bp = Blueprint("catalog", __name__, url_prefix="/<lang:lang>", template_folder="templates")


def load_or_404(model, slug):
    row = catalog.find_by_slug(model, slug)
    if row is None:
        abort(404)
    return row


@bp.get("/")
def home():
    return render_template(
        "catalog/home.html",
        popular=catalog.most_requested(6),
        categories=catalog.categories(),
        life_events=catalog.life_events(),
        comuni=catalog.comuni(),
    )


@bp.get("/servizi/")
def services():
    by_category = [(c, catalog.services_in_category(c)) for c in catalog.categories()]
    return render_template(
        "catalog/services.html",
        by_category=[(c, s) for c, s in by_category if s],
        total=catalog.count_services(),
    )


@bp.get("/servizi/<slug>")
def service(slug):
    found = catalog.find_service(slug)
    if found is None:
        abort(404)
    locale = get_locale()
    comune_slug = request.args.get("comune", "").strip()
    comune = catalog.find_by_slug(Comune, comune_slug) if comune_slug else None
    availability = catalog.availability(found, comune) if comune else None
    contact_desk = availability.desk if availability else None
    return render_template(
        "catalog/service.html",
        service=found,
        text=found.text(locale),
        sections=SECTION_FIELDS,
        section_labels=SECTION_LABELS,
        channel_labels=CHANNEL_LABELS,
        cost_labels=COST_LABELS,
        comune_slug=comune_slug,
        unknown_comune=bool(comune_slug) and comune is None,
        availability=availability,
        today=catalog.hours_today(contact_desk) if contact_desk else None,
        comuni=catalog.comuni(),
        rating_form=PageRatingForm(),
        jsonld=service_jsonld(found, locale, availability),
    )


@bp.post("/servizi/<slug>/valutazione")
def rate_service(slug):
    found = catalog.find_service(slug)
    if found is None:
        abort(404)
    form = PageRatingForm()
    if form.validate_on_submit():
        catalog.record_feedback(found, get_locale(), int(form.rating.data))
        flash(_("Thank you: your rating helps us write clearer pages."), "success")
    else:
        flash(_("Your rating was not saved: choose a value from 1 to 5."), "danger")
    return redirect(url_for("catalog.service", slug=slug, _anchor="feedback"))


@bp.get("/categorie/")
def categories():
    return render_template("catalog/categories.html", categories=catalog.categories())


@bp.get("/categorie/<slug>")
def category(slug):
    found = load_or_404(Category, slug)
    return render_template(
        "catalog/category.html", category=found, services=catalog.services_in_category(found)
    )


@bp.get("/eventi-della-vita/")
def life_events():
    return render_template("catalog/life_events.html", life_events=catalog.life_events())


@bp.get("/eventi-della-vita/<slug>")
def life_event(slug):
    found = load_or_404(LifeEvent, slug)
    return render_template(
        "catalog/life_event.html", event=found, services=catalog.services_for_life_event(found)
    )


@bp.get("/comuni/")
def comuni():
    chosen = request.args.get("comune", "").strip()
    if chosen:
        if catalog.find_by_slug(Comune, chosen):
            return redirect(url_for("catalog.comune", slug=chosen))
        flash(_("We could not find that comune: choose it from the list."), "warning")
    return render_template("catalog/comuni.html", desks=catalog.desks())


@bp.get("/comuni/<slug>")
def comune(slug):
    found = load_or_404(Comune, slug)
    return render_template(
        "catalog/comune.html",
        comune=found,
        desk=found.desk,
        today=catalog.hours_today(found.desk),
        week=catalog.week_hours(found.desk),
        services=catalog.services_offered_by(found.desk),
    )


@bp.get("/pua/")
def desks():
    return render_template("catalog/desks.html", desks=catalog.desks())


@bp.get("/pua/<slug>")
def desk(slug):
    found = load_or_404(Desk, slug)
    return render_template(
        "catalog/desk.html",
        desk=found,
        today=catalog.hours_today(found),
        week=catalog.week_hours(found),
        services=catalog.services_offered_by(found),
    )
