"""Who logged in: the person's record, made or brought up to date from a provider's claims,
and the provider's subject tied to it."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth import oidc
from portal.auth.fiscal_code import is_valid as is_valid_fiscal_code
from portal.auth.fiscal_code import normalise as normalise_fiscal_code
from portal.auth.models import Identity, User, utcnow
from portal.extensions import db


def claims_person(profile: str, userinfo: dict) -> dict:
    """Names, fiscal number and contacts from a provider's userinfo, whichever the profile."""
    fiscal = userinfo.get(oidc.SPID_FISCAL_NUMBER) or userinfo.get("fiscal_number")
    phone = userinfo.get("phone_number") or userinfo.get(
        "https://attributes.eid.gov.it/phone_number"
    )
    return {
        "fiscal_number": normalise_fiscal_code(fiscal if isinstance(fiscal, str) else None),
        "given_name": str(userinfo.get("given_name") or "")[:200],
        "family_name": str(userinfo.get("family_name") or "")[:200],
        "email": str(userinfo["email"])[:254] if userinfo.get("email") else None,
        "phone": str(phone)[:40] if phone else None,
    }


def person_record(fiscal_number: str) -> User:
    """The person with this fiscal number, added if new. Two first logins of one person at the
    same moment make one row: the second insert fails on the unique fiscal number, its savepoint
    is undone and the row the first one committed is read instead."""
    found = select(User).where(User.fiscal_number == fiscal_number)
    user = db.session.scalar(found)
    if user is not None:
        return user
    try:
        with db.session.begin_nested():
            user = User(fiscal_number=fiscal_number)
            db.session.add(user)
    except IntegrityError:
        user = db.session.scalar(found)
        if user is None:  # the failure was something else
            raise
    return user


def remember_person(provider: oidc.Provider, subject: str, userinfo: dict) -> User:
    person = claims_person(provider.profile, userinfo)
    if not is_valid_fiscal_code(person["fiscal_number"]):
        raise oidc.LoginError("no_valid_fiscal_number")
    user = person_record(person["fiscal_number"])
    user.given_name = person["given_name"]
    user.family_name = person["family_name"]
    user.email = person["email"]
    user.phone = person["phone"]
    user.last_login_at = utcnow()
    db.session.flush()
    identity = db.session.scalar(
        select(Identity).where(Identity.provider == provider.entity_id, Identity.subject == subject)
    )
    if identity is None:
        identity = Identity(
            user=user, provider=provider.entity_id, profile=provider.profile, subject=subject
        )
        db.session.add(identity)
    elif identity.user_id != user.id:
        # A provider's subject names one person: a different fiscal number is a forgery or a
        # provider error, and must not hand over someone else's account.
        raise oidc.LoginError("subject_fiscal_number_mismatch")
    identity.last_login_at = utcnow()
    return user
