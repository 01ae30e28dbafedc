"""Back-office pages: the inbox, a request with its actions, internal notes, documents, and
the routing rules. Every view is behind the blueprint's staff guard and checks the request
against the person's scope; a request outside it does not exist (404)."""

import io

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import defaultload
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal import audit
from portal.auth.models import User, utcnow
from portal.backoffice import inbox, permissions
from portal.backoffice.blueprint import bp
from portal.backoffice.wording import (
    ACTION_LABELS,
    BACKOFFICE_EVENTS,
    STAFF_STATE_LABELS,
    inbox_rows,
    sla_words,
)
from portal.caching import LruCache
from portal.catalog.models import Queue, Service
from portal.extensions import db
from portal.forms import drafts, uploads
from portal.forms.builder import sections
from portal.requests import routing, workflow
from portal.requests.models import STATES, Attachment, Request


def options(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


# First in a list whose answer matters (a colleague, a new queue): nothing is chosen for staff.
CHOOSE = SelectChoice("", _l("Choose…"))


class ActionForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Internal note (never shown to the citizen)"),
        validators=[InputRequired(message=_l("Write the note.")), Length(max=4000)],
    )


def action_form(action: str, req: Request, formdata=None) -> FlaskForm:
    """The form of one action, with the fields it needs."""
    fields = {}
    if action == "assign":
        fields["assignee"] = SelectField(
            _l("Colleague"),
            choices=[
                CHOOSE,
                *options((str(u.id), u.full_name) for u in permissions.colleagues(req)),
            ],
            validators=[InputRequired(message=_l("Choose a colleague."))],
        )
    if action == "assess":
        fields["uvm_date"] = DateField(
            _l("Date of the multidimensional assessment (UVM)"),
            validators=[InputRequired(message=_l("Write the date of the assessment."))],
        )
        fields["uvm_team"] = StringField(
            _l("Assessment team"),
            validators=[InputRequired(message=_l("Write who assesses.")), Length(max=300)],
        )
    if action in ("ask_citizen", "message", "close", "reject", "reroute"):
        labels = {
            "ask_citizen": _l("What the citizen must send or answer"),
            "message": _l("Message"),
            "close": _l("Outcome"),
            "reject": _l("Reason"),
            "reroute": _l("Reason"),
        }
        fields["note"] = TextAreaField(
            labels[action],
            validators=[InputRequired(message=_l("This field is required.")), Length(max=4000)],
        )
    if action == "reroute":
        fields["queue"] = SelectField(
            _l("New queue"),
            choices=[
                CHOOSE,
                *options(
                    (q.slug, q.slug)
                    for q in db.session.scalars(select(Queue).order_by(Queue.slug))
                    if q.id != req.queue_id
                ),
            ],
            validators=[InputRequired(message=_l("Choose a queue."))],
            validate_choice=False,
        )
    if action == "define_project":
        fields["case_manager"] = StringField(
            _l("Case manager"),
            validators=[InputRequired(message=_l("Write the case manager.")), Length(max=200)],
        )
        fields["agreed"] = BooleanField(_l("The person (or family) agreed to and signed it"))
    form_class = type(f"{action}Form", (ActionForm,), fields)
    form = form_class(formdata=formdata, prefix=action)
    if formdata is None:
        form.version.data = str(req.version)
    return form


def visible_request(reference: str) -> Request:
    # The service's offerings (desks, hours, agencies) are the catalog's business, not a
    # request's: read them only if asked for.
    found = db.session.scalar(
        select(Request)
        .where(Request.reference == reference)
        .options(defaultload(Request.service).lazyload(Service.offerings))
    )
    if found is None or not permissions.can_view(g.scope, found):
        abort(404)
    return found


def read_filters() -> inbox.Filters:
    args = request.args
    state = args.get("stato", "open")
    if state not in ("open", "all", *STATES):
        state = "open"
    return inbox.Filters(
        queue_id=g.scope.queue_id(args.get("coda", "")),
        state=state,
        assigned=args.get("assegnate")
        if args.get("assegnate") in ("mine", "unassigned")
        else "any",
        overdue=args.get("scadute") == "1",
        q=args.get("q", "")[:40],
        sort=args.get("ordine") if args.get("ordine") in inbox.SORTS else "deadline",
    )


def kept_pages() -> LruCache:
    """This application's rendered inbox pages. Each is valid while the versions of its queues
    are unchanged (they are part of the key), and for at most BACKOFFICE_INBOX_KEEP_SECONDS:
    names of staff, comuni and services may change without a request changing."""
    cache = current_app.extensions.get("inbox_pages")
    if cache is None:
        ttl = current_app.config["BACKOFFICE_INBOX_KEEP_SECONDS"]
        cache = current_app.extensions["inbox_pages"] = LruCache(ttl=ttl)
    return cache


@bp.get("/")
def inbox_page():
    """The inbox. A page once rendered is kept for its login session, language, day, address
    and scope, the versions of its queues included: asked again before any of its requests
    changes, it is served as it was. A page with a message to show is never kept."""
    today = utcnow().date()
    keep = "_flashes" not in session
    key = (g.login_session.key, g.lang, today, request.query_string, g.scope)
    page = kept_pages().get(key) if keep else None
    if page is None:
        try:
            page = render_inbox(today)
        except inbox.BadCursor:
            flash(_("That page of the list no longer exists: here is the first one."), "info")
            return redirect(url_for("backoffice.inbox_page"))
        if keep:
            kept_pages().put(key, page)
    return page


def render_inbox(today) -> str:
    filters = read_filters()
    rows, next_cursor = inbox.page(g.scope.queues, filters, g.user, request.args.get("dopo"), today)
    next_args = {k: v for k, v in request.args.items() if k != "dopo"}
    return render_template(
        "backoffice/inbox.html",
        rows=inbox_rows(rows, today),
        filters=filters,
        queues=g.scope.queue_slugs,
        states=STATES,
        state_labels=STAFF_STATE_LABELS,
        next_url=url_for("backoffice.inbox_page", **next_args, dopo=next_cursor)
        if next_cursor
        else None,
        first_url=url_for("backoffice.inbox_page", **next_args)
        if request.args.get("dopo")
        else None,
    )


def render_request(req: Request, status: int = 200, forms: dict | None = None):
    forms = forms or {}
    actions = [
        a
        for a in workflow.available_actions(req)
        if permissions.can_act(g.scope, req, a)
        and not (a == "claim" and req.assigned_to_id == g.user.id)
    ]
    action_forms = {a: forms.get(a) or action_form(a, req) for a in actions}
    if "assign" in action_forms and len(action_forms["assign"].assignee.choices) == 1:
        # Staff become people of the portal at their first login: nobody to assign to yet.
        actions.remove("assign")
        del action_forms["assign"]
    steps = drafts.schema_of_form(req.service_form).steps
    files = {a.field_id: a.filename for a in req.attachments if a.field_id}
    css, kind, days = inbox.sla(req, utcnow().date())
    return render_template(
        "backoffice/request.html",
        req=req,
        service_text=req.service.text(g.lang),
        sections=sections(steps, req.answers or {}, files, g.lang),
        actions=actions,
        action_labels=ACTION_LABELS,
        forms=action_forms,
        note_form=forms.get("note") or NoteForm(),
        events=req.events,
        event_labels=BACKOFFICE_EVENTS,
        state_labels=STAFF_STATE_LABELS,
        routing=routing.in_words(req, g.lang),
        sla_class=css,
        sla_text=sla_words(kind, days) if kind != "done" else None,
    ), status


@bp.get("/richieste/<reference>")
def request_page(reference):
    req = visible_request(reference)
    page = render_request(req)
    # Every staff read of a request is recorded: who, when, what. After rendering, so that the
    # commit does not expire what the page reads; before answering, so that no page is shown
    # whose reading was not recorded.
    audit.record("request.read", "request", req.reference, actor_id=g.user.id)
    db.session.commit()
    return page


@bp.post("/richieste/<reference>/azioni/<action>")
def act(reference, action):
    req = visible_request(reference)
    if action not in workflow.TRANSITIONS:
        abort(404)
    if not permissions.can_act(g.scope, req, action):
        abort(403)
    form = action_form(action, req, formdata=request.form)
    if not form.validate_on_submit():
        return render_request(req, 400, {action: form})
    options = {"version": int(form.version.data) if form.version.data.isdigit() else -1}
    if hasattr(form, "note"):
        options["note"] = form.note.data.strip()
    if action == "assign":
        colleague = db.session.get(User, int(form.assignee.data))
        if colleague is None or colleague not in permissions.colleagues(req):
            form.assignee.errors = [_("Choose a colleague who works on this queue.")]
            return render_request(req, 400, {action: form})
        options["assignee"] = colleague
    if action == "reroute":
        queue = db.session.scalar(select(Queue).filter_by(slug=form.queue.data))
        if queue is None or queue.id == req.queue_id:
            form.queue.errors = [_("This queue does not exist: choose one from the list.")]
            return render_request(req, 400, {action: form})
        options["queue"] = queue
    if action == "assess":
        options["uvm_date"] = form.uvm_date.data
        options["uvm_team"] = form.uvm_team.data.strip()
    if action == "define_project":
        options["case_manager"] = form.case_manager.data.strip()
        options["agreed"] = bool(form.agreed.data)
    try:
        workflow.perform(req, action, g.user, **options)
    except workflow.TransitionError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("backoffice.request_page", reference=reference), code=303)
    db.session.commit()
    flash(_("Done: %(action)s.", action=ACTION_LABELS[action]), "success")
    if action == "reroute" and not permissions.can_view(g.scope, req):
        return redirect(url_for("backoffice.inbox_page"), code=303)
    return redirect(url_for("backoffice.request_page", reference=reference), code=303)


@bp.post("/richieste/<reference>/note")
def note(reference):
    req = visible_request(reference)
    form = NoteForm()
    if not form.validate_on_submit():
        return render_request(req, 400, {"note": form})
    workflow.add_note(req, g.user, form.body.data.strip())
    db.session.commit()
    flash(_("Note saved."), "success")
    return redirect(
        url_for("backoffice.request_page", reference=reference, _anchor="notes"), code=303
    )


@bp.get("/allegati/<public_id>")
def attachment(public_id):
    found = db.session.scalar(select(Attachment).where(Attachment.public_id == public_id))
    if found is None or found.request is None or not permissions.can_view(g.scope, found.request):
        abort(404)
    audit.record(
        "attachment.read",
        "request",
        found.request.reference,
        actor_id=g.user.id,
        detail={"attachment": found.public_id},
    )
    db.session.commit()
    return send_file(
        io.BytesIO(uploads.read(found)),
        mimetype=found.mime_type,
        as_attachment=True,
        download_name=found.filename,
        max_age=0,
    )
