"""Property-based tests (Hypothesis) of the validators and parsers that read what people and
files send: whatever the input, they answer or refuse in their documented way, never crash.

Derandomized, so CI sees the same examples every run; the module runs in well under 30 s.

- fiscal codes: ``normalise``/``is_valid`` never raise; generated valid codes pass; a single
  changed character passes only if an independent check of shape and check character agrees
- form validators (IBAN, phone, date range, postcode) through a WTForms harness: only
  ValidationError, and what they accept is normalised and accepted again
- ``NumberField.process_formdata``: only ValueError; Italian "1.234,56" reads as 1234.56
- ``reading.parse``: only SchemaError, for arbitrary documents and for mutated real schemas
- ``uploads.clean_filename``: no separators, no control characters, never empty, <= 120
- ``routing.age_group``: one of three groups, monotone with age, 18th/65th birthdays exact
- ``inbox.decode_cursor``: only BadCursor; every cursor the inbox writes reads back
- ``auth.services.safe_next``: "" or a local path that a browser also reads as local
"""

import datetime as dt
import string
from decimal import Decimal
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from werkzeug.datastructures import MultiDict
from wtforms import DateField, Form, StringField

from portal.auth import fiscal_code
from portal.auth.services import safe_next
from portal.backoffice import inbox
from portal.forms import reading, schema, uploads, validators
from portal.forms.builder import NumberField
from portal.requests import routing

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    # The autouse rollback fixture is function-scoped; it holds no state Hypothesis could share.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# Text as an attacker would send it: any code point, with the characters parsers trip on.
nasty_text = st.text() | st.text(
    alphabet=st.sampled_from(
        [
            *list("/\\.:%@?#&=;,'\"<> \t\r\n\x00\x7f_-+eE0123456789ITAZ"),
            "\u202e",
            "\ufeff",
            "\u2028",
            "²",
            "\u0663",
            "\uff49",
        ]
    ),
    max_size=60,
)


# -- fiscal codes ---------------------------------------------------------------------------

MONTHS = "ABCDEHLMPRST"
OMOCODIA = "LMNPQRSTUV"  # the letters that stand for 0-9 when two people share a code
DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
ODD = dict(
    zip(
        string.digits + string.ascii_uppercase,
        [
            1,
            0,
            5,
            7,
            9,
            13,
            15,
            17,
            19,
            21,
            1,
            0,
            5,
            7,
            9,
            13,
            15,
            17,
            19,
            21,
            2,
            4,
            18,
            20,
            11,
            3,
            6,
            8,
            12,
            14,
            16,
            10,
            22,
            25,
            24,
            23,
        ],
        strict=True,
    )
)
EVEN = {c: (int(c) if c.isdigit() else ord(c) - ord("A")) for c in ODD}


def check_character(first15: str) -> str:
    """The check character, computed here independently of python-stdnum."""
    total = sum((ODD if i % 2 == 0 else EVEN)[c] for i, c in enumerate(first15))
    return chr(ord("A") + total % 26)


@st.composite
def valid_fiscal_codes(draw) -> str:
    letters = st.text(alphabet=string.ascii_uppercase, min_size=6, max_size=6)
    body = draw(letters)
    body += f"{draw(st.integers(0, 99)):02d}"
    body += draw(st.sampled_from(MONTHS))
    body += f"{draw(st.integers(1, 28)) + draw(st.sampled_from([0, 40])):02d}"
    body += draw(st.sampled_from(string.ascii_uppercase))
    body += f"{draw(st.integers(1, 999)):03d}"
    chars = list(body)
    for position in draw(st.sets(st.sampled_from(DIGIT_POSITIONS), max_size=3)):
        chars[position] = OMOCODIA[int(chars[position])]
    first15 = "".join(chars)
    return first15 + check_character(first15)


def plausible(code: str) -> bool:
    """Shape and check character, decoded here: what any valid code must satisfy."""
    digit = f"[0-9{OMOCODIA}]"
    import re

    shape = rf"^[A-Z]{{6}}{digit}{{2}}[{MONTHS}]{digit}{{2}}[A-Z]{digit}{{3}}[A-Z]$"
    return bool(re.match(shape, code)) and check_character(code[:15]) == code[15]


@SETTINGS
@given(nasty_text | st.none() | st.integers() | st.binary())
def test_fiscal_code_functions_never_raise(value):
    assert fiscal_code.is_valid(value) in (True, False)
    normalised = fiscal_code.normalise(value)
    assert normalised is None or isinstance(normalised, str)


@SETTINGS
@given(valid_fiscal_codes(), st.sampled_from(["", "TINIT-", "tinit-", " "]), st.booleans())
def test_every_generated_valid_fiscal_code_passes(code, prefix, lower):
    written = prefix + (code.lower() if lower else code)
    assert fiscal_code.is_valid(written), written
    assert fiscal_code.normalise(written) == code


@SETTINGS
@given(
    valid_fiscal_codes(),
    st.integers(0, 15),
    st.sampled_from(string.ascii_uppercase + string.digits),
)
def test_a_single_changed_character_fails_unless_the_result_is_a_valid_code(code, at, char):
    changed = code[:at] + char + code[at + 1 :]
    assume(changed != code)
    if fiscal_code.is_valid(changed):
        # Another valid code (say an omocodia variant): then shape and check must agree.
        assert plausible(changed), changed
    if at == 15 or not plausible(changed):
        assert not fiscal_code.is_valid(changed), changed


# -- form validators through a WTForms field ------------------------------------------------


def run_validator(app, validator, value, field_class=StringField):
    """Validate ``value`` as a browser would post it; the field's errors, or raise."""

    class Harness(Form):
        answer = field_class(validators=[validator])

    with app.test_request_context("/it/"):
        form = Harness(MultiDict({"answer": value}))
        form.validate()
        return form.answer


@SETTINGS
@given(nasty_text | st.from_regex(r"\AIT\d{2}[A-Z]\d{10}[0-9A-Z]{12}\Z"))
def test_iban_validator_refuses_or_normalises(app, value):
    field = run_validator(app, validators.Iban(), value)
    if value and not field.errors:
        assert stdnum_iban.is_valid(field.data) and field.data == stdnum_iban.compact(value)
        assert not run_validator(app, validators.Iban(), field.data).errors


@SETTINGS
@given(nasty_text | st.from_regex(r"\A(\+39 ?)?0\d{2,3} ?\d{5,7}\Z") | st.from_regex(r"\A3\d{9}\Z"))
def test_phone_validator_refuses_or_normalises_to_e164(app, value):
    field = run_validator(app, validators.Phone(), value)
    if value and not field.errors:
        assert field.data.startswith("+") and field.data[1:].isdigit()
        assert not run_validator(app, validators.Phone(), field.data).errors


@SETTINGS
@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.from_regex(r"\A\s*[0-9]{5}\s*\Z"))
def test_postcode_validator(app, value):
    field = run_validator(app, validators.Postcode(), value)
    five_digits = value.strip().isascii() and value.strip().isdigit() and len(value.strip()) == 5
    assert bool(field.errors) == (bool(value) and not five_digits)


@pytest.mark.parametrize(
    "value", ["\u0664\u0666\u0660\u0661\u0669", "\uff14\uff16\uff10\uff11\uff19", "0000\u0660"]
)
def test_postcode_validator_takes_only_ascii_digits(app, value):
    assert run_validator(app, validators.Postcode(), value).errors


@SETTINGS
@given(
    nasty_text | st.dates().map(dt.date.isoformat),
    st.none() | st.dates(),
    st.none() | st.dates(),
)
def test_date_range_validator(app, value, low, high):
    field = run_validator(app, validators.DateRange(low, high), value, DateField)
    if field.data is not None and not field.errors:
        assert (low is None or field.data >= low) and (high is None or field.data <= high)


# -- numbers with Italian decimal commas ----------------------------------------------------


def process_number(app, raw, places):
    class Harness(Form):
        amount = NumberField(places=places)

    with app.test_request_context("/it/"):
        field = Harness().amount
        field.process_formdata([raw])
        return field.data


@SETTINGS
@given(nasty_text | st.decimals(allow_nan=True).map(str), st.sampled_from([0, 2]))
def test_number_field_raises_only_value_error(app, raw, places):
    try:
        data = process_number(app, raw, places)
    except ValueError:
        return
    assert data is None or (isinstance(data, Decimal) and data.is_finite())


@SETTINGS
@given(st.integers(0, 10**9), st.integers(0, 99))
def test_number_field_reads_italian_thousands_and_decimal_comma(app, whole, cents):
    italian = f"{whole:,}".replace(",", ".") + f",{cents:02d}"
    assert process_number(app, italian, 2) == Decimal(f"{whole}.{cents:02d}")
    assert process_number(app, f" {whole} ", 0) == whole


# -- form schemas ---------------------------------------------------------------------------

KEYS = [
    "service",
    "version",
    "estimated_minutes",
    "beneficiary",
    "beneficiary_fiscal_code",
    "prepare",
    "steps",
    "id",
    "title",
    "intro",
    "fields",
    "type",
    "required",
    "label",
    "help",
    "choices",
    "value",
    "visible_if",
    "field",
    "equals",
    "in",
    "contains",
    "min",
    "max",
    "accept",
    "it",
    "en",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | nasty_text
    | st.sampled_from([*reading.FIELD_TYPES, "self_or_other", "required", "+0d", "-18y"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | nasty_text, inner, max_size=6)
    ),
    max_leaves=25,
)
DEMO_FORMS = {
    path.stem: yaml.safe_load(path.read_text())
    for path in sorted(Path(schema.__file__).resolve().parents[1].glob("catalog/demo/forms/*.yaml"))
}


def parse_or_refuse(doc):
    try:
        result = reading.parse(doc)
    except reading.SchemaError as error:
        assert error.problems
        return None
    assert isinstance(result, schema.FormSchema)
    return result


@SETTINGS
@given(json_values)
@example({"version": 1, "prepare": 1.5})  # the first failure generation found, kept
def test_schema_parse_raises_only_schema_error(doc):
    parse_or_refuse(doc)


def mutate(node, path, value):
    """``node`` with the element at ``path`` (a list of choices) replaced by ``value``."""
    if not path or not isinstance(node, dict | list) or not node:
        return value
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    key = keys[path[0] % len(keys)]
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[key] = mutate(node[key], path[1:], value)
    return copy


@SETTINGS
@given(
    st.sampled_from(sorted(DEMO_FORMS)),
    st.lists(st.integers(0, 50), min_size=1, max_size=6),
    json_values,
)
@example("trasporto-sociale", [5], True)  # prepare: true
def test_schema_parse_of_a_mutated_real_schema_raises_only_schema_error(name, where, value):
    parse_or_refuse(mutate(DEMO_FORMS[name], where, value))


def test_every_demo_schema_parses():
    assert all(parse_or_refuse(doc) for doc in DEMO_FORMS.values())


def first_step_field(doc, **changes):
    step = dict(doc["steps"][0])
    step["fields"] = [dict(step["fields"][0], **changes), *step["fields"][1:]]
    return dict(doc, steps=[step, *doc["steps"][1:]])


MALFORMED = {
    "prepare: true": lambda d: dict(d, prepare=True),
    "estimated_minutes: x": lambda d: dict(d, estimated_minutes="x"),
    "estimated_minutes: {it: 1}": lambda d: dict(d, estimated_minutes={"it": 1}),
    "steps: 3": lambda d: dict(d, steps=3),
    "fields: 1.5": lambda d: dict(d, steps=[dict(d["steps"][0], fields=1.5)]),
    "choices: 1.5": lambda d: first_step_field(d, choices=1.5),
    "visible_if: {field: [a]}": lambda d: first_step_field(d, visible_if={"field": ["a"]}),
}


@pytest.mark.parametrize("change", list(MALFORMED))
def test_schema_parse_malformed_document(change):
    with pytest.raises(reading.SchemaError):
        reading.parse(MALFORMED[change](DEMO_FORMS["trasporto-sociale"]))


# -- uploaded file names --------------------------------------------------------------------


@SETTINGS
@given(st.none() | nasty_text | st.text(min_size=100, max_size=400))
@example("../../etc/passwd")
@example("..\\..\\windows\\system32\\cmd.exe")
@example("\x00")
@example("." * 300)
def test_clean_filename_is_a_plain_short_name(name):
    cleaned = uploads.clean_filename(name)
    assert cleaned and len(cleaned) <= 120
    assert "/" not in cleaned and "\\" not in cleaned
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in cleaned)
    assert cleaned not in (".", "..")


# -- age groups for routing -----------------------------------------------------------------


@SETTINGS
@given(st.none() | st.dates(), st.dates())
def test_age_group_is_one_of_three(birth, today):
    group = routing.age_group(birth, today)
    assert group in ((None,) if birth is None else routing.AGE_GROUPS)


@SETTINGS
@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)), st.integers(0, 120)
)
def test_age_group_birthdays_are_exact(birth, years):
    birthday = birth + relativedelta(years=years)
    expected = "minor" if years < 18 else "elderly" if years >= 65 else "adult"
    # relativedelta moves 29 February to the 28th; the law counts the day after. Skip that day.
    assume(not (birth.month == 2 and birth.day == 29))
    assert routing.age_group(birth, birthday) == expected
    if years in (18, 65):
        assert routing.age_group(birth, birthday - dt.timedelta(days=1)) != expected


# -- inbox cursors --------------------------------------------------------------------------


@SETTINGS
@given(
    st.sampled_from(inbox.SORTS),
    nasty_text | st.from_regex(r"\A\d{4}-\d{2}-\d{2}(T[\d:.]+)?_-?\d+\Z"),
)
def test_decode_cursor_raises_only_bad_cursor(sort, value):
    try:
        key, ident = inbox.decode_cursor(sort, value)
    except inbox.BadCursor:
        return
    assert isinstance(ident, int)
    assert isinstance(key, dt.datetime if sort == "newest" else dt.date)


@SETTINGS
@given(st.sampled_from(inbox.SORTS), st.datetimes(), st.integers(1, 2**62))
def test_every_cursor_the_inbox_writes_reads_back(sort, moment, ident):
    row = type("Row", (), {"deadline": moment.date(), "submitted_at": moment, "id": ident})
    key, back = inbox.decode_cursor(sort, inbox.encode_cursor(sort, row))
    assert back == ident and key == (moment if sort == "newest" else moment.date())


# -- where login sends people back ----------------------------------------------------------

url_like = st.builds(
    lambda parts: "".join(parts),
    st.lists(
        st.sampled_from(
            [
                "/",
                "//",
                "\\",
                "http:",
                "https:",
                "javascript:",
                "evil.example",
                "@",
                "?",
                "#",
                "%2f",
                "%5c",
                "%0d%0a",
                "\r\n",
                "\t",
                " ",
                ".",
                "..",
                "portal.test",
                "it",
                ":",
                "a",
            ]
        ),
        max_size=8,
    ),
)


@SETTINGS
@given(st.none() | nasty_text | url_like)
@example("//evil.example")
@example("/\\evil.example")
@example("/\t/evil.example")
def test_safe_next_is_empty_or_a_local_path(target):
    result = safe_next(target)
    assert result == "" or result == target
    if result:
        parts = urlsplit(result)
        assert result.startswith("/") and not result.startswith("//")
        assert not parts.scheme and not parts.netloc
        # As a browser reads it: tabs and newlines dropped, backslashes as slashes.
        browser = result.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
        assert urlsplit(urljoin("https://portal.test/it/accedi", browser)).netloc == "portal.test"
    assert safe_next(result) == result
