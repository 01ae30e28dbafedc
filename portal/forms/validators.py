"""Server-side checks of answers: fiscal code, IBAN, phone, dates in range, postcodes.

The number rules are the libraries' (python-stdnum, phonenumbers); the messages are ours, in
the reader's language."""

import datetime as dt
import re

import phonenumbers
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from stdnum import iban
from wtforms.validators import ValidationError

from portal.auth.fiscal_code import is_valid as is_valid_fiscal_code
from portal.auth.fiscal_code import normalise as normalise_fiscal_code


class FiscalCode:
    def __call__(self, form, field):
        if field.data and not is_valid_fiscal_code(field.data):
            raise ValidationError(
                _l("This fiscal code is not valid: check the 16 characters, the last one too.")
            )
        field.data = normalise_fiscal_code(field.data) if field.data else field.data


class Iban:
    def __call__(self, form, field):
        if not field.data:
            return
        compact = iban.compact(field.data)
        if not iban.is_valid(compact):
            raise ValidationError(
                _l("This IBAN is not valid: check it on your bank statement (it starts with IT).")
            )
        field.data = compact


class Phone:
    def __call__(self, form, field):
        if not field.data:
            return
        try:
            number = phonenumbers.parse(field.data, "IT")
        except phonenumbers.NumberParseException as error:
            raise ValidationError(_l("Write a phone number, like 0376 123456.")) from error
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(_l("This phone number is not valid: check the digits."))
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class DateRange:
    """A date between two bounds that may move with today (``min``/``max`` of the schema)."""

    def __init__(self, low: dt.date | None, high: dt.date | None):
        self.low, self.high = low, high

    def __call__(self, form, field):
        if field.data is None:
            return
        if self.low and field.data < self.low:
            raise ValidationError(
                _("The date cannot be before %(date)s.", date=format_date(self.low))
            )
        if self.high and field.data > self.high:
            raise ValidationError(
                _("The date cannot be after %(date)s.", date=format_date(self.high))
            )


POSTCODE = re.compile(r"^[0-9]{5}$")


class Postcode:
    def __call__(self, form, field):
        if field.data and not POSTCODE.match(field.data.strip()):
            raise ValidationError(_l("A postcode (CAP) has 5 digits."))
