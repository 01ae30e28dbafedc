"""Staff roles come from a file of fiscal numbers; the demo staff are test identities."""

import json

import pytest
import yaml
from sqlalchemy import select

from portal.auth import staff
from portal.auth.fiscal_code import is_valid, normalise
from portal.auth.models import StaffRole
from portal.config import PROJECT_ROOT
from portal.extensions import db


def test_demo_staff_are_test_identities_of_the_local_provider():
    identities = json.loads((PROJECT_ROOT / "idp" / "identities.json").read_text())
    numbers = {person["fiscal_number"] for person in identities["identities"]}
    demo = yaml.safe_load((PROJECT_ROOT / "portal/auth/demo/staff.yaml").read_text())
    assert {entry["fiscal_number"] for entry in demo["staff"]} <= numbers
    assert all(is_valid(number) for number in numbers)


def test_demo_staff_cover_every_pua_and_every_staff_role(app):
    grants = db.session.scalars(select(StaffRole)).all()
    assert {g.role for g in grants} == {"operator", "supervisor", "editor", "admin"}
    assert {g.desk.slug for g in grants if g.role == "operator"} == {
        "suzzara",
        "viadana",
        "casalmaggiore",
        "ostiglia",
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"fiscal_number": "RSSMRA80A01E897A", "role": "admin"}, "not a valid fiscal code"),
        ({"fiscal_number": "RSSMRA80A01E897X", "role": "boss"}, "role must be one of"),
        ({"fiscal_number": "RSSMRA80A01E897X", "role": "operator"}, "need `pua`"),
        ({"fiscal_number": "RSSMRA80A01E897X", "role": "operator", "pua": "roma"}, "unknown PUA"),
    ],
)
def test_a_wrong_staff_file_is_refused_and_changes_nothing(app, tmp_path, entry, message):
    before = db.session.scalar(select(db.func.count(StaffRole.id)))
    path = tmp_path / "staff.yaml"
    path.write_text(yaml.safe_dump({"staff": [entry]}))
    with pytest.raises(staff.StaffFileError, match=message):
        staff.load(path)
    assert db.session.scalar(select(db.func.count(StaffRole.id))) == before


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("RSSMRA85T10A562S", True),
        ("TINIT-RSSMRA85T10A562S", True),
        ("rssmra85t10a562s", True),
        ("RSSMRA85T10A562T", False),
        ("RSSMRA85T10A562", False),
        ("", False),
        (None, False),
        ("'; DROP TABLE app_user; --", False),
    ],
)
def test_fiscal_code_check_character(value, valid):
    assert is_valid(value) is valid


def test_normalise_strips_the_spid_prefix():
    assert normalise("TINIT-RSSMRA85T10A562S") == "RSSMRA85T10A562S"
