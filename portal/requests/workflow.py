"""The states of a request and the staff's transitions between them (DESIGN.md).

    submitted -> in_charge -> assessment -> project_defined -> closed
    waiting_citizen (documents or answers asked; the SLA clock stops), rerouted (moved to
    another queue, stays open), rejected, withdrawn (by the citizen, before assessment)

Every transition is a compare-and-set on the request's ``version``: of two staff members acting
on the same request at once, exactly one succeeds and the other is told what happened. Every
transition writes an event with who, when, from, to, why and what changed; nothing is deleted.
"""

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import update

from portal import audit
from portal.auth.models import User, utcnow
from portal.catalog.models import Queue
from portal.extensions import db
from portal.requests.models import InternalNote, Message, Request, RequestEvent

SLA_DAYS = 30
# action -> (states it may start from, state it leads to; None keeps the state)
TRANSITIONS = {
    "claim": (("submitted", "rerouted"), "in_charge"),
    "assign": (("submitted", "in_charge", "assessment", "waiting_citizen", "rerouted"), None),
    "assess": (("in_charge",), "assessment"),
    "ask_citizen": (("in_charge", "assessment"), "waiting_citizen"),
    "resume": (("waiting_citizen",), None),
    "define_project": (("assessment",), "project_defined"),
    "close": (("in_charge", "assessment", "project_defined"), "closed"),
    "reject": (("submitted", "in_charge", "assessment", "waiting_citizen", "rerouted"), "rejected"),
    "reroute": (("submitted", "in_charge", "assessment", "rerouted"), "rerouted"),
    "message": (("submitted", "in_charge", "assessment", "waiting_citizen", "rerouted"), None),
}
# What the citizen is told by mail, per action.
NOTIFY = {"claim", "ask_citizen", "define_project", "close", "reject", "reroute", "message"}


class TransitionError(ValueError):
    """The action is not possible: illegal from this state, or the page was stale."""


def allowed(request: Request, action: str) -> bool:
    sources, _target = TRANSITIONS[action]
    return request.state in sources


def available_actions(request: Request) -> list[str]:
    return [action for action in TRANSITIONS if allowed(request, action)]


def _compare_and_set(request: Request, version: int) -> None:
    """Claim the right to change the request: fails if anyone changed it since ``version``."""
    done = db.session.execute(
        update(Request)
        .where(Request.id == request.id, Request.version == version)
        .values(version=version + 1)
    ).rowcount
    if done != 1:
        db.session.rollback()
        db.session.refresh(request)
        holder = request.assigned_to.full_name if request.assigned_to else None
        raise TransitionError(
            _(
                "The request changed while you were looking at it (now: %(state)s%(who)s). "
                "Check it again before acting.",
                state=request.state,
                who=_(", taken by %(name)s", name=holder) if holder else "",
            )
        )
    db.session.refresh(request)


def perform(
    request: Request,
    action: str,
    actor: User,
    *,
    version: int,
    note: str = "",
    assignee: User | None = None,
    queue: Queue | None = None,
    uvm_date: dt.date | None = None,
    uvm_team: str = "",
    case_manager: str = "",
    agreed: bool | None = None,
) -> RequestEvent:
    """Apply one transition; raise TransitionError (nothing changed) when it is not possible."""
    if action not in TRANSITIONS:
        raise TransitionError(_("Unknown action."))
    if not allowed(request, action):
        raise TransitionError(_("This action is not possible while the request is in this state."))
    _compare_and_set(request, version)
    if not allowed(request, action):  # re-checked on the fresh row, under our version
        raise TransitionError(_("This action is not possible while the request is in this state."))
    before = snapshot(request)
    now = utcnow()
    public = True
    if action == "claim":
        request.assigned_to_id = actor.id
        request.in_charge_at = request.in_charge_at or now
    elif action == "assign":
        request.assigned_to_id = assignee.id
        public = False
    elif action == "assess":
        request.assessed_at = now
        request.uvm_date = uvm_date
        request.uvm_team = uvm_team or None
    elif action == "ask_citizen":
        request.paused_since = now
        request.state_before_pause = request.state
        _message(request, actor, note)
    elif action == "resume":
        resume(request)
    elif action == "define_project":
        request.project_defined_at = now
        request.case_manager = case_manager
        request.project_agreed = agreed
    elif action in ("close", "reject"):
        request.closed_at = now
        request.outcome = note
    elif action == "reroute":
        request.queue_id = queue.id
        request.routing_rule = f"re-routed by {actor.full_name}: {note}"[:300]
        request.assigned_to_id = None
    elif action == "message":
        _message(request, actor, note)
    target = TRANSITIONS[action][1]
    if action == "resume":
        target = request.state
    previous = before["state"]
    if target:
        request.state = target
    event = RequestEvent(
        request_id=request.id,
        actor_id=actor.id,
        kind=action,
        from_state=previous,
        to_state=request.state,
        note=note or None,
        public=public,
        detail={"before": before, "after": snapshot(request)},
    )
    db.session.add(event)
    db.session.flush()
    audit.record(
        f"request.{action}",
        "request",
        request.reference,
        actor_id=actor.id,
        detail={"before": event.detail["before"], "after": event.detail["after"]},
    )
    if action in NOTIFY:
        from portal.requests.services import notify_change

        notify_change(request, action, note)
    return event


def resume(request: Request) -> None:
    """End a pause: the days spent waiting for the citizen move the deadline forward."""
    if request.paused_since is None:
        return
    # Calendar days: a pause ended the day it began costs no day.
    paused = (utcnow().date() - request.paused_since.date()).days
    request.paused_days = (request.paused_days or 0) + paused
    request.deadline = request.deadline + dt.timedelta(days=paused)
    request.state = request.state_before_pause or "in_charge"
    request.paused_since = None
    request.state_before_pause = None


def _message(request: Request, actor: User, body: str) -> None:
    db.session.add(Message(request_id=request.id, author_id=actor.id, from_staff=True, body=body))


def add_note(request: Request, actor: User, body: str) -> InternalNote:
    note = InternalNote(request_id=request.id, author_id=actor.id, body=body)
    db.session.add(note)
    audit.record("request.note", "request", request.reference, actor_id=actor.id)
    db.session.add(
        RequestEvent(
            request_id=request.id,
            actor_id=actor.id,
            kind="note",
            public=False,
            from_state=request.state,
            to_state=request.state,
        )
    )
    return note


def snapshot(request: Request) -> dict:
    """The fields a transition may change, as the audit records them before and after."""
    return {
        "state": request.state,
        "queue": request.queue_id,
        "assigned_to": request.assigned_to_id,
        "deadline": request.deadline.isoformat() if request.deadline else None,
        "paused_since": request.paused_since.isoformat() if request.paused_since else None,
        "version": request.version,
    }
