"""Keeps the index in step with the catalog: after every commit that touches a service, its
document is rewritten (or removed), with no full rebuild; a missing or corrupt index is rebuilt
at start-up."""

import fcntl
import logging
from contextlib import contextmanager

from flask import current_app, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.caching import LruCache
from portal.catalog.models import Comune, Service, ServiceOffering, ServiceTranslation
from portal.extensions import db
from portal.search.index import SearchIndex, service_document

log = logging.getLogger(__name__)

PENDING_IDS = "search_pending_service_ids"
PENDING_DOCS = "search_pending_documents"
PENDING_DELETES = "search_pending_deletions"


def published_services():
    query = select(Service).where(Service.published.is_(True)).order_by(Service.id)
    return db.session.execute(query).scalars()


def rebuild(app, progress=None) -> int:
    """Rebuild the whole index from the database; returns the number of services indexed."""
    index: SearchIndex = app.extensions["search_index"]
    count = index.rebuild(published_services(), progress)
    app.extensions["search_cache"].clear()
    return count


@contextmanager
def startup_lock(index: SearchIndex):
    """One process at a time checks and rebuilds the index (gunicorn starts several)."""
    index.directory.parent.mkdir(parents=True, exist_ok=True)
    lock_path = index.directory.with_name(index.directory.name + ".lock")
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_usable(app) -> str:
    """Rebuild a missing or corrupt index at start-up; returns what was done."""
    index: SearchIndex = app.extensions["search_index"]
    with startup_lock(index):
        return _ensure_usable(app, index)


def _ensure_usable(app, index: SearchIndex) -> str:
    if index.is_usable():
        return "ok"
    try:
        with app.app_context():
            if not inspect(db.engine).has_table("service"):
                index.create_empty()
                return "created empty (no catalog yet)"
            count = rebuild(app)
    except SQLAlchemyError as error:
        log.error("search index missing and the database is unreachable: %s", error)
        return "missing"
    log.warning("search index rebuilt at start-up: %d services", count)
    return "rebuilt"


def _touched_service_ids(session) -> set[int]:
    ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Service) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, ServiceTranslation | ServiceOffering) and obj.service_id:
            ids.add(obj.service_id)
        elif isinstance(obj, Comune) and obj.desk_id:
            offered = select(ServiceOffering.service_id).where(
                ServiceOffering.desk_id == obj.desk_id
            )
            ids.update(session.execute(offered).scalars())
    return ids


def _after_flush(session, _context):
    if not has_app_context() or "search_index" not in current_app.extensions:
        return
    pending = session.info.setdefault(PENDING_IDS, set())
    pending.update(_touched_service_ids(session))
    deletions = session.info.setdefault(PENDING_DELETES, set())
    deletions.update(obj.slug for obj in session.deleted if isinstance(obj, Service))


def _after_flush_postexec(session, _context):
    ids = session.info.pop(PENDING_IDS, None)
    if not ids:
        return
    locales = current_app.extensions["search_index"].locales
    docs = session.info.setdefault(PENDING_DOCS, {})
    deletions = session.info.setdefault(PENDING_DELETES, set())
    services = session.execute(select(Service).where(Service.id.in_(ids))).scalars()
    for service in services:
        if service.published:
            docs[service.slug] = service_document(service, locales)
            deletions.discard(service.slug)
        else:
            docs.pop(service.slug, None)
            deletions.add(service.slug)


def _after_commit(session):
    docs = session.info.pop(PENDING_DOCS, {})
    deletions = session.info.pop(PENDING_DELETES, set())
    if not (docs or deletions) or not has_app_context():
        return
    try:
        current_app.extensions["search_index"].update(list(docs.values()), deletions)
        current_app.extensions["search_cache"].clear()
    except Exception:  # the catalog change is committed; a reindex repairs the index
        log.exception("search index update failed; run `flask search reindex`")


def _after_rollback(session):
    for key in (PENDING_IDS, PENDING_DOCS, PENDING_DELETES):
        session.info.pop(key, None)


_listening = False


def listen() -> None:
    """Hook the index to every SQLAlchemy session once per process."""
    global _listening
    if _listening:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", lambda session, _tx: _after_rollback(session))
    _listening = True


def init_app(app) -> None:
    app.extensions["search_index"] = SearchIndex(
        app.config["SEARCH_INDEX_DIR"],
        app.config["SUPPORTED_LOCALES"],
        array_cache_bytes=app.config["SEARCH_ARRAY_CACHE_MB"] * 2**20,
    )
    # Recent results; the index generation is part of their key.
    app.extensions["search_cache"] = LruCache()
    listen()
    app.extensions["search_startup"] = ensure_usable(app)
