"""Form schemas: the demo forms are valid, and every broken rule is reported."""

import copy
import datetime as dt

import pytest

from portal.config import PROJECT_ROOT
from portal.forms.reading import SchemaError, load_folder, parse
from portal.forms.schema import resolve_date

FORMS = PROJECT_ROOT / "portal" / "catalog" / "demo" / "forms"

GOOD = {
    "service": "x",
    "version": 1,
    "steps": [
        {
            "id": "one",
            "title": {"it": "Uno", "en": "One"},
            "fields": [
                {
                    "id": "needs",
                    "type": "multichoice",
                    "label": {"it": "Bisogni", "en": "Needs"},
                    "choices": [
                        {"value": "a", "label": {"it": "A", "en": "A"}},
                        {"value": "other", "label": {"it": "Altro", "en": "Other"}},
                    ],
                },
                {
                    "id": "details",
                    "type": "longtext",
                    "label": {"it": "Dettagli", "en": "Details"},
                    "visible_if": {"field": "needs", "contains": "other"},
                },
            ],
        }
    ],
}


def test_every_demo_form_is_valid_and_bilingual():
    schemas = load_folder(FORMS)
    assert len(schemas) >= 14
    for schema in schemas.values():
        for step in schema.steps:
            assert step.title["it"] and step.title["en"]
            for field in step.fields:
                assert field.label["it"] and field.label["en"]


def test_a_good_schema_parses_and_conditions_work():
    schema = parse(GOOD)
    details = schema.fields()["details"]
    assert not details.visible({"needs": ["a"]})
    assert details.visible({"needs": ["a", "other"]})


def broken(change):
    doc = copy.deepcopy(GOOD)
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["steps"][0]["fields"][0].update(type="colour"), "type must be one of"),
        (lambda d: d["steps"][0]["fields"][1].update(id="needs"), "used twice"),
        (lambda d: d["steps"][0]["fields"][1].update(id="beneficiary_name"), "reserved"),
        (lambda d: d["steps"][0]["fields"][0]["label"].pop("en"), "lacks ['en']"),
        (
            lambda d: d["steps"][0]["fields"][1].update(visible_if={"field": "later", "equals": 1}),
            "not an earlier field",
        ),
        (
            lambda d: d["steps"][0]["fields"][1].update(
                visible_if={"field": "needs", "contains": "nope"}
            ),
            "not a choice",
        ),
        (lambda d: d["steps"][0]["fields"][0].update(colour="red"), "unknown options"),
        (lambda d: d.update(version=0), "positive integer"),
        (lambda d: d["steps"][0].update(id="Bad Id"), "must be unique"),
    ],
)
def test_broken_schemas_are_refused_with_the_reason(change, message):
    with pytest.raises(SchemaError) as raised:
        parse(broken(change))
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_date_bounds_move_with_today():
    today = dt.date(2026, 11, 25)
    assert resolve_date("today", today) == today
    assert resolve_date("-120y", today) == dt.date(1906, 11, 25)
    assert resolve_date("+60d", today) == dt.date(2027, 1, 24)
    assert resolve_date("-6m", today) == dt.date(2026, 5, 25)
    assert resolve_date("2026-01-01", today) == dt.date(2026, 1, 1)
