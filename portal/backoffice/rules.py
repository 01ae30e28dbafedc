"""Routing rules in the back office: administrators add a rule after seeing what it would move,
or deactivate one."""

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.backoffice.blueprint import bp
from portal.backoffice.views import options
from portal.catalog.models import Area, Comune, Desk, Queue, Service
from portal.extensions import db
from portal.requests import routing
from portal.requests.models import RoutingRule


class RuleForm(FlaskForm):
    priority = IntegerField(
        _l("Priority (lower runs first)"),
        validators=[InputRequired(message=_l("Write a priority.")), NumberRange(min=0, max=100000)],
    )
    service = SelectField(_l("Service"), validators=[Optional()], validate_choice=False)
    area = SelectField(_l("Area"), validators=[Optional()], validate_choice=False)
    comune = SelectField(_l("Comune"), validators=[Optional()], validate_choice=False)
    desk = SelectField(_l("PUA"), validators=[Optional()], validate_choice=False)
    age_group = SelectField(
        _l("Age of the beneficiary"), validators=[Optional()], validate_choice=False
    )
    queue = SelectField(
        _l("Queue"), validators=[DataRequired(message=_l("Choose a queue."))], validate_choice=False
    )
    description = StringField(_l("Why (shown in every decision)"), validators=[Length(max=300)])


def rule_choices(form: RuleForm) -> None:
    anything = [SelectChoice("", _("any"))]
    online = select(Service).where(Service.online.is_(True)).order_by(Service.slug)
    form.service.choices = anything + options((s.slug, s.slug) for s in db.session.scalars(online))
    form.area.choices = anything + options(
        (a.slug, a.slug) for a in db.session.scalars(select(Area).order_by(Area.slug))
    )
    form.comune.choices = anything + options(
        (c.slug, c.name) for c in db.session.scalars(select(Comune).order_by(Comune.name))
    )
    form.desk.choices = anything + options(
        (d.slug, d.name) for d in db.session.scalars(select(Desk).order_by(Desk.slug))
    )
    form.age_group.choices = anything + options(
        (("minor", _("under 18")), ("adult", _("18 to 64")), ("elderly", _("65 and over")))
    )
    form.queue.choices = options(
        (q.slug, q.slug) for q in db.session.scalars(select(Queue).order_by(Queue.slug))
    )


def rule_from(form: RuleForm) -> RoutingRule | None:
    def by_slug(model, value):
        return db.session.scalar(select(model).filter_by(slug=value)) if value else None

    picks = {
        "service": by_slug(Service, form.service.data),
        "area": by_slug(Area, form.area.data),
        "comune": by_slug(Comune, form.comune.data),
        "desk": by_slug(Desk, form.desk.data),
        "queue": by_slug(Queue, form.queue.data),
    }
    unknown = [name for name in picks if getattr(form, name).data and picks[name] is None]
    for name in unknown:
        getattr(form, name).errors = [_("Choose a value from the list.")]
    if form.age_group.data and form.age_group.data not in routing.AGE_GROUPS:
        form.age_group.errors = [_("Choose a value from the list.")]
        unknown.append("age_group")
    if unknown:
        return None
    return RoutingRule(
        priority=form.priority.data,
        service=picks["service"],
        area=picks["area"],
        comune=picks["comune"],
        desk=picks["desk"],
        age_group=form.age_group.data or None,
        queue=picks["queue"],
        description=(form.description.data or "").strip(),
        active=True,
    )


@bp.route("/instradamento", methods=["GET", "POST"])
def rules():
    if not g.scope.admin:
        abort(404)
    form = RuleForm()
    rule_choices(form)
    moves = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and (candidate := rule_from(form)) is not None:
            current = routing.active_rules()
            proposed = sorted([*current, candidate], key=lambda r: (r.priority, r.id or 10**9))
            moves = routing.preview(proposed)
            if request.form.get("conferma") == "1":
                db.session.add(candidate)
                db.session.commit()
                flash(_("Rule saved: %(count)d routes change.", count=len(moves)), "success")
                return redirect(url_for("backoffice.rules"), code=303)
        else:
            status = 400
    return render_template(
        "backoffice/rules.html",
        form=form,
        rules=routing.active_rules(),
        describe=routing.describe,
        moves=moves,
    ), status


@bp.post("/instradamento/<int:rule_id>/disattiva")
def deactivate_rule(rule_id):
    if not g.scope.admin:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404)
    rule.active = False
    db.session.commit()
    flash(_("Rule deactivated."), "info")
    return redirect(url_for("backoffice.rules"), code=303)
