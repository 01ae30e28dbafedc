"""How far each locale is translated: service sections per locale, with their state against the
Italian text they follow, and the UI message catalogs. The editors' status view and the
`flask --app portal translations coverage` command both read from here."""

import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po
from flask import current_app
from sqlalchemy import select

from portal.catalog.models import Service
from portal.catalog.models.service import SECTION_FIELDS
from portal.catalog.models.translated import FALLBACK_LOCALE
from portal.extensions import db

# The sections counted: what a reader sees (keywords help search, status_reason is occasional).
COUNTED_FIELDS = ("title", "summary", "audience_short", *SECTION_FIELDS)
ESSENTIAL_FIELDS = ("title", "summary", "audience", "how_to")

MISSING, PARTIAL, OUTDATED, COMPLETE = "missing", "partial", "outdated", "complete"


@dataclass(frozen=True)
class Cell:
    """One service in one locale."""

    state: str  # missing | partial | outdated | complete
    filled: int  # sections written in this locale
    total: int

    @property
    def essential(self) -> bool:
        return self.state != MISSING


def cell(service: Service, locale: str) -> Cell:
    rows = {row.locale: row for row in service.translations}
    total = len(COUNTED_FIELDS)
    row = rows.get(locale)
    if row is None:
        return Cell(MISSING, 0, total)
    filled = sum(1 for name in COUNTED_FIELDS if getattr(row, name))
    if not all(getattr(row, name) for name in ESSENTIAL_FIELDS):
        return Cell(MISSING, filled, total)
    italian = rows.get(FALLBACK_LOCALE)
    if locale != FALLBACK_LOCALE and italian and row.source_digest != italian.source_digest:
        return Cell(OUTDATED, filled, total)
    return Cell(COMPLETE if filled == total else PARTIAL, filled, total)


def service_matrix(locales) -> list[tuple[Service, dict[str, Cell]]]:
    """Every published service with its state in each locale, most requested first."""
    services = db.session.execute(
        select(Service).where(Service.published).order_by(Service.popularity.desc(), Service.slug)
    ).scalars()
    return [(service, {code: cell(service, code) for code in locales}) for service in services]


@dataclass(frozen=True)
class Coverage:
    locale: str
    ui_translated: int
    ui_total: int
    sections_filled: int
    sections_total: int
    services_essential: int
    services_complete: int
    services_outdated: int
    services_total: int

    @property
    def ui_percent(self) -> float:
        return 100 * self.ui_translated / self.ui_total if self.ui_total else 100.0

    @property
    def sections_percent(self) -> float:
        return 100 * self.sections_filled / self.sections_total if self.sections_total else 100.0


def ui_counts(locale: str) -> tuple[int, int]:
    """(translated, total) messages of the locale's UI catalog."""
    folder = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    path = folder / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return 0, 0
    with path.open("rb") as handle:
        catalog = read_po(handle)
    messages = [m for m in catalog if m.id]
    done = 0
    for message in messages:
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        done += bool(all(strings)) and not message.fuzzy
    return done, len(messages)


def coverage(locales) -> list[Coverage]:
    matrix = service_matrix(locales)
    result = []
    for code in locales:
        cells = [cells[code] for _, cells in matrix]
        translated, total = ui_counts(code)
        result.append(
            Coverage(
                locale=code,
                ui_translated=translated,
                ui_total=total,
                sections_filled=sum(c.filled for c in cells),
                sections_total=sum(c.total for c in cells),
                services_essential=sum(c.essential for c in cells),
                services_complete=sum(c.state == COMPLETE for c in cells),
                services_outdated=sum(c.state == OUTDATED for c in cells),
                services_total=len(cells),
            )
        )
    return result


FOLLOWS_LINE = re.compile(r"^follows:.*\n", re.MULTILINE)


def stamp(path: Path, digest: str) -> bool:
    """Record in a translation file that it follows the Italian text with `digest`."""
    text = path.read_text(encoding="utf-8")
    line = f"follows: {digest}\n"
    found = FOLLOWS_LINE.search(text)
    updated = FOLLOWS_LINE.sub(line, text, count=1) if found else line + text
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text
