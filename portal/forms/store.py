"""Form schemas into the catalog: `demo load` stores each service's form, versioned."""

from pathlib import Path

from sqlalchemy import func, select

from portal.catalog.models import Service
from portal.extensions import db
from portal.forms.models import Draft, ServiceForm
from portal.forms.reading import SchemaError, load_folder


def load(folder: Path) -> int:
    """Store every schema of ``folder``; return how many forms the catalog holds.

    A new version is added beside the old ones (drafts keep theirs). Changing a version that
    drafts already use is refused: raise the version number instead."""
    schemas = load_folder(folder)
    services = {s.slug: s for s in db.session.scalars(select(Service))}
    problems = []
    for slug, schema in schemas.items():
        service = services.get(slug)
        if service is None or not service.online:
            problems.append(f"{slug}: no online service with this slug")
            continue
        stored = db.session.scalar(
            select(ServiceForm).where(
                ServiceForm.service_id == service.id, ServiceForm.version == schema.version
            )
        )
        if stored is None:
            db.session.add(
                ServiceForm(service_id=service.id, version=schema.version, definition=schema.source)
            )
        elif stored.definition != schema.source:
            in_use = db.session.scalar(
                select(func.count(Draft.id)).where(Draft.service_form_id == stored.id)
            )
            if in_use:
                problems.append(f"{slug}: version {schema.version} is in use; raise `version`")
            else:
                stored.definition = schema.source
    missing = sorted(s.slug for s in services.values() if s.online and s.slug not in schemas)
    problems += [f"{slug}: the service is online but has no form" for slug in missing]
    if problems:
        raise SchemaError(str(folder), problems)
    db.session.flush()
    return len(schemas)
