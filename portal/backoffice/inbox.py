"""The inbox query: open requests of the staff member's queues, keyset-paginated.

Pages follow a cursor (the last row's sort key), never an OFFSET: page 10,000 costs what page 1
costs. The default order, most urgent first, walks the partial index on open requests by
deadline; "newest first" walks (queue, submitted_at, id)."""

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_

from portal.auth.models import User
from portal.catalog.models import Comune, Queue
from portal.requests.models import OPEN_STATES, Request

PAGE_SIZE = 50
SORTS = ("deadline", "newest")
REFERENCE = re.compile(r"^PUA-[A-Z]{3}-\d{4}-\d{6}$")
FISCAL = re.compile(r"^[A-Z0-9]{16}$")


class BadCursor(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    queue_id: int | None = None
    state: str = "open"  # "open", "all" or one state
    assigned: str = "any"  # "any", "mine", "unassigned"
    overdue: bool = False
    q: str = ""
    sort: str = "deadline"


def encode_cursor(sort: str, row) -> str:
    key = row.deadline.isoformat() if sort == "deadline" else row.submitted_at.isoformat()
    return f"{key}_{row.id}"


def decode_cursor(sort: str, value: str):
    try:
        key, ident = value.rsplit("_", 1)
        ident = int(ident)
        key = dt.date.fromisoformat(key) if sort == "deadline" else dt.datetime.fromisoformat(key)
    except (ValueError, AttributeError) as error:
        raise BadCursor(value) from error
    return key, ident


def page(queue_ids, filters: Filters, user: User, cursor: str | None, today: dt.date):
    """(rows, next cursor or None). Rows carry the columns the inbox shows, nothing more."""
    if not queue_ids:
        return [], None
    assignee = User.__table__.alias("assignee")
    query = (
        select(
            Request.id,
            Request.reference,
            Request.state,
            Request.service_id,
            Request.submitted_at,
            Request.deadline,
            Request.paused_since,
            Request.beneficiary_given_name,
            Request.beneficiary_family_name,
            Comune.name.label("comune"),
            Queue.slug.label("queue"),
            assignee.c.given_name.label("assignee_given"),
            assignee.c.family_name.label("assignee_family"),
        )
        .join(Comune, Comune.id == Request.comune_id)
        .join(Queue, Queue.id == Request.queue_id)
        .outerjoin(assignee, assignee.c.id == Request.assigned_to_id)
    )
    wanted = [filters.queue_id] if filters.queue_id in queue_ids else sorted(queue_ids)
    query = query.where(Request.queue_id.in_(wanted))
    if filters.state == "open":
        query = query.where(Request.state.in_(OPEN_STATES))
    elif filters.state != "all":
        query = query.where(Request.state == filters.state)
    if filters.assigned == "mine":
        query = query.where(Request.assigned_to_id == user.id)
    elif filters.assigned == "unassigned":
        query = query.where(Request.assigned_to_id.is_(None))
    if filters.overdue:
        query = query.where(
            Request.deadline < today,
            Request.paused_since.is_(None),
            Request.state.in_(OPEN_STATES),
        )
    text = filters.q.strip().upper()
    if REFERENCE.match(text):
        query = query.where(Request.reference == text)
    elif FISCAL.match(text):
        applicants = select(User.id).where(User.fiscal_number == text)
        query = query.where(
            or_(Request.beneficiary_fiscal_code == text, Request.applicant_id.in_(applicants))
        )
    if filters.sort == "newest":
        if cursor:
            key, ident = decode_cursor("newest", cursor)
            query = query.where(tuple_(Request.submitted_at, Request.id) < tuple_(key, ident))
        query = query.order_by(Request.submitted_at.desc(), Request.id.desc())
    else:
        if cursor:
            key, ident = decode_cursor("deadline", cursor)
            # A row comparison: PostgreSQL starts the index scan right at the cursor.
            query = query.where(tuple_(Request.deadline, Request.id) > tuple_(key, ident))
        query = query.order_by(Request.deadline, Request.id)
    from portal.extensions import db

    rows = db.session.execute(query.limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (encode_cursor(filters.sort, rows[-1]) if more and rows else None)


def sla(row, today: dt.date) -> tuple[str, str, int | None]:
    """(css class, kind, days left) of a row's SLA countdown; the template writes it in words."""
    if row.state not in OPEN_STATES:
        return "sla-none", "done", None
    if row.paused_since is not None:
        return "sla-paused", "paused", (row.deadline - row.paused_since.date()).days
    left = (row.deadline - today).days
    if left < 0:
        return "sla-overdue", "overdue", left
    if left <= 3:
        return "sla-urgent", "urgent", left
    if left <= 10:
        return "sla-soon", "soon", left
    return "sla-ok", "ok", left
