"""Two first logins of one person at the same moment: one person, and no error page."""

from sqlalchemy import func, select

from portal.auth import people
from portal.auth.models import User
from portal.extensions import db

FISCAL_NUMBER = "BNCLRA85M41F205X"


def test_a_person_added_meanwhile_is_found_not_added_twice(app, monkeypatch):
    # The other login's row, committed between our look-up and our insert.
    other = User(fiscal_number=FISCAL_NUMBER, given_name="Laura", family_name="Bianchi")
    db.session.add(other)
    db.session.commit()
    real_scalar = db.session.scalar
    lookups = []

    def missed_the_first_time(statement, *args, **kwargs):
        lookups.append(statement)
        return None if len(lookups) == 1 else real_scalar(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "scalar", missed_the_first_time)
    user = people.person_record(FISCAL_NUMBER)
    monkeypatch.undo()
    assert user.id == other.id
    user.given_name = "Laura Maria"  # the login goes on in the same transaction
    db.session.commit()
    count = db.session.scalar(
        select(func.count()).select_from(User).where(User.fiscal_number == FISCAL_NUMBER)
    )
    assert count == 1


def test_a_new_person_is_added_once(app):
    user = people.person_record(FISCAL_NUMBER)
    db.session.commit()
    assert people.person_record(FISCAL_NUMBER).id == user.id
