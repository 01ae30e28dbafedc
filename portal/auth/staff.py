"""Staff roles granted by fiscal number, from a YAML file (the demo's, or a deployment's)."""

from pathlib import Path

import yaml
from sqlalchemy import delete, select

from portal.auth.fiscal_code import is_valid
from portal.auth.models import STAFF_ROLES, StaffRole
from portal.catalog.models import Desk
from portal.extensions import db

DESK_ROLES = {"operator", "supervisor"}


class StaffFileError(ValueError):
    pass


def load(path: Path) -> int:
    """Make the staff roles exactly those of the file; return how many grants it holds."""
    entries = (yaml.safe_load(Path(path).read_text()) or {}).get("staff") or []
    desks = {desk.slug: desk for desk in db.session.scalars(select(Desk))}
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
        wanted.add((fiscal, role, desks[pua].id if pua else None))
    existing = {
        (g.fiscal_number, g.role, g.desk_id): g for g in db.session.scalars(select(StaffRole))
    }
    for key, grant in existing.items():
        if key not in wanted:
            db.session.delete(grant)
    for fiscal, role, desk_id in wanted - existing.keys():
        db.session.add(StaffRole(fiscal_number=fiscal, role=role, desk_id=desk_id))
    db.session.flush()
    return len(wanted)


def clear() -> None:
    db.session.execute(delete(StaffRole))
