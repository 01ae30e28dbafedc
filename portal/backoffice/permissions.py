"""Who on the staff may see and do what. Every back-office view asks here, never decides itself.

Operators work on their queues (all queues of their PUA unless their grant names some);
supervisors on every queue of their PUA; administrators everywhere. Editors have no access to
requests. Citizens have no access to the back office at all."""

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, or_, select

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
    # The queues in scope as (slug, id), by slug: what the inbox's queue filter offers.
    queue_slugs: tuple[tuple[str, int], ...] = ()
    # (queue id, inbox version) of the queues in scope: they change whenever a request does.
    versions: tuple[tuple[int, int], ...] = ()

    @property
    def is_staff(self) -> bool:
        return self.admin or bool(self.supervised_desks) or bool(self.queues)

    def queue_id(self, slug: str) -> int | None:
        return next((ident for name, ident in self.queue_slugs if name == slug), None)


NO_SCOPE = Scope(False, frozenset(), frozenset())


def _scope_query():
    desk_wide = and_(
        or_(StaffRole.role == "supervisor", StaffRole.queue_id.is_(None)),
        StaffRole.role.in_(("operator", "supervisor")),
        Queue.desk_id == StaffRole.desk_id,
    )
    return (
        select(StaffRole.role, StaffRole.desk_id, Queue.id, Queue.slug, Queue.inbox_version)
        .outerjoin(
            Queue,
            or_(
                and_(StaffRole.role == "operator", Queue.id == StaffRole.queue_id),
                desk_wide,
                StaffRole.role == "admin",
            ),
        )
        .where(StaffRole.fiscal_number == bindparam("fiscal_number"))
    )


# Built once: every back-office page asks it.
SCOPE_QUERY = _scope_query()


def scope(user: User | None) -> Scope:
    """The user's grants and the queues they open, read in one query: an operator's queue,
    every queue of a desk for desk-wide operators and supervisors, every queue for
    administrators; with the queues' inbox versions."""
    if user is None:
        return NO_SCOPE
    rows = db.session.execute(SCOPE_QUERY, {"fiscal_number": user.fiscal_number}).all()
    admin = any(row.role == "admin" for row in rows)
    supervised = frozenset(row.desk_id for row in rows if row.role == "supervisor")
    queues = {row.slug: row.id for row in rows if row.id is not None}
    versions = {row.id: row.inbox_version for row in rows if row.id is not None}
    return Scope(
        admin,
        supervised,
        frozenset(queues.values()),
        tuple(sorted(queues.items())),
        tuple(sorted(versions.items())),
    )


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
