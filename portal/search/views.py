"""The search page: works without JavaScript; autocomplete only improves it."""

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from portal.catalog import services as catalog
from portal.i18n import get_locale
from portal.search import services as search_service
from portal.search.forms import BadSearchParameter, parse_params

bp = Blueprint("search", __name__, url_prefix="/<lang:lang>", template_folder="templates")


@bp.context_processor
def url_helpers():
    def search_url(params, **changes):
        """This search with some parameters changed; empty ones are left out of the URL."""
        args = {
            "q": params.text,
            "comune": params.comune.slug if params.comune else "",
            "categoria": params.category.slug if params.category else "",
            "area": params.area.slug if params.area else "",
        }
        args.update(changes)
        return url_for("search.results", **{k: v for k, v in args.items() if v})

    return {"search_url": search_url}


@bp.get("/cerca")
def results():
    locale = get_locale()
    notice = None
    try:
        params = parse_params(request.args)
    except BadSearchParameter as error:
        # A bad filter in a shared link: search without it and say why.
        notice = _(
            "The filter %(field)s=%(value)s does not exist and was ignored.",
            field=error.field,
            value=error.value,
        )
        params = parse_params({"q": request.args.get("q", "")})
    found = search_service.search(params.text, locale, page=params.page, **params.filters())
    return render_template(
        "search/results.html",
        params=params,
        found=found,
        services=catalog.services_by_slug([hit.slug for hit in found.hits]),
        categories=catalog.categories(),
        areas=catalog.areas(),
        comuni=catalog.comuni(),
        notice=notice,
    )
