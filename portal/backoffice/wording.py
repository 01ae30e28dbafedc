"""What staff read on the back office's pages, already written: names of states, actions and
events, SLA countdowns in words, dates, service titles, and the inbox's rows."""

import datetime as dt
import functools
import time
from dataclasses import dataclass

from babel import dates as babel_dates
from flask import g, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.backoffice import inbox
from portal.catalog.models import ServiceTranslation
from portal.extensions import db

ACTION_LABELS = {
    "claim": _l("Take in charge"),
    "assign": _l("Assign to a colleague"),
    "assess": _l("Start the assessment"),
    "ask_citizen": _l("Ask the citizen for documents or answers"),
    "resume": _l("Resume (the citizen has answered)"),
    "define_project": _l("Define the individual project"),
    "close": _l("Close with an outcome"),
    "reject": _l("Reject"),
    "reroute": _l("Re-route to another queue"),
    "message": _l("Write to the citizen"),
}
# The states as staff speak of them (the citizen's page says "waiting for your answer").
STAFF_STATE_LABELS = {
    "submitted": _l("To take in charge"),
    "in_charge": _l("In charge"),
    "assessment": _l("Being assessed"),
    "waiting_citizen": _l("Waiting for the citizen"),
    "project_defined": _l("Project defined"),
    "rerouted": _l("Re-routed, to take in charge"),
    "closed": _l("Closed"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn by the citizen"),
}
BACKOFFICE_EVENTS = {
    **ACTION_LABELS,
    "submitted": _l("Request sent"),
    "withdrawn": _l("Withdrawn by the citizen"),
    "citizen_message": _l("The citizen wrote"),
    "note": _l("Internal note"),
    "rated": _l("The citizen rated the service"),
}


def sla_words(kind: str, days: int | None) -> str:
    if kind == "paused":
        return _("clock stopped, %(num)d days left", num=days)
    if kind == "overdue":
        return ngettext("overdue by %(num)d day", "overdue by %(num)d days", -days)
    if kind == "done":
        return _("concluded")
    return ngettext("%(num)d day left", "%(num)d days left", days)


@functools.lru_cache(maxsize=64)
def state_labels(locale: str) -> dict[str, str]:
    """The staff's names of the states in ``locale`` (call it within that locale)."""
    return {state: str(label) for state, label in STAFF_STATE_LABELS.items()}


@functools.lru_cache(maxsize=16384)
def short_date(locale: str, day: dt.date) -> str:
    """A date as the inbox writes it; Babel's formatting is slow and days repeat."""
    return babel_dates.format_date(day, "short", locale=locale)


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One line of the inbox, every text already written: the template only places them."""

    reference: str
    url: str
    service: str
    beneficiary: str
    comune: str
    queue: str
    state: str
    received: str
    sla_class: str
    sla: str
    assignee: str


def inbox_rows(rows, today) -> list[InboxRow]:
    """The page's rows with every text already written: the template only places them. Words
    and dates that repeat are formatted once (a page of 50 rows stays a few milliseconds)."""
    titles = service_titles(g.lang)
    locale = str(get_locale())
    states = state_labels(locale)
    nobody = _("nobody")
    # The URL of one request, built once and filled in for each row.
    link = url_for("backoffice.request_page", reference="REFERENCE")
    words = functools.lru_cache(maxsize=None)(sla_words)
    items = []
    for row in rows:
        css, kind, days = inbox.sla(row, today)
        items.append(
            InboxRow(
                reference=row.reference,
                url=link.replace("REFERENCE", row.reference),
                service=titles.get(row.service_id, ""),
                beneficiary=f"{row.beneficiary_given_name} {row.beneficiary_family_name}",
                comune=row.comune,
                queue=row.queue,
                state=states[row.state],
                received=short_date(locale, row.submitted_at.date()),
                sla_class=css,
                sla=words(kind, days),
                assignee=f"{row.assignee_given} {row.assignee_family}"
                if row.assignee_given
                else nobody,
            )
        )
    return items


_titles: dict[str, tuple[float, dict[int, str]]] = {}
TITLES_TTL = 60


def service_titles(lang: str) -> dict[int, str]:
    """Service titles in ``lang``, Italian where missing, read at most once a minute per
    process: the inbox shows them on every row of every page."""
    now = time.monotonic()
    cached = _titles.get(lang)
    if cached and cached[0] > now:
        return cached[1]
    titles = read_service_titles(lang)
    _titles[lang] = (now + TITLES_TTL, titles)
    return titles


def read_service_titles(lang: str) -> dict[int, str]:
    rows = db.session.execute(
        select(
            ServiceTranslation.service_id, ServiceTranslation.locale, ServiceTranslation.title
        ).where(ServiceTranslation.locale.in_({lang, "it"}))
    )
    titles: dict[int, str] = {}
    for service_id, locale, title in rows:
        if locale == lang or service_id not in titles:
            titles[service_id] = title
    return titles
