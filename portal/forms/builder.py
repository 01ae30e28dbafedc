"""Flask-WTF forms built from a schema step, and the answers they produce.

Every field gets its type's checks (Optional first, so an empty answer passes them); whether an
answer is required is decided afterwards, once the conditions are known, because a question
shown only for some answers is required only when it is shown. Answers are stored as JSON:
dates as ISO strings, numbers as strings, yes/no as booleans, files as attachment ids."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import validators
from portal.forms.schema import Field, Phrase, Step, localized

# Choice lists longer than this are a drop-down instead of radio buttons.
RADIO_LIMIT = 8


class NumberField(DecimalField):
    """A number with our own message when it is not one (WTForms' is terse)."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            raw = valuelist[0].strip().replace(" ", "")
            # Italians write 1.234,56: accept the comma as the decimal mark.
            if "," in raw:
                raw = raw.replace(".", "").replace(",", ".")
            try:
                self.data = Decimal(raw)
            except InvalidOperation as error:
                self.data = None
                raise ValueError(_("Write a number, with digits only.")) from error
            if not self.data.is_finite():
                self.data = None
                raise ValueError(_("Write a number, with digits only."))
            if self.places == 0 and self.data != self.data.to_integral_value():
                self.data = None
                raise ValueError(_("Write a whole number, without decimals."))
        else:
            self.data = None


class Bounds(NumberRange):
    """NumberRange that stays quiet when the answer was not a number at all."""

    def __call__(self, form, field):
        if field.data is not None:
            super().__call__(form, field)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AddressForm(Form):
    street = StringField(_l("Street and house number"), [Optional(), Length(max=200)])
    postcode = StringField(_l("Postcode (CAP)"), [Optional(), validators.Postcode()])
    municipality = StringField(_l("Comune"), [Optional(), Length(max=120)])


def _choices(spec: Field, lang: str) -> list[SelectChoice]:
    return [SelectChoice(choice.value, localized(choice.label, lang)) for choice in spec.choices]


def make_field(spec: Field, lang: str, today: dt.date):
    label = localized(spec.label, lang)
    description = localized(spec.help, lang)
    base = [Optional()]
    kind = spec.type
    if kind in ("text", "longtext"):
        cls = StringField if kind == "text" else TextAreaField
        message = _l("Write at most %(max)d characters.", max=spec.max_length)
        return cls(
            label, [*base, Length(max=spec.max_length, message=message)], description=description
        )
    if kind == "number":
        checks = [*base, Bounds(min=spec.min, max=spec.max, message=range_message(spec))]
        return NumberField(
            label,
            checks,
            places=spec.decimals,
            description=description,
            render_kw={"inputmode": "decimal" if spec.decimals else "numeric"},
        )
    if kind == "date":
        low, high = spec.date_bounds(today)
        return DateField(
            label,
            [*base, validators.DateRange(low, high)],
            description=description,
            render_kw={
                "min": low.isoformat() if low else None,
                "max": high.isoformat() if high else None,
            },
        )
    if kind == "choice":
        choices = _choices(spec, lang)
        if len(choices) > RADIO_LIMIT:
            return SelectField(
                label,
                base,
                choices=[SelectChoice("", _l("Choose…")), *choices],
                description=description,
            )
        return RadioField(label, base, choices=choices, description=description)
    if kind == "multichoice":
        return MultiCheckboxField(
            label, base, choices=_choices(spec, lang), description=description
        )
    if kind == "yesno":
        return RadioField(
            label,
            base,
            choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
            description=description,
        )
    if kind == "fiscal_code":
        return StringField(
            label,
            [*base, validators.FiscalCode()],
            description=description,
            render_kw={"autocapitalize": "characters", "spellcheck": "false", "maxlength": 16},
        )
    if kind == "phone":
        return TelField(
            label,
            [*base, validators.Phone()],
            description=description,
            render_kw={"autocomplete": "tel"},
        )
    if kind == "email":
        return EmailField(
            label,
            [*base, Email(message=_l("Write a valid email address, like name@example.it."))],
            description=description,
            render_kw={"autocomplete": "email"},
        )
    if kind == "iban":
        return StringField(
            label,
            [*base, validators.Iban()],
            description=description,
            render_kw={"autocapitalize": "characters", "spellcheck": "false"},
        )
    if kind == "address":
        return FormField(AddressForm, label, description=description)
    if kind == "file":
        return FileField(label, description=description)
    raise ValueError(f"unknown field type {kind}")


def range_message(spec: Field):
    if spec.min is not None and spec.max is not None:
        return _l("Write a number between %(min)s and %(max)s.", min=spec.min, max=spec.max)
    if spec.min is not None:
        return _l("Write a number of at least %(min)s.", min=spec.min)
    if spec.max is not None:
        return _l("Write a number of at most %(max)s.", max=spec.max)
    return None


def initial_data(step: Step, answers: dict) -> dict:
    """What the form shows from the stored answers (the inverse of ``answers_from``)."""
    data = {}
    for spec in step.fields:
        value = answers.get(spec.id)
        if value is None or spec.type == "file":
            continue
        if spec.type == "yesno":
            data[spec.id] = "yes" if value else "no"
        elif spec.type == "date":
            data[spec.id] = dt.date.fromisoformat(value)
        elif spec.type == "number":
            data[spec.id] = Decimal(value)
        else:
            data[spec.id] = value
    return data


def build_form(
    step: Step, lang: str, answers: dict, *, formdata=None, today=None, meta=None
) -> FlaskForm:
    today = today or dt.date.today()
    attributes = {spec.id: make_field(spec, lang, today) for spec in step.fields}
    form_class = type("StepForm", (FlaskForm,), attributes)
    # With formdata None on GET, Flask-WTF would read request.form: pass it explicitly.
    return form_class(formdata=formdata, data=initial_data(step, answers), meta=meta or {})


def _stored(spec: Field, value):
    if spec.type == "yesno":
        return {"yes": True, "no": False}.get(value)
    if spec.type == "date":
        return value.isoformat() if value else None
    if spec.type == "number":
        if value is None:
            return None
        try:
            return str(Decimal(value).quantize(Decimal(1).scaleb(-spec.decimals)))
        except InvalidOperation:
            return None
    if spec.type == "multichoice":
        return list(value or []) or None
    if spec.type == "address":
        cleaned = {
            key: (value or {}).get(key, "").strip()
            for key in ("street", "postcode", "municipality")
        }
        return cleaned if any(cleaned.values()) else None
    if spec.type == "file":
        return None
    if isinstance(value, str):
        return value.strip() or None
    return value


def answers_from(step: Step, form: FlaskForm, previous: dict) -> dict:
    """All answers after this step: the earlier ones plus this form's (files kept as they were)."""
    answers = dict(previous)
    for spec in step.fields:
        if spec.type == "file":
            continue
        answers[spec.id] = _stored(spec, getattr(form, spec.id).data)
    return answers


def check_required(step: Step, form: FlaskForm, answers: dict, uploads: dict) -> bool:
    """Add "answer this" errors to visible required fields left empty; True if none."""
    ok = True
    for spec in step.fields:
        if not spec.required or not spec.visible(answers):
            continue
        field = getattr(form, spec.id)
        if field.errors:
            continue
        empty = (
            (uploads.get(spec.id) is None and answers.get(spec.id) is None)
            if spec.type == "file"
            else answers.get(spec.id) in (None, [], "")
        )
        if spec.type == "address" and not empty:
            address = answers[spec.id]
            empty = not (address.get("street") and address.get("municipality"))
        if empty:
            field.errors = [*list(field.errors), required_message(spec)]
            ok = False
    return ok


def required_message(spec: Field) -> str:
    if spec.type in ("choice", "yesno"):
        return _("Choose an answer.")
    if spec.type == "multichoice":
        return _("Choose at least one answer.")
    if spec.type == "file":
        return _("Attach the document.")
    if spec.type == "address":
        return _("Write the street, house number and comune.")
    return _("Answer this question.")


def drop_hidden(steps, answers: dict) -> dict:
    """Answers without those of questions (or steps) that the other answers now hide."""
    kept = dict(answers)
    for step in steps:
        step_visible = step.visible(kept)
        for spec in step.fields:
            if not step_visible or not spec.visible(kept):
                kept.pop(spec.id, None)
    return kept


def display_value(spec: Field, value, lang: str, attachments: dict) -> str:
    """An answer as the summary and the receipt show it."""
    if value is None or value == [] or value == "":
        if spec.type == "file" and spec.id in attachments:
            return attachments[spec.id]
        return _("Not answered")
    if spec.type == "yesno":
        return _("Yes") if value else _("No")
    if spec.type in ("choice",):
        return spec.choice_label(value, lang)
    if spec.type == "multichoice":
        labels = [spec.choice_label(item, lang) for item in value]
        return Phrase(", ".join(labels), getattr(labels[0], "lang", lang))
    if spec.type == "date":
        return format_date(dt.date.fromisoformat(value))
    if spec.type == "number":
        return format_decimal(
            Decimal(value), format="#,##0" + ("." + "0" * spec.decimals if spec.decimals else "")
        )
    if spec.type == "address":
        return ", ".join(
            part
            for part in (value.get("street"), value.get("postcode"), value.get("municipality"))
            if part
        )
    return str(value)


def sections(steps, answers: dict, files: dict, lang: str) -> list[tuple]:
    """(step, title, [(question, answer)]) for every visible step: the summary, the request
    page and the receipt show answers this one way."""
    result = []
    for step in steps:
        if not step.visible(answers):
            continue
        rows = [
            (localized(spec.label, lang), display_value(spec, answers.get(spec.id), lang, files))
            for spec in step.fields
            if spec.visible(answers)
        ]
        result.append((step, localized(step.title, lang), rows))
    return result
