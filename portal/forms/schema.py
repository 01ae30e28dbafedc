"""Request form schemas as plain objects: steps, fields, choices, conditions, and the texts of
each in the locales it has. ``portal.forms.reading`` reads them from YAML (FORMAT.md)."""

import datetime as dt
import re
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta

FILE_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
DEFAULT_MAX = {"text": 200, "longtext": 2000}
MAX_FILE_MB = 10
OFFSET = re.compile(r"^([+-])(\d+)([dmy])$")


class Phrase(str):
    """A form's text that knows its language: the reader's, or Italian where the form has no
    translation, so that the page can mark it (WCAG 3.1.2, and right-to-left pages)."""

    lang: str

    def __new__(cls, text: str, lang: str):
        phrase = super().__new__(cls, text)
        phrase.lang = lang
        return phrase


def localized(texts: dict | None, lang: str) -> str:
    """The text in ``lang``, else Italian: every schema text is a {locale: text} map."""
    if not texts:
        return ""
    if not isinstance(texts, dict):  # the portal's own steps: an already translatable string
        return str(texts)
    if texts.get(lang):
        return Phrase(texts[lang], lang)
    return Phrase(texts.get("it") or "", "it")


@dataclass(frozen=True)
class Condition:
    field: str
    equals: object = None
    any_of: tuple = ()
    contains: object = None
    kind: str = "equals"

    def holds(self, answers: dict) -> bool:
        value = answers.get(self.field)
        if self.kind == "equals":
            return value == self.equals
        if self.kind == "in":
            return value in self.any_of
        return isinstance(value, list) and self.contains in value

    def as_dict(self) -> dict:
        if self.kind == "equals":
            return {"field": self.field, "equals": self.equals}
        if self.kind == "in":
            return {"field": self.field, "in": list(self.any_of)}
        return {"field": self.field, "contains": self.contains}


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict


@dataclass(frozen=True)
class Field:
    id: str
    type: str
    label: dict
    help: dict = field(default_factory=dict)
    required: bool = False
    choices: tuple[Choice, ...] = ()
    min: object = None
    max: object = None
    decimals: int = 0
    accept: tuple[str, ...] = tuple(FILE_TYPES)
    max_size_mb: float = 5
    visible_if: Condition | None = None

    def visible(self, answers: dict) -> bool:
        return self.visible_if is None or self.visible_if.holds(answers)

    def choice_label(self, value, lang: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return localized(choice.label, lang)
        return str(value)

    @property
    def max_length(self) -> int | None:
        if self.type in DEFAULT_MAX:
            return int(self.max or DEFAULT_MAX[self.type])
        return None

    @property
    def mime_types(self) -> dict[str, str]:
        return {FILE_TYPES[name]: name for name in self.accept}

    def date_bounds(self, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
        return resolve_date(self.min, today), resolve_date(self.max, today)


@dataclass(frozen=True)
class Step:
    id: str
    title: dict
    fields: tuple[Field, ...]
    intro: dict = field(default_factory=dict)
    visible_if: Condition | None = None

    def visible(self, answers: dict) -> bool:
        return self.visible_if is None or self.visible_if.holds(answers)


@dataclass(frozen=True)
class FormSchema:
    service: str
    version: int
    steps: tuple[Step, ...]
    estimated_minutes: int = 10
    beneficiary: str = "self_or_other"
    beneficiary_fiscal_code: str = "required"
    prepare: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict, repr=False, compare=False)

    def step(self, step_id: str) -> Step | None:
        return next((step for step in self.steps if step.id == step_id), None)

    def fields(self) -> dict[str, Field]:
        return {f.id: f for step in self.steps for f in step.fields}


def resolve_date(value, today: dt.date) -> dt.date | None:
    """A date bound: an ISO date, "today", or an offset such as "-120y", "+90d", "-6m"."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    if value == "today":
        return today
    match = OFFSET.match(str(value))
    if match:
        sign = 1 if match.group(1) == "+" else -1
        amount = sign * int(match.group(2))
        unit = {"d": "days", "m": "months", "y": "years"}[match.group(3)]
        return today + relativedelta(**{unit: amount})
    return dt.date.fromisoformat(str(value))
