"""Forms of the login and profile pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.validators import Email, InputRequired, Length, Optional


class LoginForm(FlaskForm):
    """The identity provider chosen on the login page; choices come from the federation."""

    provider = SelectField(
        _l("Identity provider"),
        validators=[InputRequired(message=_l("Choose an identity provider."))],
        invalid_choice_message=_l(
            "This identity provider is not available: choose one from the list."
        ),
    )


class ContactEmailForm(FlaskForm):
    contact_email = EmailField(
        _l("Contact email"),
        description=_l(
            "Where we write about your requests, if different from the email of your digital "
            "identity. Leave it empty to use that one."
        ),
        validators=[
            Optional(),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            Email(
                message=_l("Write a valid email address, like name@example.it."),
                check_deliverability=False,
            ),
        ],
    )
