"""Which PUA queue a request goes to.

The default of CATALOG-CONTRACT.md: the queue `{pua serving the comune}-{area of the service}`,
else `{pua}-generale`. The decision and the rule that made it are stored on the request."""

from dataclasses import dataclass

from sqlalchemy import select

from portal.catalog.models import Comune, Queue, Service
from portal.extensions import db


class RoutingError(RuntimeError):
    """No queue at all for this comune: the territory data is incomplete."""


@dataclass(frozen=True)
class Decision:
    queue: Queue
    rule: str


def route(service: Service, comune: Comune) -> Decision:
    desk = comune.desk
    queues = {q.slug: q for q in db.session.scalars(select(Queue).where(Queue.desk_id == desk.id))}
    wanted = f"{desk.slug}-{service.area.slug}"
    if wanted in queues:
        return Decision(
            queues[wanted],
            f"default: the PUA serving {comune.slug} ({desk.slug}), area {service.area.slug}",
        )
    fallback = f"{desk.slug}-generale"
    if fallback in queues:
        return Decision(
            queues[fallback], f"fallback: no {wanted} queue, general queue of {desk.slug}"
        )
    raise RoutingError(f"no queue for comune {comune.slug}")
