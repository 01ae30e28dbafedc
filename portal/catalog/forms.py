"""Forms of the public catalog pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired


class PageRatingForm(FlaskForm):
    """ "Was this page clear?" on every service card: 1 (not at all) to 5 (very)."""

    rating = RadioField(
        _l("How clear was this page?"),
        choices=[
            SelectChoice("1", _l("1 - Not clear at all")),
            SelectChoice("2", _l("2 - Not very clear")),
            SelectChoice("3", _l("3 - Fairly clear")),
            SelectChoice("4", _l("4 - Clear")),
            SelectChoice("5", _l("5 - Very clear")),
        ],
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
