"""Validation of the search page's and API's parameters (GET: no CSRF, nothing is changed)."""

from dataclasses import dataclass

from portal.catalog import services as catalog
from portal.catalog.models import Area, Category, Comune
from portal.search.query import clean


class BadSearchParameter(ValueError):
    """A filter names something that does not exist; `field` says which."""

    def __init__(self, field: str, value: str):
        super().__init__(f"{field}={value!r}")
        self.field = field
        self.value = value


@dataclass(frozen=True)
class SearchParams:
    text: str
    comune: Comune | None
    category: Category | None
    area: Area | None
    page: int

    def filters(self) -> dict:
        """The filters as the search service takes them: slugs or None."""
        return {
            "comune": self.comune.slug if self.comune else None,
            "category": self.category.slug if self.category else None,
            "area": self.area.slug if self.area else None,
        }


def _lookup(model, field, value):
    value = (value or "").strip()
    if not value:
        return None
    found = catalog.find_by_slug(model, value)
    if found is None:
        # The value is shown back in the notice: without control characters, and short.
        raise BadSearchParameter(field, clean(value)[:80])
    return found


def parse_params(args, names=("comune", "categoria", "area")) -> SearchParams:
    """Read q, comune, category, area and page; unknown slugs raise BadSearchParameter."""
    comune_key, category_key, area_key = names
    raw_page = (args.get("page") or "1").strip()
    # isascii: "²".isdigit() is True, but int("²") fails.
    if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= 1000:
        raise BadSearchParameter("page", clean(raw_page)[:20])
    return SearchParams(
        text=clean(args.get("q", "")),
        comune=_lookup(Comune, comune_key, args.get(comune_key)),
        category=_lookup(Category, category_key, args.get(category_key)),
        area=_lookup(Area, area_key, args.get(area_key)),
        page=int(raw_page),
    )
