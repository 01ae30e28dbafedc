"""Locale in the URL (/{lang}/...), locale negotiation and language alternates for every page."""

import functools
import re

from babel import Locale, UnknownLocaleError
from flask import current_app, g, request, url_for
from markupsafe import Markup
from werkzeug.routing import BaseConverter

# Scripts written right to left; the layout mirrors for them.
RTL_LANGUAGES = frozenset({"ar", "ur", "fa", "he"})


class LangConverter(BaseConverter):
    """Matches anything shaped like a language tag, so unsupported ones can be answered kindly."""

    regex = r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?"


class UnsupportedLocale(Exception):
    """The URL asks for a language the portal does not offer."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def is_known_language(self) -> bool:
        try:
            Locale.parse(self.code.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            return False
        return True


def supported_locales() -> tuple[str, ...]:
    return current_app.config["SUPPORTED_LOCALES"]


def negotiated_locale() -> str:
    """The best supported locale for this browser's Accept-Language, Italian when none fits."""
    return request.accept_languages.best_match(supported_locales()) or "it"


def get_locale() -> str:
    """Babel's locale selector: the URL's language, else the browser's."""
    lang = g.get("lang")
    if lang:
        return lang
    return negotiated_locale() if request else "it"


def is_rtl(lang: str) -> bool:
    return lang in RTL_LANGUAGES


@functools.lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """The language's own name for itself ("italiano", "English"), as a switcher shows it."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def part_lang(code: str | None) -> Markup:
    """``lang`` and ``dir`` for a part of the page written in another language than the page
    (WCAG 3.1.2: read with the right voice; an Italian question keeps its punctuation in an
    Arabic page); nothing when it is the page's own."""
    if not code or code == get_locale():
        return Markup("")
    return Markup(' lang="{}" dir="{}"').format(code, "rtl" if is_rtl(code) else "ltr")


def part_lang_of(text) -> Markup:
    """``part_lang`` of a text that knows its language (a form's ``Phrase``); nothing else."""
    return part_lang(getattr(text, "lang", None))


def alternates() -> tuple[dict, ...]:
    """This page in every supported language: for the switcher and hreflang links. Every page
    shows them; they depend only on the address, so each address's are built once."""
    return _alternates_of(
        request.host_url, request.endpoint, request.full_path, supported_locales()
    )


@functools.lru_cache(maxsize=2048)
def _alternates_of(_host_url, endpoint, _full_path, locales) -> tuple[dict, ...]:
    """Built from the current request, whose address the arguments describe."""
    args = dict(request.view_args or {})
    takes_lang = endpoint and current_app.url_map.is_endpoint_expecting(endpoint, "lang")
    result = []
    for code in locales:
        if takes_lang:
            href = url_for(endpoint, **args, **request.args.to_dict(), lang=code, _external=True)
        else:
            href = url_for("catalog.home", lang=code, _external=True)
        result.append({"code": code, "name": language_name(code), "href": href})
    return tuple(result)


def canonical_url() -> str | None:
    """This page's address without query parameters, or None where there is no page."""
    if not request.endpoint or request.endpoint in ("site.root", "static"):
        return None
    args = dict(request.view_args or {})
    if current_app.url_map.is_endpoint_expecting(request.endpoint, "lang"):
        args["lang"] = get_locale()
    return url_for(request.endpoint, **args, _external=True)


def init_app(app):
    app.url_map.converters["lang"] = LangConverter

    @app.url_value_preprocessor
    def pull_lang(endpoint, values):
        if not values or "lang" not in values:
            return
        lang = values.pop("lang")
        if lang not in app.config["SUPPORTED_LOCALES"]:
            raise UnsupportedLocale(lang)
        g.lang = lang

    @app.url_defaults
    def add_lang(endpoint, values):
        if "lang" in values or not app.url_map.is_endpoint_expecting(endpoint, "lang"):
            return
        values["lang"] = g.get("lang") or get_locale()

    app.jinja_env.globals["part_lang"] = part_lang
    app.jinja_env.filters["part_lang"] = part_lang_of

    @app.context_processor
    def locale_context():
        lang = get_locale()
        return {
            "lang": lang,
            "text_direction": "rtl" if is_rtl(lang) else "ltr",
            "language_alternates": alternates,
            "language_name": language_name,
            "canonical_url": canonical_url,
        }


LANG_PATH_RE = re.compile(r"^/([^/]+)(/.*)?$")


def path_in_language(path: str, lang: str) -> str:
    """The same path with its first segment (the language) replaced."""
    match = LANG_PATH_RE.match(path)
    rest = (match.group(2) if match else None) or "/"
    return f"/{lang}{rest}"
