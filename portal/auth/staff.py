"""Staff roles granted by fiscal number, from a YAML file (the demo's, or a deployment's)."""

from pathlib import Path

import yaml
from sqlalchemy import select

from portal.auth.fiscal_code import is_valid
from portal.auth.models import STAFF_ROLES, StaffRole
from portal.catalog.models import Desk, Queue
from portal.extensions import db

DESK_ROLES = {"operator", "supervisor"}


class StaffFileError(ValueError):
    pass


def load(path: Path) -> int:
    """Make the staff roles exactly those of the file; return how many grants it holds.
    Operators may list `queues` (slugs of their desk's queues); without it, all of them."""
    entries = (yaml.safe_load(Path(path).read_text()) or {}).get("staff") or []
    desks = {desk.slug: desk for desk in db.session.scalars(select(Desk))}
    queues = {queue.slug: queue for queue in db.session.scalars(select(Queue))}
    wanted = set()
    for number, entry in enumerate(entries, start=1):
        fiscal, role, pua = entry.get("fiscal_number"), entry.get("role"), entry.get("pua")
        if not is_valid(fiscal):
            raise StaffFileError(f"{path}, entry {number}: {fiscal!r} is not a valid fiscal code")
        if role not in STAFF_ROLES:
            raise StaffFileError(f"{path}, entry {number}: role must be one of {STAFF_ROLES}")
        if (role in DESK_ROLES) != bool(pua):
            raise StaffFileError(
                f"{path}, entry {number}: operators and supervisors need `pua`, others must not"
            )
        if pua and pua not in desks:
            raise StaffFileError(f"{path}, entry {number}: unknown PUA {pua!r}")
        entry_queues = entry.get("queues") or [None]
        if entry_queues != [None] and role != "operator":
            raise StaffFileError(f"{path}, entry {number}: only operators have `queues`")
        for slug in entry_queues:
            queue = queues.get(slug) if slug else None
            if slug and (queue is None or queue.desk_id != desks[pua].id):
                raise StaffFileError(f"{path}, entry {number}: {slug!r} is not a queue of {pua}")
            wanted.add((fiscal, role, desks[pua].id if pua else None, queue.id if queue else None))
    existing = {
        (g.fiscal_number, g.role, g.desk_id, g.queue_id): g
        for g in db.session.scalars(select(StaffRole))
    }
    for key, grant in existing.items():
        if key not in wanted:
            db.session.delete(grant)
    for fiscal, role, desk_id, queue_id in wanted - existing.keys():
        db.session.add(
            StaffRole(fiscal_number=fiscal, role=role, desk_id=desk_id, queue_id=queue_id)
        )
    db.session.flush()
    return len(wanted)
