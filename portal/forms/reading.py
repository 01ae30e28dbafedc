"""Form schemas read from YAML (FORMAT.md) and checked thoroughly.

A schema that breaks a rule is refused with every problem listed, so that a content editor can
fix a file in one go; nothing half-valid ever reaches a citizen."""

import datetime as dt
import re
from pathlib import Path

import yaml

from portal.forms.schema import (
    FILE_TYPES,
    MAX_FILE_MB,
    Choice,
    Condition,
    Field,
    FormSchema,
    Step,
    resolve_date,
)

FIELD_TYPES = (
    "text",
    "longtext",
    "number",
    "date",
    "choice",
    "multichoice",
    "yesno",
    "fiscal_code",
    "phone",
    "email",
    "iban",
    "address",
    "file",
)
REQUIRED_LOCALES = ("it", "en")
BENEFICIARY_MODES = ("self_or_other", "self_only", "other_only")
RESERVED = re.compile(r"^(for_whom|beneficiary_.*|residence_.*|contact_.*|consent.*)$")
STEP_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FIELD_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class SchemaError(ValueError):
    """A form schema breaks the format; ``problems`` lists every broken rule."""

    def __init__(self, source: str, problems: list[str]):
        super().__init__(f"{source}: " + "; ".join(problems))
        self.problems = problems


class _Reader:
    """Reads one schema document, collecting every problem instead of stopping at the first."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []
        self.seen_fields: dict[str, Field] = {}

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def texts(self, value, where: str, *, optional: bool = False) -> dict:
        if value is None and optional:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.fail(where, "must be a {locale: text} map")
            return {}
        missing = [locale for locale in REQUIRED_LOCALES if not (value.get(locale) or "").strip()]
        if missing:
            self.fail(where, f"lacks {missing}")
        return dict(value)

    def condition(self, value, where: str) -> Condition | None:
        if value is None:
            return None
        if not isinstance(value, dict) or "field" not in value:
            self.fail(where, "visible_if needs `field` and one of equals / in / contains")
            return None
        target = self.seen_fields.get(value["field"])
        if target is None:
            self.fail(where, f"visible_if refers to {value['field']!r}, not an earlier field")
            return None
        operators = [key for key in ("equals", "in", "contains") if key in value]
        if len(operators) != 1 or set(value) - {"field", *operators}:
            self.fail(where, "visible_if takes exactly one of equals / in / contains")
            return None
        values = set()
        if target.choices:
            values = {choice.value for choice in target.choices}
        if target.type == "multichoice" and operators[0] != "contains":
            self.fail(where, "a multichoice answer is a list: use `contains`")
        if operators[0] == "equals":
            if values and value["equals"] not in values:
                self.fail(where, f"{value['equals']!r} is not a choice of {target.id}")
            if target.type == "yesno" and not isinstance(value["equals"], bool):
                self.fail(where, "a yes/no answer is true or false")
            return Condition(field=target.id, equals=value["equals"], kind="equals")
        if operators[0] == "in":
            if not isinstance(value["in"], list) or (values and set(value["in"]) - values):
                self.fail(where, f"`in` must list choices of {target.id}")
            return Condition(field=target.id, any_of=tuple(value["in"] or ()), kind="in")
        if target.type != "multichoice":
            self.fail(where, "`contains` works on a multichoice field")
        elif value["contains"] not in values:
            self.fail(where, f"{value['contains']!r} is not a choice of {target.id}")
        return Condition(field=target.id, contains=value["contains"], kind="contains")

    def field(self, raw, where: str) -> Field | None:
        if not isinstance(raw, dict):
            self.fail(where, "a field is a mapping")
            return None
        field_id = str(raw.get("id", ""))
        where = f"{where}.{field_id or '?'}"
        if not FIELD_ID.match(field_id):
            self.fail(where, "id must match [a-z][a-z0-9_]*")
        if RESERVED.match(field_id):
            self.fail(where, "this id is reserved for the portal's own steps")
        if field_id in self.seen_fields:
            self.fail(where, "the id is used twice in this form")
        kind = raw.get("type")
        if kind not in FIELD_TYPES:
            self.fail(where, f"type must be one of {', '.join(FIELD_TYPES)}")
            return None
        known = {"id", "type", "label", "help", "required", "visible_if"}
        known |= {
            "text": {"max"},
            "longtext": {"max"},
            "number": {"min", "max", "decimals"},
            "date": {"min", "max"},
            "choice": {"choices"},
            "multichoice": {"choices"},
            "file": {"accept", "max_size_mb"},
        }.get(kind, set())
        unknown = set(raw) - known
        if unknown:
            self.fail(where, f"unknown options {sorted(unknown)} for a {kind} field")
        choices = ()
        if kind in ("choice", "multichoice"):
            raw_choices = raw.get("choices") or []
            if len(raw_choices) < 2:
                self.fail(where, "needs at least two choices")
            if any(
                not isinstance(c, dict) or not isinstance(c.get("value"), str) for c in raw_choices
            ):
                self.fail(where, "each choice needs a text `value` (quote yes, no, on, off)")
            choices = tuple(
                Choice(value=str(c.get("value")), label=self.texts(c.get("label"), where))
                for c in raw_choices
                if isinstance(c, dict)
            )
            if len({c.value for c in choices}) != len(choices):
                self.fail(where, "choice values must be unique")
        accept = tuple(raw.get("accept") or FILE_TYPES)
        if kind == "file" and set(accept) - set(FILE_TYPES):
            self.fail(where, f"accept may list only {', '.join(FILE_TYPES)}")
        size = raw.get("max_size_mb", 5)
        if kind == "file" and not (isinstance(size, int | float) and 0 < size <= MAX_FILE_MB):
            self.fail(where, f"max_size_mb must be between 0 and {MAX_FILE_MB}")
        if kind == "date":
            for bound in ("min", "max"):
                try:
                    resolve_date(raw.get(bound), dt.date(2026, 1, 1))
                except ValueError:
                    self.fail(where, f"{bound} must be an ISO date, today or an offset like -120y")
        if kind in ("number", "text", "longtext"):
            for bound in ("min", "max"):
                if raw.get(bound) is not None and not isinstance(raw[bound], int | float):
                    self.fail(where, f"{bound} must be a number")
        condition = self.condition(raw.get("visible_if"), where)
        result = Field(
            id=field_id,
            type=kind,
            label=self.texts(raw.get("label"), f"{where}.label"),
            help=self.texts(raw.get("help"), f"{where}.help", optional=True),
            required=bool(raw.get("required", False)),
            choices=choices,
            min=raw.get("min"),
            max=raw.get("max"),
            decimals=int(raw.get("decimals", 0) or 0),
            accept=accept,
            max_size_mb=float(size) if isinstance(size, int | float) else 5,
            visible_if=condition,
        )
        self.seen_fields[field_id] = result
        return result

    def schema(self, doc) -> FormSchema | None:
        if not isinstance(doc, dict):
            self.fail("file", "must be a mapping")
            return None
        unknown = set(doc) - {
            "service",
            "version",
            "estimated_minutes",
            "beneficiary",
            "beneficiary_fiscal_code",
            "prepare",
            "steps",
        }
        if unknown:
            self.fail("file", f"unknown keys {sorted(unknown)}")
        if not isinstance(doc.get("version"), int) or doc["version"] < 1:
            self.fail("version", "must be a positive integer")
        if doc.get("beneficiary", "self_or_other") not in BENEFICIARY_MODES:
            self.fail("beneficiary", f"must be one of {', '.join(BENEFICIARY_MODES)}")
        if doc.get("beneficiary_fiscal_code", "required") not in ("required", "optional"):
            self.fail("beneficiary_fiscal_code", "must be required or optional")
        prepare = doc.get("prepare") or {}
        for locale in REQUIRED_LOCALES:
            if not isinstance(prepare.get(locale, []), list):
                self.fail("prepare", "lists texts per locale")
        steps, step_ids = [], set()
        for index, raw in enumerate(doc.get("steps") or [], start=1):
            where = f"step {index}"
            if not isinstance(raw, dict):
                self.fail(where, "a step is a mapping")
                continue
            step_id = str(raw.get("id", ""))
            if not STEP_ID.match(step_id) or step_id in step_ids:
                self.fail(where, "id must be unique and match [a-z0-9-]+")
            step_ids.add(step_id)
            condition = self.condition(raw.get("visible_if"), where)
            fields = [self.field(f, f"{where}") for f in raw.get("fields") or []]
            if not fields:
                self.fail(where, "has no fields")
            steps.append(
                Step(
                    id=step_id,
                    title=self.texts(raw.get("title"), f"{where}.title"),
                    intro=self.texts(raw.get("intro"), f"{where}.intro", optional=True),
                    fields=tuple(f for f in fields if f),
                    visible_if=condition,
                )
            )
        if not steps:
            self.fail("steps", "a form needs at least one step")
        return FormSchema(
            service=str(doc.get("service", "")),
            version=doc.get("version") if isinstance(doc.get("version"), int) else 0,
            steps=tuple(steps),
            estimated_minutes=int(doc.get("estimated_minutes") or 10),
            beneficiary=doc.get("beneficiary", "self_or_other"),
            beneficiary_fiscal_code=doc.get("beneficiary_fiscal_code", "required"),
            prepare=prepare,
            source=doc,
        )


def parse(doc, source: str = "schema") -> FormSchema:
    """A FormSchema from a parsed document; SchemaError lists every problem."""
    reader = _Reader(source)
    try:
        schema = reader.schema(doc)
    except (AttributeError, TypeError, ValueError) as error:
        # A value of the wrong kind where a list, map or number belongs (e.g. `steps: 3`).
        raise SchemaError(source, [*reader.problems, f"malformed document: {error}"]) from error
    if reader.problems:
        raise SchemaError(source, reader.problems)
    return schema


def load_file(path: Path) -> FormSchema:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SchemaError(str(path), [f"not valid YAML: {error}"]) from error
    schema = parse(doc, str(path))
    if schema.service != Path(path).stem:
        raise SchemaError(str(path), ["`service` must equal the file name"])
    return schema


def load_folder(folder: Path) -> dict[str, FormSchema]:
    """Every schema in ``folder`` by service slug; SchemaError names all broken files."""
    schemas, problems = {}, []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            schema = load_file(path)
        except SchemaError as error:
            problems.append(str(error))
            continue
        schemas[schema.service] = schema
    if problems:
        raise SchemaError(str(folder), problems)
    return schemas


if __name__ == "__main__":  # python -m portal.forms.reading FOLDER: check every schema in it
    import sys

    try:
        found = load_folder(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    except SchemaError as error:
        print("\n".join(error.problems))
        raise SystemExit(1) from error
    print(f"{len(found)} form schemas are valid")
