"""The supervisor's dashboard (cruscotto): the indicators of the source documents, workload per
queue and per operator, and the requests past their deadline.

The indicators are those of the Piano di Zona project (seeds, "Indicatori di risultato"): every
signalled case assessed (100%), adherence to the individual project >= 90%, time from the signal
to the project <= 30 days, and the satisfaction questionnaire. Everything is counted in SQL or
from narrow column fetches, so that the page stays fast at a million requests."""

import csv
import datetime as dt
import io
import math
import statistics
import threading
import time
from dataclasses import dataclass

from flask import Response, abort, current_app, g, render_template, request
from flask_babel import format_percent
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, literal, select, true
from sqlalchemy.orm import aliased

from portal.auth.models import StaffRole, User, utcnow
from portal.backoffice import permissions
from portal.backoffice.blueprint import bp
from portal.catalog.models import Queue
from portal.catalog.models.service import ServiceTranslation
from portal.catalog.models.translated import FALLBACK_LOCALE
from portal.extensions import db
from portal.requests.models import OPEN_STATES, Request
from portal.requests.workflow import SLA_DAYS

DEFAULT_PERIOD_DAYS = 90
ASSESSED_TARGET = 1.0  # "casi segnalati / casi valutati = 100%"
ADHERENCE_TARGET = 0.9  # "adesione al Progetto ... >= 90%"
# (lowest, highest) days from submission to project; None: no upper bound.
DAY_BUCKETS = ((0, 10), (11, 20), (21, 30), (SLA_DAYS + 1, None))


@dataclass(frozen=True)
class QueueLoad:
    queue_id: int
    slug: str
    open: int
    unassigned: int
    overdue: int
    waiting: int


@dataclass(frozen=True)
class OperatorLoad:
    user_id: int
    name: str
    open: int


@dataclass(frozen=True)
class OverdueRequest:
    request_id: int
    reference: str
    service_title: str
    queue_slug: str
    assignee: str | None
    deadline: dt.date
    days_overdue: int


def _scope_queues(scope: permissions.Scope):
    """The queues a supervisor oversees (all of their PUAs'), or None for an administrator."""
    if scope.admin:
        return None
    return select(Queue.id).where(Queue.desk_id.in_(scope.supervised_desks))


def _in_scope(scope: permissions.Scope, column=Request.queue_id):
    queues = _scope_queues(scope)
    return true() if queues is None else column.in_(queues)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def nearest_rank(values: list, percent: float):
    """The nearest-rank percentile of sorted ``values`` (None when there are none)."""
    if not values:
        return None
    return values[max(1, math.ceil(percent / 100 * len(values))) - 1]


def _met(value: float | None, target: float) -> bool | None:
    # Shares are rounded to a tenth of a percent first: 0.8999999 is shown, and judged, as 90%.
    return None if value is None else round(value, 3) >= target


def indicators(scope: permissions.Scope, start: dt.date, end: dt.date) -> dict:
    """The indicators over the requests submitted from ``start`` to ``end`` (both included)."""
    period = and_(
        Request.submitted_at >= dt.datetime.combine(start, dt.time.min),
        Request.submitted_at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min),
        _in_scope(scope),
    )
    not_withdrawn = Request.state != "withdrawn"
    has_project = Request.project_defined_at.is_not(None)
    rated = Request.satisfaction.between(1, 5)
    counts = db.session.execute(
        select(
            func.count(),
            func.count(case((not_withdrawn, 1))),
            func.count(case((and_(not_withdrawn, Request.assessed_at.is_not(None)), 1))),
            func.count(case((has_project, 1))),
            func.count(case((and_(has_project, Request.project_agreed.is_(True)), 1))),
            func.count(case((rated, 1))),
            func.avg(case((rated, Request.satisfaction))),
        ).where(period)
    ).one()
    submitted, considered, assessed, projects, agreed, ratings, mean = counts
    # Only two timestamps per project cross the wire; the percentiles are computed here, the
    # same way on SQLite and PostgreSQL.
    days = sorted(
        (defined.date() - sent.date()).days
        for sent, defined in db.session.execute(
            select(Request.submitted_at, Request.project_defined_at).where(period, has_project)
        )
    )
    within = sum(1 for d in days if d <= SLA_DAYS)
    buckets = [
        (low, high, sum(1 for d in days if d >= low and (high is None or d <= high)))
        for low, high in DAY_BUCKETS
    ]
    result = {
        "start": start,
        "end": end,
        "submitted": submitted,
        "considered": considered,
        "assessed": assessed,
        "assessed_share": _share(assessed, considered),
        "projects": projects,
        "days_median": statistics.median(days) if days else None,
        "days_p90": nearest_rank(days, 90),
        "within_target": within,
        "within_target_share": _share(within, len(days)),
        "agreed": agreed,
        "adherence": _share(agreed, projects),
        "satisfaction_mean": float(mean) if mean is not None else None,
        "satisfaction_count": ratings,
        "day_buckets": buckets,
    }
    result["targets"] = {
        "assessed": _met(result["assessed_share"], ASSESSED_TARGET),
        "within_target": _met(result["within_target_share"], 1.0),
        "adherence": _met(result["adherence"], ADHERENCE_TARGET),
    }
    return result


# The indicators describe past periods: computed once, they serve every supervisor who opens
# the dashboard in the next few minutes (at a million requests a computation costs ~0.5 s).
_indicator_cache: dict[tuple, tuple[float, dict]] = {}
_indicator_lock = threading.Lock()


def cached_indicators(scope: permissions.Scope, start: dt.date, end: dt.date) -> dict:
    ttl = current_app.config["DASHBOARD_CACHE_SECONDS"]
    if not ttl:
        return indicators(scope, start, end)
    key = (scope.queues, start, end)
    now = time.monotonic()
    with _indicator_lock:
        hit = _indicator_cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
    numbers = indicators(scope, start, end)
    with _indicator_lock:
        if len(_indicator_cache) > 256:
            _indicator_cache.clear()
        _indicator_cache[key] = (now + ttl, numbers)
    return numbers


def _overdue_condition(today: dt.date):
    return and_(Request.paused_since.is_(None), Request.deadline < today)


def workload(scope: permissions.Scope, today: dt.date | None = None) -> list[QueueLoad]:
    """Open, unassigned, overdue and waiting-for-citizen requests of every queue in scope."""
    today = today or utcnow().date()
    is_open = and_(Request.queue_id == Queue.id, Request.state.in_(OPEN_STATES))
    rows = db.session.execute(
        select(
            Queue.id,
            Queue.slug,
            func.count(Request.id),
            func.count(case((Request.assigned_to_id.is_(None), Request.id))),
            func.count(case((_overdue_condition(today), Request.id))),
            func.count(case((Request.state == "waiting_citizen", Request.id))),
        )
        .select_from(Queue)
        .outerjoin(Request, is_open)
        .where(_in_scope(scope, Queue.id))
        .group_by(Queue.id, Queue.slug)
        .order_by(Queue.slug)
    )
    return [QueueLoad(*row) for row in rows]


def operator_workload(scope: permissions.Scope) -> list[OperatorLoad]:
    """Open requests assigned to each person: the PUA's staff (even with none) and anyone else
    who still holds requests of these queues, busiest first."""
    held = db.session.execute(
        select(User.id, User.given_name, User.family_name, func.count(Request.id))
        .join(Request, Request.assigned_to_id == User.id)
        .where(Request.state.in_(OPEN_STATES), _in_scope(scope))
        .group_by(User.id, User.given_name, User.family_name)
    )
    grants = select(StaffRole.fiscal_number).where(StaffRole.role.in_(("operator", "supervisor")))
    if not scope.admin:
        grants = grants.where(StaffRole.desk_id.in_(scope.supervised_desks))
    staff = db.session.execute(
        select(User.id, User.given_name, User.family_name, literal(0)).where(
            User.fiscal_number.in_(grants)
        )
    )
    # Two grouped queries rather than one outer join: the open requests are scanned once.
    people = {row[0]: row for row in staff} | {row[0]: row for row in held}
    rows = sorted(people.values(), key=lambda row: (-row[3], row[2], row[1]))
    return [
        OperatorLoad(user_id, f"{given} {family}".strip(), count)
        for user_id, given, family, count in rows
    ]


def overdue(
    scope: permissions.Scope, limit: int = 50, lang: str = FALLBACK_LOCALE, today=None
) -> list[OverdueRequest]:
    """Open requests, not waiting for the citizen, past their deadline: oldest deadline first."""
    today = today or utcnow().date()
    local = aliased(ServiceTranslation)
    italian = aliased(ServiceTranslation)
    title = func.coalesce(func.nullif(local.title, ""), italian.title, "")
    rows = db.session.execute(
        select(
            Request.id,
            Request.reference,
            title,
            Queue.slug,
            User.given_name,
            User.family_name,
            Request.deadline,
        )
        .join(Queue, Queue.id == Request.queue_id)
        .outerjoin(User, User.id == Request.assigned_to_id)
        .outerjoin(local, and_(local.service_id == Request.service_id, local.locale == lang))
        .outerjoin(
            italian,
            and_(italian.service_id == Request.service_id, italian.locale == FALLBACK_LOCALE),
        )
        .where(Request.state.in_(OPEN_STATES), _overdue_condition(today), _in_scope(scope))
        .order_by(Request.deadline, Request.id)
        .limit(limit)
    )
    return [
        OverdueRequest(
            request_id,
            reference,
            service_title,
            slug,
            f"{given or ''} {family or ''}".strip() or None,
            deadline,
            (today - deadline).days,
        )
        for request_id, reference, service_title, slug, given, family, deadline in rows
    ]


def _period(args) -> tuple[dt.date, dt.date, str | None]:
    """The period asked in ``dal``/``al``; the default one and a message when it is not valid."""
    end = utcnow().date()
    start = end - dt.timedelta(days=DEFAULT_PERIOD_DAYS)
    try:
        asked_start = dt.date.fromisoformat(args["dal"]) if args.get("dal") else start
        asked_end = dt.date.fromisoformat(args["al"]) if args.get("al") else end
    except ValueError:
        return (
            start,
            end,
            _(
                "The dates of the period are not valid: write them as year-month-day "
                "(for example 2026-01-31). The last %(days)d days are shown instead.",
                days=DEFAULT_PERIOD_DAYS,
            ),
        )
    if asked_start > asked_end:
        return (
            start,
            end,
            _(
                "The start of the period comes after its end. The last %(days)d days are shown "
                "instead.",
                days=DEFAULT_PERIOD_DAYS,
            ),
        )
    return asked_start, asked_end, None


def _supervisors_only() -> None:
    if not permissions.can_supervise(g.scope):
        abort(404)


def percent(value: float | None) -> str:
    """A share as the reader's locale writes percentages; "no data" when there is nothing."""
    return _("no data") if value is None else format_percent(value, "#,##0.#%")


@bp.get("/cruscotto")
def dashboard():
    _supervisors_only()
    start, end, error = _period(request.args)
    page = render_template(
        "backoffice/dashboard.html",
        numbers=cached_indicators(g.scope, start, end),
        queues=workload(g.scope),
        operators=operator_workload(g.scope),
        late=overdue(g.scope, lang=g.lang),
        period_error=error,
        percent=percent,
        sla_days=SLA_DAYS,
        assessed_target=ASSESSED_TARGET,
        adherence_target=ADHERENCE_TARGET,
    )
    return page, 400 if error else 200


CSV_HEADER = ("section", "subject", "measure", "value")


@bp.get("/cruscotto.csv")
def dashboard_csv():
    _supervisors_only()
    start, end, error = _period(request.args)
    if error:
        return Response(error, status=400, mimetype="text/plain")
    numbers = cached_indicators(g.scope, start, end)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerow(("period", "", "start", start.isoformat()))
    writer.writerow(("period", "", "end", end.isoformat()))
    for key, value in numbers.items():
        if key in ("start", "end", "targets", "day_buckets"):
            continue
        writer.writerow(("indicators", "", key, _csv_value(value)))
    for key, met in numbers["targets"].items():
        writer.writerow(("targets", key, "met", _csv_value(met)))
    for low, high, count in numbers["day_buckets"]:
        writer.writerow(("days_to_project", f"{low}-{high}" if high else f">{low - 1}", "n", count))
    for row in workload(g.scope):
        for measure in ("open", "unassigned", "overdue", "waiting"):
            writer.writerow(("workload", row.slug, measure, getattr(row, measure)))
    name = f"cruscotto-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)
