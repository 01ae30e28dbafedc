"""Jinja helpers shared by every page: safe Markdown for editors' text, locale-aware formats."""

import nh3
from babel.dates import get_day_names
from flask_babel import format_date, format_decimal, format_percent, format_time, get_locale
from jinja2 import StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

# CommonMark with raw HTML off: editors' text can never inject markup; images are not content.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


# What editors' Markdown may produce; anything else is removed by the sanitizer.
ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "blockquote",
    "code",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def render_markdown(text: str | None) -> Markup:
    """Editors' Markdown as safe HTML: raw HTML in the source is shown as text, and the result
    goes through a maintained sanitizer (nh3) as a second line of defence."""
    if not text:
        return Markup("")
    html = nh3.clean(
        _markdown.render(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return Markup(html)


def weekday_name(weekday: int) -> str:
    """The reader's name for a weekday (0 = Monday)."""
    return get_day_names("wide", locale=get_locale())[weekday]


def init_app(app):
    app.jinja_env.globals["weekday_name"] = weekday_name
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["date"] = lambda value, fmt="long": format_date(value, fmt)
    app.jinja_env.filters["format_number"] = format_decimal
    app.jinja_env.filters["percent"] = lambda value: format_percent(value / 100, "#,##0.0%")
    app.jinja_env.filters["time"] = lambda value, fmt="short": format_time(value, fmt)
    if app.config["ENV_NAME"] != "production":
        # A template naming something that is not there is a bug: fail loudly outside production.
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
