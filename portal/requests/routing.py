"""Which PUA queue a request goes to.

Routing rules (data, edited by administrators) are tried by priority: the first whose every
condition matches decides. Without one, the default of CATALOG-CONTRACT.md: the queue
`{pua serving the comune}-{area of the service}`, and failing that `{pua}-generale`. The
decision and the rule that made it are stored on the request."""

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from portal.catalog.models import Comune, Queue, Service
from portal.extensions import db
from portal.requests.models import Request, RoutingRule

AGE_GROUPS = ("minor", "adult", "elderly")


class RoutingError(RuntimeError):
    """No queue at all for this comune: the territory data is incomplete."""


@dataclass(frozen=True)
class Decision:
    queue: Queue
    rule: str


def age_group(birth_date: dt.date | None, today: dt.date | None = None) -> str | None:
    if birth_date is None:
        return None
    today = today or dt.date.today()
    years = (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )
    return "minor" if years < 18 else "elderly" if years >= 65 else "adult"


def matches(rule: RoutingRule, service: Service, comune: Comune, group: str | None) -> bool:
    return (
        (rule.service_id is None or rule.service_id == service.id)
        and (rule.area_id is None or rule.area_id == service.area_id)
        and (rule.comune_id is None or rule.comune_id == comune.id)
        and (rule.desk_id is None or rule.desk_id == comune.desk_id)
        and (rule.age_group is None or rule.age_group == group)
    )


def describe(rule: RoutingRule) -> str:
    conditions = [
        f"service={rule.service.slug}" if rule.service_id else None,
        f"area={rule.area.slug}" if rule.area_id else None,
        f"comune={rule.comune.slug}" if rule.comune_id else None,
        f"pua={rule.desk.slug}" if rule.desk_id else None,
        f"age={rule.age_group}" if rule.age_group else None,
    ]
    text = " and ".join(c for c in conditions if c) or "any request"
    label = f" ({rule.description})" if rule.description else ""
    return f"rule #{rule.id} priority {rule.priority}: {text} -> {rule.queue.slug}{label}"


def active_rules() -> list[RoutingRule]:
    return list(
        db.session.scalars(
            select(RoutingRule)
            .where(RoutingRule.active.is_(True))
            .order_by(RoutingRule.priority, RoutingRule.id)
        )
    )


def route(
    service: Service,
    comune: Comune,
    birth_date: dt.date | None = None,
    rules: list[RoutingRule] | None = None,
) -> Decision:
    group = age_group(birth_date)
    for rule in active_rules() if rules is None else rules:
        if matches(rule, service, comune, group):
            return Decision(rule.queue, describe(rule))
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


def check() -> list[str]:
    """Every (online service, comune where it is offered) pair that no queue would take."""
    problems = []
    services = db.session.scalars(select(Service).where(Service.online.is_(True)))
    comuni = list(db.session.scalars(select(Comune)))
    rules = active_rules()
    for service in services:
        desks = {offering.desk_id for offering in service.offerings}
        for comune in comuni:
            if comune.desk_id not in desks:
                continue
            try:
                route(service, comune, rules=rules)
            except RoutingError as error:
                problems.append(f"{service.slug} in {comune.slug}: {error}")
    return problems


def preview(candidate_rules: list[RoutingRule]) -> list[tuple[str, str, str, str]]:
    """What a change of rules would move: (service, comune, queue now, queue after) for every
    pair of an online service and a comune where it is offered whose queue would change."""
    moves = []
    current = active_rules()
    services = list(db.session.scalars(select(Service).where(Service.online.is_(True))))
    comuni = list(db.session.scalars(select(Comune)))
    for service in services:
        desks = {offering.desk_id for offering in service.offerings}
        for comune in comuni:
            if comune.desk_id not in desks:
                continue
            before = route(service, comune, rules=current).queue.slug
            after = route(service, comune, rules=candidate_rules).queue.slug
            if before != after:
                moves.append((service.slug, comune.slug, before, after))
    return moves


# The trace describe() writes for a rule, read back to explain it in words.
RULE_TRACE = re.compile(
    r"^rule #(?P<number>\d+) priority (?P<priority>-?\d+): .*?(?: \((?P<label>.*)\))?$"
)


def in_words(request: Request, lang: str) -> str:
    """Why the request is in its queue, in the reader's language. The request keeps the
    decision as the technical trace `flask routing explain` prints; staff read this instead."""
    rerouted = next((e for e in reversed(request.events) if e.kind == "reroute"), None)
    if rerouted is not None:
        name = rerouted.actor.full_name if rerouted.actor else _("a colleague")
        return _("Re-routed by %(name)s: %(reason)s", name=name, reason=rerouted.note or "")
    trace = request.routing_rule or ""
    if trace.startswith("default:"):
        return _(
            "Default route: the PUA desk serving %(comune)s, area “%(area)s”",
            comune=request.comune.name,
            area=request.service.area.name_in(lang),
        )
    if trace.startswith("fallback:"):
        return _("The PUA desk has no queue for this area: its general queue")
    rule = RULE_TRACE.match(trace)
    if rule:
        text = _(
            "Routing rule no. %(number)s (priority %(priority)s)",
            number=rule["number"],
            priority=rule["priority"],
        )
        return f"{text}: {rule['label']}" if rule["label"] else text
    return trace
