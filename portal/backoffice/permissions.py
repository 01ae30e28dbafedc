"""Who on the staff may see and do what. Every back-office view asks here, never decides itself.

Operators work on their queues (all queues of their PUA unless their grant names some);
supervisors on every queue of their PUA; administrators everywhere. Editors have no access to
requests. Citizens have no access to the back office at all."""

from dataclasses import dataclass

from sqlalchemy import select

from portal.auth.models import StaffRole, User
from portal.catalog.models import Queue
from portal.extensions import db

# Actions only supervisors (of the request's PUA) and administrators may take.
SUPERVISOR_ACTIONS = frozenset({"assign"})


@dataclass(frozen=True)
class Scope:
    admin: bool
    supervised_desks: frozenset[int]
    queues: frozenset[int]

    @property
    def is_staff(self) -> bool:
        return self.admin or bool(self.supervised_desks) or bool(self.queues)


def scope(user: User | None) -> Scope:
    if user is None:
        return Scope(False, frozenset(), frozenset())
    grants = list(
        db.session.scalars(select(StaffRole).where(StaffRole.fiscal_number == user.fiscal_number))
    )
    admin = any(g.role == "admin" for g in grants)
    supervised = frozenset(g.desk_id for g in grants if g.role == "supervisor")
    queues = set()
    desk_wide = {g.desk_id for g in grants if g.role == "operator" and g.queue_id is None}
    queues |= {g.queue_id for g in grants if g.role == "operator" and g.queue_id is not None}
    if desk_wide or supervised:
        queues |= set(
            db.session.scalars(
                select(Queue.id).where(Queue.desk_id.in_(desk_wide | set(supervised)))
            )
        )
    if admin:
        queues = set(db.session.scalars(select(Queue.id)))
    return Scope(admin, supervised, frozenset(queues))


def can_view(user_scope: Scope, request) -> bool:
    return user_scope.admin or request.queue_id in user_scope.queues


def can_act(user_scope: Scope, request, action: str) -> bool:
    if not can_view(user_scope, request):
        return False
    if action in SUPERVISOR_ACTIONS:
        return user_scope.admin or request.queue.desk_id in user_scope.supervised_desks
    return True


def can_supervise(user_scope: Scope) -> bool:
    return user_scope.admin or bool(user_scope.supervised_desks)


def colleagues(request) -> list[User]:
    """Staff who could take this request: operators of its queue and supervisors of its PUA."""
    grants = db.session.scalars(
        select(StaffRole).where(
            StaffRole.desk_id == request.queue.desk_id,
            StaffRole.role.in_(("operator", "supervisor")),
        )
    )
    numbers = {
        g.fiscal_number
        for g in grants
        if g.role == "supervisor" or g.queue_id in (None, request.queue_id)
    }
    if not numbers:
        return []
    return list(
        db.session.scalars(
            select(User).where(User.fiscal_number.in_(numbers)).order_by(User.family_name)
        )
    )
