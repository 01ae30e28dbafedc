"""Catalog queries and the few state changes the public pages make (page ratings)."""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from portal.catalog.models import (
    Area,
    Category,
    Comune,
    Desk,
    LifeEvent,
    OpeningHours,
    Service,
    ServiceFeedback,
    ServiceOffering,
)
from portal.catalog.models.service import service_life_event, service_topic
from portal.extensions import db

LOCAL_TZ = ZoneInfo("Europe/Rome")


def local_now() -> dt.datetime:
    """The time on the territory's clocks (opening hours are local time)."""
    return dt.datetime.now(LOCAL_TZ)


def _published():
    return select(Service).where(Service.published.is_(True))


# Slugs are lowercase words joined by hyphens: anything else names nothing, and is not even
# looked up (a NUL byte would make PostgreSQL refuse the query).
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def is_slug(value) -> bool:
    return isinstance(value, str) and len(value) <= 80 and SLUG.fullmatch(value) is not None


def find_service(slug: str) -> Service | None:
    """A published service by slug."""
    if not is_slug(slug):
        return None
    return db.session.execute(_published().where(Service.slug == slug)).scalar_one_or_none()


def services_by_slug(slugs) -> dict[str, Service]:
    """Published services by slug, loaded in one query (for a page of search results)."""
    slugs = [slug for slug in slugs or () if is_slug(slug)]
    if not slugs:
        return {}
    query = _published().where(Service.slug.in_(slugs))
    return {service.slug: service for service in db.session.execute(query).scalars()}


def find_by_slug(model, slug: str):
    """A territory or taxonomy row (comune, desk, category, life event) by slug."""
    if not is_slug(slug):
        return None
    return db.session.execute(select(model).filter_by(slug=slug)).scalar_one_or_none()


def most_requested(limit: int = 6) -> list[Service]:
    """The services people ask for most, for the home page."""
    query = _published().order_by(Service.popularity.desc(), Service.slug).limit(limit)
    return list(db.session.execute(query).scalars())


def count_services() -> int:
    """How many published services the catalog has."""
    query = select(func.count()).select_from(Service).where(Service.published.is_(True))
    return db.session.execute(query).scalar_one()


def services_in_category(category: Category) -> list[Service]:
    """Services whose topics include the category, the ones filed under it first."""
    query = (
        _published()
        .join(service_topic, service_topic.c.service_id == Service.id)
        .where(service_topic.c.category_id == category.id)
        .order_by((Service.category_id != category.id), Service.popularity.desc())
    )
    return list(db.session.execute(query).scalars())


def services_for_life_event(event: LifeEvent) -> list[Service]:
    query = (
        _published()
        .join(service_life_event, service_life_event.c.service_id == Service.id)
        .where(service_life_event.c.life_event_id == event.id)
        .order_by(Service.popularity.desc())
    )
    return list(db.session.execute(query).scalars())


def services_offered_by(desk: Desk) -> list[Service]:
    """Services available to the residents of the comuni a desk serves."""
    query = (
        _published()
        .join(ServiceOffering, ServiceOffering.service_id == Service.id)
        .where(ServiceOffering.desk_id == desk.id)
        .order_by(Service.popularity.desc())
    )
    return list(db.session.execute(query).scalars())


def areas() -> list[Area]:
    return list(db.session.execute(select(Area).order_by(Area.position)).scalars())


def categories() -> list[Category]:
    return list(db.session.execute(select(Category).order_by(Category.position)).scalars())


def life_events() -> list[LifeEvent]:
    return list(db.session.execute(select(LifeEvent).order_by(LifeEvent.position)).scalars())


def comuni() -> list[Comune]:
    return list(db.session.execute(select(Comune).order_by(Comune.name)).scalars())


def desks() -> list[Desk]:
    return list(db.session.execute(select(Desk).order_by(Desk.name)).scalars())


@dataclass(frozen=True)
class Availability:
    """Whether a service is offered to a comune's residents, and where they go."""

    comune: Comune
    offering: ServiceOffering | None

    @property
    def offered(self) -> bool:
        return self.offering is not None

    @property
    def desk(self) -> Desk:
        """The desk to contact: the offering one, or the comune's own PUA to be redirected."""
        return self.offering.desk if self.offering else self.comune.desk


def availability(service: Service, comune: Comune) -> Availability:
    """Is `service` offered in `comune`, and by which desk."""
    return Availability(comune=comune, offering=service.offering_for(comune.desk))


@dataclass(frozen=True)
class DayHours:
    """A desk's opening intervals on one day, and whether it is open at `now`."""

    date: dt.date
    slots: list[OpeningHours]
    open_now: bool


def hours_today(desk: Desk, now: dt.datetime | None = None) -> DayHours:
    """Today's opening hours of a desk, in local time."""
    now = now or local_now()
    slots = desk.hours_on(now.weekday())
    open_now = any(slot.opens <= now.time() < slot.closes for slot in slots)
    return DayHours(date=now.date(), slots=slots, open_now=open_now)


def week_hours(desk: Desk) -> list[tuple[int, list[OpeningHours]]]:
    """Opening intervals for each weekday, Monday first; days without any are left out."""
    return [(day, desk.hours_on(day)) for day in range(7) if desk.hours_on(day)]


def record_feedback(service: Service, locale: str, rating: int) -> None:
    """Store one anonymous "was this page clear?" rating."""
    db.session.add(ServiceFeedback(service_id=service.id, locale=locale, rating=rating))
    db.session.commit()
