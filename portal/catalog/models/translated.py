"""Text in translation rows keyed by (object, locale), with one explicit fallback to Italian."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

FALLBACK_LOCALE = "it"


def fallback_chain(locale: str) -> tuple[str, ...]:
    """The locales to try, in order, for text shown to a reader of `locale`."""
    return (locale,) if locale == FALLBACK_LOCALE else (locale, FALLBACK_LOCALE)


class TranslationRow:
    """Columns every translation row has."""

    locale: Mapped[str] = mapped_column(String(10))


class Translatable:
    """An object whose names live in `translations` rows; picks the reader's locale or Italian."""

    def translation(self, locale: str):
        by_locale = {row.locale: row for row in self.translations}
        for code in fallback_chain(locale):
            if code in by_locale:
                return by_locale[code]
        return None

    def name_in(self, locale: str) -> str:
        row = self.translation(locale)
        return row.name if row else self.slug
